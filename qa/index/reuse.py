"""What a build takes from the previous one without reading or writing it again: the records of corpus files
unchanged since then (by digest), the records of the unchanged lines of a changed JSON Lines file (by each line's
digest), and their stored JSON lines.

Each build keeps, for every corpus file, its records as read (before ids are settled across files):
`read.npy` lists them file after file, each as the position of the build's record that is that same record,
or as -(1 + n) for the n-th line of `read.jsonl` when settling changed it (a duplicate merged, an id
disambiguated); `read.json` gives each file's range there. `read_lines.npy`, beside `read.npy`, holds the
digest (BLAKE2b, 16 bytes) of the line each record of a JSON Lines file was read from (zero bytes for others).

A JSON Lines file that changed is read by `Known` itself: its lines are digested, a line whose digest a record
of the file had in the previous build gives that record again (its source renumbered if the line moved), and
only the other lines are parsed, by the corpus reader's own functions, with the lines taken blanked out so that
every line keeps its number. Any problem in those lines (or a file too large, or not UTF-8) and the file is left
to `load_corpus` to read whole, which reports it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.config import Config
from qa.corpus import Corpus
from qa.corpus.exports import parse_jsonl
from qa.corpus.raw import MAX_EXPORT_BYTES, Sink, checked
from qa.corpus.scan import collection_name, root_of
from qa.index.manifest import DATES, OFFSETS, READ_EXTRA, READ_FILES, READ_INDEX, READ_LINES, RECORDS, Manifest
from qa.index.store import RecordStore
from qa.records import Record

LINE_DIGEST = np.dtype("S16")
RECORD_FILES = (RECORDS, OFFSETS, DATES, READ_FILES, READ_INDEX, READ_LINES, READ_EXTRA)  # written here
_NO_DIGEST = bytes(16)
_BOM = "\ufeff".encode()


class AsRead:
    """A build's records as read from each corpus file, for the next build to take unchanged files from."""

    def __init__(self, folder: Path, records: RecordStore) -> None:
        self.files: dict[str, list[int]] = json.loads((folder / READ_FILES).read_text(encoding="utf-8"))
        self.index = np.load(folder / READ_INDEX, mmap_mode="r")
        lines = (folder / READ_EXTRA).read_text(encoding="utf-8").splitlines()
        self.extra = [Record.from_dict(json.loads(line)) for line in lines]
        self.records = records
        self.dates = np.load(folder / DATES, mmap_mode="r")
        path = folder / READ_LINES  # absent from builds made before lines were digested: no line is taken
        digests = np.load(path) if path.is_file() else None
        ok = digests is not None and digests.dtype == LINE_DIGEST and digests.shape == self.index.shape
        self.digests = digests if ok else None

    def record(self, entry: int) -> Record:
        """A record as read, from its entry in `read.npy`."""
        return self.records[entry] if entry >= 0 else self.extra[-1 - entry]

    def records_of(self, entries: list[int]) -> list[Record]:
        """The records as read of these entries (runs of stored records parsed together)."""
        if all(e >= 0 for e in entries):
            return self.records.records(entries)
        return [self.record(e) for e in entries]


