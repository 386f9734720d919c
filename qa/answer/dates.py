"""Dates in questions: "in 1949", "in May 1949", "between 1949 and 1951", "before 1960", "in the 1970s"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from qa.records import MONTHS, date_bounds

_MONTH = "(?:" + "|".join(sorted((m for m in MONTHS if len(m) > 3 or m == "may"), key=len, reverse=True)) + ")"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_MONTH_YEAR = rf"(?:\d{{1,2}}\s+)?{_MONTH}\.?(?:\s+\d{{1,2}},?)?\s+{_YEAR}"
_POINT = rf"(?:{_MONTH_YEAR}|{_YEAR})"

_DECADE = r"(?:the\s+)?(?:1[89]\d0|20\d0)'?s"
_SEASON = r"(?:spring|summer|autumn|fall|winter|early|late|mid|middle|first\s+half|second\s+half)"
_SEASONS = {  # (first month, last month); winter runs from the December before
    "spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (0, 2),
    "early": (1, 4), "mid": (5, 8), "middle": (5, 8), "late": (9, 12), "first half": (1, 6), "second half": (7, 12),
}
_END_POINT = rf"(?:{_POINT}|{_DECADE})"

# A year written with two digits: after an apostrophe ("in '49"), after a season ("summer of 49") or after a month
# when it cannot be a day ("feb 49").
_SHORT_YEAR = re.compile(
    rf"['’](\d\d)\b|\b({_MONTH}|{_SEASON}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)(\.?\s+(?:of\s+)?)(\d\d)"
    r"\b(?!\s*(?:,|st|nd|rd|th|\d))",
    re.I,
)
CENTURY_PIVOT = 30  # a two-digit year above this is of the 1900s, else of the 2000s


def expand_years(question: str) -> str:
    """The question with its two-digit years written in full ("summer of '49" → "summer of 1949")."""

    def full(m: re.Match[str]) -> str:
        digits = m.group(1) or m.group(4)
        if m.group(2) and int(digits) <= 31 and not re.fullmatch(_SEASON, m.group(2), re.I):
            return m.group(0)  # "May 12": a day of the month
        year = f"{19 if int(digits) > CENTURY_PIVOT else 20}{digits}"
        return year if m.group(1) else f"{m.group(2)}{m.group(3)}{year}"

    return _SHORT_YEAR.sub(full, question)


_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "months",
        re.compile(rf"\b(?:between|from)\s+({_MONTH})\.?\s+(?:and|to|until|till|-|–)\s+({_MONTH_YEAR})\b", re.I),
    ),
    ("between", re.compile(rf"\b(?:between|from)\s+({_END_POINT})\s+(?:and|to|until|till|-|–)\s+({_END_POINT})", re.I)),
    ("season", re.compile(rf"\b(?:in\s+|during\s+)?(?:the\s+)?({_SEASON})(?:\s+of\s+|\s*-\s*|\s+)({_YEAR})\b", re.I)),
    ("range", re.compile(rf"\b({_YEAR})\s*[-–]\s*({_YEAR})\b", re.I)),
    ("decade", re.compile(r"\b(?:in\s+|during\s+)?the\s+(1[89]\d0|20\d0)'?s\b", re.I)),
    ("before", re.compile(rf"\b(?:before|prior to|until|up to)\s+({_POINT})\b", re.I)),
    ("after", re.compile(rf"\b(?:after|later than)\s+({_POINT})\b", re.I)),
    ("since", re.compile(rf"\b(?:since|from)\s+({_POINT})\s+(?:on|onwards?)\b|\bsince\s+({_POINT})\b", re.I)),
    ("in", re.compile(rf"\b(?:(?:in|during|of|from|on)\s+)?({_MONTH_YEAR})\b", re.I)),
    ("in", re.compile(rf"\b(?:in|during|of|from)\s+({_YEAR})\b", re.I)),
    ("in", re.compile(rf"(?<![\w-])({_YEAR})(?![\w-])", re.I)),
]


@dataclass(frozen=True, slots=True)
class DateRange:
    """An inclusive range of days as YYYYMMDD integers (either end open), with the words it came from."""

    start: int | None
    end: int | None
    phrase: str = ""

    def describe(self) -> str:
        """How the range is reported back: "from 1949", "from May 1949 to 1951", "before 1960"."""
        if self.start and self.end:
            a, b = _human(self.start, first=True), _human(self.end, first=False)
            if a != b and self.start // 10000 == self.end // 10000 and (a.isdigit() or b.isdigit()):
                a, b = _human(self.start, first=True, month=True), _human(self.end, first=False, month=True)
            return f"from {a}" if a == b else f"from {a} to {b}"
        if self.start:
            return f"from {_human(self.start, first=True)} on"
        if self.end:
            return f"up to {_human(self.end, first=False)}"
        return "from any date"


def _human(day: int, *, first: bool, month: bool = False) -> str:
    y, m, d = day // 10000, day // 100 % 100, day % 100
    if (m, d) == ((1, 1) if first else (12, 31)) and not month:
        return str(y)
    if d == (1 if first else calendar.monthrange(y, m)[1]):
        return f"{calendar.month_name[m]} {y}"
    return f"{calendar.month_name[m]} {d}, {y}"


def _point(text: str) -> tuple[int, int]:
    """The first and last day of a year, a month of a year or a decade ("the 1970s") named in text."""
    text = " ".join(text.split())
    if decade := re.search(r"(1[89]\d0|20\d0)'?s", text):
        first = int(decade.group(1))
        return first * 10000 + 101, (first + 9) * 10000 + 1231
    year = re.search(_YEAR, text)
    month = re.search(_MONTH, text, re.I)
    assert year is not None
    iso = f"{year.group(0)}-{MONTHS[month.group(0).lower()]:02d}" if month else year.group(0)
    bounds = date_bounds(iso)
    assert bounds is not None
    return bounds


def _season(name: str, year: int) -> tuple[int, int]:
    """The first and last day of a season or part of a year ("spring", "late", "first half")."""
    first, last = _SEASONS[" ".join(name.lower().split())]
    start = (year - 1) * 10000 + 1201 if first == 0 else year * 10000 + first * 100 + 1
    return start, year * 10000 + last * 100 + calendar.monthrange(year, last)[1]


def _shift(day: int, days: int) -> int:
    moved = date(day // 10000, day // 100 % 100, day % 100) + timedelta(days=days)
    return moved.year * 10000 + moved.month * 100 + moved.day


def _points(question: str) -> list[tuple[tuple[int, int], str]]:
    """Every single month or year a question names ("in May 1949", "of 1977", "1962"), in order."""
    found: list[tuple[int, tuple[int, int], str]] = []
    taken = bytearray(len(question))  # characters an earlier match took (linear, however many dates)
    for kind, pattern in _RULES:
        if kind != "in":
            continue
        for m in pattern.finditer(question):
            if not taken[m.start()] and not taken[m.end() - 1]:
                taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
                found.append((m.start(), _point(m.group(1)), m.group(0).strip()))
    return [(bounds, phrase) for _, bounds, phrase in sorted(found)]


@lru_cache(maxsize=4096)
def find_date_range(question: str) -> DateRange | None:
    """The date range a question names, or None when it names no date.

    A range expression ("between 1949 and 1951", "in spring 1949", "before 1960", "in the 1970s") wins;
    several single dates ("the talks of 1949 and the conference of 1977") span from the first to the last. A
    two-digit year is read in full (`expand_years`).
    """
    question = expand_years(question)
    for kind, pattern in _RULES:
        m = pattern.search(question)
        if not m:
            continue
        if kind == "in" and len(points := _points(question)) > 1:
            start, end = min(b[0] for b, _ in points), max(b[1] for b, _ in points)
            return DateRange(start, end, " … ".join(p for _, p in points))
        start, end = _bounds(kind, m)
        return DateRange(start, end, m.group(0).strip())
    return None


def _bounds(kind: str, m: re.Match[str]) -> tuple[int | None, int | None]:
    """The first and last day (either open) that one rule's match names."""
    if kind in ("between", "range", "months"):
        b = _point(m.group(2))
        a = _point(f"{m.group(1)} {b[0] // 10000}" if kind == "months" else m.group(1))
        return min(a[0], b[0]), max(a[1], b[1])
    if kind == "season":
        return _season(m.group(1), int(m.group(2)))
    if kind == "decade":
        decade = int(m.group(1))
        return decade * 10000 + 101, (decade + 9) * 10000 + 1231
    if kind == "before":
        return None, _shift(_point(m.group(1))[0], -1)
    if kind == "since":
        return _point(m.group(1) or m.group(2))[0], None
    if kind == "after":
        return _shift(_point(m.group(1))[1], 1), None
    return _point(m.group(1))


def date_phrases(question: str) -> list[str]:
    """The question's date expressions as written (years in full), in order ("in June 1949", "between 1949 and
    1951")."""
    question = expand_years(question)
    found = []
    for _, pattern in _RULES:
        found += [(m.start(), m.group(0).strip()) for m in pattern.finditer(question)]
        question = pattern.sub(lambda m: " " * len(m.group(0)), question)
    return [phrase for _, phrase in sorted(found)]


@lru_cache(maxsize=4096)
def strip_dates(question: str) -> str:
    """The question without its date expressions (for follow-ups that bring a new date)."""
    question = expand_years(question)
    for _, pattern in _RULES:
        question = pattern.sub(" ", question)
    return " ".join(question.split())


_DAY = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?,?\s+({_YEAR})\b"
    rf"|\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+({_YEAR})\b",
    re.I,
)


def named_day(question: str) -> int | None:
    """The one day a question names ("17 May 1949", "May 17, 1949") as YYYYMMDD, or None."""
    m = _DAY.search(expand_years(question))
    if not m:
        return None
    day, month, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4), m.group(6))
    try:
        return int(date(int(year), MONTHS[month.lower()], int(day)).strftime("%Y%m%d"))
    except ValueError:
        return None
