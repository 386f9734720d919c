"""The chat page: ask the collection, read cited answers and their sources; conversations saved and reopened by link.

A question reruns only the chat fragment (by its key), which draws the new turn alone; the whole page is then
redrawn once, each turn by a fragment of its own in the place the chat fragment drew it. Every text comes from
qa/ and corpus or user text is shown escaped, never as HTML.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import datetime

import streamlit as st

from app_pages import common
from qa.answer.written import Writer
from qa.chat.citations import EXPORTS, numbered_citations
from qa.chat.collection import question_years, range_words, year_filters
from qa.chat.conversations import encode_turn, readable_turns, valid_id
from qa.chat.text import (
    CONVERSATION_FORMATS,
    MODE_LABELS,
    answer_footer,
    answer_markdown,
    answer_notes,
    conversation_export,
    escape_markdown,
    first_upper,
    follow_ups,
    question_date,
    question_words,
    short_title,
    source_label,
    timeline_axis,
    timeline_note,
    timeline_rows,
    timeline_span,
    why_lines,
    written_label,
    written_markdown,
)
from qa.config import MODES, Config
from qa.errors import ArchiveQAError, QuestionError
from qa.types import Answer, Filters, Written

UNDO_S = 10  # how long a deleted conversation can be brought back
CHAT = "chat"  # the chat fragment's key: a question reruns it by this name (st.rerun(CHAT) in a widget callback)
LINK = "conversation"  # the query parameter naming the conversation shown
# After an answer is sent, the page around it is redrawn by a full rerun; waiting this long first lets the
# browser draw the answer before the whole page arrives again (tests/test_browser.py, 2 cores under load: the
# whole answer on screen in a median 200-275 ms without the pause, 140-180 ms with it).
REDRAW_PAUSE_S = 0.3
RECENT_TURNS = 20  # the turns a conversation shows at first, its latest; earlier ones this many a click
# The timeline's row labels: cut (with "…", the full title on hover) to leave the dates room on a narrow screen.
NARROW_LABEL = "containerSize()[0] < 560 ? containerSize()[0] * 0.35 : 280"
INTRO = (
    " Ask a question in plain English: every sentence of an answer is quoted from a document summary and "
    "numbered, like \\[1\\], after the source it comes from. When the collection does not cover a question, "
    "the page says so."
)


# ---------------------------------------------------------------------------------------------- conversations


def save_turns(config: Config) -> None:
    """Save the session's turns not yet saved, starting a conversation (and its link) with the first."""
    state = st.session_state
    store = common.store(config)
    for turn in state.turns:
        if turn.get("saved"):
            continue
        data = encode_turn(turn["answer"], turn["filters"], turn["k"], turn["mode"], turn.get("asked_at"))
        if not (state.conversation and store.add_turn(state.conversation, data)):
            state.conversation = store.create(turn["answer"].question, common.signed_in_user() or "")
            store.add_turn(state.conversation, data)
        # Marked before any Streamlit call: a call can end the run (a rerun was asked for), and a turn saved but
        # not marked would be saved again by the next run.
        turn["saved"] = True
    if state.conversation and st.query_params.get(LINK) != state.conversation:
        st.query_params[LINK] = state.conversation


def load_turns(config: Config, cid: str) -> list[dict] | None:
    """A saved conversation's turns (records given back their full text from the index), or None."""
    texts = common.store(config).turns(cid) if valid_id(cid) else None
    if texts is None:
        return None
    index = common.index_or_none(common.build_key(config), config)

    def full_text(record_id: str) -> str:
        position = index.records.position(record_id) if index else None
        return index.records[position].full_text if position is not None else ""

    turns = [{**turn, "saved": True} for turn in readable_turns(texts, full_text)]
    return turns


