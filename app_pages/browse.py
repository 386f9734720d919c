"""The browse page: every record of the collection in a sortable, filterable table, each row opening its card; the
documents per year, a bar of which filters the table to its year; the index's status and its rebuild.

Every text comes from qa/; corpus text is shown escaped, or as table cells (text, never HTML).
"""

from __future__ import annotations

import pyarrow as pa
import streamlit as st

from app_pages import common
from qa.chat.collection import ORDER_CHOICES, UNDATED_CHOICES, Browse, browse_rows, status_line
from qa.chat.text import document_question, escape_markdown, question_words, record_label

YEAR_CHART = "browse_year_chart"


def years_spec(per_year: list[dict]) -> dict:
    """The collection's documents per year as bars; clicking one selects its year (the selection `year`)."""
    return {
        "data": {"values": per_year},
        "params": [{"name": "year", "select": {"type": "point", "fields": ["year"]}}],
        "mark": {"type": "bar", "color": "#1c6fb5", "cursor": "pointer"},
        "encoding": {
            "x": {"field": "year", "type": "ordinal", "title": None,
                  "axis": {"labelAngle": 0, "labelOverlap": True, "ticks": False}},
            "y": {"field": "documents", "type": "quantitative", "title": None, "axis": {"tickMinStep": 1}},
            "opacity": {"condition": {"param": "year", "empty": True, "value": 1}, "value": 0.35},
            "tooltip": [
                {"field": "year", "type": "ordinal", "title": "Year"},
                {"field": "documents", "type": "quantitative", "title": "Documents"},
            ],
        },
    }


def year_clicked(span: tuple[int, int]) -> None:
    """A bar clicked sets the table's years to its year; a click beside the bars gives every year back."""
    chosen = st.session_state[YEAR_CHART]["selection"].get("year") or []
    years = [int(point["year"]) for point in chosen if "year" in point]
    st.session_state.browse_years = (min(years), max(years)) if years else span


def filters(view, people) -> Browse:
    """The table's filters and order: words and order; then years, correspondent and undated documents side by side;
    collections."""
    span = view.year_range
    top, order_column = st.columns([3, 1])
    words = top.text_input("Words in the title, summary or correspondents", key="browse_words")
    order = order_column.selectbox("Order", list(ORDER_CHOICES), format_func=ORDER_CHOICES.get, key="browse_order")
    left, middle, right = st.columns([2, 2, 1.4])
    years = None
    if span:
        st.session_state.setdefault("browse_years", span)
        years = left.slider("Years", *span, key="browse_years")
    counts = dict(people.names()) if people else {}
    person = middle.selectbox("Correspondent", list(counts), index=None, key="browse_person", placeholder="Anyone",
                              format_func=lambda n: f"{n} ({counts.get(n, 0)})")
    undated = right.selectbox("Undated documents", list(UNDATED_CHOICES), format_func=UNDATED_CHOICES.get,
                              key="browse_undated")
    chosen = ()
    if len(view.collections) > 1:
        chosen = tuple(st.multiselect("Collections", view.collections, key="browse_collections",
                                      placeholder="Every collection"))
    return Browse(words, years if years and tuple(years) != span else None, person, chosen, undated, order)


def index_status(view, problem) -> None:
    """The index in the sidebar: whether it is up to date; under "Advanced", what it holds and its rebuild."""
    sb = st.sidebar
    sb.caption(status_line(problem) if view else "No usable index")
    if problem:
        sb.caption(escape_markdown(problem))
    with sb.expander("Advanced", expanded=bool(problem)):
        if view:
            st.caption(escape_markdown(view.build_line()))
        st.button("Rebuild the index", key="rebuild_browse", on_click=common.request_rebuild,
                  help="Read the corpus again and take in new or changed documents (as `archive-qa index` does).")


def main() -> None:
    st.set_page_config(layout="wide")  # the table needs the width
    common.start()
    config = common.config()
    st.sidebar.header("The collection")
    if st.session_state.pop("rebuild", False):
        common.rebuild(config, st.sidebar)  # its progress in the sidebar, where the button is
    key = common.build_key(config)
    view, problem = common.open_index(key, config)
    index_status(view, problem)
    st.title("Browse the collection")
    index = common.index_or_none(key, config)
    if not view or index is None:
        st.warning("No usable index: rebuild it (in the sidebar) to browse the collection.")
        return
    st.markdown(escape_markdown(view.description()))
    if view.per_year and view.year_range:
        st.caption("Documents per year (click a bar to list that year's documents)")
        st.vega_lite_chart(years_spec(view.per_year), width="stretch", height=150, key=YEAR_CHART,
                           on_select=lambda: year_clicked(view.year_range), selection_mode="year",
                           alt="Bar chart of the documents per year")
    browse = filters(view, index.people)
    table_and_card(key, index, view, browse)


def table_and_card(key: str, index, view, browse: Browse) -> None:
    """The records passing the filters, a row each; the selected row's card under the table."""
    table = common.load_table(key, index)
    rows = browse_rows(table, browse, index.people)
    st.caption(f"{len(rows):,} of {len(table):,} documents")
    data = pa.table(table.columns).take(pa.array(rows, type=pa.int64()))
    event = st.dataframe(
        data, key=f"browse_table-{hash(browse)}", on_select="rerun", selection_mode="single-row", hide_index=True,
        column_config={
            "Date": st.column_config.TextColumn("Date", width="small", help="Year, month and day (ISO)"),
            "Record ID": st.column_config.TextColumn(
                "Record ID", help="The archive's record id; for a document read from a listing page, the id answers "
                "cite it by"),
            "Title": st.column_config.TextColumn("Title", width="large"),
            "Summary": st.column_config.TextColumn("Summary", width="large"),
        },
    )
    selected = event.selection.rows if event else []
    if not (selected and selected[0] < len(rows)):
        st.caption("Select a row to see its document.")
        return
    record = index.records[int(rows[selected[0]])]
    reading = common.Reading(question_words(browse.words, index.analyzer.tokens), view.archive)
    with st.container(border=True, key="browse_card"):
        st.markdown(f"**{record_label(record)}**")
        if st.button("Ask about this document", key="ask_about_document", type="primary"):
            ask_about(record)
        common.record_card(record, reading)


def ask_about(record) -> None:
    """Open the chat on a new conversation about this document: it is asked what the document is about, and later
    questions keep to its date."""
    state = st.session_state
    state.ask_about = record.id
    state.turns, state.conversation = [], None
    state.queue = [document_question(record)]
    st.switch_page(common.CHAT_PAGE)

main()
