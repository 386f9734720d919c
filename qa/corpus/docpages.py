"""Document pages: one document each, read into one record with its metadata and full text.

Three variants: the new site's page (date, title, full text, summary, then `Document Information`
and labelled lists), the old site's page (`• Citation`, `get citation`, the citation line, `•
share document`, then the text) and the archive's PDF export (`Citation:`, `Summary:`, `Original
Language:`, `Contents:`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from qa.corpus.credits import is_credit, is_field_label, is_rights, never_heading
from qa.corpus.lines import Line, ends_sentence, looks_like_date, looks_like_prose, starts_lower
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
    "contents": "contents", "author(s)": "authors", "authors": "authors", "author": "authors",
}
# Labels that only the metadata part of a new-site page has: where that part starts.
META = frozenset({"info", "uploaded", "archive_id", "people", "places", "topics", "archive"})
_URL = re.compile(r"https?://\S+")
_RECORD_NUMBER = re.compile(r"/document/(\d+)/?$")
_FORMAT_TAB = re.compile(r"^(\w+ )?(html|pdf)$|^original scan$|^(translation|transcript)( - \w+)?$", re.I)
_FORMAT_TABS_BEFORE = re.compile(r"^(((translation|transcript) - \w+|original scan|english html)\s+)+", re.I)
_CITED = re.compile(r"^[\"“](.+?)(?:,[\"”]|[\"”],)\s*(.*)$")
# In the PDF export flattened into one paragraph, the labels that start its parts inside a line.
_INLINE_LABEL = re.compile(r"\s(?=(?:Citation|Summary|Credits|Original Language|Contents):\s)")
_PDF_HEADER = ("wilson center digital archive", "original scan", "digital archive international history declassified")
_MAX_LABEL = 60


def label(line: Line) -> tuple[str, str] | None:
    """(part, value on the same line) if a line is a part's label (`Record ID`, `### Associated Places`, `Summary:`)."""
    if len(line.text) > _MAX_LABEL and line.text[0] != "#" and ":" not in line.text and line.text == line.text.strip():
        return None  # too long to be a label's name (the common case, quickly)
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
    date, title, _ = date_and_title(_headings(items[:cut]))
    if title is None:
        _untitled(items, sink)
        return
    parts = sections(_after(items[:cut], date, title))
    summary, text = _summary_and_text(parts)
    raw = _raw(title, date, url, summary=" ".join(line.text for line in summary), full_text=paragraphs(text))
    _apply_metadata(raw, [(key, lines_) for key, lines_ in parts if key not in (None, "summary")])
    _apply_metadata(raw, sections(items[cut:]))
    yield raw


def _summary_and_text(parts: list[tuple[str | None, list[Line]]]) -> tuple[list[Line], list[Line]]:
    """A new-site page's summary (under a `Summary` label, else the last paragraph of the unlabelled text) and the
    full text above it; a credit, rights or label line is neither."""
    body = [line for key, lines in parts if key is None for line in lines]
    summary = next((lines for key, lines in parts if key == "summary"), None)
    if summary is not None:
        return summary, body
    end = len(body)
    while end > 0 and never_heading(body[end - 1].text):
        end -= 1
    start = end - 1
    while start > 0 and starts_lower(body[start].text) and not ends_sentence(body[start - 1].text):
        start -= 1
    start = max(start, 0)
    return body[start:end], body[:start] + [line for line in body[end:] if not is_field_label(line.text)]


