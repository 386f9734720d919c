"""Page furniture: the lines of the archive's pages that are not documents, and a check for records that look like it.

Matching is by whole line, case and spacing ignored, and only on short lines, so it takes time
linear in the line whatever it holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qa.corpus.lines import fold
from qa.records import Record

# Lines of the archive's pages, new site and old, that are never part of a document's entry.
FURNITURE = frozenset(
    line.casefold()
    for line in (
        # new site: search results, topic / person / place / organisation pages, document pages
        "Skip to content", "Skip to main content", "Results", "Results:", "Documents", "Popular Documents",
        "Placeholder image for when a portrait image is not available", "Load more", "Show more", "View all",
        "Next", "Previous", "Next page", "Previous page", "Back to top", "Menu", "Search",
        "Download", "Download PDF", "Print", "Share", "Cite", "Copy citation",
        # old site
        "Digital Archive International History Declassified", "Search in", "ADD SEARCH FILTER",
        "CANCEL SEARCH FILTER", "SEARCH RESULTS", "-", "–", "—", "• share document", "share document",
        # the archive's PDF export
        "Wilson Center Digital Archive", "Original Scan",
    )
)
MAX_FURNITURE_LENGTH = 80
_RANGE = re.compile(r"^(results:?\s*)?(\d{1,7}\s*:?\s*)?(\d{1,7}\s*[-–]\s*\d{1,7}\s+of\s+\d{1,7})?$", re.I)
_RULE = "-–—‒―_= "
_PAGINATION = re.compile(r"^([«»‹›<>…]|\d{1,3}|next|previous|prev)$", re.I)
_PAGE_STARTS = "«»‹›<>…nNpP"  # how a pagination word can start, besides a digit


def is_furniture(text: str) -> bool:
    """Whether a (folded) line is page furniture: a known line, a results count or range, or pagination."""
    if len(text) > MAX_FURNITURE_LENGTH:
        return False
    first = text[:1]  # what the line starts with tells most lines from furniture at once
    if text.casefold() in FURNITURE or (first in _RULE and is_rule(text)):
        return True
    if first.isdigit() or (first in "rR" and text[:7].casefold() == "results"):  # only r and R fold to r
        match = _RANGE.match(text)
        if match and (match.group(1) or match.group(3)):
            return True
    if first and not (first in _PAGE_STARTS or first.isdigit() or first.isspace()):
        return False  # its first word is no pagination (the common case, quickly)
    words = text.split()
    return all(_PAGINATION.match(w) for w in words) and (len(words) > 1 or text.isdigit())


def is_rule(text: str) -> bool:
    """Whether a line is only a drawn rule: dashes (`-`, `--`, `———`), underscores or equals signs."""
    return bool(text) and text[0] in _RULE and not text.strip(_RULE)


def furniture_warnings(records: Iterable[Record]) -> list[tuple[str, str]]:
    """(source, message) for each record whose title looks like page furniture, so a new layout shows at once.

    Such a title is a known furniture line (`Documents`, `Search in`, a results range, pagination),
    a line of dashes, or the name of the page that lists the record.
    """
    found = []
    for record in records:
        title = fold(record.title)
        if is_rule(title) or is_furniture(title):
            found.append((record.source, f"title {title!r} looks like page furniture, not a document"))
        elif record.listed_under and title.casefold() == " ".join(record.listed_under.split()).casefold():
            found.append((record.source, f"title {title!r} is the name of the page that lists it, not a document"))
    return found
