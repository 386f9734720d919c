"""What every reader shares: problems pinned to a file and line, the record as read, and its checks."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, make_dataclass
from operator import attrgetter

from qa.corpus.lines import read_date
from qa.records import DETAIL_FIELDS, Record, stable_id

# A record over these sizes is refused: nothing the archive lists is near them, and the index keeps
# every record in memory while it builds (corpus/README.md, "Size limits").
MAX_TITLE = 2_000
MAX_SUMMARY = 100_000
MAX_FULL_TEXT = 10_000_000
MAX_FIELD = 10_000  # any other field (url, id, citation, ...; a list field's items together)
# A file over these sizes is refused before it is read: a page saved from the archive is tens of
# kilobytes, a document page with its full text a few megabytes; an export of a million records ~400 MB.
MAX_PAGE_BYTES = 50_000_000  # .txt, .html, .htm
MAX_EXPORT_BYTES = 1_000_000_000  # .jsonl, .csv
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(slots=True)
class Problem:
    """Something wrong with the corpus, pinned to a file and line."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def display_path(path: os.PathLike | str) -> str:
    """A path as it is shown and stored in sources: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    text = os.fspath(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


MAX_LISTED = 20  # errors (and warnings) listed for one file; one line counts the rest
MAX_KEPT = 1000  # problems of one file kept while it is read; past them only counted (millions take no memory)


@dataclass(slots=True)
class Sink:
    """Where a reader reports what it finds wrong (errors) or odd (warnings) in one file."""

    path: str
    errors: list[Problem]
    warnings: list[Problem]
    dropped: dict[str, int] = field(default_factory=dict)  # "error"/"warning" -> how many past MAX_KEPT: counted only
    _kept: dict[str, int] = field(default_factory=dict)

    def error(self, line: int, message: str) -> None:
        if self._keeping("error"):
            self.errors.append(Problem(f"{self.path}:{line}", message))

    def warn(self, line: int, message: str) -> None:
        if self._keeping("warning"):
            self.warnings.append(Problem(f"{self.path}:{line}", message))

    def _keeping(self, kind: str) -> bool:
        """Whether a problem of this kind is kept (the first MAX_KEPT of a file), else only counted."""
        kept = self._kept.get(kind, 0)
        if kept < MAX_KEPT:
            self._kept[kind] = kept + 1
            return True
        self.dropped[kind] = self.dropped.get(kind, 0) + 1
        return False


# A record as read, before it is checked and its id settled: the listing's fields as a reader finds them (the
# line it starts on, the date's own line, an id only when the file gives one), then Record's detail fields as
# Record declares them.
Raw = make_dataclass(
    "Raw",
    [
        ("title", str),
        ("line", int),
        ("date", "str | None", field(default=None)),
        ("date_line", "int | None", field(default=None)),
        ("summary", str, field(default="")),
        ("url", "str | None", field(default=None)),
        ("id", "str | None", field(default=None)),
        ("collection", "str | None", field(default=None)),
        *[(f.name, f.type, field(default=f.default)) for f in fields(Record) if f.name in DETAIL_FIELDS],
    ],
    slots=True,
    namespace={"__doc__": "A record as read, before it is checked and its id settled.", "__module__": __name__},
)


def checked(raw: Raw, collection: str, sink: Sink) -> Record | None:
    """A record from a raw one with a title, a valid date and sane sizes; its id as given, else URL, else hash."""
    if not _plainly_fine(raw):
        problem = _size_problem(raw) or _character_problem(raw)
        if problem:
            sink.error(raw.line, problem)
            return None
    date, precision = None, None
    if raw.date:
        parsed = read_date(raw.date)
        if isinstance(parsed, str):
            sink.error(raw.date_line or raw.line, parsed)
            return None
        date, precision = parsed
    collection = raw.collection or collection
    rid = raw.id or raw.url or stable_id(collection, raw.title, date)
    return Record(
        id=rid, title=raw.title, date=date, date_precision=precision, summary=raw.summary, url=raw.url,
        collection=collection, source=f"{sink.path}:{raw.line}", full_text=raw.full_text,
        record_type=raw.record_type, language=raw.language, archive=raw.archive, citation=raw.citation,
        people=raw.people, places=raw.places, topics=raw.topics, listed_under=raw.listed_under,
        archive_id=raw.archive_id,
    )


_LIMITS = {"title": MAX_TITLE, "summary": MAX_SUMMARY, "full_text": MAX_FULL_TEXT}
assert MAX_FIELD <= min(MAX_SUMMARY, MAX_FULL_TEXT)  # _plainly_fine holds every field but the title to MAX_FIELD
_NOT_TEXT = ("line", "date_line")
# The text fields, named once (dataclasses.fields per record cost a third of the reading time).
_TEXT_FIELDS = tuple(f.name for f in fields(Raw) if f.name not in _NOT_TEXT)
_others_of = attrgetter(*(name for name in _TEXT_FIELDS if name != "title"))


def _plainly_fine(raw: Raw) -> bool:
    """Whether a record has a title and no field over its size or holding a lone surrogate, checked at once.

    The common case, quickly: a text that is all ASCII holds no surrogate
    (`str.isascii` needs no look at the characters), and a field within the smallest limit is within its
    own. False sends the record to the checks that say why (or that a long summary or full text is fine).
    """
    title = raw.title
    if not title or len(title) > MAX_TITLE or (not title.isascii() and _SURROGATE.search(title)):
        return False
    for value in filter(None, _others_of(raw)):
        if type(value) is not str:
            if type(value) is not tuple or not all(type(item) is str for item in value):
                return False
            value = "".join(value)  # a list field: its items' lengths add up, and joining makes no surrogate
        if len(value) > MAX_FIELD or (not value.isascii() and _SURROGATE.search(value)):
            return False
    return True


def _size_problem(raw: Raw) -> str | None:
    if not raw.title:
        return "record has no title"
    for field_name in _TEXT_FIELDS:
        value = getattr(raw, field_name)
        if not value:
            continue
        size = sum(map(len, value)) if isinstance(value, tuple) else len(value)
        limit = _LIMITS.get(field_name, MAX_FIELD)
        if size > limit:
            name = field_name.replace("_", " ")
            return f"record refused: its {name} is {size:,} characters long (the limit is {limit:,})"
    return None


def _character_problem(raw: Raw) -> str | None:
    """A text field holding a lone surrogate (from a JSON escape like \\ud800): no text can be written with it."""
    for field_name in _TEXT_FIELDS:
        value = getattr(raw, field_name)
        if not value:
            continue
        for text in value if isinstance(value, tuple) else (value,):
            if isinstance(text, str) and (m := _SURROGATE.search(text)):
                half = ascii(m.group())[1:-1]
                return f"field {field_name!r} holds {half}, half of a character pair, not text: record left out"
    return None
