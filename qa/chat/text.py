"""Text for the chat app: corpus and user text made safe as Markdown, source cards, notes, the exported file.

Nothing here renders HTML. Every string that comes from the corpus or from the user goes through
`escape_markdown` before Streamlit sees it as Markdown, so a record cannot add links, images, HTML,
formulas or styling to the page; it is shown as the plain text it is. Links are made only from
http(s) addresses (`qa.chat.citations.safe_url`, through `qa.chat.citations.record_link`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from qa.answer.sentences import render
from qa.answer.written import fallback_line, removed_line
from qa.chat.citations import EXPORTS, Citing, Link, archive_citation, record_number
from qa.index.people import title_correspondents
from qa.records import Record
from qa.shared import split_sentences
from qa.types import Answer, Source, Written

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and then stands for itself.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
# For files people read as text (the exported conversation): only the characters that start Markdown or HTML.
_MARKUP = re.compile(r"([\\`*_\[\]<>&!|~$#])")
# GitHub-flavoured Markdown turns bare "http://…", "www.…" and "name@host.tld" into links, escaped or not
# (it looks at the displayed text); an invisible WORD JOINER at those places stops it and changes nothing seen.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=http:)(?=//)|(?<=https:)(?=//)|(?<=www)(?=\.)|(?=@)")
_WORD = re.compile(r"\w+(?:['’]\w+)*")
# What makes a line a heading underline, a rule or a list item at its start (`===`, `---`, `- `, `+ `, `1. `, `1) `):
# escaped too when only the markup characters are, so no line of user or corpus text forges the file's structure.
_LINE_END = re.compile(r"\r\n?|\n")  # where Markdown ends a line
_BLOCK_START = re.compile(r"^([-+=]|\d{1,9}[.)](?=[ \t]|$))")
HIGHLIGHT = "orange-background"  # Streamlit's Markdown colour for the question's words in a summary
MODE_LABELS = {"hybrid": "Meaning and exact words (recommended)", "dense": "Meaning only", "bm25": "Exact words only"}
_SEARCHED = {"hybrid": "Found by meaning and exact words", "dense": "Found by meaning", "bm25": "Found by exact words"}
SHORT_TITLE = 48


# ---------------------------------------------------------------------------------------------- escaping


def escape_markdown(text: object, *, light: bool = False) -> str:
    """Text that Markdown (and Streamlit's extensions: colours, icons, LaTeX) shows literally.

    Every ASCII punctuation character gets a backslash, which Markdown removes on display; so
    `<script>`, `![x](y)`, `**bold**`, `$x$` and `:red[x]` all appear as typed. Bare web and mail
    addresses get an invisible word joiner so that they are not made into links. Leading spaces are
    dropped from each line so that no indentation turns text into a code block. `light` escapes only
    the characters that start Markdown or HTML, for a file read as text too.
    """
    return "\n".join(_escape_line(line.lstrip(" \t"), light) for line in _LINE_END.split(str(text)))


def _escape_line(text: str, light: bool = False) -> str:
    escaped = _escaped(_AUTOLINK.sub(_WORD_JOINER, text), _MARKUP if light else _PUNCTUATION)
    return _BLOCK_START.sub(lambda m: f"{m.group()[:-1]}\\{m.group()[-1]}", escaped) if light else escaped


def _escaped(text: str, characters: re.Pattern[str] = _PUNCTUATION) -> str:
    return characters.sub(r"\\\1", text)


def highlight(text: str, wanted: Callable[[str], bool]) -> str:
    """Escaped text (one line) with each word `wanted` says is the question's marked in Streamlit's highlight."""
    text = _AUTOLINK.sub(_WORD_JOINER, " ".join(text.split()))
    out, last = [], 0
    for m in _WORD.finditer(text):
        if wanted(m.group()):
            out += [_escaped(text[last : m.start()]), f":{HIGHLIGHT}[{_escaped(m.group())}]"]
            last = m.end()
    out.append(_escaped(text[last:]))
    return "".join(out)


def question_words(question: str, tokens: Callable[[str], Sequence[str]]) -> Callable[[str], bool]:
    """Whether a word is one of the question's (the same stem or alias: `tokens` is the index's analyzer)."""
    wanted = frozenset(tokens(question))
    return lambda word: bool(wanted.intersection(tokens(word)))


def first_upper(text: str) -> str:
    """The text with its first letter made a capital (the rest kept: `str.capitalize` would lower it)."""
    return text[:1].upper() + text[1:]


def short_title(title: str, limit: int = SHORT_TITLE) -> str:
    """A title cut at a word before `limit` characters, marked "…" (whole when it fits)."""
    text = " ".join(title.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:-–") + "…"


# ---------------------------------------------------------------------------------------------- an answer


def answer_markdown(answer: Answer, *, light: bool = False) -> str:
    """The answer's text as Markdown: quoted sentences escaped, each followed by its [n] marker (bold on the page).

    Built from the answer's sentences (not by editing its text), so a "[3]" inside a summary can never
    pass for a citation marker.
    """
    escape = (lambda t: escape_markdown(t, light=True)) if light else escape_markdown
    marker = (lambda n: f"\\[{n}\\]") if light else (lambda n: f"**\\[{n}\\]**")
    if answer.kind == "written":
        return written_markdown(answer.written, escape, marker)
    if not answer.sentences:
        return escape(answer.text)
    return render(answer.sentences, escape, marker, answer.closing)


def written_markdown(written: Written, escape: Callable[[str], str], marker: Callable[[int], str]) -> str:
    """A written answer's checked sentences, escaped, each followed by its markers; then how many were removed."""
    text = " ".join(f"{escape(s.text)} " + "".join(marker(n) for n in s.cited) for s in written.sentences)
    removed = removed_line(len(written.removed))
    return text + (f"\n\n{escape(removed)}" if removed else "")