class Known:
    """`load_corpus`'s `known`: a corpus file's records from the previous build when its digest is the same, and
    those of a changed JSON Lines file's unchanged lines (see the module's description).

    It remembers which records it took from which stored line (their lines and content keys are then copied
    rather than made again), which it took with a new source (their content keys and people are copied), each
    file's name as the records show it, and the line digests of the files it read.
    """

    def __init__(self, config: Config, state: dict[str, dict], manifest: Manifest | None, read: AsRead | None):
        self.corpus = config.corpus
        self.state = state
        self.before = manifest.corpus_files if manifest is not None else {}
        self.read = read
        self.lines: dict[int, int] = {}  # id(record) -> its position in the previous build (same stored line)
        self.origins: dict[int, int] = {}  # id(record) -> the position of the same record, maybe another source
        self.names: dict[str, str] = {}  # a file's name as sources show it -> its path in the corpus folder
        self.digests: dict[str, np.ndarray] = {}  # a file's name -> the line digest of each of its records as read

    def __call__(self, path: Path, name: str) -> list[Record] | None:
        try:
            relative = str(path.relative_to(self.corpus))
        except ValueError:
            return None
        self.names[name] = relative
        span = self.read.files.get(relative) if self.read is not None else None
        old, new = self.before.get(relative), self.state.get(relative)
        if span is not None and old is not None and new is not None and old.get("sha256") == new["sha256"]:
            entries = self.read.index[span[0] : span[1]].tolist()
            taken = list(zip(self.read.records_of(entries), entries, strict=True))
            if taken and not taken[0][0].source.startswith(f"{name}:"):
                return None  # the corpus folder is named otherwise now: sources must be made again
            self.lines.update((id(record), e) for record, e in taken if e >= 0)
            self.origins.update((id(record), e) for record, e in taken if e >= 0)
            if self.read.digests is not None:
                self.digests[name] = np.asarray(self.read.digests[span[0] : span[1]])
            return [record for record, _ in taken]
        if path.suffix.lower() == ".jsonl":
            return self._by_line(path, name, span)
        return None

    def _by_line(self, path: Path, name: str, span: list[int] | None) -> list[Record] | None:
        """A JSON Lines file's records, those of lines unchanged since the previous build taken from it; None
        when the file is for `load_corpus` to read (too large, not UTF-8, or a problem in a line read)."""
        try:
            if path.stat().st_size > MAX_EXPORT_BYTES:
                return None
            data = path.read_bytes()
            if len(data) > MAX_EXPORT_BYTES:
                return None
            data.decode("utf-8")  # only to check it: a file that is not UTF-8 is reported by load_corpus
        except (OSError, UnicodeDecodeError):
            return None
        if _BOM in data:
            data = data.replace(_BOM, b"")
        lines = data.splitlines()  # at \n, \r\n and \r only, as the reader counts lines
        del data
        digests = [hashlib.blake2b(line, digest_size=16).digest() for line in lines]
        first, more = self._lines_before(span)
        wanted, matched = [], []  # the lines to read; (line index, entry) of the lines taken
        for n, digest in enumerate(digests):
            entry = first.pop(digest, None)
            if entry is None:
                wanted.append(n)
                continue
            matched.append((n, entry))
            if more and more.get(digest):  # the same line again: its next record
                first[digest] = more[digest].pop()
        records: list[Record | None] = [None] * len(lines)
        origins: dict[int, int] = {}  # as self.origins and self.lines, kept apart until the file is read
        same_lines: dict[int, int] = {}
        taken = self.read.records_of([entry for _, entry in matched]) if matched else []
        prefix = f"{name}:"
        for (n, entry), record in zip(matched, taken, strict=True):
            source = f"{prefix}{n + 1}"
            if record.source != source:
                if not record.source.startswith(prefix):
                    return None  # the corpus folder is named otherwise now: sources must be made again
                record = replace(record, source=source)  # the line moved
            elif entry >= 0:
                same_lines[id(record)] = entry
            if entry >= 0:
                origins[id(record)] = entry
            records[n] = record
        if wanted and not self._parse(path, name, lines, wanted, records):
            return None
        self.origins.update(origins)
        self.lines.update(same_lines)
        self.digests[name] = np.frombuffer(
            b"".join([d for d, record in zip(digests, records, strict=True) if record is not None]), dtype=LINE_DIGEST
        ).copy()
        return [record for record in records if record is not None]

    def _lines_before(self, span: list[int] | None) -> tuple[dict[bytes, int], dict[bytes, list[int]]]:
        """The previous build's records of a file by the digest of their line: the first record of each line, and
        the further records of a line the file held more than once (last first)."""
        if span is None or self.read.digests is None:
            return {}, {}
        raw = self.read.digests[span[0] : span[1]].tobytes()
        digests = [raw[i : i + 16] for i in range(0, len(raw), 16)]
        entries = self.read.index[span[0] : span[1]].tolist()
        first = dict(zip(reversed(digests), reversed(entries), strict=True))  # the first of equal lines wins
        more: dict[bytes, list[int]] = {}
        if len(first) < len(digests):
            seen: set[bytes] = set()
            for digest, entry in zip(digests, entries, strict=True):
                if digest in seen:
                    more.setdefault(digest, []).append(entry)
                seen.add(digest)
            for found in more.values():
                found.reverse()
        first.pop(_NO_DIGEST, None)
        more.pop(_NO_DIGEST, None)
        return first, more

    def _parse(self, path: Path, name: str, lines: list[bytes], wanted: list[int], records: list) -> bool:
        """Read the wanted lines (by index) into `records`, through the corpus reader; False on any problem."""
        if len(wanted) == len(lines):
            text = b"\n".join(lines).decode("utf-8")
        else:
            keep = set(wanted)
            text = b"\n".join([line if n in keep else b"" for n, line in enumerate(lines)]).decode("utf-8")
        sink = Sink(name, [], [])
        collection = collection_name(path, root_of(path, [self.corpus], None))
        try:
            for raw in parse_jsonl(text, sink):
                record = checked(raw, collection, sink)
                if record is not None:
                    if not 1 <= raw.line <= len(lines) or records[raw.line - 1] is not None:
                        return False
                    records[raw.line - 1] = record
        except Exception:  # noqa: BLE001 - load_corpus reads the file again and reports it
            return False
        return not sink.errors

    def position(self, record: Record) -> int | None:
        """The previous build's position of a record taken unchanged from it (its stored line too), else None."""
        return self.lines.get(id(record))

    def origin(self, record: Record) -> int | None:
        """The previous build's position of the same record (its source may differ), else None."""
        return self.origins.get(id(record))


