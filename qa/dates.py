"""Dates in questions: "in 1949", "in May 1949", "between 1949 and 1951", "before 1960", "in the 1970s"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from qa.records import MONTHS, date_bounds

_MONTH = "(?:" + "|".join(sorted((m for m in MONTHS if len(m) > 3 or m == "may"), key=len, reverse=True)) + ")"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_MONTH_YEAR = rf"(?:\d{{1,2}}\s+)?{_MONTH}\.?(?:\s+\d{{1,2}},?)?\s+{_YEAR}"
_POINT = rf"(?:{_MONTH_YEAR}|{_YEAR})"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("between", re.compile(rf"\b(?:between|from)\s+({_POINT})\s+(?:and|to|until|till|-|–)\s+({_POINT})\b", re.I)),
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
            return f"from {a}" if a == b else f"from {a} to {b}"
        if self.start:
            return f"from {_human(self.start, first=True)} on"
        if self.end:
            return f"up to {_human(self.end, first=False)}"
        return "from any date"


def _human(day: int, *, first: bool) -> str:
    y, m, d = day // 10000, day // 100 % 100, day % 100
    if (m, d) == ((1, 1) if first else (12, 31)):
        return str(y)
    if d == (1 if first else calendar.monthrange(y, m)[1]):
        return f"{calendar.month_name[m]} {y}"
    return f"{calendar.month_name[m]} {d}, {y}"


def _point(text: str) -> tuple[int, int]:
    """The first and last day of a year or a month of a year named in text."""
    text = " ".join(text.split())
    year = re.search(_YEAR, text)
    month = re.search(_MONTH, text, re.I)
    assert year is not None
    iso = f"{year.group(0)}-{MONTHS[month.group(0).lower()]:02d}" if month else year.group(0)
    bounds = date_bounds(iso)
    assert bounds is not None
    return bounds


def _shift(day: int, days: int) -> int:
    moved = date(day // 10000, day // 100 % 100, day % 100) + timedelta(days=days)
    return moved.year * 10000 + moved.month * 100 + moved.day


def _points(question: str) -> list[tuple[tuple[int, int], str]]:
    """Every single month or year a question names ("in May 1949", "of 1977", "1962"), in order."""
    found: list[tuple[int, tuple[int, int], str]] = []
    taken: list[range] = []
    for kind, pattern in _RULES:
        if kind != "in":
            continue
        for m in pattern.finditer(question):
            if not any(m.start() in r or m.end() - 1 in r for r in taken):
                taken.append(range(m.start(), m.end()))
                found.append((m.start(), _point(m.group(1)), m.group(0).strip()))
    return [(bounds, phrase) for _, bounds, phrase in sorted(found)]


def find_date_range(question: str) -> DateRange | None:
    """The date range a question names, or None when it names no date.

    A range expression ("between 1949 and 1951", "before 1960", "in the 1970s") wins; several single
    dates ("the talks of 1949 and the conference of 1977") span from the first to the last.
    """
    for kind, pattern in _RULES:
        m = pattern.search(question)
        if not m:
            continue
        if kind in ("between", "range"):
            a, b = _point(m.group(1)), _point(m.group(2))
            start, end = min(a[0], b[0]), max(a[1], b[1])
        elif kind == "decade":
            decade = int(m.group(1))
            start, end = decade * 10000 + 101, (decade + 9) * 10000 + 1231
        elif kind == "before":
            start, end = None, _shift(_point(m.group(1))[0], -1)
        elif kind == "since":
            start, end = _point(m.group(1) or m.group(2))[0], None
        elif kind == "after":
            start, end = _shift(_point(m.group(1))[1], 1), None
        else:
            points = _points(question)
            if len(points) > 1:
                start = min(b[0] for b, _ in points)
                end = max(b[1] for b, _ in points)
                return DateRange(start, end, " … ".join(p for _, p in points))
            start, end = _point(m.group(1))
        return DateRange(start, end, m.group(0).strip())
    return None


def strip_dates(question: str) -> str:
    """The question without its date expressions (for follow-ups that bring a new date)."""
    for _, pattern in _RULES:
        question = pattern.sub(" ", question)
    return " ".join(question.split())
