"""The chat page: ask the collection, read cited answers and their sources (`make run`, or `streamlit run app.py`).

Layout only: answering, filtering, index checks, the collection's overview and every text shown come from qa/;
this file places them, keeps the conversation in the session and loads the model and index once per process.
Corpus and user text is only ever shown escaped (qa.text.escape_markdown) or as code, never as HTML.
The corpus and index come from ARCHIVE_QA_* environment variables (qa.config.Config.from_env).
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import replace

import altair as alt
import streamlit as st

from qa import runtime
from qa.assistant import Assistant, Filters
from qa.build import default_embedder
from qa.collection import Overview, example_questions, overview, status_line, year_filters
from qa.config import MODES, Config
from qa.errors import ArchiveQAError
from qa.index import ArchiveIndex
from qa.manifest import CURRENT
from qa.text import (
    MODE_LABELS,
    answer_footer,
    answer_markdown,
    answer_notes,
    archive_link,
    citation_list,
    conversation_markdown,
    escape_markdown,
    first_upper,
    inferred_date,
    source_details,
    source_heading,
    timeline_rows,
    undated_note,
)

CHAT = "chat"  # the chat fragment's key: a question reruns it by this name (st.rerun(CHAT) in a widget callback)
# After an answer is sent, the page around it is redrawn by a full rerun; waiting this long first lets the
# browser draw the answer before the whole page arrives again (tests/test_browser.py, 2 cores under load: the
# whole answer on screen in a median 200-275 ms without the pause, 140-180 ms with it).
REDRAW_PAUSE_S = 0.3
INTRO = (
    " Ask a question in plain English: every sentence of an answer is quoted from a document summary and "
    "numbered, like \\[1\\], after the source it comes from. When the collection does not cover a question, "
    "the page says so."
)


# ---------------------------------------------------------------------------------------------- loading, once


@st.cache_resource(show_spinner=False)
def start() -> None:
    """Process-wide settings (offline model hub, search threads), once per server process."""
    runtime.start()


@st.cache_resource(show_spinner=False)
def load_embedder(model_key: str, _config: Config):
    """The configured model (the key names model, question backend and cache)."""
    return default_embedder(_config)


def embedder(config: Config):
    """The configured model, loaded once per process."""
    return load_embedder(f"{config.model}|{config.query_backend}|{config.cache}", config)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_index(key: str, _config: Config) -> ArchiveIndex:
    """The index of one build (the key names it); staleness is checked on every run, not here."""
    return ArchiveIndex.load(_config, check_stale=False)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_assistant(key: str, _config: Config) -> Assistant:
    """The assistant over one build, warmed up: the first question of the process pays nothing extra."""
    assistant = Assistant(_config, index=load_index(key, _config), embedder=embedder(_config))
    assistant.warm_up()
    timeline_template()  # and Altair's first chart (~0.4 s)
    # Streamlit collects garbage after every run, and a question's callback ends one run before the chat fragment's
    # starts: with PyTorch loaded a full collection takes ~300 ms. The objects loaded so far live as long as the
    # process, so they are moved out of the collector's sight (later ones, such as answers, are still collected).
    gc.freeze()
    return assistant


@st.cache_resource(show_spinner=False, max_entries=4)
def load_overview(key: str, _index: ArchiveIndex) -> Overview:
    """The collection at a glance, read once per build."""
    return overview(_index)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_examples(key: str, _assistant: Assistant) -> list[str]:
    """The example questions offered for one build."""
    return example_questions(_assistant)


def build_key(config: Config) -> str:
    """Names the configuration and the index build in use, so a rebuild elsewhere is picked up."""
    return f"{config!r}|{os.path.realpath(config.index_dir / CURRENT)}"


def open_index(key: str, config: Config) -> tuple[Overview | None, str | None]:
    """The collection's overview, and the one line that keeps its index from being used (or None)."""
    try:
        index = load_index(key, config)
        return load_overview(key, index), index.stale_problem()
    except ArchiveQAError as exc:
        return None, str(exc)


# ---------------------------------------------------------------------------------------------- actions


