"""Reading the collection: listing pages (.txt), JSON Lines and CSV exports into records."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.records import DateError, Record, parse_date, stable_id

FORMATS = (".txt", ".jsonl", ".csv")
FIELDS = ("id", "title", "date", "summary", "url", "collection")
# Written by Record.to_dict(); accepted on reading and recomputed, so exported records read back as they are.
DERIVED_FIELDS = ("date_precision", "source")

_FURNITURE = re.compile(
    r"^(skip to (main )?content|documents|results:?(\s*\d+)?(\s*:?\s*\d+\s*[-–]\s*\d+\s+of\s+\d+)?"
    r"|\d+\s*[-–]\s*\d+\s+of\s+\d+)$",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DATE_WORDS = re.compile(
    r"^(\d+(st|nd|rd|th)?s?|c|ca|circa|undated|n\.?d|spring|summer|autumn|fall|winter|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec|january|february|march|april|june|july|august|"
    r"september|october|november|december)$",
    re.I,
)
_HTML = re.compile(r"^\s*<(!doctype|html|head|body|div|meta)\b", re.I)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_MAX_BAD_BYTE_LINES = 5


@dataclass(slots=True)
class Problem:
    """Something wrong with the corpus, pinned to a file and line."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(slots=True)
class Corpus:
    """The records read from a set of files, with what was wrong or odd on the way."""

    records: list[Record] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    per_file: dict[str, int] = field(default_factory=dict)

    @property
    def date_span(self) -> tuple[str, str] | None:
        dates = sorted(r.date for r in self.records if r.date)
        return (dates[0], dates[-1]) if dates else None


@dataclass(slots=True)
class _Raw:
    """A record as read, before its id is settled."""

    title: str
    line: int
    date: str | None = None
    date_line: int | None = None
    summary: str = ""
    url: str | None = None
    id: str | None = None
    collection: str | None = None


