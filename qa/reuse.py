"""What a build takes from the previous one without reading or writing it again: the records of corpus files
unchanged since then (by digest), and their stored JSON lines.

Each build keeps, for every corpus file, its records as read (before ids are settled across files):
`read.npy` lists them file after file, each as the position of the build's record that is that same record,
or as -(1 + n) for the n-th line of `read.jsonl` when settling changed it (a duplicate merged, an id
disambiguated); `read.json` gives each file's range there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qa.config import Config
from qa.corpus import Corpus
from qa.manifest import DATES, OFFSETS, READ_EXTRA, READ_FILES, READ_INDEX, RECORDS, Manifest
from qa.records import Record
from qa.store import RecordStore


class AsRead:
    """A build's records as read from each corpus file, for the next build to take unchanged files from."""

    def __init__(self, folder: Path, records: RecordStore) -> None:
        self.files: dict[str, list[int]] = json.loads((folder / READ_FILES).read_text(encoding="utf-8"))
        self.index = np.load(folder / READ_INDEX, mmap_mode="r")
        lines = (folder / READ_EXTRA).read_text(encoding="utf-8").splitlines()
        self.extra = [Record.from_dict(json.loads(line)) for line in lines]
        self.records = records


class Known:
    """`load_corpus`'s `known`: a corpus file's records from the previous build when its digest is the same.

    It remembers which records it took from which stored line, so that their lines and content keys are
    copied rather than made again, and each file's name as the records show it.
    """

    def __init__(self, config: Config, state: dict[str, dict], manifest: Manifest | None, read: AsRead | None):
        self.corpus = config.corpus
        self.state = state
        self.before = manifest.corpus_files if manifest is not None else {}
        self.read = read
        self.lines: dict[int, int] = {}  # id(record) -> its position in the previous build
        self.names: dict[str, str] = {}  # a file's name as sources show it -> its path in the corpus folder

    def __call__(self, path: Path, name: str) -> list[Record] | None:
        try:
            relative = str(path.relative_to(self.corpus))
        except ValueError:
            return None
        self.names[name] = relative
        span = self.read.files.get(relative) if self.read is not None else None
        old, new = self.before.get(relative), self.state.get(relative)
        if span is None or old is None or new is None or old.get("sha256") != new["sha256"]:
            return None
        taken = [(self._record(e), e) for e in self.read.index[span[0] : span[1]].tolist()]
        if taken and not taken[0][0].source.startswith(f"{name}:"):
            return None  # the corpus folder is named otherwise now: sources must be made again
        self.lines.update((id(record), e) for record, e in taken if e >= 0)
        return [record for record, _ in taken]

    def _record(self, entry: int) -> Record:
        return self.read.records[entry] if entry >= 0 else self.read.extra[-1 - entry]

    def position(self, record: Record) -> int | None:
        """The previous build's position of a record taken unchanged from it, else None."""
        return self.lines.get(id(record))


def write_as_read(folder: Path, corpus: Corpus, known: Known) -> None:
    """The build's records as read from each file (see the module's description)."""
    final = {id(record): i for i, record in enumerate(corpus.records)}
    entries: list[int] = []
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
        files[known.names.get(name, name)] = [start, len(entries)]
    (folder / READ_FILES).write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")
    np.save(folder / READ_INDEX, np.asarray(entries, dtype=np.int64))
    (folder / READ_EXTRA).write_bytes(b"".join(extra))


def write_records(folder: Path, records: list[Record], known: Known) -> None:
    """records.jsonl (a record taken unchanged from the previous build keeps its stored line), its offsets, and
    each record's first and last day."""
    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    stored = known.read.records if known.read is not None else None
    with (folder / RECORDS).open("wb") as f:
        for i, record in enumerate(records):
            position = known.position(record)
            line = stored.line(position) if position is not None else record_line(record)
            f.write(line)
            offsets[i + 1] = offsets[i] + len(line)
    np.save(folder / OFFSETS, offsets)
    dates = np.asarray([(r.date_start or 0, r.date_end or 0) for r in records], dtype=np.int32).reshape(-1, 2)
    np.save(folder / DATES, dates)


def record_line(record: Record) -> bytes:
    """A record as one stored JSON line, without its empty fields (Record.from_dict reads them as empty): a
    third less to write, digest and map for the archive's records, most fields of which are empty."""
    fields = {k: v for k, v in record.to_dict().items() if v is not None and v != "" and v != []}
    return (json.dumps(fields, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