def rebuild(config: Config) -> None:
    """Build the index from the corpus with its progress shown, then forget the cached index and assistant."""
    with st.status("Rebuilding the index…", expanded=True) as status:
        bar = st.progress(0.0, text="Loading the model…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedded {done:,} of {total:,} new and changed records…")

        try:
            report = ArchiveIndex.build(config, embedder=embedder(config), progress=progress)
        except ArchiveQAError as exc:
            status.update(label="The index could not be rebuilt", state="error")
            st.error(escape_markdown(first_upper(str(exc))))
            return
        bar.progress(1.0, text="Done.")
        for cached in (load_index, load_assistant, load_overview, load_examples):
            cached.clear()
        status.update(label=escape_markdown(first_upper(str(report))), state="complete", expanded=False)


def ask(config: Config, question: str, filters: Filters, k: int, mode: str) -> dict:
    """Ask with the conversation so far and keep the turn."""
    turns = st.session_state.turns
    history = [t["answer"] for t in turns if not t["answer"].error]
    answer = load_assistant(build_key(config), config).ask(question, history, filters, k=k, mode=mode)
    turns.append({"answer": answer, "filters": filters, "k": k, "mode": mode})
    return turns[-1]


def enqueue(question: str) -> None:
    """Queue a question for the chat fragment, and rerun only that fragment (by its key) unless a full run is due
    anyway, after an answer the page has not yet been redrawn around: that run answers it, in place."""
    state = st.session_state
    state.queue.append(question)
    if state.drawn == len(state.turns):
        st.rerun(CHAT)


def submit_question() -> None:
    enqueue(st.session_state.question)


def clear_inferred_filter(config: Config) -> None:
    """Ask the last question again without reading a date from it."""
    last = st.session_state.turns.pop()
    filters = replace(last["filters"], infer_dates=False)
    ask(config, last["answer"].question, filters, last["k"], last["mode"])


def request_rebuild() -> None:
    st.session_state.rebuild = True


def clear_chat() -> None:
    st.session_state.turns = []
    st.session_state.queue = []


# ---------------------------------------------------------------------------------------------- showing


def source_card(source) -> None:
    with st.container(border=True):
        st.markdown(source_heading(source))
        st.caption(source_details(source))
        st.markdown(escape_markdown(source.record.summary) if source.record.summary else "_No summary._")
        link = archive_link(source)
        if link:
            st.markdown(link)


@st.cache_resource(show_spinner=False)
def timeline_template() -> dict:
    """The timeline's Vega-Lite spec, made with Altair once per process (Altair's checks take ~50 ms a chart)."""
    kinds = ["cited", "not cited"]
    chart = (
        alt.Chart(alt.Data(name="documents"))
        .mark_circle(size=120, opacity=0.9)
        .encode(
            x=alt.X(
                "date:T",
                title=None,
                scale=alt.Scale(domain=["__FROM__", "__TO__"]),
                axis=alt.Axis(format="%Y", tickCount={"interval": "year", "step": 1}, grid=True, gridOpacity=0.4),
            ),
            y=alt.Y("n:N", title=None, sort=None, axis=alt.Axis(ticks=False, domain=False)),
            color=alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=["#1c6fb5", "#a8a8a8"]), title=None),
            tooltip=[
                alt.Tooltip("n:N", title="Source"),
                alt.Tooltip("title:N", title="Title"),
                alt.Tooltip("shown_date:N", title="Date"),
            ],
        )
    )
    return chart.configure_legend(orient="bottom").to_dict()


def _fill(node, values: dict):
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    return values.get(node, node) if isinstance(node, str) else node


def timeline_spec(answer) -> dict | None:
    """The chart of an answer's dated documents on a time axis in years: cited ones in colour, others grey."""
    rows = timeline_rows(answer)
    if not rows:
        return None
    years = [int(r["date"][:4]) for r in rows]
    spec = _fill(timeline_template(), {"__FROM__": f"{min(years) - 1}-07-01", "__TO__": f"{max(years) + 1}-07-01"})
    spec["data"] = {"values": rows}
    spec["height"] = {"step": 22}  # one row a document (a fixed height is overridden by the page)
    return spec


def timeline(turn: dict) -> None:
    if "timeline" not in turn:
        turn["timeline"] = timeline_spec(turn["answer"])  # made once per answer, not on every rerun
    if turn["timeline"]:
        st.caption("When these documents were written")
        st.vega_lite_chart(turn["timeline"], width="stretch")
    note = undated_note(turn["answer"])
    if note:
        st.caption(note)