def open_conversation(config: Config, cid: str) -> None:
    """Show a saved conversation (from the list or a link); a link naming none says so and starts afresh."""
    state = st.session_state
    turns = load_turns(config, cid)
    state.queue, state.ask_about = [], None
    if turns is None:
        state.turns, state.conversation = [], None
        state.notice = "No conversation at this link: a new one starts here."
        st.query_params.pop(LINK, None)
        return
    state.turns, state.conversation, state.shown = turns, cid, RECENT_TURNS
    st.query_params[LINK] = cid


def follow_link(config: Config) -> None:
    """Keep the conversation shown and the page's link in step: a link opens its conversation; back from another
    page, the link is given back."""
    state = st.session_state
    linked = st.query_params.get(LINK)
    if linked == state.conversation:
        return
    if linked:
        open_conversation(config, linked)
    elif state.conversation:
        st.query_params[LINK] = state.conversation


def new_conversation() -> None:
    state = st.session_state
    state.turns, state.queue, state.conversation, state.shown, state.ask_about = [], [], None, RECENT_TURNS, None
    st.query_params.pop(LINK, None)


def rename_conversation(config: Config, field: str) -> None:
    common.store(config).rename(st.session_state.conversation, st.session_state.get(field, ""))


def delete_conversation(config: Config) -> None:
    """Delete the conversation shown, keeping what it held for a few seconds so that it can be brought back."""
    state, store = st.session_state, common.store(config)
    cid = state.conversation
    state.deleted = {"id": cid, "title": store.title(cid) or "", "owner": store.owner(cid),
                     "turns": store.turns(cid) or [], "until": time.time() + UNDO_S}
    store.delete(cid)
    state.confirm_delete = False
    new_conversation()


def undo_delete(config: Config) -> None:
    """Put the conversation just deleted back, under its own link, and show it."""
    deleted = st.session_state.pop("deleted", None)
    if deleted:
        common.store(config).restore(deleted["id"], deleted["title"], deleted["owner"], deleted["turns"])
        open_conversation(config, deleted["id"])
        st.session_state.restored = True


def ask_to_delete(confirm: bool) -> None:
    st.session_state.confirm_delete = confirm


@st.fragment(run_every=2)
def undo_offer(config: Config) -> None:
    """The line that offers to bring a deleted conversation back, for UNDO_S seconds."""
    if st.session_state.pop("restored", False):  # brought back: the whole page shows it again
        st.rerun(scope="app")
    deleted = st.session_state.get("deleted")
    if not deleted:
        return
    if time.time() > deleted["until"]:
        st.session_state.pop("deleted", None)
        st.rerun(scope="app")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(escape_markdown(f"Deleted “{short_title(deleted['title'], 32)}”."))
        st.button("Undo", key="undo_delete", on_click=undo_delete, args=(config,))


# ---------------------------------------------------------------------------------------------- asking


def ask(config: Config, question: str, filters: Filters, k: int, mode: str, live: bool = True) -> dict:
    """Ask with the conversation so far and keep the turn (saved once it is shown); written by the model server
    when the toggle is on (streamed in where the answer goes when `live`)."""
    turns = st.session_state.turns
    history = [t["answer"] for t in turns if not t["answer"].error]
    assistant = common.load_assistant(common.build_key(config), config)
    try:
        answer = assistant.ask(question, history, filters, k=k, mode=mode)
    except QuestionError as exc:  # a filter the index no longer knows (a name, after a rebuild)
        answer = Answer(question, question, error=first_upper(str(exc)), abstained=True, mode=mode)
    answer = written(config, assistant, answer, live)
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


def scoped_record(config: Config):
    """The document the chat is scoped to ("Ask about this document" on the browse page), or None."""
    rid = st.session_state.get("ask_about")
    index = common.index_or_none(common.build_key(config), config) if rid else None
    position = index.records.position(rid) if index else None
    return index.records[position] if position is not None else None


