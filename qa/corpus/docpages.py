"""Document pages: one document each, read into one record with its metadata and full text.

Three variants: the new site's page (date, title, full text, summary, then `Document Information`
and labelled lists), the old site's page (`• Citation`, `get citation`, the citation line, `•
share document`, then the text) and the archive's PDF export (`Citation:`, `Summary:`, `Original
Language:`, `Contents:`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from qa.corpus.lines import Line, ends_sentence, looks_like_date, starts_lower
from qa.corpus.listings import BULLET, content
from qa.corpus.raw import Raw, Sink

# Labels of a document page's parts, as the pages write them (any case, `###` or `:` around them).
LABELS = {
    "document information": "info", "original uploaded date": "uploaded", "record id": "archive_id",
    "record type": "record_type", "type": "record_type", "document type": "record_type",
    "language": "language", "languages": "language", "original language": "language",
    "associated people & organizations": "people", "associated people and organizations": "people",
    "associated people": "people", "associated organizations": "people", "associated places": "places",
    "associated topics": "topics", "subjects discussed": "topics", "source": "citation", "citation": "citation",
    "original archive": "archive", "rights": "rights", "summary": "summary", "credits": "credits",
    "contents": "contents",
}
# Labels that only the metadata part of a new-site page has: where that part starts.
META = frozenset({"info", "uploaded", "archive_id", "people", "places", "topics", "archive"})
_URL = re.compile(r"https?://\S+")
_RECORD_NUMBER = re.compile(r"/document/(\d+)/?$")
_FORMAT_TAB = re.compile(r"^(\w+ )?(html|pdf)$|^original scan$|^(translation|transcript)( - \w+)?$", re.I)
_MAX_LABEL = 60


def label(line: Line) -> tuple[str, str] | None:
    """(part, value on the same line) if a line is a part's label (`Record ID`, `### Associated Places`, `Summary:`)."""
    if len(line.text) > _MAX_LABEL and line.text[0] != "#" and ":" not in line.text and line.text == line.text.strip():
        return None  # too long to be a label's name (the common case, quickly; issue 16)
    text = line.text.lstrip("#").strip()
    name, colon, value = text.partition(":")
    key = LABELS.get(name.strip().casefold()) if len(name) <= _MAX_LABEL else None
    if key is None or (value.strip() and not colon):
        return None
    return key, value.strip()


def sections(lines: list[Line]) -> list[tuple[str | None, list[Line]]]:
    """The lines under each label, in order; those before the first label under None."""
    parts: list[tuple[str | None, list[Line]]] = [(None, [])]
    for line in lines:
        found = label(line)
        if found is None:
            parts[-1][1].append(line)
            continue
        key, value = found
        parts.append((key, [Line(line.number, value, line.indent, 0)] if value else []))
    return parts


# ---------------------------------------------------------------------------------------------- new site


def read_new_document(lines: list[Line], sink: Sink, url: str | None) -> Iterator[Raw]:
    """A new-site document page: date, title, the full text and the summary after it, then the metadata."""
    items = content(lines)
    cut = _metadata_start(items)
    date, title, body = date_and_title(items[:cut])
    if title is None:
        _untitled(items, sink)
        return
    summary, text = _summary_and_text(body)
    raw = _raw(title, date, url, summary=" ".join(line.text for line in summary), full_text=paragraphs(text))
    _apply_metadata(raw, sections(items[cut:]))
    yield raw


def _summary_and_text(body: list[Line]) -> tuple[list[Line], list[Line]]:
    """A new-site page's summary (under a `Summary` label, else the last paragraph) and the full text above it."""
    parts = sections(body)
    summary = next((lines for key, lines in parts if key == "summary"), None)
    if summary is not None:
        return summary, [line for key, lines in parts if key != "summary" for line in lines]
    start = len(body) - 1
    while start > 0 and starts_lower(body[start].text) and not ends_sentence(body[start - 1].text):
        start -= 1
    return body[start:], body[:start]


def _apply_metadata(raw: Raw, parts: list[tuple[str | None, list[Line]]]) -> None:
    """The labelled lists and values of a document page, on its raw record."""
    for key, lines in parts:
        texts = [line.text for line in lines]
        if not texts:
            continue
        if key in ("info", "uploaded"):  # a rights paragraph, an upload date, and the record type
            kinds = [t for t in texts if len(t.split()) <= 5 and not ends_sentence(t) and not looks_like_date(t)]
            raw.record_type = raw.record_type or (kinds[0] if kinds else None)
        elif key in ("people", "places", "topics"):
            setattr(raw, key, getattr(raw, key) + tuple(texts))
        elif key == "language":
            raw.language = ", ".join(texts)
        elif key == "archive_id":
            raw.archive_id = texts[0]
        elif key in ("record_type", "archive", "citation"):
            setattr(raw, key, getattr(raw, key) or " ".join(texts))
        elif key == "summary" and not raw.summary:
            raw.summary = " ".join(texts)


# ---------------------------------------------------------------------------------------------- old site


