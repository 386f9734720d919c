"""Reading the collection: listing pages (.txt), JSON Lines and CSV exports into records."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.records import DateError, Record, parse_date, stable_id

FORMATS = (".txt", ".jsonl", ".csv")
FIELDS = ("id", "title", "date", "summary", "url", "collection")

_FURNITURE = re.compile(
    r"^(skip to (main )?content|results:?(\s*\d+)?|documents|\d+\s*[-–]\s*\d+\s+of\s+\d+)$", re.I
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


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


def corpus_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand folders into the corpus files below them, sorted so ids and order are stable."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.rglob("*")
                    if p.suffix.lower() in FORMATS and p.is_file() and not p.name.startswith(".")
                    and p.name.lower() != "readme.txt"
                )
            )
        elif path.is_file():
            if path.suffix.lower() in FORMATS:
                files.append(path)
            else:
                problems.append(Problem(str(path), f"unknown format {path.suffix!r} (use {', '.join(FORMATS)})"))
        else:
            problems.append(Problem(str(path), "no such file or folder"))
    return files, problems


def collection_name(path: Path, root: Path | None) -> str:
    """A file's collection: its folder below the corpus root, else the file's own name."""
    if root is not None and path.parent != root and root in path.parents:
        return path.relative_to(root).parts[0]
    return path.stem


def load_corpus(paths: Iterable[Path | str]) -> Corpus:
    """Read every corpus file under the given files or folders; never raises on bad input."""
    roots = [Path(p) for p in paths]
    files, problems = corpus_files(roots)
    corpus = Corpus(errors=problems)
    seen: dict[str, Record] = {}
    for path in files:
        root = next((r for r in roots if r.is_dir() and r in path.parents), None)
        collection = collection_name(path, root)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            corpus.errors.append(Problem(str(path), f"cannot read file ({exc.strerror or exc})"))
            continue
        except UnicodeDecodeError as exc:
            data = path.read_bytes()
            line = data[: exc.start].count(b"\n") + 1
            corpus.errors.append(
                Problem(f"{path}:{line}", f"byte 0x{data[exc.start]:02x} is not UTF-8 (save the file as UTF-8)")
            )
            continue
        parse = {".txt": _parse_listing, ".jsonl": _parse_jsonl, ".csv": _parse_csv}[path.suffix.lower()]
        count = 0
        for raw in parse(text, str(path), corpus.errors):
            record = _settle(raw, str(path), raw.collection or collection, seen, corpus)
            if record is not None:
                corpus.records.append(record)
                count += 1
        corpus.per_file[str(path)] = count
    return corpus


def _settle(raw: _Raw, path: str, collection: str, seen: dict[str, Record], corpus: Corpus) -> Record | None:
    """Give a raw record its stable id; read a document listed twice once, with a warning."""
    source = f"{path}:{raw.line}"
    if not raw.title:
        corpus.errors.append(Problem(source, "record has no title"))
        return None
    precision = None
    date = None
    if raw.date:
        try:
            parsed = parse_date(raw.date)
        except DateError as exc:
            corpus.errors.append(Problem(f"{path}:{raw.date_line or raw.line}", f"bad date: {exc}"))
            return None
        if parsed is None:
            corpus.errors.append(
                Problem(f"{path}:{raw.date_line or raw.line}", f"bad date {raw.date!r} (use YYYY-MM-DD, YYYY-MM or YYYY)")
            )
            return None
        date, precision = parsed
    rid = raw.id or raw.url or stable_id(collection, raw.title, date)
    record = Record(rid, raw.title, date, precision, raw.summary, raw.url, collection, source)
    earlier = seen.get(rid)
    if earlier is not None:
        same = (earlier.title, earlier.date) == (record.title, record.date) and (
            not record.summary or not earlier.summary or earlier.summary == record.summary
        )
        if same:
            corpus.warnings.append(Problem(source, f"same document as {earlier.source} (listed twice): read once"))
            return None
        if raw.id or raw.url:
            corpus.errors.append(Problem(source, f"id {rid!r} is already used by a different record at {earlier.source}"))
            return None
        rid = stable_id(collection, raw.title, date, record.summary)
        record = Record(rid, raw.title, date, precision, raw.summary, raw.url, collection, source)
    seen[rid] = record
    return record


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """Non-empty lines with their 1-based numbers, whitespace folded."""
    for number, line in enumerate(text.splitlines(), start=1):
        line = " ".join(line.split())
        if line:
            yield number, line


def _looks_like_summary(line: str) -> bool:
    """A summary is prose: it ends a sentence, or is too long to be a title."""
    return bool(_SENTENCE_END.search(line)) or len(line) > 250


def _parse_listing(text: str, path: str, errors: list[Problem]) -> Iterator[_Raw]:
    """A saved listing page: furniture, then entries of [date] title [summary]."""
    current: _Raw | None = None
    pending_date: tuple[str, int] | None = None
    for number, line in _paragraphs(text):
        if _FURNITURE.match(line):
            continue
        try:
            is_date = parse_date(line) is not None
        except DateError:
            is_date = True
        if is_date:
            if current is not None:
                yield current
                current = None
            if pending_date is not None:
                errors.append(Problem(f"{path}:{pending_date[1]}", "date with no title after it"))
            pending_date = (line, number)
            continue
        if current is not None and not current.summary and _looks_like_summary(line):
            current.summary = line
            continue
        if current is not None and current.summary and not _looks_like_summary(line):
            yield current
            current = None
        elif current is not None and current.summary:
            current.summary += " " + line
            continue
        elif current is not None:
            yield current
            current = None
        current = _Raw(title=line, line=number)
        if pending_date is not None:
            current.date, current.date_line = pending_date
            current.line = pending_date[1]
            pending_date = None
    if current is not None:
        yield current
    if pending_date is not None:
        errors.append(Problem(f"{path}:{pending_date[1]}", "date with no title after it"))


def _raw_from_fields(row: dict, line: int, path: str, errors: list[Problem]) -> _Raw | None:
    unknown = sorted(k for k in row if k not in FIELDS and k is not None)
    if unknown:
        errors.append(Problem(f"{path}:{line}", f"unknown field(s) {', '.join(unknown)} (fields are {', '.join(FIELDS)})"))
        return None
    values: dict[str, str | None] = {}
    for key in FIELDS:
        value = row.get(key)
        if value is not None and not isinstance(value, str | int):
            errors.append(Problem(f"{path}:{line}", f"field {key!r} must be text"))
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


def _parse_jsonl(text: str, path: str, errors: list[Problem]) -> Iterator[_Raw]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(Problem(f"{path}:{number}", f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(row, dict):
            errors.append(Problem(f"{path}:{number}", "each line must be a JSON object"))
            continue
        raw = _raw_from_fields(row, number, path, errors)
        if raw is not None:
            yield raw


def _parse_csv(text: str, path: str, errors: list[Problem]) -> Iterator[_Raw]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "title" not in header:
        errors.append(Problem(f"{path}:1", f"CSV header must name a 'title' column (fields are {', '.join(FIELDS)})"))
        return
    reader.fieldnames = header
    try:
        for row in reader:
            if None in row:
                errors.append(Problem(f"{path}:{reader.line_num}", "more values than header columns"))
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            raw = _raw_from_fields(row, reader.line_num, path, errors)
            if raw is not None:
                yield raw
    except csv.Error as exc:
        errors.append(Problem(f"{path}:{reader.line_num}", f"CSV error: {exc}"))