def written_label(answer: Answer, *, light: bool = False) -> str | None:
    """The line over an answer asked to be written (escaped): its model and that it was checked, or why the quoted
    answer is shown instead; None for an answer not asked to be written."""
    if answer.written is None:
        return None
    line = f"Written by {answer.written.model}, checked against the sources" if answer.kind == "written" else (
        fallback_line(answer.written.fallback))
    return escape_markdown(line, light=light)


def answer_notes(answer: Answer, infer_dates: bool = True) -> list[str]:
    """The captions above an answer (escaped): how a follow-up was read, which filters applied, and the line
    saying the question's date or people replaced the sidebar's."""
    notes = []
    if answer.resolved_question.strip() != answer.question.strip():
        notes.append("Read with the previous question as: " + escape_markdown(answer.resolved_question))
    notes += [escape_markdown(first_upper(line) + ".") for line in filter_lines(answer, infer_dates)]
    if getattr(answer, "override", ""):
        notes.append(escape_markdown(answer.override))
    return notes


def filter_lines(answer: Answer, infer_dates: bool = True) -> list[str]:
    """The filters an answer was limited to, in words (plain text): dates and people, and where each came from."""
    lines = []
    applied = answer.applied_filter
    if applied:
        where = "read from the question" if applied.source == "question" else "set in the sidebar"
        lines.append(f"date filter {where}: {applied.description}")
    elif not infer_dates:
        lines.append("no date filter: the date in the question was ignored, as asked")
    people = getattr(answer, "people_filter", None)
    if people:
        where = "read from the question" if people.source == "question" else "set in the sidebar"
        lines.append(f"people {where}: {people.description}")
    return lines


def answer_footer(answer: Answer, k: int | None = None, timing: bool = False) -> str:
    """The caption under an answer: how it was searched and, when asked for, how long that took (no corpus text)."""
    considered = f" among the {k} closest documents" if k else ""
    took = f" · {answer.timings.get('total_ms', 0):.0f} ms" if timing else ""
    return f"{_SEARCHED.get(answer.mode, answer.mode)}{considered}{took}"


def question_date(answer: Answer | None):
    """The date range read from the question (`AppliedFilter`), or None when none was read."""
    applied = answer.applied_filter if answer else None
    return applied if applied and applied.source == "question" else None


# ---------------------------------------------------------------------------------------------- source cards


def source_label(source: Source) -> str:
    """A source's one line (escaped, for a folded card): its number, title and date."""
    return escape_markdown(f"[{source.n}] {source.record.title} — {source.record.display_date}")


def document_question(record: Record) -> str:
    """The question that asks what one document is about (plain text)."""
    return f"What is “{' '.join(record.title.split())}” about?"


def record_label(record: Record) -> str:
    return escape_markdown(f"{record.title} — {record.display_date}")


def record_meta(record: Record) -> str:
    """A card's caption (escaped): date, kind, language, original archive, the archive's record id."""
    number = record_number(record)
    parts = [record.display_date, record.record_type, record.language, record.archive or ""]
    parts.append(f"Record ID {number}" if number else "")
    return escape_markdown(" · ".join(p for p in parts if p))


