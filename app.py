"""The chat page: ask the collection, read cited answers and their sources (`make run`, or `streamlit run app.py`).

Thin on purpose: answering, filtering, index checks and the text shown all come from qa/; this file lays
them out. Corpus and user text is only ever shown escaped (qa.text.escape_markdown) or as code, never as HTML.
The corpus and index come from ARCHIVE_QA_* environment variables (qa.config.Config.from_env).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import altair as alt  # noqa: E402
import streamlit as st  # noqa: E402

from qa.assistant import Assistant, Filters  # noqa: E402
from qa.config import MODES, Config, ConfigError  # noqa: E402
from qa.index import CURRENT, ArchiveIndex, IndexProblem, corpus_changes  # noqa: E402
from qa.text import (  # noqa: E402
    answer_markdown,
    archive_link,
    citation_list,
    conversation_markdown,
    documents_per_year,
    escape_markdown,
    source_details,
    source_heading,
    timeline_rows,
)

# Questions the shipped corpus answers well; only those the loaded collection answers are offered.
EXAMPLES = (
    "What did Stalin tell Mao about the economic situation in China?",
    "What did Mikoyan and Mao Zedong discuss in 1949?",
    "How did the Romanian party react to the tension between China and the Soviet Union?",
)
# After an answer is sent, the page around it is redrawn by a full rerun; waiting this long first lets the
# browser draw the answer before the whole page arrives again (tests/test_browser.py, idle machine: without
# the pause the whole answer was on screen in a median 340-380 ms, with it 175-225 ms).
REDRAW_PAUSE_S = 0.3
MODE_LABELS = {"hybrid": "Hybrid: meaning and words", "dense": "Meaning only (dense)", "bm25": "Exact words (BM25)"}


# ---------------------------------------------------------------------------------------------- loading, once


@st.cache_resource(show_spinner=False)
def load_embedder(model: str):
    from embeddings.model import Embedder

    return Embedder(model)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_index(key: str, _config: Config) -> ArchiveIndex:
    """The index of one build (the key names it); staleness is checked on every run, not here."""
    return ArchiveIndex.load(_config, check_stale=False)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_assistant(key: str, _config: Config) -> Assistant:
    assistant = Assistant(_config, index=load_index(key, _config), embedder=load_embedder(_config.model))
    assistant.warm_up()  # the first question of a process pays for lazy set-up; pay it here
    timeline_template()  # and Altair's first chart (~0.4 s)
    return assistant


@st.cache_resource(show_spinner=False, max_entries=4)
def overview(key: str, _index: ArchiveIndex) -> dict:
    """What the collection is: counts, date span, collection names (read once per build)."""
    dates = _index.dates
    dated = dates[dates[:, 0] > 0]
    names = sorted({r.collection for r in _index.records if r.collection}) if _index.count <= 50_000 else []
    return {
        "count": _index.count,
        "undated": int(len(dates) - len(dated)),
        "first_year": int(dated[:, 0].min()) // 10000 if len(dated) else None,
        "last_year": int(dated[:, 1].max()) // 10000 if len(dated) else None,
        "collections": names,
        "per_year": documents_per_year(dates),
        "model": _index.manifest.get("model", ""),
        "built_at": _index.manifest.get("built_at", ""),
    }


@st.cache_resource(show_spinner=False, max_entries=4)
def example_questions(key: str, _assistant: Assistant) -> list[str]:
    """Up to three example questions that this collection answers (not abstains on)."""
    answered = [q for q in EXAMPLES if not _assistant.ask(q).abstained]
    if len(answered) < 3:
        titles = [r.title for r in _assistant.index.records if r.summary][: 3 - len(answered)]
        answered += [f"What is “{t}” about?" for t in titles]
    return answered[:3]


def build_key(config: Config) -> str:
    """Names the configuration and the index build in use, so a rebuild elsewhere is picked up."""
    return f"{config!r}|{os.path.realpath(config.index_dir / CURRENT)}"


# ---------------------------------------------------------------------------------------------- actions


class _CountingEmbedder:
    """The loaded model, telling the page how many records it has embedded during a rebuild."""

    def __init__(self, embedder, report) -> None:
        self._embedder = embedder
        self._report = report
        self.done = 0

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)  # name, dim and the rest, as the model has them

    def encode(self, texts, **kwargs):
        vectors = self._embedder.encode(texts, **kwargs)
        self.done += len(texts)
        self._report(self.done)
        return vectors


def rebuild(config: Config) -> None:
    """Build the index from the corpus with progress shown, then drop the cached index and assistant."""
    from qa.corpus import load_corpus
    from qa.indexing import build_index

    with st.status("Rebuilding the index…", expanded=True) as status:
        bar = st.progress(0.0, text="Loading the model…")
        try:
            model = load_embedder(config.model)
            total = max(1, len(load_corpus([config.corpus]).records))
            bar.progress(0.0, text=f"Embedding new and changed records (the collection has {total:,})…")
            counter = _CountingEmbedder(
                model, lambda n: bar.progress(min(1.0, n / total), text=f"Embedded {n:,} of {total:,} records…")
            )
            report = build_index(config, embedder=counter)
        except Exception as exc:  # IndexProblem, ModelError or an unreadable corpus: say so, keep the page
            status.update(label="The index could not be rebuilt", state="error")
            st.error(escape_markdown(str(exc)))
            return
        bar.progress(1.0, text="Done.")
        load_index.clear()
        load_assistant.clear()
        example_questions.clear()
        overview.clear()
        status.update(label=escape_markdown(str(report).capitalize()), state="complete", expanded=False)


def ask(config: Config, question: str, filters: Filters, k: int, mode: str) -> None:
    turns = st.session_state.turns
    history = [t["answer"] for t in turns if not t["answer"].error]
    answer = load_assistant(build_key(config), config).ask(question, history, filters, k=k, mode=mode)
    turns.append({"answer": answer, "filters": filters, "k": k, "mode": mode})


def clear_inferred_filter(config: Config) -> None:
    """Ask the last question again without reading a date from it."""
    turns = st.session_state.turns
    last = turns.pop()
    filters = replace(last["filters"], infer_dates=False)
    ask(config, last["answer"].question, filters, last["k"], last["mode"])


def request_rebuild() -> None:
    st.session_state.rebuild = True


def clear_chat() -> None:
    st.session_state.turns = []


def ask_example(question: str) -> None:
    st.session_state.pending = question


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
    answer = turn["answer"]
    if "timeline" not in turn:
        turn["timeline"] = timeline_spec(answer)  # made once per answer, not on every rerun
    spec = turn["timeline"]
    if spec:
        st.caption("When these documents were written")
        st.vega_lite_chart(spec, width="stretch")
    shown = {row["n"] for row in spec["data"]["values"]} if spec else set()
    undated = [s for s in (*answer.sources, *answer.related) if f"[{s.n}]" not in shown]
    if undated:
        st.caption(escape_markdown(f"Undated, not on the timeline: {', '.join(f'[{s.n}]' for s in undated)}"))


def show_answer(turn: dict) -> None:
    answer = turn["answer"]
    if answer.error:
        st.warning(escape_markdown(answer.error))
        return
    if answer.resolved_question.strip() != answer.question.strip():
        st.caption("Read with the previous question as: " + escape_markdown(answer.resolved_question))
    if answer.applied_filter:
        where = "read from the question" if answer.applied_filter.source == "question" else "set in the sidebar"
        st.caption(escape_markdown(f"Date filter {where}: {answer.applied_filter.description}."))
    elif not turn["filters"].infer_dates:
        st.caption("No date filter: the date in the question was ignored, as asked.")
    if answer.notice:
        st.warning(escape_markdown(answer.notice))
    if answer.abstained:
        st.info(escape_markdown(answer.text))
    else:
        st.markdown(answer_markdown(answer))
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
    if answer.sources or answer.related:
        timeline(turn)
    if answer.sources:
        with st.expander("Cite these sources"):
            st.code(citation_list(answer.sources), language=None, wrap_lines=True)
    st.caption(f"{MODE_LABELS.get(answer.mode, answer.mode)} · {answer.timings.get('total_ms', 0):.0f} ms")


def show_turn(turn: dict) -> None:
    with st.chat_message("user"):
        st.markdown(escape_markdown(turn["answer"].question))
    with st.chat_message("assistant"):
        show_answer(turn)


def sidebar_controls(config: Config, info: dict | None) -> tuple[Filters, int, str]:
    sb = st.sidebar
    sb.header("Search")
    date_from = date_to = None
    include_undated = False
    first, last = (info or {}).get("first_year"), (info or {}).get("last_year")
    if first is not None and last is not None and first < last:
        lo, hi = sb.slider(
            "Document dates",
            first,
            last,
            (first, last),
            key="years",
            help="The full range searches every date; a date named in a question is then used instead.",
        )
        narrowed = (lo, hi) != (first, last)
        include_undated = sb.checkbox("Also undated documents", value=False, key="undated", disabled=not narrowed)
        date_from = str(lo) if lo > first else None
        date_to = str(hi) if hi < last else None
    k = sb.slider("Number of sources", 1, max(10, config.k), config.k, key="k")
    mode = sb.radio("Retrieval", MODES, index=MODES.index(config.mode), format_func=MODE_LABELS.get, key="mode")
    return Filters(date_from, date_to, include_undated), k, mode


def sidebar_inferred(container, config: Config) -> None:
    turns = st.session_state.turns
    applied = turns[-1]["answer"].applied_filter if turns else None
    if applied and applied.source == "question":
        container.markdown("**Date read from your question**")
        container.caption(escape_markdown(applied.description.capitalize() + "."))
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


def sidebar_status(config: Config, info: dict | None, problem: str | None) -> None:
    sb = st.sidebar
    sb.header("Collection and index")
    if info:
        built = info["built_at"]
        try:
            built = datetime.fromisoformat(built).strftime("%Y-%m-%d %H:%M %Z")
        except ValueError:
            pass
        sb.caption(
            escape_markdown(f"{info['count']:,} records · model {info['model']} · built {built}")
            + "  \n"
            + ("Index out of date" if problem else "Index up to date")
        )
        if info["per_year"]:
            sb.caption("Documents per year")
            sb.vega_lite_chart(
                years_spec(info["per_year"]), width="stretch", height=140, alt="Bar chart of the documents per year"
            )
    else:
        sb.caption("No usable index")
    sb.button("Rebuild index", key="rebuild_sidebar", on_click=request_rebuild)


def intro(info: dict) -> None:
    names = ", ".join(info["collections"]) or "the collection"
    span = f", dated {info['first_year']} to {info['last_year']}" if info["first_year"] is not None else ", all undated"
    undated = f" ({info['undated']} undated)" if info["undated"] and info["first_year"] is not None else ""
    st.markdown(
        escape_markdown(f"{info['count']:,} documents from {names}{span}{undated}.")
        + " Ask a question in plain English: every sentence of an answer is quoted from a document summary "
        "and numbered, like \\[1\\], after the source it comes from. When the collection does not cover "
        "a question, the page says so."
    )


# ---------------------------------------------------------------------------------------------- the page


def main() -> None:
    st.set_page_config(page_title="Archive QA", page_icon="📜", layout="centered")
    state = st.session_state
    state.setdefault("turns", [])
    st.title("Archive QA")
    st.caption("Cited answers from the collection's document summaries, entirely offline.")
    try:
        config = Config.from_env()
    except ConfigError as exc:
        st.error(escape_markdown(f"The configuration cannot be used: {exc}"))
        st.stop()
    if state.pop("rebuild", False):
        rebuild(config)

    key = build_key(config)
    problem = index = info = None
    try:
        index = load_index(key, config)
        info = overview(key, index)
        changes = corpus_changes(config.corpus, index.manifest["corpus_files"])
        if changes:
            more = "…" if len(changes) > 3 else ""
            problem = f"the corpus changed since the index was built ({', '.join(changes[:3])}{more})"
    except IndexProblem as exc:
        problem = str(exc)

    filters, k, mode = sidebar_controls(config, info)
    inferred_slot = st.sidebar.container()
    conversation_slot = st.sidebar.container()
    sidebar_status(config, info, problem)

    if problem:
        st.warning("**The index cannot be used as it is.** " + escape_markdown(problem[:1].upper() + problem[1:]))
        st.markdown("Rebuild it from the corpus now (the same as running `archive-qa index`):")
        st.button("Rebuild index", key="rebuild_main", type="primary", on_click=request_rebuild)
        st.chat_input("Rebuild the index to ask questions", disabled=True)
        sidebar_conversation(conversation_slot)
        return

    intro(info)
    try:
        with st.spinner("Loading the model and the index (once per start)…"):
            load_assistant(key, config)
    except Exception as exc:  # ModelError, IndexProblem (model and index disagree): say what to do
        st.error(escape_markdown(f"The assistant cannot start: {exc}"))
        return
    with st.container():  # one element, so the chat fragment after it keeps its place on the page and its id
        slots = [st.container() for _ in range(len(state.turns) + 1)]  # a place per turn, and one for the next
    conversation(config, key, filters, k, mode, slots[-1])  # first: its place (so its id) must not depend on turns
    for turn, slot in zip(state.turns, slots[:-1], strict=True):
        past_turn(turn, slot)
    sidebar_inferred(inferred_slot, config)
    sidebar_conversation(conversation_slot)


@st.fragment
def past_turn(turn: dict, slot) -> None:
    """An earlier turn, drawn into its place the way the chat fragment drew it (a fragment writing to a container
    made outside it gets a wrapper around its elements), so that redrawing the page leaves it untouched on screen."""
    with slot:
        show_turn(turn)


@st.fragment
def conversation(config: Config, key: str, filters: Filters, k: int, mode: str, slot) -> None:
    """The chat box, the example questions before the first question, and the answer to a new question.

    Asking reruns only this fragment, which writes the new turn into `slot`, below the earlier turns: the answer
    is on screen without re-sending them. A full rerun then redraws the page around it (sidebar, download),
    drawing the new turn at the very place the fragment drew it, so nothing on screen moves. The fragment
    itself stays at one place on the page, so its id, which the browser sends with a question, stays valid
    even for a question asked while that full rerun runs.
    """
    state = st.session_state
    question = st.chat_input("Ask the collection a question", key="question") or state.pop("pending", None)
    examples = st.empty()  # sent at once, so the examples go as soon as a question is asked
    if not question:
        if not state.turns:
            with examples.container():
                st.markdown("**Try one of these:**")
                for i, example in enumerate(example_questions(key, load_assistant(key, config))):
                    st.button(escape_markdown(example), key=f"example-{i}", on_click=ask_example, args=(example,))
        with slot:
            st.empty()  # a fragment may write only to outside containers it wrote to in the last full run
        return
    with slot:
        with st.chat_message("user"):
            st.markdown(escape_markdown(question))
        with st.chat_message("assistant"):
            with st.spinner("Searching the collection…"):
                ask(config, question, filters, k, mode)
            show_answer(state.turns[-1])
    time.sleep(REDRAW_PAUSE_S)
    st.rerun(scope="app")


main()
