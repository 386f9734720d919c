"""The record: one archival document as the collection lists it, with its dates as numbers."""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass, field, fields
from datetime import date as _date
from functools import lru_cache
from typing import Literal

Precision = Literal["day", "month", "year"]

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "ym"),
    (re.compile(r"^(\d{4})$"), "y"),
    (re.compile(rf"^({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$", re.I), "mdy"),
    (re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+(\d{{4}})$", re.I), "dmy"),
    (re.compile(rf"^({_MONTH_RE})\.?,?\s+(\d{{4}})$", re.I), "my"),
]


class DateError(ValueError):
    """A text that looks like a date but names no real day."""


@lru_cache(maxsize=65536)  # collections repeat their dates
def parse_date(text: str) -> tuple[str, Precision] | None:
    """Read an archive date ("July 4, 1963", "September 1944", "1962", ISO) as (ISO, precision).

    Returns None when the text is not shaped like a date; raises DateError when it is shaped
    like one but names an impossible day or month.
    """
    text = " ".join(text.split())
    if not text[-1:].isdigit():  # every date form ends with its year, month or day
        return None
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        g = m.groups()
        if kind == "ymd":
            y, mo, d = int(g[0]), int(g[1]), int(g[2])
        elif kind == "ym":
            y, mo, d = int(g[0]), int(g[1]), None
        elif kind == "y":
            y, mo, d = int(g[0]), None, None
        elif kind == "mdy":
            y, mo, d = int(g[2]), MONTHS[g[0].lower()], int(g[1])
        elif kind == "dmy":
            y, mo, d = int(g[2]), MONTHS[g[1].lower()], int(g[0])
        else:
            y, mo, d = int(g[1]), MONTHS[g[0].lower()], None
        return _iso(text, y, mo, d)
    return None


def _iso(text: str, y: int, mo: int | None, d: int | None) -> tuple[str, Precision]:
    if y < 1:
        raise DateError(f"{text!r} has no year 0 (years start at 1)")
    if mo is None:
        return f"{y:04d}", "year"
    if not 1 <= mo <= 12:
        raise DateError(f"{text!r} has no month {mo}")
    if d is None:
        return f"{y:04d}-{mo:02d}", "month"
    try:
        _date(y, mo, d)
    except ValueError:
        raise DateError(f"{text!r} is not a real day") from None
    return f"{y:04d}-{mo:02d}-{d:02d}", "day"


@lru_cache(maxsize=65536)
def date_bounds(iso: str | None) -> tuple[int, int] | None:
    """The first and last day an ISO date of any precision covers, as YYYYMMDD integers."""
    if not iso:
        return None
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return parts[0] * 10000 + 101, parts[0] * 10000 + 1231
    if len(parts) == 2:
        y, mo = parts
        last = calendar.monthrange(y, mo)[1]
        return y * 10000 + mo * 100 + 1, y * 10000 + mo * 100 + last
    y, mo, d = parts
    return (y * 10000 + mo * 100 + d,) * 2


@lru_cache(maxsize=65536)
def human_date(iso: str | None) -> str:
    """An ISO date as the archive writes it: "July 4, 1963", "September 1944", "1962", or "undated"."""
    if not iso:
        return "undated"
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return f"{calendar.month_name[parts[1]]} {parts[0]}"
    return f"{calendar.month_name[parts[1]]} {parts[2]}, {parts[0]}"


def stable_id(collection: str, title: str, date: str | None, extra: str = "") -> str:
    """A short id that is the same on every machine for the same collection, title and date."""
    # The title folded (when it is not already: see qa.corpus.lines.is_folded).
    folded = title if title.isprintable() and "  " not in title and title.strip(" ") == title else None
    key = "\x1f".join([collection, (folded or " ".join(title.split())).lower(), date or "", extra])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# The fields a record may carry beyond title, date and summary: what a document page tells about its document.
DETAIL_FIELDS = (
    "full_text", "record_type", "language", "archive", "citation",
    "people", "places", "topics", "listed_under", "archive_id",
)
LIST_FIELDS = ("people", "places", "topics")
_PUT = object.__setattr__  # how a frozen dataclass sets its fields


@dataclass(frozen=True, slots=True)
class Record:
    """One document of the collection, traceable to the file and line it was read from.

    Beyond the listing's title, date and summary, a record may carry what a document page tells:
    its full text, record type, language, original archive, citation (the archive's citation or
    source note), the people, places and topics associated with it, the archive's own record id,
    and `listed_under`, the name of the topic, person, place or collection page that lists it.
    """

    id: str
    title: str
    date: str | None
    date_precision: Precision | None
    summary: str
    url: str | None
    collection: str
    source: str
    full_text: str = ""
    record_type: str | None = None
    language: str | None = None
    archive: str | None = None
    citation: str | None = None
    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    listed_under: str | None = None
    archive_id: str | None = None
    date_start: int | None = field(default=None, compare=False)
    date_end: int | None = field(default=None, compare=False)

    def __init__(
        self, *, id: str, title: str, date: str | None, date_precision: Precision | None, summary: str,
        url: str | None, collection: str, source: str, full_text: str = "", record_type: str | None = None,
        language: str | None = None, archive: str | None = None, citation: str | None = None,
        people: tuple[str, ...] = (), places: tuple[str, ...] = (), topics: tuple[str, ...] = (),
        listed_under: str | None = None, archive_id: str | None = None, date_start: int | None = None,
        date_end: int | None = None,
    ) -> None:
        # Written out rather than generated: a frozen dataclass's own __init__ took about a sixth of the time of
        # reading a record (issue 16: reading speed). tests/test_records.py holds it to the fields above.
        # The date's first and last day are always those of `date` when it has one.
        put = _PUT
        put(self, "id", id)
        put(self, "title", title)
        put(self, "date", date)
        put(self, "date_precision", date_precision)
        put(self, "summary", summary)
        put(self, "url", url)
        put(self, "collection", collection)
        put(self, "source", source)
        put(self, "full_text", full_text)
        put(self, "record_type", record_type)
        put(self, "language", language)
        put(self, "archive", archive)
        put(self, "citation", citation)
        put(self, "people", people)
        put(self, "places", places)
        put(self, "topics", topics)
        put(self, "listed_under", listed_under)
        put(self, "archive_id", archive_id)
        bounds = date_bounds(date)
        put(self, "date_start", bounds[0] if bounds else date_start)
        put(self, "date_end", bounds[1] if bounds else date_end)

    @property
    def display_date(self) -> str:
        return human_date(self.date)

    def to_dict(self) -> dict:
        # Field by field (asdict deep-copies every value: most of the time of writing an index).
        d = {name: getattr(self, name) for name in _STORED_FIELDS}
        for name in LIST_FIELDS:
            d[name] = list(d[name])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Record:
        """A record from `to_dict()` output, also one written before the detail fields existed."""
        details = {name: d[name] for name in DETAIL_FIELDS if d.get(name) is not None}
        for name in LIST_FIELDS:
            if name in details:
                details[name] = tuple(details[name])
        return cls(
            id=d["id"],
            title=d["title"],
            date=d.get("date"),
            date_precision=d.get("date_precision"),
            summary=d.get("summary") or "",
            url=d.get("url"),
            collection=d.get("collection", ""),
            source=d.get("source", ""),
            **details,
        )


_STORED_FIELDS = tuple(f.name for f in fields(Record) if f.name not in ("date_start", "date_end"))
