"""Recognising a page's layout, then reading it with that layout's rules.

A page saved as text or as HTML becomes lines (`qa.corpus.lines`); its layout is recognised
from tell-tale lines (labels, furniture, bullets, separators) before any entry is read, and a
page of no known layout is refused with one problem rather than guessed into records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from qa.corpus.credits import is_attendance, is_credit
from qa.corpus.docpages import (
    META,
    label,
    read_bare_document,
    read_new_document,
    read_old_document,
    read_pdf_document,
)
from qa.corpus.furniture import is_furniture
from qa.corpus.lines import Line, looks_like_date
from qa.corpus.listings import (
    BULLET,
    BULLET_CHARS,
    SEPARATORS,
    content,
    read_bullet_entries,
    read_dashed_entries,
    read_linked_entries,
    read_search_entries,
    split_topic_page,
    split_unmarked_topic_page,
)
from qa.corpus.raw import Raw, Sink

_NEW_SITE_FURNITURE = ("skip to content", "skip to main content", "documents", "results")


@dataclass(frozen=True, slots=True)
class Signs:
    """What a page's lines show about its layout."""

    plain: frozenset[str]  # short lines, case folded, bullets taken off
    labels: frozenset[str]  # document-page parts labelled without a colon
    colon_labels: frozenset[str]  # parts labelled `Name:` (the PDF export)
    bullet_dates: bool  # a line that is a bullet and a date (old-site results)
    separators: bool  # a line holding only `-`
    new_site: bool  # the new site's search furniture, or a date as the first line
    flat_pdf: bool  # a line holding the PDF export's `Citation:` and `Summary:` (flattened into one paragraph)
    document: bool  # a line only a document page has: a credit, an attendance line, a format tab (`English HTML`)
    dated_entries: int  # date lines with a text line under them
    first_is_date: bool  # the first line that is not furniture is a date

    @classmethod
    def of(cls, lines: list[Line]) -> Signs:
        plain = frozenset({_unbulleted(line.text).casefold() for line in lines if len(line.text) <= 80})
        found = [(line, key) for line in lines if (key := label(line))]
        first = next((line for line in lines if not is_furniture(line.text)), None)
        dates = [looks_like_date(line.text) for line in lines]
        return cls(
            plain=plain,
            labels=frozenset(key for line, (key, _) in found if ":" not in line.text),
            colon_labels=frozenset(key for line, (key, _) in found if ":" in line.text),
            bullet_dates=any(line.text[:1] in BULLET_CHARS and BULLET.match(line.text)
                             and looks_like_date(BULLET.sub("", line.text)) for line in lines),
            separators=any(line.text in SEPARATORS for line in lines),
            new_site=any(line.text.casefold().startswith(_NEW_SITE_FURNITURE) and is_furniture(line.text)
                         for line in lines) or (first is not None and looks_like_date(first.text)),
            flat_pdf=any("Citation:" in line.text and "Summary:" in line.text for line in lines),
            document=any(is_credit(line.text) or is_attendance(line.text) or line.text.casefold() == "english html"
                         for line in lines),
            dated_entries=sum(1 for i in range(len(lines) - 1) if dates[i] and not dates[i + 1]
                              and not is_furniture(lines[i + 1].text)),
            first_is_date=first is not None and looks_like_date(first.text),
        )


def _unbulleted(text: str) -> str:
    """A line without its bullet (the regular expression only for a line that starts with a bullet)."""
    return BULLET.sub("", text) if text[:1] in BULLET_CHARS else text


Reader = Callable[[list[Line], Sink, "str | None"], Iterator[Raw]]


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    fits: Callable[[Signs], bool]
    read: Reader  # (lines, sink, the page's own address) -> raw records
    one_document: bool = False  # a document page: one record


