"""Listing pages: the entries of search results, topic / person / place pages and the old site's lists.

Each reader takes a page's lines (furniture included) and yields one raw record per entry,
telling entries apart by structure: blank lines, bullets, `-` separators, indentation and (in
pages saved as HTML) the title's link, with sentence punctuation only as the last resort.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from qa.corpus.furniture import is_furniture
from qa.corpus.lines import Line, ends_sentence, looks_like_date, looks_like_prose, starts_lower
from qa.corpus.raw import Raw, Sink

BULLET_CHARS = "•·▪◦‣●■*"
BULLET = re.compile(rf"^[{BULLET_CHARS}]\s*")
SEPARATORS = frozenset({"-", "–", "—"})


@dataclass(slots=True)
class _Entry:
    """An entry being read: its title line, the date line above it, the summary lines under it."""

    title: Line
    date: Line | None = None
    summary: list[Line] = field(default_factory=list)

    def raw(self, listed_under: str | None, url: str | None = None) -> Raw:
        first = self.date or self.title
        return Raw(
            title=self.title.text, line=first.number, date=self.date.text if self.date else None,
            date_line=self.date.number if self.date else None, summary=" ".join([s.text for s in self.summary]),
            url=url if url is not None else self.title.href, listed_under=listed_under,
        )


def content(lines: list[Line]) -> list[Line]:
    """The lines that are not page furniture."""
    return [line for line in lines if not is_furniture(line.text)]


# ---------------------------------------------------------------------------------------------- new site


def read_search_entries(lines: list[Line], sink: Sink, listed_under: str | None = None) -> Iterator[Raw]:
    """Entries of [date] title [summary], as the new site lists search results and a topic's documents.

    A date line starts an entry and the line after it is the title. Under a title, a line is
    the summary unless the page's blank lines say a new entry starts (more blank lines above it
    than between an entry's own lines); a summary goes on over lines that start in lower case or
    end a sentence. Only in a page without blank lines inside entries does punctuation decide
    whether a line under a title-only entry is the next, undated, title.
    """
    items = content(lines)
    dates = [looks_like_date(line.text) for line in items]
    gap = _entry_gap(items, dates)
    entry: _Entry | None = None
    pending: Line | None = None
    for i, line in enumerate(items):
        nxt = items[i + 1] if i + 1 < len(items) and not dates[i + 1] else None
        if dates[i]:
            if entry is not None:
                yield entry.raw(listed_under)
                entry = None
            if pending is not None:
                _no_title(pending, sink)
            pending = line
        elif pending is None and entry is not None and _continues(entry, line, nxt, gap):
            entry.summary.append(line)
        else:
            if entry is not None:
                yield entry.raw(listed_under)
            entry, pending = _Entry(line, pending), None
    yield from _end(entry, pending, sink, listed_under)


def _end(entry: _Entry | None, pending: Line | None, sink: Sink, listed_under: str | None) -> Iterator[Raw]:
    """The end of a page: the last entry, and a problem for a date left without a title."""
    if pending is not None:
        _no_title(pending, sink)
    if entry is not None:
        yield entry.raw(listed_under)


def _no_title(date: Line, sink: Sink) -> None:
    sink.error(date.number, f"date {date.text!r} with no title after it")


def _entry_gap(items: list[Line], dates: list[bool]) -> int:
    """The blank lines a page puts between an entry's own lines: above its title (under its date) and above its
    summary (under a title). 0 for a compact page."""
    gaps: Counter[int] = Counter()
    for i in range(len(items) - 1):
        above, line = items[i], items[i + 1]
        if dates[i + 1]:
            continue
        if dates[i] or (not looks_like_prose(above.text) and looks_like_prose(line.text)):
            gaps[line.gap] += 1
    return max(gaps, key=lambda g: (gaps[g], g)) if gaps else 0


def _continues(entry: _Entry, line: Line, nxt: Line | None, gap: int) -> bool:
    """Whether a line under an entry's title is (more of) its summary rather than a new, undated entry.

    `nxt` is the line after it when that is not a date. On a page with blank lines inside entries
    (`gap`), the line under a title is its summary unless more blank lines stand above it; on a
    compact page, a line under a title-only entry is its summary only when no text line follows it
    (or the next one goes on in lower case), as an undated entry's title is followed by its summary.
    """
    if starts_lower(line.text):
        return True
    if gap and line.gap > gap:
        return False
    if entry.summary:
        return looks_like_prose(line.text)
    if gap or looks_like_prose(line.text):
        return True
    return nxt is None or starts_lower(nxt.text)


def split_topic_page(lines: list[Line]) -> tuple[str | None, list[Line]]:
    """A topic / person / place / organisation page: its name, and the lines of the documents it lists.

    Before the documents come an image caption (a sentence), the page's name, a description and
    placeholder-image lines, then `Popular Documents`. The name is the first of those lines that
    does not end a sentence.
    """
    marks = [i for i, line in enumerate(lines) if line.text.casefold() == "popular documents"]
    if not marks:
        marks = [i for i, line in enumerate(lines) if line.text.casefold().startswith("placeholder image")]
    cut = marks[0] + 1 if marks else 0
    header = [line for line in content(lines[:cut]) if not looks_like_date(line.text)]
    name = next((line.text for line in header if not ends_sentence(line.text) and len(line.text) <= 200), None)
    return name, lines[cut:]


def split_unmarked_topic_page(lines: list[Line]) -> tuple[str | None, list[Line]]:
    """A topic page without `Popular Documents`: its name, and the lines from its first dated entry on.

    Before the first date line come an image caption, the page's name and a description: the name is
    the last line before the description that does not end a sentence.
    """
    start = next((i for i, line in enumerate(lines) if looks_like_date(line.text)), len(lines))
    header = content(lines[:start])
    prose = next((i for i, line in enumerate(header) if looks_like_prose(line.text)), len(header))
    names = [line.text for line in header[: max(prose, 1)] if not ends_sentence(line.text) and len(line.text) <= 200]
    return (names[-1] if names else None), lines[start:]


# ---------------------------------------------------------------------------------------------- old site


def read_bullet_entries(lines: list[Line], sink: Sink, listed_under: str | None = None) -> Iterator[Raw]:
    """Old-site search results: each entry a bullet with its date, then the title and summary indented under it."""
    starts = [i for i, line in enumerate(lines) if BULLET.match(line.text)]
    for k, i in enumerate(starts):
        segment = lines[i + 1 : starts[k + 1] if k + 1 < len(starts) else len(lines)]
        body, rest = _indented(lines[i], segment)
        head = Line(lines[i].number, BULLET.sub("", lines[i].text), lines[i].indent, lines[i].gap)
        yield from read_block([head, *body], sink, listed_under)
        for line in content(rest):
            sink.warn(line.number, f"line not read: it is outside every entry ({line.text[:60]!r})")


def _indented(bullet: Line, segment: list[Line]) -> tuple[list[Line], list[Line]]:
    """The lines of a bullet's entry (those indented under it, or all when nothing is indented) and the rest."""
    if not any(line.indent > bullet.indent for line in segment):
        return segment, []
    end = next((j for j, line in enumerate(segment) if line.indent <= bullet.indent), len(segment))
    return segment[:end], segment[end:]


