"""Text for the chat page: corpus and user text made safe as Markdown, an answer's captions, citations to copy.

Nothing here renders HTML. Every string that comes from the corpus or from the user goes through
`escape_markdown` before Streamlit sees it as Markdown, so a record cannot add links, images, HTML,
formulas or styling to the page; it is shown as the plain text it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from qa.answer import Answer, Source, render

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and then stands for itself.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
# GitHub-flavoured Markdown turns bare "http://…", "www.…" and "name@host.tld" into links, escaped or not
# (it looks at the displayed text); an invisible WORD JOINER at those places stops it and changes nothing seen.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=http:)(?=//)|(?<=https:)(?=//)|(?<=www)(?=\.)|(?=@)")
_URL_SAFE = "/:?#@!$&'*+,;=%-._~"  # parentheses, brackets, angle brackets, quotes and spaces are percent-encoded
MODE_LABELS = {"hybrid": "Hybrid: meaning and words", "dense": "Meaning only (dense)", "bm25": "Exact words (BM25)"}


def escape_markdown(text: object) -> str:
    """Text that Markdown (and Streamlit's extensions: colours, icons, LaTeX) shows literally.

    Every ASCII punctuation character gets a backslash, which Markdown removes on display; so
    `<script>`, `![x](y)`, `**bold**`, `$x$` and `:red[x]` all appear as typed. Bare web and mail
    addresses get an invisible word joiner so that they are not made into links. Leading spaces are
    dropped from each line so that no indentation turns text into a code block.
    """
    escaped = _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(_WORD_JOINER, str(text)))
    return "\n".join(line.lstrip(" \t") for line in escaped.split("\n"))


def safe_url(url: str | None) -> str | None:
    """An http(s) link fit to put in a Markdown link, or None (other schemes, such as javascript:, are refused)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def answer_markdown(answer: Answer) -> str:
    """The answer's text as Markdown: quoted sentences escaped, each followed by its bold [n] marker.

    Built from the answer's sentences (not by editing its text), so a "[3]" inside a summary can never
    pass for a citation marker.
    """
    if not answer.sentences:
        return escape_markdown(answer.text)
    return render(answer.sentences, escape_markdown, lambda n: f"**\\[{n}\\]**")


def first_upper(text: str) -> str:
    """The text with its first letter made a capital (the rest kept: `str.capitalize` would lower it)."""
    return text[:1].upper() + text[1:]


def answer_notes(answer: Answer, infer_dates: bool = True) -> list[str]:
    """The captions above an answer (escaped): how a follow-up was read and which date filter applied."""
    notes = []
    if answer.resolved_question.strip() != answer.question.strip():
        notes.append("Read with the previous question as: " + escape_markdown(answer.resolved_question))
    applied = answer.applied_filter
    if applied:
        where = "read from the question" if applied.source == "question" else "set in the sidebar"
        notes.append(escape_markdown(f"Date filter {where}: {applied.description}."))
    elif not infer_dates:
        notes.append("No date filter: the date in the question was ignored, as asked.")
    return notes


def answer_footer(answer: Answer) -> str:
    """The caption under an answer: how it was retrieved and how long that took (no text from the corpus)."""
    return f"{MODE_LABELS.get(answer.mode, answer.mode)} · {answer.timings.get('total_ms', 0):.0f} ms"


def inferred_date(answer: Answer | None) -> str | None:
    """The date range read from the question, as a sentence (escaped), or None when none was read."""
    applied = answer.applied_filter if answer else None
    if not applied or applied.source != "question":
        return None
    return escape_markdown(first_upper(applied.description) + ".")


def source_heading(source: Source) -> str:
    """A source card's first line: the number and the title (escaped)."""
    return f"**\\[{source.n}\\] {escape_markdown(source.record.title)}**"


def source_details(source: Source) -> str:
    """A source card's caption: date, collection and retrieval scores."""
    parts = [source.record.display_date]
    if source.record.collection:
        parts.append(source.record.collection)
    parts.append(f"retrieval score {source.score:.4f}")
    parts.append(f"similarity {source.similarity:.2f}")
    return escape_markdown(" · ".join(parts))


def archive_link(source: Source) -> str | None:
    """Markdown for the link to the record in the archive, when it has a usable http(s) address."""
    url = safe_url(source.record.url)
    return f"[Open in the archive ↗]({url})" if url else None


def citation_list(sources: Iterable[Source]) -> str:
    """One citation a line (title, date, collection, link), to copy as plain text."""
    return "\n".join(s.citation() for s in sources)


def conversation_markdown(answers: Iterable[Answer], *, title: str = "Archive QA conversation") -> str:
    """The whole conversation as a Markdown file: each question, its answer and its citations.

    Abstentions keep the closest documents they listed, so the file says what was (not) found.
    """
    parts = [f"# {title}", ""]
    for i, answer in enumerate(answers, start=1):
        parts += [f"## Question {i}", ""]
        if answer.error:
            parts += [f"**Q:** {answer.question}", "", answer.error, ""]
            continue
        parts.append(answer.to_markdown().rstrip())
        if answer.notice:
            parts += ["", f"_{answer.notice}_"]
        if answer.abstained and answer.related:
            parts += ["", "Closest documents:", *[f"- {s.citation()}" for s in answer.related]]
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def timeline_rows(answer: Answer) -> list[dict]:
    """The dated documents of an answer, for a chart: cited sources first, then the related ones."""
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
                    "title": r.title,
                    "date": f"{start[:4]}-{start[4:6]}-{start[6:]}",
                    "shown_date": r.display_date,
                    "kind": kind,
                }
            )
    return rows


def undated_note(answer: Answer) -> str | None:
    """The caption naming the answer's documents that have no date (so are not on its timeline), or None."""
    undated = [f"[{s.n}]" for s in (*answer.sources, *answer.related) if not s.record.date_start]
    return escape_markdown(f"Undated, not on the timeline: {', '.join(undated)}") if undated else None