def correspondents_line(record: Record) -> str | None:
    """Who wrote to whom, as the title says (escaped), or None when it names no one."""
    found = title_correspondents(record.title)
    if not found:
        return None
    parts = []
    if found.authors:
        parts.append("From " + ", ".join(found.authors))
    if found.recipients:
        parts.append(("to " if parts else "To ") + ", ".join(found.recipients))
    if found.intermediaries:
        parts.append("via " + ", ".join(found.intermediaries))
    if found.participants:
        parts.append(("with " if parts else "Between ") + ", ".join(found.participants))
    return escape_markdown(" ".join(parts))


def listing_line(record: Record) -> str | None:
    """Where the archive lists the record and what it associates with it (escaped), or None."""
    parts = []
    if record.listed_under:
        parts.append(f"Listed under {record.listed_under}")
    for name, values in (("People", record.people), ("Places", record.places), ("Topics", record.topics)):
        if values:
            parts.append(f"{name}: {', '.join(values)}")
    return escape_markdown(" · ".join(parts)) if parts else None


def summary_markdown(record: Record, wanted: Callable[[str], bool], quoted: Iterable[str] = ()) -> str:
    """The summary (escaped), the question's words highlighted and the sentences the answer quotes in italics."""
    if not record.summary.strip():
        return "_No summary._"
    quoted = set(quoted)
    marked = [(s, highlight(s, wanted)) for s in split_sentences(record.summary)]
    return " ".join(f"*{m}*" if s in quoted else m for s, m in marked)


def full_text_markdown(text: str) -> str:
    """A document's full text (escaped), one paragraph a line."""
    return "\n\n".join(escape_markdown(line) for line in text.split("\n") if line.strip())


def passage_markdown(record: Record, number: int) -> str:
    """A quoted paragraph of a document's full text in its context (escaped): the paragraphs before and after it,
    each after its number, the quoted one in italics."""
    paragraphs = record.full_text.split("\n")
    shown = range(max(number - 1, 1), min(number + 1, len(paragraphs)) + 1)
    lines = []
    for n in shown:
        text = escape_markdown(paragraphs[n - 1])
        lines.append(f"**¶{n}** *{text}*" if n == number else f"¶{n} {text}")
    return "\n\n".join(lines)


def paragraphs_cited(source: Source) -> str:
    """The paragraphs of its full text an answer quotes from a source: "¶4, ¶14" ("" for none)."""
    return ", ".join(f"¶{number}" for number in dict.fromkeys(n for n, _ in source.passages))


def link_markdown(link: Link | None) -> str | None:
    """The link to the record in the archive, or to the archive's search for its title."""
    if not link:
        return None
    label = "Open in the archive ↗" if link.exact else "Search the archive for this title ↗"
    return f"[{label}]({link.url})"


def why_lines(source: Source, answer: Answer, tokens: Callable[[str], Sequence[str]],
              scores: bool = False) -> list[str]:
    """Why a document is among the sources, in plain words (escaped): quoted or not, its place in the search,
    the question's words it holds and, when meaning was searched, how close it is in meaning (with its similarity
    score when `scores`)."""
    lines = [_cited_line(source, answer)]
    ids = [record_id for record_id, _ in answer.ranking]
    if source.record.id in ids:
        lines.append(f"The search placed it {_ordinal(ids.index(source.record.id) + 1)} of {len(ids)} documents.")
    shared = _shared_words(answer.resolved_question, source.record, tokens)
    if shared:
        lines.append("Its title or summary holds these words of your question: " + ", ".join(shared) + ".")
    else:
        lines.append("Its title and summary hold none of your question's words.")
    if answer.mode != "bm25":
        score = f" (similarity {source.similarity:.2f}, where 1 is the same meaning)" if scores else ""
        lines.append(f"It is {_closeness(source.similarity)} to your question in meaning{score}.")
    return [escape_markdown(line) for line in lines]


def _cited_line(source: Source, answer: Answer) -> str:
    if source.cited and source.passages:
        count = len(source.quoted)
        summary = f"{count} sentence{'s' if count != 1 else ''} of its summary and " if count else ""
        return f"The answer quotes {summary}its full text at {paragraphs_cited(source)}."
    if source.cited:
        count = len(source.quoted)
        return f"The answer quotes {count} sentence{'s' if count != 1 else ''} of its summary." if count else (
            "The answer quotes its summary."
        )
    if answer.abstained:
        return "It is one of the closest documents, but it does not answer the question."
    return "The search found it, but none of its sentences answered as closely as those quoted."


