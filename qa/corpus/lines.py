"""A page as lines: the text of each line with its number, indentation, the blank lines above it and its link.

Every page layout is read from these lines, whether the page was saved as text or as HTML. All
helpers here take time linear in the length of a line, whatever the line holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.records import DateError, parse_date

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CLOSERS = "\"'”’)]»"
_SENTENCE_ENDS = ".!?…"
_SENTENCE_END_CHARS = frozenset(_SENTENCE_ENDS)
_DATE_WORDS = re.compile(
    r"^(\d+(st|nd|rd|th)?s?|c|ca|circa|undated|n\.?d|spring|summer|autumn|fall|winter|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec|january|february|march|april|june|july|august|"
    r"september|october|november|december)$",
    re.I,
)
_YEAR = re.compile(r"\b\d{4}s?\b")
_WORD = re.compile(r"[^\W_]+")
MAX_DATE_LENGTH = 40
LONG_LINE = 250  # a line longer than this is prose, never a title


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of a page.

    `text` has its whitespace folded; `indent` is the width of the whitespace it started with;
    `gap` the number of blank lines just above it; `href` the address of the link the line is
    (pages saved as HTML only).
    """

    number: int
    text: str
    indent: int = 0
    gap: int = 0
    href: str | None = None


def split_lines(text: str) -> list[str]:
    """The lines of a text as editors count them (\\n, \\r\\n or \\r).

    As `_LINE_BREAK.split(text)`, three times as fast: each \\r\\n, then each \\r
    left, is one \\n.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def text_lines(text: str) -> list[Line]:
    """The non-blank lines of a page saved as text."""
    lines: list[Line] = []
    gap = 0
    for number, raw in enumerate(split_lines(text), start=1):
        if not raw or raw.isspace():  # folds to nothing (the same whitespace as str.split's)
            gap += 1
            continue
        if raw[0].isspace():
            indent, folded = len(raw[: len(raw) - len(raw.lstrip())].expandtabs(4)), " ".join(raw.split())
        else:  # is_folded(raw), written out
            indent = 0
            folded = raw if raw.isprintable() and "  " not in raw and raw[-1] != " " else " ".join(raw.split())
        lines.append(Line(number, folded, indent, gap))
        gap = 0
    return lines


def fold(text: str) -> str:
    """Whitespace (line breaks, tabs, runs of spaces, no-break spaces) folded to single spaces."""
    if is_folded(text):
        return text
    return " ".join(text.split())


def is_folded(text: str) -> bool:
    """Whether a text is its own fold, found without splitting it into words.

    Every whitespace character but the space is unprintable, so a printable text holds no whitespace but
    spaces: it is folded when no two stand together and none starts or ends it.
    """
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


def ends_sentence(text: str) -> bool:
    """Whether a text ends a sentence (., !, ? or …), perhaps followed by closing quotes or brackets."""
    return text.rstrip(_CLOSERS)[-1:] in _SENTENCE_END_CHARS


def looks_like_prose(text: str) -> bool:
    """A summary's line: it ends a sentence, or is too long to be a title."""
    return len(text) > LONG_LINE or ends_sentence(text)


def starts_lower(text: str) -> bool:
    """Whether the first letter or digit of a text is a lower-case letter (a sentence going on)."""
    for char in text[:20]:
        if char.isalnum():
            return char.islower()
    return False


def looks_like_date(text: str) -> bool:
    """A line made only of date words and numbers: a date, even one that cannot be read (then a bad date).

    A number alone is a date unless it is short enough to be a page number (1-3 digits): `99999`
    is a bad date, not a title.
    """
    if len(text) > MAX_DATE_LENGTH:
        return False
    try:
        if parse_date(text) is not None:
            return True
    except DateError:
        return True
    if text.isdigit():
        return len(text) > 3
    words = _WORD.findall(text)
    return bool(_YEAR.search(text)) and all(_DATE_WORDS.match(w) for w in words)


def read_date(text: str) -> tuple[str, str] | str:
    """A date line read as (ISO date, precision), or the message saying why it cannot be read."""
    try:
        parsed = parse_date(text) if len(text) <= MAX_DATE_LENGTH else None
    except DateError as exc:
        return f"bad date: {exc}"
    if parsed is None:
        return f"bad date {text[:60]!r} (use e.g. July 4, 1963; September 1944; 1962; or ISO YYYY-MM-DD)"
    return parsed