def split_blocks(lines: list[Line]) -> list[list[Line]]:
    """The lines between separator lines (a line holding only `-`)."""
    blocks: list[list[Line]] = [[]]
    for line in lines:
        if line.text in SEPARATORS:
            blocks.append([])
        else:
            blocks[-1].append(line)
    return blocks


def read_dashed_entries(
    lines: list[Line], sink: Sink, listed_under: str | None = None, *, header_lines: int = 0
) -> Iterator[Raw]:
    """Old-site results and collection pages: entries of date, title and summary separated by `-` lines.

    The first block also holds what comes before the first entry: furniture, and on a collection
    page the collection's name and description (`header_lines` lines when the first entry has no date).
    """
    blocks = [content(block) for block in split_blocks(lines)]
    first = blocks[0]
    start = next((j for j, line in enumerate(first) if looks_like_date(line.text)), min(header_lines, len(first)))
    for block in [first[start:], *blocks[1:]]:
        yield from read_block(block, sink, listed_under)


def read_block(block: list[Line], sink: Sink, listed_under: str | None) -> Iterator[Raw]:
    """One entry whose lines are known to belong together: [date] title [summary lines]."""
    items = content(block)
    if not items:
        return
    date = items[0] if looks_like_date(items[0].text) else None
    rest = items[1:] if date else items
    if not rest:
        _no_title(date, sink)  # type: ignore[arg-type]
        return
    yield _Entry(rest[0], date, rest[1:]).raw(listed_under)


# ---------------------------------------------------------------------------------------------- saved web pages


def read_linked_entries(
    lines: list[Line], sink: Sink, listed_under: str | None, is_title: Callable[[Line], bool]
) -> Iterator[Raw]:
    """Entries of a page saved as HTML: each starts at its title's link, with the date line just above it.

    The summary is the text under the title that is nested as deep in the page as the title (`indent`)
    and is not a link: text around the entries (the page's header, footer, tags) is not read.
    """
    items = content(lines)
    entry: _Entry | None = None
    pending: Line | None = None
    for line in items:
        if is_title(line):
            if entry is not None:
                yield entry.raw(listed_under)
            entry, pending = _Entry(line, pending), None
        elif looks_like_date(line.text):
            if pending is not None:
                _no_title(pending, sink)
            pending = line
        elif entry is not None and pending is None and not line.href and line.indent >= entry.title.indent:
            entry.summary.append(line)
    yield from _end(entry, pending, sink, listed_under)