def _apply_metadata(raw: Raw, parts: list[tuple[str | None, list[Line]]]) -> None:
    """The labelled lists and values of a document page, on its raw record."""
    for key, lines in parts:
        texts = [line.text for line in lines]
        if not texts:
            continue
        if key in ("info", "uploaded"):  # a rights paragraph, an upload date, and the record type
            kinds = [t for t in texts if len(t.split()) <= 5 and not ends_sentence(t) and not looks_like_date(t)]
            raw.record_type = raw.record_type or (kinds[0] if kinds else None)
        elif key in ("people", "places", "topics", "authors"):
            name = "people" if key == "authors" else key
            setattr(raw, name, getattr(raw, name) + tuple(t for t in texts if t not in getattr(raw, name)))
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
    """An old-site document page: date, title, summary; `• Citation`, the citation; `• share document`; the text.

    A credit line where the title stands is skipped, and the title is then the citation's; a paragraph
    under the citation line is the summary when none stands under the title.
    """
    head, cited, body = _old_parts(lines)
    cited_lines, after = _citation_lines(content(cited))
    citation = " ".join(line.text for line in cited_lines)
    cited_title, cited_date, cited_url = from_citation(citation)
    date, title, summary = date_and_title(_headings(content(head)))
    if title is not None and cited_title and looks_like_prose(title.text) and not _same(title.text, cited_title):
        title, summary = None, [title, *summary]  # a summary without a title above it
    if title is None and cited_title:
        title = Line(cited_lines[0].number, cited_title)
    if title is None:
        _untitled(lines, sink)
        return
    body = content(body)
    while body and _FORMAT_TAB.match(body[0].text):
        body = body[1:]
    cut = _metadata_start(body)
    summary = summary or _headings(after)
    raw = _raw(title, date, url or cited_url, summary=" ".join(line.text for line in summary),
               full_text=paragraphs(body[:cut]), citation=citation or None)
    if date is None and cited_date:
        raw.date, raw.date_line = cited_date, raw.line
    _apply_metadata(raw, sections(body[cut:]))
    yield raw


def read_bare_document(lines: list[Line], sink: Sink, url: str | None) -> Iterator[Raw]:
    """An old-site document page copied without its header and citation: date, title, summary, then the text."""
    items = content(lines)
    cut = _metadata_start(items)
    date, title, _ = date_and_title(_headings(items[:cut]))
    if title is None:
        _untitled(items, sink)
        return
    summary, text = _first_paragraph(_after(items[:cut], date, title))
    raw = _raw(title, date, url, summary=" ".join(line.text for line in summary), full_text=paragraphs(text))
    _apply_metadata(raw, sections(items[cut:]))
    yield raw


def _first_paragraph(lines: list[Line]) -> tuple[list[Line], list[Line]]:
    """The first paragraph of a text that can be a summary (none when a credit or attendance line comes first),
    and the lines after it."""
    if not lines or never_heading(lines[0].text) or looks_like_date(lines[0].text):
        return [], lines
    end = 1
    while end < len(lines) and lines[end].gap == 0 and not never_heading(lines[end].text) and (
        starts_lower(lines[end].text) or not ends_sentence(lines[end - 1].text)
    ):
        end += 1
    return lines[:end], lines[end:]