def write_as_read(folder: Path, corpus: Corpus, known: Known) -> None:
    """The build's records as read from each file, and their line digests (see the module's description)."""
    final = {id(record): i for i, record in enumerate(corpus.records)}
    entries: list[int] = []
    digests: list[np.ndarray] = []
    extra: list[bytes] = []
    files: dict[str, list[int]] = {}
    for name, records in corpus.read.items():
        start = len(entries)
        for record in records:
            position = final.get(id(record))
            if position is None:
                extra.append(record_line(record))
                position = -len(extra)
            entries.append(position)
        lines = known.digests.get(name)
        ok = lines is not None and len(lines) == len(records)
        digests.append(lines if ok else np.zeros(len(records), dtype=LINE_DIGEST))
        files[known.names.get(name, name)] = [start, len(entries)]
    (folder / READ_FILES).write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")
    np.save(folder / READ_INDEX, np.asarray(entries, dtype=np.int64))
    np.save(folder / READ_LINES, np.concatenate(digests) if digests else np.zeros(0, dtype=LINE_DIGEST))
    (folder / READ_EXTRA).write_bytes(b"".join(extra))


def write_records(folder: Path, records: list[Record], known: Known) -> None:
    """records.jsonl (a record taken unchanged from the previous build keeps its stored line, runs of them copied
    at once), its offsets, and each record's first and last day."""
    stored = known.read.records if known.read is not None else None
    kept = np.full(len(records), -1, dtype=np.int64)  # each record's position in the previous build, if its line is
    if stored is not None:
        kept = np.fromiter((-1 if (q := known.position(r)) is None else q for r in records), np.int64, len(records))
    fresh = np.flatnonzero(kept < 0).tolist()
    lines = {i: record_line(records[i]) for i in fresh}
    lengths = np.zeros(len(records), dtype=np.int64)
    lengths[fresh] = [len(lines[i]) for i in fresh]
    old = kept >= 0
    if stored is not None:
        lengths[old] = stored.offsets[kept[old] + 1] - stored.offsets[kept[old]]
    # Runs of records whose previous positions follow each other: their stored lines are one range of bytes.
    bounds = np.flatnonzero((kept[1:] != kept[:-1] + 1) | (kept[1:] < 0) | (kept[:-1] < 0)) + 1
    bounds = [0, *bounds.tolist(), len(records)] if len(records) else [0]
    with (folder / RECORDS).open("wb") as f:
        for start, stop in zip(bounds[:-1], bounds[1:], strict=False):
            if kept[start] < 0:
                f.write(b"".join(lines[i] for i in range(start, stop)))
            else:
                f.write(stored.lines(int(kept[start]), int(kept[start]) + stop - start))
    np.save(folder / OFFSETS, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
    dates = np.zeros((len(records), 2), dtype=np.int32)
    previous_dates = known.read.dates if known.read is not None else None
    if previous_dates is not None and previous_dates.shape == (len(stored), 2):
        dates[old] = previous_dates[kept[old]]  # the same stored line: the same days
    else:
        old[:] = False
    new = np.flatnonzero(~old).tolist()
    dates[new] = np.asarray([(records[i].date_start or 0, records[i].date_end or 0) for i in new],
                            dtype=np.int32).reshape(-1, 2)
    np.save(folder / DATES, dates)


def record_line(record: Record) -> bytes:
    """A record as one stored JSON line, without its empty fields (Record.from_dict reads them as empty): a
    third less to write, digest and map for the archive's records, most fields of which are empty."""
    fields = {k: v for k, v in record.to_dict().items() if v is not None and v != "" and v != []}
    return (json.dumps(fields, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