def _listing(split: Callable[[list[Line]], tuple[str | None, list[Line]]], read_text: Callable) -> Reader:
    """A listing's reader: entries by their title links in a page saved as HTML, else by the layout's text rules."""

    def read(lines: list[Line], sink: Sink, url: str | None) -> Iterator[Raw]:
        name, body = split(lines)
        is_title = _title_links(body)
        if is_title is not None:
            yield from read_linked_entries(body, sink, name, is_title)
        else:
            yield from read_text(body, sink, name)

    return read


def _title_links(lines: list[Line]) -> Callable[[Line], bool] | None:
    """Which lines are entries' titles in a page saved as HTML: links to documents, else any line that is a link."""
    links = [line.href for line in lines if line.href]
    if not links:
        return None
    if any("/document" in href for href in links):
        return lambda line: bool(line.href) and "/document" in line.href  # type: ignore[operator]
    return lambda line: bool(line.href)


def _whole(lines: list[Line]) -> tuple[str | None, list[Line]]:
    return None, lines


def _collection_page(lines: list[Line]) -> tuple[str | None, list[Line]]:
    first = content(lines)
    return (first[0].text if first else None), lines


LAYOUTS = (
    Layout("PDF export", lambda s: {"citation", "summary"} <= s.colon_labels
           and bool({"language", "contents"} & s.colon_labels), read_pdf_document, one_document=True),
    Layout("old-site document page", lambda s: "get citation" in s.plain
           or {"citation", "share document"} <= s.plain, read_old_document, one_document=True),
    Layout("PDF export flattened into one paragraph", lambda s: s.flat_pdf, read_pdf_document, one_document=True),
    Layout("new-site document page", lambda s: "info" in s.labels or len(s.labels & META) >= 2, read_new_document,
           one_document=True),
    Layout("old-site document page without its citation", lambda s: s.document and 1 <= s.dated_entries <= 2,
           read_bare_document, one_document=True),
    Layout("new-site topic, person, place or organisation page", lambda s: "popular documents" in s.plain
           or "placeholder image for when a portrait image is not available" in s.plain,
           _listing(split_topic_page, read_search_entries)),
    Layout("old-site search results", lambda s: s.bullet_dates,
           _listing(_whole, read_bullet_entries)),
    Layout("old-site search results with separators", lambda s: s.separators and "search results" in s.plain,
           _listing(_whole, read_dashed_entries)),
    Layout("old-site collection page", lambda s: s.separators,
           _listing(_collection_page, partial(read_dashed_entries, header_lines=2))),
    Layout("new-site search results", lambda s: s.new_site, _listing(_whole, read_search_entries)),
    Layout("new-site topic page without its marks", lambda s: not s.first_is_date and s.dated_entries >= 2,
           _listing(split_unmarked_topic_page, read_search_entries)),
)


def recognise(lines: list[Line]) -> Layout | None:
    """The layout of a page, or None when it is none of the known ones."""
    signs = Signs.of(lines)
    return next((layout for layout in LAYOUTS if layout.fits(signs)), None)


def read_page(lines: list[Line], sink: Sink, url: str | None = None) -> Iterator[Raw]:
    """The raw records of a page (as text or HTML lines), or one problem when its layout is not recognised."""
    if all(is_furniture(line.text) for line in lines):  # nothing but furniture (or nothing at all)
        return
    signs = Signs.of(lines)
    layout = next((layout for layout in LAYOUTS if layout.fits(signs)), None)
    if layout is None:
        first = content(lines)[0]
        sink.error(first.number, "layout not recognised: not a listing or document page of the archive that this "
                   "reader knows (see corpus/README.md); nothing read")
        return
    count = 0
    for count, raw in enumerate(layout.read(lines, sink, url), start=1):  # noqa: B007 - the count is kept
        yield raw
    if count > 1 and signs.document and not layout.one_document:
        sink.warn(content(lines)[0].number, f"read as a listing of {count} records ({layout.name}), but the page has "
                  "lines only a document page has (a credit, a list of who took part, `English HTML`)")