@dataclass(slots=True)
class _Sink:
    """Where a parser reports what it finds wrong (errors) or odd (warnings)."""

    path: str
    errors: list[Problem]
    warnings: list[Problem]

    def error(self, line: int, message: str) -> None:
        self.errors.append(Problem(f"{self.path}:{line}", message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(Problem(f"{self.path}:{line}", message))


# ---------------------------------------------------------------------------------------------- finding files


def corpus_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """The readable corpus files under the given files or folders, sorted so ids and order are stable.

    Folders are searched recursively, skipping hidden entries and README files; what cannot be
    read (a broken link, a file that is not a regular file, an unknown format named explicitly,
    a path that does not exist) is returned as a problem and left out of the files.
    """
    found = _scan(paths)
    return found.files, found.errors


@dataclass(slots=True)
class _Scan:
    """What a search for corpus files found, and every path it looked at in order (to sort problems by)."""

    files: list[Path] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    order: dict[str, int] = field(default_factory=dict)

    def add(self, path: Path, why: str | None, *, warn: bool = False) -> None:
        self.order.setdefault(str(path), len(self.order))
        if why is None:
            self.files.append(path)
        else:
            (self.warnings if warn else self.errors).append(Problem(str(path), why))


def _scan(paths: Iterable[Path]) -> _Scan:
    found = _Scan()
    for path in map(Path, paths):
        if path.is_dir():
            _scan_folder(path, found)
        else:
            _scan_file(path, found)
    unique = {os.path.abspath(p): p for p in reversed(found.files)}  # the first of each file wins
    found.files = [p for p in found.files if unique.pop(os.path.abspath(p), None) is not None]
    return found


def _scan_folder(folder: Path, found: _Scan) -> None:
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in parts) or path.is_dir() or path.stem.lower() == "readme":
            continue
        if path.suffix.lower() not in FORMATS:
            found.add(path, f"not read: unknown format {path.suffix!r} (use {', '.join(FORMATS)})", warn=True)
        else:
            found.add(path, _unreadable(path))


def _scan_file(path: Path, found: _Scan) -> None:
    if not path.exists() and not path.is_symlink():
        found.add(path, "no such file or folder")
    elif path.suffix.lower() not in FORMATS:
        found.add(path, f"unknown format {path.suffix!r} (use {', '.join(FORMATS)})")
    else:
        found.add(path, _unreadable(path))


def _unreadable(path: Path) -> str | None:
    """Why a corpus file cannot be read, found without opening it (a FIFO would block), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink() and isinstance(exc, FileNotFoundError):
            return f"cannot read file: broken link to {os.readlink(path)}"
        return f"cannot read file ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return "cannot read file: not a regular file"
    return None


def collection_name(path: Path, root: Path | None) -> str:
    """A file's collection: its folder below the corpus root, else the file's own name."""
    if root is not None:
        rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root)))
        if len(rel.parts) > 1 and rel.parts[0] != "..":
            return rel.parts[0]
    return path.stem


# ---------------------------------------------------------------------------------------------- loading


def load_corpus(paths: Iterable[Path | str], *, root: Path | str | None = None) -> Corpus:
    """Read every corpus file under the given files or folders; never raises on bad input.

    A file's collection is its folder below `root` (the corpus folder) when it lies under it,
    else its folder below the folder argument it was found in, else the file's own name.
    Ids do not depend on the order in which files are given or found.
    """
    roots = [Path(p) for p in paths]
    found = _scan(roots)
    corpus = Corpus(errors=found.errors, warnings=found.warnings)
    candidates: list[Record] = []
    for path in found.files:
        collection = collection_name(path, _root_of(path, roots, root))
        read = _read_file(path, collection, _Sink(str(path), corpus.errors, corpus.warnings))
        if read is not None:
            corpus.per_file[str(path)] = 0
            candidates.extend(read)
    corpus.records = _settle_ids(candidates, _Sink("", corpus.errors, corpus.warnings))
    for record in corpus.records:
        corpus.per_file[record.source.rsplit(":", 1)[0]] += 1
    for problems in (corpus.errors, corpus.warnings):
        problems.sort(key=lambda problem: _problem_order(problem, found.order))
    return corpus


def _root_of(path: Path, roots: list[Path], root: Path | str | None) -> Path | None:
    here = os.path.abspath(path)
    folders = ([Path(root)] if root is not None else []) + [r for r in roots if r.is_dir()]
    return next((r for r in folders if here.startswith(os.path.join(os.path.abspath(r), ""))), None)


def _problem_order(problem: Problem, order: dict[str, int]) -> tuple[int, int]:
    """Problems in the order the files were found, then by line."""
    path, _, line = problem.source.rpartition(":")
    if line.isdigit() and path in order:
        return order[path], int(line)
    return order.get(problem.source, len(order)), 0


def _read_file(path: Path, collection: str, sink: _Sink) -> list[Record] | None:
    """The records of one file, each checked but without its final id; None if the file is unreadable."""
    text = _read_text(path, sink)
    if text is None:
        return None
    parser: Callable[[str, _Sink], Iterator[_Raw]] = _PARSERS[path.suffix.lower()]
    records = [r for raw in parser(text, sink) if (r := _checked(raw, collection, sink)) is not None]
    if not records and not any(p.source.startswith(f"{path}:") for p in sink.errors):
        sink.warnings.append(Problem(str(path), "no records in this file"))
    return records


def _read_text(path: Path, sink: _Sink) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        sink.errors.append(Problem(str(path), f"cannot read file ({exc.strerror or exc})"))
        return None
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        _report_bad_bytes(data, sink)
        return None


def _report_bad_bytes(data: bytes, sink: _Sink) -> None:
    """One problem per line holding a byte that is not UTF-8 (the first few lines, then a count)."""
    text = data.decode("utf-8", "surrogateescape")  # each bad byte becomes one character U+DC80..U+DCFF
    bad = [(number, m.group()) for number, line in _lines(text) if (m := _ESCAPED_BYTE.search(line))]
    for number, char in bad[:_MAX_BAD_BYTE_LINES]:
        sink.error(number, f"byte 0x{ord(char) - 0xDC00:02x} is not UTF-8 (save the file as UTF-8); file not read")
    if len(bad) > _MAX_BAD_BYTE_LINES:
        sink.error(bad[_MAX_BAD_BYTE_LINES][0], f"and {len(bad) - _MAX_BAD_BYTE_LINES} more lines like it")


def _checked(raw: _Raw, collection: str, sink: _Sink) -> Record | None:
    """A record from a raw one with a title and a valid date; its id as given, else the hash (settled later)."""
    if not raw.title:
        sink.error(raw.line, "record has no title")
        return None
    date, precision = None, None
    if raw.date:
        line = raw.date_line or raw.line
        try:
            parsed = parse_date(raw.date)
        except DateError as exc:
            sink.error(line, f"bad date: {exc}")
            return None
        if parsed is None:
            sink.error(line, f"bad date {raw.date!r} (use e.g. July 4, 1963; September 1944; 1962; or ISO YYYY-MM-DD)")
            return None
        date, precision = parsed
    source = f"{sink.path}:{raw.line}"
    collection = raw.collection or collection
    rid = raw.id or raw.url or stable_id(collection, raw.title, date)
    return Record(rid, raw.title, date, precision, raw.summary, raw.url, collection, source)


# ---------------------------------------------------------------------------------------------- ids


def _settle_ids(candidates: list[Record], sink: _Sink) -> list[Record]:
    """Give every record its final id; read a document listed twice once, with a warning.

    Records are grouped by explicit id, or by collection, title and date; each group is settled
    as a whole, so the ids do not depend on the order in which the files were read.
    """
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(candidates):
        base = stable_id(rec.collection, rec.title, rec.date)
        groups.setdefault(f"hash\x1f{base}" if rec.id == base else f"id\x1f{rec.id}", []).append(i)
    kept: dict[int, Record] = {}
    for key, members in groups.items():
        settle = _settle_explicit if key.startswith("id\x1f") else _settle_hashed
        kept.update(settle({i: candidates[i] for i in members}, sink))
    return [kept[i] for i in sorted(kept)]


def _same_document(a: Record, b: Record) -> bool:
    return (
        _fold(a.title) == _fold(b.title)
        and a.date == b.date
        and (not a.summary or not b.summary or a.summary == b.summary)
    )


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _merge(members: dict[int, Record], rid: str, sink: _Sink) -> dict[int, Record]:
    """One document listed one or more times: keep the fullest listing, warn about the others."""
    keep = next((i for i, r in members.items() if r.summary), next(iter(members)))
    for i, rec in members.items():
        if i != keep:
            sink.warnings.append(
                Problem(rec.source, f"same document as {members[keep].source} (listed twice): read once")
            )
    record = members[keep]
    return {keep: record if record.id == rid else replace(record, id=rid)}


def _settle_explicit(members: dict[int, Record], sink: _Sink) -> dict[int, Record]:
    """Records with the same given id or URL: one document listed again, or an error for a different one."""
    first = next(iter(members.values()))
    same = {i: r for i, r in members.items() if _same_document(r, first)}
    for rec in members.values():
        if not _same_document(rec, first):
            sink.errors.append(
                Problem(rec.source, f"id {rec.id!r} is already used by a different record at {first.source}")
            )
    return _merge(same, first.id, sink)


def _settle_hashed(members: dict[int, Record], sink: _Sink) -> dict[int, Record]:
    """Records with the same collection, title and date: one document, or one per distinct summary."""
    first = next(iter(members.values()))
    summaries = {r.summary for r in members.values() if r.summary}
    if len(summaries) <= 1:
        return _merge(members, stable_id(first.collection, first.title, first.date), sink)
    kept: dict[int, Record] = {}
    for summary in dict.fromkeys(r.summary for r in members.values()):
        alike = {i: r for i, r in members.items() if r.summary == summary}
        doc = _merge(alike, stable_id(first.collection, first.title, first.date, summary), sink)
        source = next(iter(doc.values())).source
        if source != first.source:
            message = f"same title and date as {first.source} but a different summary: read as a different document"
            sink.warnings.append(Problem(source, message))
        kept.update(doc)
    return kept


# ---------------------------------------------------------------------------------------------- parsers


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with their 1-based numbers, counted as editors count them (\\n, \\r\\n or \\r)."""
    return enumerate(_LINE_BREAK.split(text), start=1)


def _looks_like_summary(line: str) -> bool:
    """A summary is prose: it ends a sentence, or is too long to be a title."""
    return bool(_SENTENCE_END.search(line)) or len(line) > 250


def _looks_like_date(line: str) -> bool:
    """A line made only of date words and numbers, with a year in it: a date, even if not one we can read."""
    if len(line) > 40:
        return False
    try:
        if parse_date(line) is not None:
            return True
    except DateError:
        return True
    words = re.findall(r"[^\W_]+", line)
    return bool(re.search(r"\b\d{4}s?\b", line)) and all(_DATE_WORDS.match(w) for w in words)


class _Listing:
    """The state of reading a listing page line by line: the entry being read and a date waiting for its title."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.current: _Raw | None = None
        self.pending_date: tuple[str, int] | None = None

    def feed(self, number: int, line: str) -> Iterator[_Raw]:
        if _FURNITURE.match(line):
            return
        if _looks_like_date(line):
            yield from self.finish()
            self.pending_date = (line, number)
        elif self.current is not None and _looks_like_summary(line):
            sep = " " if self.current.summary else ""
            self.current.summary += sep + line
        else:
            if self.current is not None:
                yield self.current
            self.current = _Raw(title=line, line=number)
            if self.pending_date is not None:
                self.current.date, self.current.line = self.pending_date
                self.current.date_line = self.current.line
                self.pending_date = None

    def finish(self) -> Iterator[_Raw]:
        if self.pending_date is not None:
            self.sink.error(self.pending_date[1], f"date {self.pending_date[0]!r} with no title after it")
            self.pending_date = None
        if self.current is not None:
            yield self.current
            self.current = None


def _parse_listing(text: str, sink: _Sink) -> Iterator[_Raw]:
    """A saved listing page: furniture, then entries of [date] title [summary]."""
    if _HTML.match(text):
        sink.error(1, "this is an HTML page, not a listing saved as text (save the page as plain text)")
        return
    listing = _Listing(sink)
    for number, line in _lines(text):
        line = " ".join(line.split())
        if line:
            yield from listing.feed(number, line)
    yield from listing.finish()


def _raw_from_fields(row: dict, line: int, sink: _Sink, unknown_seen: set[str]) -> _Raw | None:
    unknown = sorted(k for k in row if k not in FIELDS and k not in DERIVED_FIELDS and k not in unknown_seen)
    if unknown:
        unknown_seen.update(unknown)
        sink.warn(line, f"field(s) {', '.join(map(repr, unknown))} ignored (fields are {', '.join(FIELDS)})")
    values: dict[str, str | None] = {}
    for key in FIELDS:
        value = row.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            sink.error(line, f"field {key!r} must be text, not {json.dumps(value)[:40]}")
            return None
        text = " ".join(str(value).split()) if value is not None else ""
        values[key] = text or None
    return _Raw(
        title=values["title"] or "",
        line=line,
        date=values["date"],
        summary=values["summary"] or "",
        url=values["url"],
        id=values["id"],
        collection=values["collection"],
    )


def _parse_jsonl(text: str, sink: _Sink) -> Iterator[_Raw]:
    """One JSON object per line with the fields in FIELDS; blank lines are skipped."""
    unknown_seen: set[str] = set()
    for number, line in _lines(text):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            sink.error(number, f"not valid JSON at column {exc.colno}: {exc.msg}")
            continue
        if not isinstance(row, dict):
            sink.error(number, "each line must be a JSON object ({...})")
            continue
        row = {str(key).strip().lower(): value for key, value in row.items()}
        raw = _raw_from_fields(row, number, sink, unknown_seen)
        if raw is not None:
            yield raw


def _parse_csv(text: str, sink: _Sink) -> Iterator[_Raw]:
    """Comma-separated values with a header row naming at least `title`; quoted fields may hold commas and newlines."""
    lines = _CountedLines(text)
    reader = csv.DictReader(lines, strict=True)
    try:
        header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    except csv.Error as exc:
        sink.error(1, f"CSV error in the header row: {exc}")
        return
    if "title" not in header:
        sink.error(1, f"CSV header must name a 'title' column (comma-separated; fields are {', '.join(FIELDS)})")
        return
    reader.fieldnames = header
    unknown_seen: set[str] = set()
    for start, row in _csv_rows(reader, lines, sink):
        raw = _raw_from_fields(row, start, sink, unknown_seen)
        if raw is not None:
            yield raw


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


def _csv_rows(reader: csv.DictReader, lines: _CountedLines, sink: _Sink) -> Iterator[tuple[int, dict]]:
    """The non-blank rows with the line each starts on; rows that do not parse are reported and skipped."""
    while True:
        before = lines.count
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            sink.error(lines.start_after(before), f"CSV error: {exc}")
            continue
        start = lines.start_after(before)
        if None in row:
            sink.error(start, "more values than header columns (quote values that contain commas)")
        elif any((v or "").strip() for v in row.values()):
            yield start, row


_PARSERS: dict[str, Callable[[str, _Sink], Iterator[_Raw]]] = {
    ".txt": _parse_listing,
    ".jsonl": _parse_jsonl,
    ".csv": _parse_csv,
}