def _old_parts(lines: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """An old-site page's lines before `• Citation`, its citation's lines, and the lines after `• share document`."""
    plain = [BULLET.sub("", line.text).casefold() for line in lines]
    cite = plain.index("citation") if "citation" in plain else len(lines)
    start = plain.index("get citation") + 1 if "get citation" in plain else cite + 1
    if "share document" not in plain:  # then the citation is one line
        return lines[:cite], lines[start : start + 1], lines[start + 1 :]
    share = plain.index("share document")
    return lines[:cite], lines[start:share], lines[share + 1 :]


def _citation_lines(cited: list[Line]) -> tuple[list[Line], list[Line]]:
    """The lines of the citation (up to the one with its URL) and the paragraphs under it."""
    end = next((i + 1 for i, line in enumerate(cited) if _URL.search(line.text)), min(len(cited), 1))
    return cited[:end], cited[end:]


def from_citation(citation: str) -> tuple[str | None, str | None, str | None]:
    """(title, date, URL) from a citation line: `"Title," July 4, 1963, History and Public Policy Program …, URL`."""
    found = _URL.search(citation)
    url = found.group().rstrip(".") if found else None
    cited = _CITED.match(citation.strip())
    if cited is None:
        return None, None, url
    parts = cited.group(2).split(", ")
    dates = [text for text in (", ".join(parts[:2]), parts[0]) if looks_like_date(text)]
    return cited.group(1), dates[0] if dates else None, url


def _same(a: str, b: str) -> bool:
    return a.casefold().strip(" .") == b.casefold().strip(" .")


# ---------------------------------------------------------------------------------------------- PDF export


def read_pdf_document(lines: list[Line], sink: Sink, url: str | None) -> Iterator[Raw]:
    """The archive's PDF export as text: date, title, `Citation:`, `Summary:`, `Original Language:`, `Contents:`.

    Its parts may also follow each other inside one flattened paragraph.
    """
    parts = sections(content(_unflattened(lines)))
    citation = " ".join(line.text for key, lines_ in parts if key == "citation" for line in lines_)
    cited_title, cited_date, cited_url = from_citation(citation)
    head = _pdf_head(parts[0][1], cited_title)
    dates = [line for line in head if looks_like_date(line.text)]
    titles = [line for line in head if not looks_like_date(line.text)]
    if not titles and not cited_title:
        _untitled(lines, sink)
        return
    title = Line(titles[0].number, " ".join(line.text for line in titles)) if titles else Line(1, cited_title or "")
    raw = _raw(title, dates[0] if dates else None, url or cited_url, citation=citation or None)
    if not dates and cited_date:
        raw.date = cited_date
    text = [line for key, lines_ in parts if key == "contents" for line in lines_]
    start = next((i for i, line in enumerate(text) if not _FORMAT_TAB.match(line.text)), len(text))
    text = [line for line in text[start:] if not _FORMAT_TAB.match(line.text)]
    if text:
        text[0] = Line(text[0].number, _FORMAT_TABS_BEFORE.sub("", text[0].text), text[0].indent, text[0].gap)
    raw.full_text = paragraphs(text, wrapped=True)
    _apply_metadata(raw, [(key, lines_) for key, lines_ in parts if key not in ("citation", "contents")])
    yield raw


def _unflattened(lines: list[Line]) -> list[Line]:
    """A PDF export's lines, a line holding several of its parts (`… Citation: … Summary: …`) split before each."""
    out: list[Line] = []
    for line in lines:
        pieces = _INLINE_LABEL.split(line.text) if "Citation:" in line.text and "Summary:" in line.text else []
        if len(pieces) < 2:
            out.append(line)
            continue
        out.extend(Line(line.number, piece, line.indent, line.gap if i == 0 else 0) for i, piece in enumerate(pieces))
    return out


def _pdf_head(head: list[Line], cited_title: str | None) -> list[Line]:
    """A PDF export's date and title lines; in a flattened head (`… July 4, 1963 Title`), the date and the cited
    title told apart."""
    if len(head) != 1 or not cited_title:
        return head
    line = head[0]
    text = line.text
    while (lead := next((h for h in _PDF_HEADER if text.casefold().startswith(h + " ")), None)) is not None:
        text = text[len(lead) + 1 :]
    if not text.casefold().endswith(cited_title.casefold()) or _same(text, cited_title):
        return [Line(line.number, text)]
    date = text[: len(text) - len(cited_title)].strip(" ,")
    title = Line(line.number, text[len(text) - len(cited_title) :])
    return [Line(line.number, date), title] if looks_like_date(date) else [title]


# ---------------------------------------------------------------------------------------------- shared


def _metadata_start(lines: list[Line]) -> int:
    """Where a page's metadata part starts: its first label that only metadata has (else the end)."""
    return next((i for i, line in enumerate(lines) if (found := label(line)) and found[0] in META), len(lines))


def _after(lines: list[Line], *found: Line | None) -> list[Line]:
    """The lines after the last of the found ones (a page's date and title)."""
    last = max((lines.index(line) for line in found if line is not None), default=-1)
    return lines[last + 1 :]


def _headings(lines: list[Line]) -> list[Line]:
    """The lines that may be a document's date, title or summary: no credit, rights, label or attendance line."""
    return [line for line in lines if not never_heading(line.text)]


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
        if is_credit(line.text) or is_rights(line.text):
            continue
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