def scope_filters(record, filters: Filters) -> Filters:
    """The filters that keep answers to one document's date (its day, month or year), beside the people chosen."""
    if not record.date:
        return filters
    return replace(filters, date_from=record.date, date_to=record.date, include_undated=False, infer_dates=False)


def leave_scope() -> None:
    st.session_state.ask_about = None


def scope_line(record) -> None:
    """Which document the questions are about, and the way back to the whole collection."""
    with st.container(horizontal=True, vertical_alignment="center", key="scope"):
        st.info(escape_markdown(f"Asking about one document: “{record.title}” ({record.display_date}). Answers are "
                                "drawn from the documents of its date."))
        st.button("Ask the whole collection", key="leave_scope", on_click=leave_scope)


def ask_without_date(config: Config) -> None:
    """Ask the last question again without reading a date from it, in its place (and in the saved conversation)."""
    state = st.session_state
    last = state.turns.pop()
    question, filters = last["answer"].question, replace(last["filters"], infer_dates=False)
    turn = ask(config, question, filters, last["k"], last["mode"], live=False)
    if last.get("saved") and state.conversation:
        data = encode_turn(turn["answer"], turn["filters"], turn["k"], turn["mode"])
        common.store(config).replace_last_turn(state.conversation, data)
        turn["saved"] = True


# ---------------------------------------------------------------------------------------------- written answers


def written_toggle(config: Config) -> None:
    """The "Written answer" toggle, shown only when a model server is configured (docs/written-answers.md)."""
    if config.llm_url:
        st.sidebar.toggle("Written answer", key="written", persist_state="session",
                          help="A local model writes the answer from the cited documents; every sentence is checked "
                          "against the documents it cites before it is shown, and the quoted answer stands otherwise.")


def written(config: Config, assistant, answer: Answer, live: bool) -> Answer:
    """The answer written by the model server when the toggle is on: streamed in sentence by sentence as each is
    checked (when `live`), then drawn as a whole by `show_answer`."""
    if not (config.llm_url and st.session_state.get("written")) or answer.error:
        return answer
    preview, kept = st.empty() if live else None, Written(config.llm_model or "the model")

    def checked(sentence, verdict) -> None:
        if verdict.kept:
            kept.sentences.append(sentence)
        if preview is not None:
            text = written_markdown(kept, escape_markdown, lambda n: f"**\\[{n}\\]**")
            preview.markdown(f"{text} …" if kept.sentences else "_Writing, each sentence checked against the sources…_")

    answer = Writer(config, assistant.index.analyzer).write(answer, on_checked=checked)
    if preview is not None:
        preview.empty()
    return answer


def written_note(answer: Answer) -> None:
    """Over an answer asked to be written: its model and that it was checked, or why the quoted answer is shown."""
    label = written_label(answer)
    if label and answer.kind == "written":
        st.caption(f":material/edit_note: {label}")
    elif label:
        st.info(label)


def quotations(turn: dict) -> None:
    """Under a written answer, one click away: the quoted answer it rests on."""
    answer = turn["answer"]
    if answer.kind == "written":
        section = folded("Quotations the answer rests on", f"{turn_key(turn)}-quotations")
        if section:
            with section:
                st.markdown(answer_markdown(replace(answer, written=None)))


# ---------------------------------------------------------------------------------------------- one date control


def last_answer():
    turns = st.session_state.turns
    return turns[-1]["answer"] if turns else None


def clear_dates(config: Config, span: tuple[int, int]) -> None:
    """Clear the date control and the date read from the last question, both at once."""
    state = st.session_state
    state.years, state.undated, state.dates_read = span, True, None
    if question_date(last_answer()):
        ask_without_date(config)


def dates_moved(config: Config, span: tuple[int, int]) -> None:
    """Moving the control back to every year while it shows a question's date clears that date too."""
    if tuple(st.session_state.years) == span and st.session_state.get("dates_read"):
        clear_dates(config, span)


