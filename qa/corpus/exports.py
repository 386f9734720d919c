"""Exports: JSON Lines and CSV files of records, one record a line or row."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator

from qa.corpus.lines import fold, split_lines
from qa.corpus.raw import Raw, Sink
from qa.records import DETAIL_FIELDS, LIST_FIELDS

FIELDS = ("id", "title", "date", "summary", "url", "collection")
# Written by Record.to_dict(); accepted on reading and recomputed, so exported records read back as they are.
DERIVED_FIELDS = ("date_precision", "source")
_KNOWN = frozenset(FIELDS + DETAIL_FIELDS + DERIVED_FIELDS)
_LINES_OR_LISTS = frozenset(LIST_FIELDS + ("full_text",))  # fields whose text is not simply folded
_LIST_SEPARATOR = ";"
# The fields read from a row whose text is simply folded, and those accepted but not read (recomputed).
_FOLDED = frozenset(FIELDS + DETAIL_FIELDS) - _LINES_OR_LISTS
_LISTS = frozenset(LIST_FIELDS)
_NOT_READ = frozenset(DERIVED_FIELDS)
_DECODE = json.JSONDecoder().raw_decode


def parse_jsonl(text: str, sink: Sink) -> Iterator[Raw]:
    """One JSON object per line with the fields in FIELDS (and DETAIL_FIELDS); blank lines are skipped."""
    unknown_seen: set[str] = set()
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        row = _json_object(line, number, sink)
        if row is not None:
            if not row.keys() <= _KNOWN:  # names as written ("Title ", "DATE") are read as the known ones
                row = {str(key).strip().lower(): value for key, value in row.items()}
            raw = _raw_from_fields(row, number, sink, unknown_seen)
            if raw is not None:
                yield raw


def _json_object(line: str, number: int, sink: Sink) -> dict | None:
    try:  # the common case, quickly: the line is one JSON value and nothing else
        row, end = _DECODE(line)
        if end == len(line) and type(row) is dict:
            return row
    except (ValueError, RecursionError):
        pass  # read again below, for the message
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        sink.error(number, f"not valid JSON at column {exc.colno}: {exc.msg}")
        return None
    except RecursionError:
        sink.error(number, "not read: JSON nested too deeply")
        return None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        sink.error(number, f"not valid JSON: {str(exc).split(';')[0][:120]}")
        return None
    if not isinstance(row, dict):
        sink.error(number, "each line must be a JSON object ({...})")
        return None
    return row


def parse_csv(text: str, sink: Sink) -> Iterator[Raw]:
    """Comma-separated values with a header row naming at least `title`; quoted fields may hold commas and newlines."""
    lines = _CountedLines(text)
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        sink.error(1, f"CSV error in the header row: {exc}")
        return
    if "title" not in header:
        sink.error(1, f"CSV header must name a 'title' column (comma-separated; fields are {', '.join(FIELDS)})")
        return
    twice = sorted(name for name, times in Counter(header).items() if name and times > 1)
    if twice:
        sink.error(1, f"CSV header names {', '.join(map(repr, twice))} more than once: each column once, please")
        return
    unknown_seen: set[str] = set()
    for start, row in _csv_rows(reader, header, lines, sink):
        raw = _raw_from_fields(row, start, sink, unknown_seen)
        if raw is not None:
            yield raw


def _raw_from_fields(row: dict, line: int, sink: Sink, unknown_seen: set[str]) -> Raw | None:
    extra = row.keys() - _KNOWN
    unknown = sorted(extra - unknown_seen) if extra else []
    if unknown:
        unknown_seen.update(unknown)
        sink.warn(line, f"field(s) {', '.join(map(repr, unknown))} ignored (fields are {', '.join(FIELDS)})")
    plain = None if extra else _plain_raw(row, line)
    if plain is not None:
        return plain
    values: dict = {}
    for key in FIELDS + DETAIL_FIELDS:
        value = row.get(key)
        if value is None:  # the common cases, quickly: a field left out, a plain text
            values[key] = () if key in LIST_FIELDS else None
            continue
        if type(value) is str and key not in _LINES_OR_LISTS:
            values[key] = fold(value) or None
            continue
        items = _items(value) if key in LIST_FIELDS else [value]
        if any(_not_text(item) for item in items):
            sink.error(line, f"field {key!r} must be text, not {json.dumps(value)[:40]}")
            return None
        texts = [_fold_value(item, keep_lines=key == "full_text") for item in items]
        values[key] = tuple(filter(None, texts)) if key in LIST_FIELDS else texts[0] or None
    return Raw(title=values.pop("title") or "", line=line, summary=values.pop("summary") or "",
               full_text=values.pop("full_text") or "", **values)


def _plain_raw(row: dict, line: int) -> Raw | None:
    """The record of a row of known fields holding texts, lists of texts or nothing (the common case,
    quickly), as the field-by-field reading gives it; None for any other row."""
    values: dict = {}
    for key, value in row.items():
        if type(value) is str:
            if key in _FOLDED:
                values[key] = fold(value) or None
            elif key in _LISTS:
                values[key] = tuple(filter(None, map(fold, value.split(_LIST_SEPARATOR))))
            elif key == "full_text":
                values[key] = _fold_value(value, keep_lines=True)
        elif type(value) is list and key in _LISTS and all(type(item) is str for item in value):
            values[key] = tuple(filter(None, map(fold, value)))
        elif value is not None and key not in _NOT_READ:
            return None
    return Raw(title=values.pop("title", None) or "", line=line, summary=values.pop("summary", None) or "", **values)


def _not_text(value: object) -> bool:
    return value is not None and (isinstance(value, bool) or not isinstance(value, str | int))


def _items(value: object) -> list:
    """A list field's items: a JSON list as it is, a text split at semicolons."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return value.split(_LIST_SEPARATOR)
    return [value]


def _fold_value(value: str | int | None, *, keep_lines: bool = False) -> str:
    """A value as text with its whitespace folded (a full text keeps one paragraph a line)."""
    if value is None:
        return ""
    if not keep_lines:
        return fold(str(value))
    return "\n".join(filter(None, map(fold, split_lines(str(value)))))


class _CountedLines:
    """The lines of a text for the csv reader, counting how many it has taken and which were blank."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.count = 0
        self.blank: set[int] = set()

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        if not line.strip():
            self.blank.add(self.count)
        return line

    def start_after(self, before: int) -> int:
        """The first non-blank line after the first `before` lines: where a row read from there starts."""
        number = before + 1
        while number in self.blank and number < self.count:
            number += 1
        return number


def _csv_rows(reader, header: list[str], lines: _CountedLines, sink: Sink) -> Iterator[tuple[int, dict]]:
    """The rows holding a value, with the line each starts on; rows that do not parse are reported and skipped."""
    while True:
        before = lines.count
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            sink.error(lines.start_after(before), f"CSV error: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        start = lines.start_after(before)
        if len(row) > len(header):
            sink.error(start, "more values than header columns (quote values that contain commas)")
        else:
            cells = row + [None] * (len(header) - len(row))  # a short row: the columns it lacks are empty
            yield start, {name: cell for name, cell in zip(header, cells, strict=True) if name or (cell or "").strip()}