def sources(answer) -> None:
    """The cited sources as cards, then the documents retrieved but not cited."""
    if answer.sources:
        st.markdown("**Sources**")
        for source in answer.sources:
            source_card(source)
    if answer.related and answer.abstained:
        st.markdown("**Closest documents** (not cited: they do not answer the question)")
        for source in answer.related:
            source_card(source)
    elif answer.related:
        with st.expander(f"Also retrieved, not cited ({len(answer.related)})"):
            for source in answer.related:
                source_card(source)


def show_answer(turn: dict) -> None:
    answer = turn["answer"]
    if answer.error:
        st.warning(escape_markdown(answer.error))
        return
    for note in answer_notes(answer, turn["filters"].infer_dates):
        st.caption(note)
    if answer.notice:
        st.warning(escape_markdown(answer.notice))
    if answer.abstained:
        st.info(escape_markdown(answer.text))
    else:
        st.markdown(answer_markdown(answer))
    sources(answer)
    if answer.sources or answer.related:
        timeline(turn)
    if answer.sources:
        with st.expander("Cite these sources"):
            st.code(citation_list(answer.sources), language=None, wrap_lines=True)
    st.caption(answer_footer(answer))


def show_question(question: str) -> None:
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))


def show_turn(turn: dict) -> None:
    show_question(turn["answer"].question)
    with st.chat_message("assistant"):
        show_answer(turn)


def sidebar_controls(config: Config, view: Overview | None) -> tuple[Filters, int, str]:
    sb = st.sidebar
    sb.header("Search")
    filters = Filters()
    if view and view.year_range:
        years = sb.slider(
            "Document dates",
            *view.year_range,
            view.year_range,
            key="years",
            help="The full range searches every date; a date named in a question is then used instead.",
        )
        narrowed = years != view.year_range
        include_undated = sb.checkbox("Also undated documents", value=False, key="undated", disabled=not narrowed)
        filters = year_filters(view, years, include_undated)
    k = sb.slider("Number of sources", 1, max(10, config.k), config.k, key="k")
    mode = sb.radio("Retrieval", MODES, index=MODES.index(config.mode), format_func=MODE_LABELS.get, key="mode")
    return filters, k, mode


def sidebar_inferred(container, config: Config) -> None:
    turns = st.session_state.turns
    inferred = inferred_date(turns[-1]["answer"] if turns else None)
    if inferred:
        container.markdown("**Date read from your question**")
        container.caption(inferred)
        container.button("Clear this date filter", key="clear_inferred", on_click=clear_inferred_filter, args=(config,))


def sidebar_conversation(container) -> None:
    turns = st.session_state.turns
    container.header("Conversation")
    container.button("Clear chat", key="clear_chat", on_click=clear_chat, disabled=not turns)
    container.download_button(
        "Download as Markdown",
        conversation_markdown(t["answer"] for t in turns) if turns else "",
        file_name="archive-qa-conversation.md",
        mime="text/markdown",
        on_click="ignore",
        disabled=not turns,
        key="download",
    )


def years_spec(per_year: list[dict]) -> dict:
    """The collection's documents per year, a small bar chart for the sidebar (a plain Vega-Lite spec)."""
    return {
        "data": {"values": per_year},
        "mark": {"type": "bar", "color": "#1c6fb5"},
        "encoding": {
            "x": {
                "field": "year",
                "type": "ordinal",
                "title": None,
                "axis": {"labelAngle": 0, "labelOverlap": True, "ticks": False},
            },
            "y": {"field": "documents", "type": "quantitative", "title": None, "axis": {"tickMinStep": 1}},
            "tooltip": [
                {"field": "year", "type": "ordinal", "title": "Year"},
                {"field": "documents", "type": "quantitative", "title": "Documents"},
            ],
        },
    }


def sidebar_status(view: Overview | None, problem: str | None) -> None:
    sb = st.sidebar
    sb.header("Collection and index")
    if view:
        sb.caption(escape_markdown(view.build_line()) + "  \n" + status_line(problem))
        if view.per_year:
            sb.caption("Documents per year")
            sb.vega_lite_chart(
                years_spec(view.per_year), width="stretch", height=140, alt="Bar chart of the documents per year"
            )
    else:
        sb.caption("No usable index")
    sb.button("Rebuild index", key="rebuild_sidebar", on_click=request_rebuild)