def sync_dates(view, span: tuple[int, int]) -> tuple[int, int] | None:
    """Put the years of a date read from the last question on the control (once per answer); when the last answer
    read none, take the control back from such years. The years shown for a question, or None."""
    state = st.session_state
    shown = question_years(question_date(last_answer()), view)
    marker = state.get("dates_read")
    if shown and marker != (len(state.turns), shown):
        state.years, state.dates_read = shown, (len(state.turns), shown)
    elif not shown and marker:
        if tuple(state.get("years", span)) == marker[1]:
            state.years = span
        state.dates_read = None
    years = tuple(state.get("years", span))
    state.years = (max(span[0], min(years[0], span[1])), min(span[1], max(years[1], span[0])))
    marker = state.get("dates_read")
    return marker[1] if marker and tuple(state.years) == marker[1] else None


def date_control(sb, config: Config, view) -> Filters:
    """The one date control: a year range that also shows, in the answer's own words, a date read from the last
    question; clearing either clears both. Its filters (none while it shows the question's date)."""
    span = view.year_range if view else None
    if not span:
        return Filters()
    read = sync_dates(view, span)
    st.session_state.setdefault("undated", True)
    years = sb.slider("Document dates", *span, key="years", on_change=dates_moved, args=(config, span),
                      persist_state="session")
    narrowed = tuple(years) != span
    include = sb.checkbox("Include undated documents", key="undated", disabled=bool(read), persist_state="session",
                          help="Undated documents cannot be placed in a range of years.")
    undated = f"{view.undated:,} document has" if view.undated == 1 else f"{view.undated:,} documents have"
    sb.caption(f"{undated} no date; untick to leave them out." if view.undated else "Every document is dated.")
    applied = question_date(last_answer())
    if read and applied:
        sb.caption(escape_markdown(first_upper(applied.description) + ", read from your question."))
    else:
        sb.caption(escape_markdown(first_upper(range_words(view, tuple(years), include)) + "."))
    if narrowed or read or not include:
        sb.button("Clear dates", key="clear_dates", on_click=clear_dates, args=(config, span))
    return Filters() if read else year_filters(view, tuple(years), include)


# ---------------------------------------------------------------------------------------------- the sidebar


def people_control(sb, view, filters: Filters) -> Filters:
    """Who wrote and who received the documents, as the titles say (any name of the alias table works too)."""
    counts = dict(view.people) if view else {}
    names = list(counts)
    label = lambda name: f"{name} ({counts.get(name, 0)})"  # noqa: E731
    author = sb.selectbox("Written by", names, index=None, key="from_person", placeholder="Anyone",
                          format_func=label, persist_state="session")
    recipient = sb.selectbox("Sent to", names, index=None, key="to_person", placeholder="Anyone",
                             format_func=label, persist_state="session")
    return replace(filters, from_person=author, to_person=recipient)


def sidebar_search(config: Config, view) -> tuple[Filters, int, str]:
    sb = st.sidebar
    sb.header("Search")
    written_toggle(config)
    filters = people_control(sb, view, date_control(sb, config, view))
    with sb.expander("Advanced"):
        k, mode = advanced(config, view)
    return filters, k, mode


def advanced(config: Config, view) -> tuple[int, str]:
    """What a researcher rarely changes: how many documents an answer reads, how they are found, scores and times
    shown, the model and the index's rebuild."""
    k = st.slider("Documents read for each answer", 1, max(10, config.k), config.k, key="k", persist_state="session",
                  help="An answer quotes only from this many of the documents that match best.")
    mode = st.radio("Find documents by", MODES, index=MODES.index(config.mode), format_func=MODE_LABELS.get,
                    key="mode", persist_state="session", help="Meaning finds documents about the same thing in other "
                    "words; exact words finds the words you typed (names, places).")
    st.toggle("Show similarity scores", key="show_scores", persist_state="session",
              help="In “Why this source”: how close a document is to the question, from 0 to 1.")
    st.toggle("Show how long answers take", key="show_timings", persist_state="session")
    if view:
        st.caption(escape_markdown(view.build_line()))
    st.button("Rebuild the index", key="rebuild_advanced", on_click=common.request_rebuild,
              help="Read the corpus again and take in new or changed documents (as `archive-qa index` does).")
    return k, mode