def _shared_words(question: str, record: Record, tokens: Callable[[str], Sequence[str]]) -> list[str]:
    """The question's words (as the reader typed them, once each) whose stem or alias the title or summary holds."""
    held = set(tokens(f"{record.title} {record.summary}"))
    return list(dict.fromkeys(w for w in _WORD.findall(question) if held.intersection(tokens(w))))


def _closeness(similarity: float) -> str:
    if similarity >= 0.55:
        return "close"
    if similarity >= 0.35:
        return "somewhat close"
    return "not close"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ---------------------------------------------------------------------------------------------- timeline


def timeline_rows(answer: Answer) -> list[dict]:
    """The dated documents of an answer for its chart, earliest first: cited sources, then the related ones."""
    rows = []
    for kind, sources in (("cited", answer.sources), ("not cited", answer.related)):
        for s in sources:
            r = s.record
            if not r.date_start:
                continue
            start = str(r.date_start)
            rows.append(
                {
                    "n": f"[{s.n}]",
                    "label": f"[{s.n}] {short_title(r.title)}",
                    "title": r.title,
                    "date": f"{start[:4]}-{start[4:6]}-{start[6:]}",
                    "shown_date": r.display_date,
                    "kind": kind,
                }
            )
    return sorted(rows, key=lambda row: row["date"])


def timeline_span(rows: list[dict]) -> list[dict]:
    """The rows the chart shows: all of them, or, when the answer cites dated documents, those within the cited
    documents' years (one far-off related document would squeeze the evidence together)."""
    cited = [r["date"][:4] for r in rows if r["kind"] == "cited"]
    if not cited:
        return rows
    return [r for r in rows if min(cited) <= r["date"][:4] <= max(cited)]