def read_old_document(lines: list[Line], sink: Sink, url: str | None) -> Iterator[Raw]:
    """An old-site document page: date, title, summary; `• Citation`, the citation; `• share document`; the text."""
    head, cited, body = _old_parts(lines)
    citation = " ".join(line.text for line in cited)
    date, title, summary = date_and_title(content(head))
    cited_title, cited_date, cited_url = from_citation(citation)
    if title is None and cited_title:
        title = Line(cited[0].number, cited_title)
    if title is None:
        _untitled(lines, sink)
        return
    body = content(body)
    while body and _FORMAT_TAB.match(body[0].text):
        body = body[1:]
    cut = _metadata_start(body)
    raw = _raw(title, date, url or cited_url, summary=" ".join(line.text for line in summary),
               full_text=paragraphs(body[:cut]), citation=citation or None)
    if date is None and cited_date:
        raw.date, raw.date_line = cited_date, raw.line
    _apply_metadata(raw, sections(body[cut:]))
    yield raw


def _old_parts(lines: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """An old-site page's lines before `• Citation`, its citation's lines, and the lines after `• share document`."""
    plain = [BULLET.sub("", line.text).casefold() for line in lines]
    cite = plain.index("citation") if "citation" in plain else len(lines)
    start = plain.index("get citation") + 1 if "get citation" in plain else cite + 1
    if "share document" not in plain:  # then the citation is one line
        return lines[:cite], lines[start : start + 1], lines[start + 1 :]
    share = plain.index("share document")
    return lines[:cite], lines[start:share], lines[share + 1 :]


def from_citation(citation: str) -> tuple[str | None, str | None, str | None]:
    """(title, date, URL) from a citation line: `"Title," July 4, 1963, History and Public Policy Program …, URL`."""
    found = _URL.search(citation)
    url = found.group().rstrip(".") if found else None
    text = citation.strip()
    end = min((i for i in (text.find(',"', 1), text.find(",”", 1)) if i > 0), default=-1)
    if text[:1] not in "\"“" or end < 0:
        return None, None, url
    parts = text[end + 2 :].strip().split(", ")
    date = ", ".join(parts[:2]) if len(parts) > 1 and looks_like_date(", ".join(parts[:2])) else None
    return text[1:end], date, url


# ---------------------------------------------------------------------------------------------- PDF export


def read_pdf_document(lines: list[Line], sink: Sink, url: str | None) -> Iterator[Raw]:
    """The archive's PDF export as text: date, title, `Citation:`, `Summary:`, `Original Language:`, `Contents:`."""
    parts = sections(content(lines))
    head = parts[0][1]
    dates = [line for line in head if looks_like_date(line.text)]
    titles = [line for line in head if not looks_like_date(line.text)]
    citation = " ".join(line.text for key, lines_ in parts if key == "citation" for line in lines_)
    cited_title, cited_date, cited_url = from_citation(citation)
    if not titles and not cited_title:
        _untitled(lines, sink)
        return
    title = Line(titles[0].number, " ".join(line.text for line in titles)) if titles else Line(1, cited_title or "")
    raw = _raw(title, dates[0] if dates else None, url or cited_url, citation=citation or None)
    if not dates and cited_date:
        raw.date = cited_date
    text = [line for key, lines_ in parts if key == "contents" for line in lines_]
    start = next((i for i, line in enumerate(text) if not _FORMAT_TAB.match(line.text)), len(text))
    raw.full_text = paragraphs([line for line in text[start:] if not _FORMAT_TAB.match(line.text)], wrapped=True)
    _apply_metadata(raw, [(key, lines_) for key, lines_ in parts if key not in ("citation", "contents")])
    yield raw


# ---------------------------------------------------------------------------------------------- shared


def _metadata_start(lines: list[Line]) -> int:
    """Where a page's metadata part starts: its first label that only metadata has (else the end)."""
    return next((i for i, line in enumerate(lines) if (found := label(line)) and found[0] in META), len(lines))


def _untitled(lines: list[Line], sink: Sink) -> None:
    sink.error(lines[0].number if lines else 1, "document page without a title")


def date_and_title(head: list[Line]) -> tuple[Line | None, Line | None, list[Line]]:
    """A page's date and title lines (date first or second) and the lines after them."""
    if not head:
        return None, None, []
    if looks_like_date(head[0].text):
        return head[0], head[1] if len(head) > 1 else None, head[2:]
    if len(head) > 1 and looks_like_date(head[1].text):
        return head[1], head[0], head[2:]
    return None, head[0], head[1:]


def paragraphs(lines: list[Line], *, wrapped: bool = False) -> str:
    """A full text, one paragraph a line. In `wrapped` text (a PDF's) a paragraph's lines follow each other
    without a blank line, and are joined; otherwise every line is a paragraph."""
    out: list[str] = []
    for line in lines:
        if out and wrapped and line.gap == 0:
            out[-1] += " " + line.text
        else:
            out.append(line.text)
    return "\n".join(out)


def _raw(title: Line, date: Line | None, url: str | None, **values: str | None) -> Raw:
    found = _RECORD_NUMBER.search(url) if url else None
    return Raw(
        title=title.text, line=(date or title).number, date=date.text if date else None,
        date_line=date.number if date else None, url=url, archive_id=found.group(1) if found else None,
        **values,  # type: ignore[arg-type]
    )