def sidebar_conversations(config: Config) -> None:
    """New conversation, download, rename or delete the one shown, and the list (as the privacy rule allows)."""
    store = common.store(config)
    st.sidebar.header("Conversations")
    if store.problem:
        st.sidebar.warning(escape_markdown(store.problem))
    conversation_actions(config, store)
    conversation_list(config, store, common.who_sees_what())


def conversation_actions(config: Config, store) -> None:
    state = st.session_state
    sb = st.sidebar
    row = sb.container(horizontal=True)
    row.button("New conversation", key="new_conversation", on_click=new_conversation, disabled=not state.turns)
    if state.turns:
        with row.popover("Export"):
            export_buttons(config, store)
    if state.conversation:
        with row.popover("Rename or delete"):
            field = f"title-{state.conversation}"
            st.text_input("Name", value=store.title(state.conversation) or "", key=field, max_chars=200)
            st.button("Rename", key="rename", on_click=rename_conversation, args=(config, field))
            st.button("Delete this conversation…", key="delete", on_click=ask_to_delete, args=(True,))
        if state.get("confirm_delete"):
            with sb.container(border=True, key="confirm_delete_box"):
                st.markdown("**Delete this conversation?** You can undo it for a few seconds.")
                with st.container(horizontal=True):
                    st.button("Delete", key="confirm_delete_yes", type="primary", on_click=delete_conversation,
                              args=(config,))
                    st.button("Cancel", key="confirm_delete_no", on_click=ask_to_delete, args=(False,))
    if state.get("deleted"):  # a fragment rerunning every 2 s, only while there is something to undo
        with sb:
            undo_offer(config)


def export_buttons(config: Config, store) -> None:
    """The conversation to download: as Markdown with its citations, or every cited source once for a reference
    manager (each file made when its button is pressed)."""
    state = st.session_state
    turns, citing = list(state.turns), common.citing(config)
    title = (store.title(state.conversation) if state.conversation else None) or "Archive QA conversation"
    st.caption("Markdown: the questions, answers and full citations. The others: every source cited, once.")
    for fmt, (extension, mime, label) in CONVERSATION_FORMATS.items():
        st.download_button(
            label, lambda fmt=fmt: conversation_export(turns, fmt, citing, title), key=f"export-{fmt}",
            file_name=f"archive-qa-conversation.{extension}", mime=mime, on_click="ignore", width="stretch",
        )


def conversation_list(config: Config, store, rule) -> None:
    """The saved conversations the rule lets this session see, most recent first; sign-in where it is configured."""
    sb = st.sidebar
    if rule.sign_in and sb.button("Sign in to see your conversations", key="sign_in"):
        st.login()
    if rule.owner:
        sb.caption(escape_markdown(f"Signed in as {rule.owner}"))
        if sb.button("Sign out", key="sign_out"):
            st.logout()
    if not rule.listed:
        if not rule.sign_in:
            sb.caption("Saved conversations are opened by their link (this server is shared, with no sign-in).")
        return
    listed = store.conversations(rule.owner)
    if not listed:
        return
    words = sb.text_input("Search conversations", key="conversation_search", placeholder="Words of a title")
    found = [c for c in listed if all(w in c.title.casefold() for w in words.casefold().split())]
    if words and not found:
        sb.caption("No conversation has these words in its title.")
    for c in found:
        label = f"{conversation_day(c.updated)} · {short_title(c.title, 40)}"
        sb.button(escape_markdown(label), key=f"open-{c.id}", on_click=open_conversation, args=(config, c.id),
                  type="secondary" if c.id == st.session_state.conversation else "tertiary", width="stretch",
                  help=escape_markdown(f"{c.turns} questions · last {c.updated[:16].replace('T', ' ')} UTC"))