def timeline_axis(rows: list[dict]) -> dict:
    """The chart's time axis fitting its documents: months when they span under two years, else years.

    {"from", "to"} (ISO days, a margin on each side), "format" (d3 time format) and "interval"/"step" for ticks.
    """
    first, last = rows[0]["date"], rows[-1]["date"]
    y0, m0, y1, m1 = int(first[:4]), int(first[5:7]), int(last[:4]), int(last[5:7])
    months = (y1 - y0) * 12 + (m1 - m0)
    if months < 24:
        start, end = _month_shift(y0, m0, -1), _month_shift(y1, m1, 2)
        step = max(1, (months + 3) // 6)
        return {"from": start, "to": end, "format": "%b %Y", "interval": "month", "step": step}
    step = max(1, (y1 - y0 + 2) // 8)
    return {"from": f"{y0 - 1}-07-01", "to": f"{y1 + 1}-07-01", "format": "%Y", "interval": "year", "step": step}


def _month_shift(year: int, month: int, shift: int) -> str:
    """The first day of the month `shift` months from the given one, as an ISO day."""
    index = year * 12 + month - 1 + shift
    return f"{index // 12:04d}-{index % 12 + 1:02d}-01"


def timeline_note(answer: Answer, shown: list[dict]) -> str | None:
    """The caption naming the answer's documents not on its chart (escaped): undated ones and, when the chart fits
    the cited documents' years, those outside them; or None."""
    on_chart = {row["n"] for row in shown}
    undated, outside = [], []
    for s in (*answer.sources, *answer.related):
        if f"[{s.n}]" in on_chart:
            continue
        entry = f"[{s.n}] {short_title(s.record.title)}"
        (outside if s.record.date_start else undated).append(
            f"{entry} ({s.record.display_date})" if s.record.date_start else entry
        )
    parts = []
    if undated:
        parts.append("Undated, not on the timeline: " + "; ".join(undated))
    if outside:
        parts.append("Outside the years of the cited documents: " + "; ".join(outside))
    return "  \n".join(escape_markdown(p) for p in parts) if parts else None


# ---------------------------------------------------------------------------------------------- the exported file


def turn_markdown(number: int, turn: dict, citing: Citing | None = None) -> list[str]:
    """One turn of the exported conversation: the question as asked and as read, filters and search, the answer
    and its full citations with links (corpus and user text escaped for Markdown viewers)."""
    answer: Answer = turn["answer"]
    esc = lambda text: escape_markdown(text, light=True)  # noqa: E731
    lines = [f"## Question {number}", "", f"**Asked:** {esc(answer.question)}  "]
    if answer.error:
        return lines + ["", esc(answer.error), ""]
    filters = filter_lines(answer, turn["filters"].infer_dates) if "filters" in turn else filter_lines(answer)
    lines += [
        f"**Read as:** {esc(answer.resolved_question)}  ",
        f"**Filters:** {esc('; '.join(filters)) if filters else 'none'}  ",
        f"**Search:** {MODE_LABELS.get(turn.get('mode', answer.mode), answer.mode).lower()}"
        + (f", {turn['k']} documents considered" if turn.get("k") else ""),
        "",
        *([f"_{label}_", ""] if (label := written_label(answer, light=True)) else []),
        answer_markdown(answer, light=True),
        "",
    ]
    if answer.notice:
        lines += [f"_{esc(answer.notice)}_", ""]
    cited = answer.sources or (answer.related if answer.abstained else [])
    if cited:
        lines += ["**Sources**" if answer.sources else "**Closest documents** (not cited)", ""]
        lines += [f"- \\[{s.n}\\] {_markdown_citation(s.record, citing)}"
                  + (f" Quoted at {paragraphs_cited(s)}." if s.passages else "") for s in cited]
        lines.append("")
    return lines


def _markdown_citation(record: Record, citing: Citing | None) -> str:
    """A full citation for a Markdown file: text escaped, the address as a link."""
    return archive_citation(record, citing, escape=lambda t: escape_markdown(t, light=True), link=lambda u: f"<{u}>")


def cited_records(turns: Iterable[dict]) -> list[Record]:
    """Every source the conversation's answers cite, once each, in the order they were first cited."""
    found: dict[str, Record] = {}
    for turn in turns:
        for source in turn["answer"].sources:
            found.setdefault(source.record.id, source.record)
    return list(found.values())


def conversation_markdown(turns: Sequence[dict], *, title: str = "Archive QA conversation",
                          exported_at: datetime | None = None, citing: Citing | None = None) -> str:
    """The whole conversation as a Markdown file: the export date, each turn (`turn_markdown`), then every cited
    source once."""
    when = (exported_at or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip()
    parts = [f"# {escape_markdown(title, light=True)}", "", f"Exported from Archive QA on {when}.", ""]
    for number, turn in enumerate(turns, start=1):
        parts += turn_markdown(number, turn, citing)
    records = cited_records(turns)
    if records:
        parts += ["## Every source cited", ""]
        parts += [f"{n}. {_markdown_citation(r, citing)}" for n, r in enumerate(records, start=1)]
    return "\n".join(parts).rstrip() + "\n"


CONVERSATION_FORMATS = {"md": ("md", "text/markdown", "Markdown"), **{k: v[1:] for k, v in EXPORTS.items()}}


def conversation_export(turns: Sequence[dict], fmt: str, citing: Citing | None = None,
                        title: str = "Archive QA conversation") -> str:
    """A conversation in one of CONVERSATION_FORMATS: Markdown with its citations, or every cited source once as
    RIS, CSL-JSON or BibTeX."""
    if fmt == "md":
        return conversation_markdown(turns, title=title, citing=citing)
    return EXPORTS[fmt][0](cited_records(turns), citing)


# ---------------------------------------------------------------------------------------------- follow-ups

FOLLOW_UPS = 3


def follow_ups(answer: Answer, limit: int = FOLLOW_UPS) -> list[str]:
    """Questions to ask next (plain text), from the answer's cited documents: their correspondents, the month after
    the latest of them, and the subjects the archive lists for them; none already asked."""
    records = [s.record for s in answer.sources]
    asked = {answer.question.casefold(), answer.resolved_question.casefold()}
    found = [*_people_questions(records), *_next_month_question(records), *_subject_questions(records, asked)]
    return [q for q in dict.fromkeys(found) if q.casefold() not in asked][:limit]


def _people_questions(records: Sequence[Record]) -> list[str]:
    for record in records:
        people = title_correspondents(record.title)
        if people.authors and people.recipients:
            return [f"What else did {people.authors[0]} send to {people.recipients[0]}?"]
        if len(people.participants) > 1:
            return [f"What else did {people.participants[0]} and {people.participants[1]} discuss?"]
        if people.authors:
            return [f"What else did {people.authors[0]} write?"]
    return []


def _next_month_question(records: Sequence[Record]) -> list[str]:
    ends = [r.date_end for r in records if r.date_end and r.date_precision in ("day", "month")]
    if not ends:
        return []
    year, month = divmod(max(ends) // 100, 100)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [f"What happened next, in {datetime(year, month, 1):%B} {year}?"]


def _subject_questions(records: Sequence[Record], asked: set[str]) -> list[str]:
    subjects = dict.fromkeys(t for r in records for t in (*r.topics, *r.places))
    fresh = [t for t in subjects if not any(t.casefold() in q for q in asked)]
    return [f"What do the documents say about {t}?" for t in fresh[:1]]
