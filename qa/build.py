"""Building an index folder from the corpus in four steps: plan, encode, write, swap.

A record whose embedded text (under this model) is in the current build keeps its vector; each other
distinct text is encoded once. The new build is written beside the current one and swapped in with one
rename, so readers see the old build or the new, never half of one, and a killed build leaves the old one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from embeddings.files import fsync_path
from embeddings.hashing import HashingEmbedder, is_hashing
from embeddings.model import Embedder, same_model, text_key
from embeddings.vectors import VectorIndex, choose_kind
from qa.config import Config
from qa.corpus import load_corpus
from qa.errors import IndexProblem
from qa.lexical import Analyzer, LexicalIndex
from qa.manifest import (
    BUILD_MARKER,
    BUILDS,
    CURRENT,
    DATES,
    KEYS,
    MARKER,
    OFFSETS,
    RECORDS,
    VECTORS,
    Manifest,
    corpus_state,
)
from qa.records import Record

ENCODE_CHUNK = 1024
KEY_SIZE = 16
KEY_DTYPE = np.dtype(f"S{KEY_SIZE}")
Progress = Callable[[int, int], None]  # (records encoded so far, records to encode)
Step = Callable[[str], None]  # told "planned", "encoded", "written" and "swapped" as the build passes them


@dataclass(slots=True)
class BuildReport:
    """What a build did: records embedded, reused and removed, and how long it took."""

    count: int
    embedded: int
    reused: int
    removed: int
    seconds: float
    up_to_date: bool = False

    def __str__(self) -> str:
        state = "index up to date" if self.up_to_date else "index built"
        return (
            f"{state}: {self.count} records ({self.embedded} embedded, {self.reused} reused, "
            f"{self.removed} removed) in {self.seconds:.1f}s"
        )


@dataclass(slots=True)
class Previous:
    """The current build, as far as a new one can reuse it: manifest, content keys (one a record), vectors."""

    manifest: Manifest
    keys: list[bytes]
    vectors: np.ndarray


@dataclass(slots=True)
class Plan:
    """What a build will hold and what it must encode."""

    config: Config
    state: dict[str, dict]
    records: list[Record]
    texts: list[str]
    keys: list[bytes]
    kind: str
    analyzer: Analyzer
    previous: Previous | None
    reuse: dict[int, int] = field(default_factory=dict)  # new row -> old row
    missing: list[int] = field(default_factory=list)


def embedded_text(record: Record) -> str:
    """What is embedded for a record: "title · date · summary", or the title alone when there is no summary."""
    if not record.summary:
        return record.title
    parts = [record.title] + ([record.display_date] if record.date else []) + [record.summary]
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------- the index folder


def claim(index_dir: Path) -> None:
    """Make sure the index folder is the tool's: new, empty, or marked by an earlier build; refuse any other."""
    marker = index_dir / MARKER
    if marker.is_file():
        return
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexProblem(f"the index folder {index_dir} is a file: choose a folder for the index")
    entries = {p.name for p in index_dir.iterdir()} - {".lock"} if index_dir.is_dir() else set()
    legacy = entries <= {BUILDS, CURRENT} and (index_dir / CURRENT).is_symlink()  # made before the marker
    if entries and not legacy:
        raise IndexProblem(
            f"{index_dir} already holds files that archive-qa did not make: choose an empty or new folder for the "
            "index (--index), so that nothing of yours is replaced"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("This folder is an archive-qa index: builds/ and current are replaced by each build.\n")


class Lock:
    """One build at a time per index folder."""

    def __init__(self, index_dir: Path) -> None:
        self._path = index_dir / ".lock"
        self._file = None

    def __enter__(self) -> Lock:
        self._file = self._path.open("w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise IndexProblem("another `archive-qa index` is building this index: wait for it to finish") from None
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def previous_build(index_dir: Path, model: str) -> Previous | None:
    """The current build when a new one can reuse its vectors, else None."""
    link = index_dir / CURRENT
    if not link.exists():
        return None
    folder = link.resolve()
    try:
        manifest = Manifest.read(folder)
        manifest.check(folder, model)
        keys = np.load(folder / KEYS)
        vectors = np.load(folder / VECTORS, mmap_mode="r")
        if keys.dtype != KEY_DTYPE or keys.shape != (manifest.count,):
            return None
        if vectors.shape != (manifest.count, manifest.dim):
            return None
    except (IndexProblem, OSError, ValueError):
        return None
    # Read the raw 16 bytes: numpy drops the trailing zero bytes of an S16 item, which would change 1 key in 256.
    raw = keys.tobytes()
    return Previous(manifest, [raw[i : i + KEY_SIZE] for i in range(0, len(raw), KEY_SIZE)], vectors)


def unchanged(previous: Previous, state: dict, analyzer: Analyzer, kind: str) -> bool:
    """Whether a build from this state would be the previous one again."""
    m = previous.manifest
    return m.corpus_files == state and m.aliases == analyzer.fingerprint and m.kind == kind


# ---------------------------------------------------------------------------------------------- the four steps


def plan(config: Config, state: dict[str, dict], previous: Previous | None, *, force: bool) -> Plan:
    """Read the corpus and decide, record by record, which vector is reused and which text is encoded."""
    corpus = load_corpus([config.corpus])
    if corpus.errors:
        first = corpus.errors[0]
        raise IndexProblem(
            f"the corpus has {len(corpus.errors)} problem(s), first {first}: fix them (see `archive-qa corpus check`)"
        )
    if not corpus.records:
        raise IndexProblem(
            f"no records in {config.corpus}: add listing pages (.txt), .jsonl or .csv files "
            "(see `archive-qa corpus check`)"
        )
    records = corpus.records
    texts = [embedded_text(r) for r in records]
    keys = [text_key(config.model, t) for t in texts]
    kind = choose_kind(config.index_kind, len(records), config.hnsw_threshold)
    p = Plan(config, state, records, texts, keys, kind, Analyzer.from_files(config.aliases), previous)
    old_rows = {} if force or previous is None else {key: row for row, key in enumerate(previous.keys)}
    for i, key in enumerate(keys):
        if key in old_rows:
            p.reuse[i] = old_rows[key]
        else:
            p.missing.append(i)
    return p


def encode(p: Plan, embedder: Embedder | None, progress: Progress | None) -> np.ndarray:
    """The plan's vectors: reused rows copied, each distinct missing text encoded once."""
    if p.previous is not None and embedder is not None and embedder.dim != p.previous.manifest.dim:
        # The same name for another model (a local folder replaced): no old vector can be kept.
        p.reuse, p.missing = {}, list(range(len(p.records)))
    dim = embedder.dim if embedder is not None else p.previous.manifest.dim
    vectors = np.zeros((len(p.records), dim), dtype=np.float32)
    if p.reuse:
        new, old = map(np.asarray, zip(*p.reuse.items(), strict=True))
        vectors[new] = p.previous.vectors[old]
    if p.missing:
        # Records sharing a text (title-only listings often do) have it encoded once.
        first_with: dict[bytes, int] = {}
        for i in p.missing:
            first_with.setdefault(p.keys[i], i)
        encoded = encode_texts(embedder, [p.texts[i] for i in first_with.values()], progress)
        row = {key: n for n, key in enumerate(first_with)}
        vectors[p.missing] = encoded[[row[p.keys[i]] for i in p.missing]]
    return vectors


def encode_texts(embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    """Encode in chunks, telling `progress` after each one."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), ENCODE_CHUNK):
        chunk = texts[start : start + ENCODE_CHUNK]
        out[start : start + len(chunk)] = embedder.encode(chunk)
        if progress is not None:
            progress(start + len(chunk), len(texts))
    return out


def write(p: Plan, vectors: np.ndarray, folder: Path, started: float) -> None:
    """Write every file of the build, then its manifest, and flush them all to disk."""
    _write_records(folder, p.records)
    np.save(folder / VECTORS, vectors)
    np.save(folder / KEYS, np.asarray(p.keys, dtype=KEY_DTYPE))
    VectorIndex.build(vectors, p.kind).save(folder)
    LexicalIndex.build([p.analyzer.tokens(t) for t in p.texts]).save(folder)
    Manifest(
        model=p.config.model,
        dim=int(vectors.shape[1]),
        count=len(p.records),
        kind=p.kind,
        aliases=p.analyzer.fingerprint,
        corpus=str(p.config.corpus),
        corpus_files=p.state,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
    ).write(folder)
    for path in folder.rglob("*"):
        if path.is_file():
            fsync_path(path)


def _write_records(folder: Path, records: list[Record]) -> None:
    offsets = [0]
    with (folder / RECORDS).open("wb") as f:
        for record in records:
            line = (json.dumps(record.to_dict(), ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
            f.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / OFFSETS, np.asarray(offsets, dtype=np.int64))
    dates = np.asarray([(r.date_start or 0, r.date_end or 0) for r in records], dtype=np.int32).reshape(-1, 2)
    np.save(folder / DATES, dates)


def swap(index_dir: Path, folder: Path) -> None:
    """Point `current` at the new build in one rename: readers see the old build or the new, never half."""
    current = index_dir / CURRENT
    if current.is_dir() and not current.is_symlink():
        # An index copied without its links: its build moves under builds/ (readers retry meanwhile).
        os.replace(current, index_dir / BUILDS / f"copied-{uuid.uuid4().hex[:8]}")
    tmp = index_dir / f".{CURRENT}-{uuid.uuid4().hex}"
    tmp.symlink_to(Path(BUILDS) / folder.name)
    os.replace(tmp, current)
    fsync_path(index_dir)


def clean(index_dir: Path) -> None:
    """Remove the builds that are not current and that this tool made (old ones, and any a killed build left)."""
    keep = (index_dir / CURRENT).resolve()
    builds = index_dir / BUILDS
    for folder in builds.iterdir() if builds.is_dir() else ():
        if not folder.is_symlink() and folder.resolve() != keep and (folder / BUILD_MARKER).is_file():
            shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(f".{CURRENT}-*"):
        if stale.is_symlink():
            stale.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- the whole cycle


def build(
    config: Config,
    *,
    force: bool = False,
    embedder: Embedder | None = None,
    embedder_factory: Callable[[Config], Embedder] | None = None,
    progress: Progress | None = None,
    on_step: Step | None = None,
) -> BuildReport:
    """Build or update the index for the configured corpus; the previous index stays usable throughout.

    The model is loaded (by `embedder_factory`, default `Embedder` for the configuration) only when a text
    needs encoding. `on_step` is told each step's name as the build passes it.
    """
    started = time.perf_counter()
    if embedder is not None and not same_model(embedder.name, config.model):
        raise ValueError(f"the embedder is model {embedder.name!r} but the configuration names {config.model!r}")
    step = on_step or (lambda name: None)
    index_dir = config.index_dir
    claim(index_dir)
    # The state is taken before the records are read: a file changed in between leaves the index stale, not wrong.
    state = corpus_state(config.corpus)
    with Lock(index_dir):
        previous = previous_build(index_dir, config.model)
        analyzer = Analyzer.from_files(config.aliases)
        if not force and previous and unchanged(previous, state, analyzer, _kind(config, previous)):
            clean(index_dir)
            count = previous.manifest.count
            return BuildReport(count, 0, count, 0, time.perf_counter() - started, True)
        p = plan(config, state, previous, force=force)
        step("planned")
        if p.missing and embedder is None:
            embedder = (embedder_factory or default_embedder)(config)
        folder = index_dir / BUILDS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        (folder / BUILD_MARKER).touch()
        try:
            vectors = encode(p, embedder, progress)
            step("encoded")
            write(p, vectors, folder, started)
            step("written")
        except BaseException:  # an error or Ctrl-C: the half-written build goes, the current one stays
            shutil.rmtree(folder, ignore_errors=True)
            raise
        swap(index_dir, folder)
        step("swapped")
        clean(index_dir)
    removed = sum((Counter(previous.keys if previous else []) - Counter(p.keys)).values())
    return BuildReport(len(p.records), len(p.missing), len(p.reuse), removed, time.perf_counter() - started)


def default_embedder(config: Config) -> Embedder:
    """The configured model, with its question path as configured (`hashing:<dim>` is the model-free one)."""
    if is_hashing(config.model):
        return HashingEmbedder(config.model)
    return Embedder(config.model, query_backend=config.query_backend, cache=config.cache)


def _kind(config: Config, previous: Previous) -> str:
    return choose_kind(config.index_kind, previous.manifest.count, config.hnsw_threshold)