def conversation_day(updated: str) -> str:
    """A conversation's last day as "8 Dec 2026" (its ISO time when that cannot be read)."""
    try:
        day = datetime.fromisoformat(updated)
    except ValueError:
        return updated[:10]
    return f"{day.day} {day:%b %Y}"


# ---------------------------------------------------------------------------------------------- a turn


def reading(answer) -> common.Reading:
    """What the cards of an answer need: the question's words (by the index's analyzer) and the archive."""
    state = st.session_state
    return common.Reading(question_words(answer.resolved_question, state.tokens), state.archive)


def folded(label: str, key: str):
    """A folded section whose content is drawn only while it is open (opening it reruns its turn's fragment alone):
    a turn sends a line per source, not every card."""
    section = st.expander(label, key=key, on_change="rerun")
    return section if section.open else None


def sources(turn: dict) -> None:
    """The cited sources as folded cards (a line each), then the documents retrieved but not cited."""
    answer, key = turn["answer"], turn_key(turn)
    card_reading = reading(answer)

    def cards(group) -> None:
        for source in group:
            section = folded(source_label(source), f"{key}-card-{source.n}")
            if section:
                with section:
                    why = why_lines(source, answer, st.session_state.tokens, st.session_state.get("show_scores", False))
                    common.record_card(source.record, card_reading, source.quoted if source.cited else (), why,
                                       source.passages if source.cited else ())

    if answer.sources:
        st.markdown("**Sources**")
        cards(answer.sources)
    if answer.related and answer.abstained:
        st.markdown("**Closest documents** (not cited: they do not answer the question)")
        cards(answer.related)
    elif answer.related:
        section = folded(f"Also found, not cited ({len(answer.related)})", f"{key}-related")
        if section:
            with section:
                cards(answer.related)


def turn_key(turn: dict) -> str:
    """A name for a turn's folded sections, the same on every run (so a section stays open) and unique per turn."""
    if "key" not in turn:
        turn["key"] = f"t{secrets.token_hex(4)}"
    return turn["key"]


def timeline_spec(answer) -> tuple[dict | None, str | None]:
    """The chart of an answer's documents on a time axis fitting them (titles on the rows), and the caption naming
    those not on it."""
    rows = timeline_span(timeline_rows(answer))
    note = timeline_note(answer, rows)
    if not rows:
        return None, note
    axis = timeline_axis(rows)
    color = {  # its key is the caption above the chart (a legend below it took a line of the window)
        "field": "kind",
        "type": "nominal",
        "scale": {"domain": ["cited", "not cited"], "range": ["#1c6fb5", "#a8a8a8"]},
        "legend": None,
    }
    x_axis = {"format": axis["format"], "tickCount": {"interval": axis["interval"], "step": axis["step"]},
              "grid": True, "gridOpacity": 0.4, "labelOverlap": "greedy", "labelFlush": True}
    spec = {
        "data": {"values": rows},
        "mark": {"type": "circle", "size": 110, "opacity": 0.9},
        "encoding": {
            "x": {"field": "date", "type": "temporal", "title": None, "axis": x_axis,
                  "scale": {"domain": [axis["from"], axis["to"]]}},
            "y": {"field": "label", "type": "nominal", "title": None, "sort": None,
                  "axis": {"ticks": False, "domain": False, "labelLimit": {"expr": NARROW_LABEL}}},
            "color": color,
            "tooltip": [{"field": "title", "title": "Title"}, {"field": "shown_date", "title": "Date"}],
        },
        "height": {"step": 24},
    }
    return spec, note