def index_problem(problem: str) -> None:
    """The index cannot be used: say why in one line and offer the rebuild; questions wait."""
    st.warning("**The index cannot be used as it is.** " + escape_markdown(first_upper(problem)))
    st.markdown("Rebuild it from the corpus now (the same as running `archive-qa index`):")
    st.button("Rebuild index", key="rebuild_main", type="primary", on_click=request_rebuild)
    st.chat_input("Rebuild the index to ask questions", disabled=True)


# ---------------------------------------------------------------------------------------------- the page


def main() -> None:
    st.set_page_config(page_title="Archive QA", page_icon="📜", layout="centered")
    start()
    state = st.session_state
    state.setdefault("turns", [])
    state.setdefault("queue", [])
    state.page = state.get("page", 0) + 1  # this full run; the chat fragment drawn by an earlier one is stale
    st.title("Archive QA")
    st.caption("Cited answers from the collection's document summaries, entirely offline.")
    try:
        config = Config.from_env()
    except ArchiveQAError as exc:
        st.error(escape_markdown(f"The configuration cannot be used: {exc}"))
        st.stop()
    if state.pop("rebuild", False):
        rebuild(config)

    key = build_key(config)
    view, problem = open_index(key, config)
    filters, k, mode = sidebar_controls(config, view)
    inferred_slot = st.sidebar.container()
    conversation_slot = st.sidebar.container()
    sidebar_status(view, problem)
    if problem:
        index_problem(problem)
        sidebar_conversation(conversation_slot)
        return

    st.markdown(escape_markdown(view.description()) + INTRO)
    try:
        with st.spinner("Loading the model and the index (once per start)…"):
            load_assistant(key, config)
    except ArchiveQAError as exc:  # the model cannot be loaded, or disagrees with the index
        st.error(escape_markdown(f"The assistant cannot start: {exc}"))
        return
    state.drawn = len(state.turns)  # the turns this run draws; the chat fragment draws those asked after it
    st.chat_input("Ask the collection a question", key="question", on_submit=submit_question)
    for turn in state.turns:
        past_turn(turn)
    conversation(config, key, filters, k, mode, state.page)
    sidebar_inferred(inferred_slot, config)
    sidebar_conversation(conversation_slot)


@st.fragment
def past_turn(turn: dict) -> None:
    """A turn, drawn by a fragment of its own like the chat's: where the chat fragment drew a turn, a full rerun
    draws it the same way (a fragment at the same place holding the same elements), so nothing on screen moves."""
    show_turn(turn)


@st.fragment(key=CHAT)
def conversation(config: Config, key: str, filters: Filters, k: int, mode: str, page: int) -> None:
    """The example questions of an empty chat, and the answers to new questions.

    The chat box and the examples queue a question in the session and rerun this fragment alone, by its key
    (`enqueue`). It comes after the earlier turns, so it draws a new turn where the next full run draws it, and
    it sends only that turn: an answer costs the same at any length of conversation. After a pause that lets the
    browser draw the answer, the whole page is redrawn once (sidebar, download); a question sent before that is
    answered by that full run, here again. Should a full run have been interrupted (this fragment, drawn by an
    earlier run, is then stale), a full run is asked for; a queued question waits for it.
    """
    state = st.session_state
    if page != state.page:
        st.rerun(scope="app")
    for turn in state.turns[state.drawn :]:
        show_turn(turn)
    if not state.turns and not state.queue:
        st.markdown("**Try one of these:**")
        for i, example in enumerate(load_examples(key, load_assistant(key, config))):
            st.button(escape_markdown(example), key=f"example-{i}", on_click=enqueue, args=(example,))
    if state.queue:
        answer_queued(config, filters, k, mode)
        time.sleep(REDRAW_PAUSE_S)
        st.rerun(scope="app")


def answer_queued(config: Config, filters: Filters, k: int, mode: str) -> None:
    """Answer the queued questions in order, each shown at once; a question leaves the queue as its turn is kept."""
    queue = st.session_state.queue
    while queue:
        show_question(queue[0])
        with st.chat_message("assistant"):
            with st.spinner("Searching the collection…"):
                turn = ask(config, queue[0], filters, k, mode)
                queue.pop(0)  # no Streamlit call in between: an interrupted run neither loses it nor asks it twice
            show_answer(turn)


main()
