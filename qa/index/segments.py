"""How a build lays its records out in segments, so that an update costs what changed, not what is there.

A record keeps the row it had in the previous build's segments when its content key (model and embedded
text) is there; the rows no record keeps are deleted (masked by the build's row maps, their files untouched),
and the records left over take rows in one new segment. The segments kept are linked into the new build,
not written again. Segments are merged when they would cost search time or space:

- everything into one new main segment when the rows outside the main one and the deleted rows together pass
  MERGE_SHARE of the records (or when the index kind, the vector type or the lexical analyzer changed);
- the small segments into one when there would be more than MAX_DELTAS of them.

No vector is encoded again by a merge: rows are copied from the segments they were in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from embeddings.vectors import locate, segment_kind
from qa.index.store import Segment

MERGE_SHARE = 0.1
MAX_DELTAS = 4
DELTA_FLAT_ROWS = 20_000  # a small segment up to this many rows is searched exactly


@dataclass(slots=True)
class Match:
    """Where each record's row is in the previous build: its segment (-1: none left) and row there, and whether
    its key was there at all (its vector then needs no encoding, even when no row is left to take)."""

    segment: np.ndarray
    row: np.ndarray
    known: np.ndarray
    donor: np.ndarray  # for a known key without a row of its own: a previous position with the same key


def match(old_keys: list[bytes], segments: list[Segment], keys: list[bytes], origin: np.ndarray | None = None) -> Match:
    """Give each record a row of the previous build that holds its key (each row to one record). A record taken
    from the previous build (`origin`: its position there, else -1) keeps that position's row; the others look
    theirs up by key among the rows left, the first left first."""
    part, row = locate([s.positions for s in segments], len(old_keys))
    used = np.zeros(len(old_keys), dtype=bool)
    taken = np.full(len(keys), -1, dtype=np.int64)
    donor = np.full(len(keys), -1, dtype=np.int64)
    rest: list[int] = list(range(len(keys)))
    if origin is not None:
        mine = np.flatnonzero(origin >= 0)
        where = origin[mine]
        if len(np.unique(where)) == len(where):  # each previous record taken by one record (else by key)
            taken[mine] = where
            used[where] = True
            rest = np.flatnonzero(origin < 0).tolist()
    wanted = {keys[i] for i in rest}
    free: dict[bytes, list[int]] = {}  # the positions left of each key wanted, last first
    holder: dict[bytes, int] = {}  # a position of each key wanted, to copy a vector from
    for position, key in enumerate(old_keys):
        if key in wanted:
            holder.setdefault(key, position)
            if not used[position]:
                free.setdefault(key, []).append(position)
    for spare in free.values():
        spare.reverse()
    for i in rest:
        key = keys[i]
        spare = free.get(key)
        if spare:
            position = spare.pop()
            used[position] = True
            taken[i] = position
        elif key in holder:
            donor[i] = holder[key]
    found = taken >= 0
    segment = np.where(found, part[np.maximum(taken, 0)], -1).astype(np.int16)
    return Match(segment, np.where(found, row[np.maximum(taken, 0)], 0), found | (donor >= 0), donor)


@dataclass(slots=True)
class Layout:
    """The new build's segments: previous ones kept (each with its row map for the new build), and the one to
    write: its kind, its rows' positions, the rows it takes from previous segments, and its fresh rows."""

    kept: list[tuple[Segment, np.ndarray]]
    kind: str
    positions: np.ndarray  # each new row's record position (in position order)
    gathered: list[tuple[Segment, np.ndarray, np.ndarray]]  # segment, its rows, the new rows they become
    fresh: np.ndarray  # positions of the records whose vector is not in a previous row (encoded or copied)
    merged: str  # "", "small segments" or "all"

    @property
    def rows(self) -> int:
        return len(self.positions)

    def new_row(self, positions: np.ndarray) -> np.ndarray:
        """The new segment's rows of these positions (which it must hold)."""
        return np.searchsorted(self.positions, positions)


def lay_out(segments: list[Segment], m: Match, kind: str, *, merge_all: bool) -> Layout:
    """Decide which segments are kept and what the new one holds (see the module's description)."""
    count = len(m.segment)
    fresh = m.segment < 0
    dead = sum(s.rows for s in segments) - int((~fresh).sum())
    outside = int(fresh.sum() + (m.segment >= 1).sum())
    small = sum(1 for i in range(1, len(segments)) if (m.segment == i).any()) + int(fresh.any())
    if merge_all or not segments or dead + outside > MERGE_SHARE * count:
        merged, take = "all", np.ones(count, dtype=bool)
    elif small > MAX_DELTAS:
        merged, take = "small segments", fresh | (m.segment >= 1)
    else:
        merged, take = "", fresh
    positions = np.flatnonzero(take)
    new_kind = segment_kind(kind, len(positions))
    if merged != "all" and len(positions) <= DELTA_FLAT_ROWS:
        new_kind = "flat"
    layout = Layout([], new_kind, positions, [], np.flatnonzero(fresh), merged)
    for i, segment in enumerate(segments):
        mine = m.segment == i
        moving = np.flatnonzero(mine & take)
        if len(moving):
            layout.gathered.append((segment, m.row[moving], layout.new_row(moving)))
        staying = np.flatnonzero(mine & ~take)
        if len(staying):
            row_map = np.full(segment.rows, -1, dtype=np.int64)
            row_map[m.row[staying]] = staying
            layout.kept.append((segment, row_map))
    return layout


def new_name() -> str:
    """A name for a new segment, unique among the builds of an index."""
    return uuid.uuid4().hex[:12]