def timeline(turn: dict) -> None:
    if "timeline" not in turn:
        turn["timeline"] = timeline_spec(turn["answer"])  # made once per answer, not on every rerun
    spec, note = turn["timeline"]
    if spec:
        both = len({row["kind"] for row in spec["data"]["values"]}) > 1
        st.caption("When these documents were written" + (" (blue: cited; grey: found, not cited)" if both else ""))
        st.vega_lite_chart(spec, width="stretch", alt="Timeline of the answer's documents")
    if note:
        st.caption(note)


def citations(turn: dict) -> None:
    """The answer's citations in the archive's style, to copy, and its cited records for reference managers."""
    section = folded("Cite these sources", f"{turn_key(turn)}-cite")
    if not section:
        return
    sources = turn["answer"].sources
    citing = common.citing(st.session_state.config)
    with section:
        st.code(numbered_citations(sources, citing), language=None, wrap_lines=True)
        records = [s.record for s in sources]
        row = st.container(horizontal=True)
        for fmt, (write, extension, mime, label) in EXPORTS.items():
            row.download_button(f"Download {label}", write(records, citing), mime=mime, on_click="ignore",
                                file_name=f"archive-qa-sources.{extension}", key=f"{turn_key(turn)}-{fmt}")


def details(turn: dict) -> None:
    """An answer's sources (a line each), timeline and citations."""
    answer = turn["answer"]
    sources(turn)
    if answer.sources or answer.related:
        timeline(turn)
    if answer.sources:
        citations(turn)


def details_label(answer) -> str:
    if answer.sources:
        return f"Sources ({len(answer.sources)}), timeline and citations"
    return f"Closest documents ({len(answer.related)}) and timeline"


def show_answer(turn: dict, newest: bool = True) -> None:
    """A turn's answer: how it was read, the cited text, then its details (the newest answer's in full, an earlier
    one's folded into a line, so that a long conversation stays short) and how it was searched."""
    answer = turn["answer"]
    if answer.error:
        st.warning(escape_markdown(answer.error))
        return
    for note in answer_notes(answer, turn["filters"].infer_dates):
        st.caption(note)
    if answer.notice:
        st.warning(escape_markdown(answer.notice))
    written_note(answer)
    if answer.abstained:
        st.info(escape_markdown(answer.text))
    else:
        st.markdown(answer_markdown(answer))
    quotations(turn)
    if newest:
        details(turn)
    elif answer.sources or answer.related:
        section = folded(details_label(answer), f"{turn_key(turn)}-details")
        if section:
            with section:
                details(turn)
    next_questions(turn)
    st.caption(answer_footer(answer, turn["k"], st.session_state.get("show_timings", False)))


def next_questions(turn: dict) -> None:
    """Questions to ask next, from the answer's people, dates and subjects, as one row of chips; a click asks one."""
    suggested = follow_ups(turn["answer"])
    if suggested:
        key = f"{turn_key(turn)}-next"
        st.pills("Ask next", suggested, key=key, format_func=escape_markdown, on_change=ask_next, args=(key,))


def ask_next(key: str) -> None:
    """Ask the suggested question picked, and leave the chips unselected."""
    question = st.session_state.get(key)
    st.session_state[key] = None
    if question:
        enqueue(question)


def show_question(question: str) -> None:
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))


def show_turn(turn: dict, newest: bool = True) -> None:
    show_question(turn["answer"].question)
    with st.chat_message("assistant"):
        show_answer(turn, newest)


@st.fragment
def past_turn(turn: dict, newest: bool) -> None:
    """A turn, drawn by a fragment of its own like the chat's: where the chat fragment drew a turn, a full rerun
    draws it the same way (a fragment at the same place holding the same elements); opening one of its folded
    sections reruns it alone. Only the newest turn shows its details unfolded."""
    show_turn(turn, newest)


# ---------------------------------------------------------------------------------------------- the page


