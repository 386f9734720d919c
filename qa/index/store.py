"""A build folder read back: its records by position, their content keys, and its segments.

Both the index (to search) and the next build (to reuse what has not changed) read a build through here;
the file names and the manifest are qa/index/manifest.py's.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.vectors import SEGMENT_FILE, VectorIndex
from qa.errors import IndexProblem
from qa.index.lexical import Postings
from qa.index.manifest import (
    BLOCK,
    DATES,
    FORCE,
    KEYS,
    OFFSETS,
    RECORDS,
    SEGMENTS,
    Manifest,
    block_digest,
    df_file,
    positions_file,
)
from qa.records import Record

KEY_SIZE = 16
KEY_DTYPE = np.dtype(f"S{KEY_SIZE}")
BATCH = 16_384  # records parsed by one json.loads when many are read in a row


class RecordStore:
    """Records kept on disk as JSON lines and read by position through a memory map; given the file's block
    digests (a large file's manifest entry), each block is checked against its digest when first read."""

    def __init__(self, folder: Path, count: int, blocks: list[str] | None = None) -> None:
        # A plain array over the mapped file: indexing a memmap object costs several times more, a million times.
        self._offsets = np.asarray(np.load(folder / OFFSETS, mmap_mode="r"))
        self.count = count
        self._path = folder / RECORDS
        with self._path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if count else None
        self._positions: dict[str, int] | None = None
        self._blocks = blocks
        self._checked = bytearray(len(blocks)) if blocks else None

    def _bytes(self, start: int, stop: int) -> bytes:
        """The stored bytes from start to stop, their blocks checked first when the store was given digests."""
        if self._checked is not None and stop > start:
            for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
                if not self._checked[block]:
                    self._check(block)
        return self._map[start:stop]

    def _check(self, block: int) -> None:
        if block_digest(self._map[block * BLOCK : (block + 1) * BLOCK]) != self._blocks[block]:
            raise IndexProblem(f"index file {self._path} is damaged (its block {block} changed)", FORCE)
        self._checked[block] = 1

    @property
    def offsets(self) -> np.ndarray:
        return self._offsets

    def __len__(self) -> int:
        return self.count

    def line(self, position: int) -> bytes:
        """A record's JSON line as stored, newline included."""
        return self._bytes(int(self._offsets[position]), int(self._offsets[position + 1]))

    def lines(self, start: int, stop: int) -> bytes:
        """The stored lines of positions start to stop, as one range of bytes."""
        return self._bytes(int(self._offsets[start]), int(self._offsets[stop])) if stop > start else b""

    def __getitem__(self, position: int) -> Record:
        return Record.from_dict(json.loads(self.line(position)))

    def __iter__(self):
        for start in range(0, self.count, BATCH):
            yield from self.run(start, min(self.count, start + BATCH))

    def run(self, start: int, stop: int) -> list[Record]:
        """The records at positions start to stop, parsed together (one JSON array: a third of the time of one
        `json.loads` a line)."""
        if stop <= start:
            return []
        chunk = self._bytes(int(self._offsets[start]), int(self._offsets[stop]))
        # Each stored line is one JSON object and a newline, which JSON text never holds unescaped.
        return [_record(d) for d in json.loads(b"[" + chunk[:-1].replace(b"\n", b",") + b"]")]

    def records(self, positions: list[int]) -> list[Record]:
        """The records at these positions, runs of consecutive positions parsed together."""
        out: list[Record] = []
        n = len(positions)
        i = 0
        while i < n:
            j = i + 1
            while j < n and j - i < BATCH and positions[j] == positions[j - 1] + 1:
                j += 1
            out.extend(self.run(positions[i], positions[i] + (j - i)) if j - i > 1 else [self[positions[i]]])
            i = j
        return out

    def position(self, record_id: str) -> int | None:
        """The position of a record id (the table is made on first use)."""
        if self._positions is None:
            self._positions = {r.id: i for i, r in enumerate(self)}
        return self._positions.get(record_id)


# What a stored line leaves out (qa/index/reuse.py's record_line drops empty fields), as Record takes it.
_EMPTY = {"date": None, "date_precision": None, "summary": "", "url": None, "collection": "", "source": ""}
_LISTS = ("people", "places", "topics")


def _record(d: dict) -> Record:
    """A record from its stored line's fields, passed to Record as they are (fewer steps than Record.from_dict),
    or through from_dict when they are not all Record's (a line written by another version)."""
    for name in _LISTS:
        if name in d:
            d[name] = tuple(d[name])
    try:
        return Record(**{**_EMPTY, **d})
    except TypeError:
        return Record.from_dict(d)


def read_keys(folder: Path, count: int) -> list[bytes]:
    """Each record's content key, as 16 raw bytes, or ValueError when the file does not hold `count` of them."""
    keys = np.load(folder / KEYS)
    if keys.dtype != KEY_DTYPE or keys.shape != (count,):
        raise ValueError(f"{folder / KEYS} does not hold {count} keys")
    # Read the raw 16 bytes: numpy drops the trailing zero bytes of an S16 item, which would change 1 key in 256.
    raw = keys.tobytes()
    return [raw[i : i + KEY_SIZE] for i in range(0, len(raw), KEY_SIZE)]


@dataclass(slots=True)
class Segment:
    """One segment of a build: its vectors and postings (shared by the builds that keep it), and in this build
    the record position of each of its rows (-1: deleted) and its terms' live document frequencies."""

    name: str
    kind: str
    vectors: VectorIndex
    postings: Postings
    positions: np.ndarray
    df: np.ndarray

    @property
    def rows(self) -> int:
        return self.vectors.count

    @classmethod
    def load(cls, folder: Path, entry: dict, dtype: str, count: int) -> Segment:
        """A segment of a build, checked against its manifest entry and the build's record count."""
        name = entry["name"]
        vectors = VectorIndex.load(folder / SEGMENTS / name / SEGMENT_FILE, entry["kind"], dtype)
        postings = Postings.load(folder / SEGMENTS / name)
        positions = np.load(folder / positions_file(name))
        df = np.load(folder / df_file(name), mmap_mode="r")
        rows = entry["rows"]
        if not (
            vectors.count == postings.count == len(positions) == rows
            and len(df) == len(postings.terms)
            and positions.dtype.kind == "i"
            and (not rows or -1 <= int(positions.min()) and int(positions.max()) < count)
        ):
            raise ValueError(f"segment {name} of {folder} does not agree with its manifest")
        return cls(name, entry["kind"], vectors, postings, positions, df)


def load_segments(folder: Path, manifest: Manifest) -> list[Segment]:
    """The build's segments, the main one first; every record position is served by exactly one live row."""
    segments = [Segment.load(folder, e, manifest.vector_dtype, manifest.count) for e in manifest.segments]
    served = np.zeros(manifest.count, dtype=np.int64)
    for segment in segments:
        served += np.bincount(segment.positions[segment.positions >= 0], minlength=manifest.count)
    if not (served == 1).all():
        raise ValueError(f"the segments of {folder} do not serve each record once")
    return segments


def check_build(folder: Path, manifest: Manifest) -> list[Segment]:
    """The build's segments, after checking that its files agree with its manifest as a reader loads them (record
    count, vector type and dimension, segment rows), else ValueError: what a reader refuses, a build repairs."""
    count = manifest.count
    keys = np.load(folder / KEYS, mmap_mode="r")
    offsets = np.load(folder / OFFSETS, mmap_mode="r")
    dates = np.load(folder / DATES, mmap_mode="r")
    segments = load_segments(folder, manifest)
    if not (
        keys.dtype == KEY_DTYPE
        and keys.shape == (count,)
        and offsets.shape == (count + 1,)
        and dates.shape == (count, 2)
        and all(s.vectors.dim == manifest.dim for s in segments)
    ):
        raise ValueError(f"the files of {folder} do not agree with its manifest")
    return segments