def index_problem(problem: str) -> None:
    """The index cannot be used: say why in one line and offer the rebuild; questions wait."""
    st.warning("**The index cannot be used as it is.** " + escape_markdown(first_upper(problem)))
    st.markdown("Rebuild it from the corpus now (the same as running `archive-qa index`):")
    st.button("Rebuild the index", key="rebuild_main", type="primary", on_click=common.request_rebuild)
    st.chat_input("Rebuild the index to ask questions", disabled=True)


def header(view) -> None:
    st.title("Archive QA")
    st.caption("Cited answers from the collection's document summaries, entirely offline.")
    if view:
        st.markdown(escape_markdown(view.description()) + INTRO)
        st.page_link(common.BROWSE_PAGE, label="Browse every document")


def main() -> None:
    common.start()
    state = st.session_state
    for name, empty in (("turns", []), ("queue", []), ("conversation", None)):
        state.setdefault(name, empty)
    state.page = state.get("page", 0) + 1  # this full run; the chat fragment drawn by an earlier one is stale
    config = common.config()
    state.config = config
    if state.pop("rebuild", False):
        common.rebuild(config)
    key = common.build_key(config)
    view, problem = common.open_index(key, config)
    follow_link(config)
    save_turns(config)  # any turn a fragment answered but could not save (its run was cut short)
    header(view)
    if state.get("notice"):
        st.info(escape_markdown(state.pop("notice")))
    sidebar_conversations(config)
    filters, k, mode = sidebar_search(config, view)
    scoped = scoped_record(config)
    if scoped:
        scope_line(scoped)
        filters = scope_filters(scoped, filters)
    if problem:
        index_problem(problem)
        return
    try:
        with st.spinner("Loading the model and the index (once per start)…"):
            assistant = common.load_assistant(key, config)
    except ArchiveQAError as exc:  # the model cannot be loaded, or disagrees with the index
        st.error(escape_markdown(f"The assistant cannot start: {exc}"))
        return
    state.tokens, state.archive = assistant.index.analyzer.tokens, view.archive
    state.drawn = len(state.turns)  # the turns this run draws; the chat fragment draws those asked after it
    st.chat_input("Ask the collection a question", key="question", on_submit=submit_question)
    first = earlier_turns(len(state.turns))
    for number, turn in enumerate(state.turns[first:], start=first + 1):
        past_turn(turn, number == len(state.turns))
    conversation(config, key, filters, k, mode, state.page)


def earlier_turns(count: int) -> int:
    """Where the drawn turns start: a long conversation shows its latest RECENT_TURNS, and a button over them
    shows as many earlier ones again, so a page (and each answer's redraw) costs the same at any length."""
    shown = st.session_state.setdefault("shown", RECENT_TURNS)
    first = max(0, count - shown)
    if first:
        st.button(f"Show earlier questions ({first} more)", key="earlier", icon=":material/expand_less:",
                  on_click=show_earlier)
    return first


def show_earlier() -> None:
    st.session_state.shown = st.session_state.get("shown", RECENT_TURNS) + RECENT_TURNS


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
        for i, example in enumerate(common.load_examples(key, common.load_assistant(key, config))):
            st.button(escape_markdown(example), key=f"example-{i}", on_click=enqueue, args=(example,))
    if state.queue:
        answer_queued(config, filters, k, mode)
        time.sleep(REDRAW_PAUSE_S)
        st.rerun(scope="app")


def answer_queued(config: Config, filters: Filters, k: int, mode: str) -> None:
    """Answer the queued questions in order, each shown at once and then saved; a question leaves the queue as its
    turn is kept."""
    queue = st.session_state.queue
    while queue:
        show_question(queue[0])
        with st.chat_message("assistant"):
            with st.spinner("Searching the collection…"):
                turn = ask(config, queue[0], filters, k, mode)
                queue.pop(0)  # no Streamlit call in between: an interrupted run neither loses it nor asks it twice
            show_answer(turn)
        save_turns(config)


main()
