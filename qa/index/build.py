"""Building an index folder from the corpus in four steps: plan, encode, write, swap.

A record whose embedded text (under this model) is in the current build keeps its vector and postings, in
the segment row it had (qa/index/segments.py); each other distinct text is encoded once, and the records that
take new rows get one new segment. The segments kept are linked into the new build, not written again.
The records of corpus files, and of JSON Lines lines, unchanged since the current build are taken from it
rather than parsed (qa/index/reuse.py), and its people index is updated with the titles of the new records only
(qa/index/people.py), so that an update costs about what changed plus copying the rest.
The new build is written beside the current one and swapped in with one rename, so readers see the old
build or the new, never half of one, and a killed build leaves the old one.
"""

from __future__ import annotations

import fcntl
import functools
import gc
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from embeddings.model import Embedder, same_model, text_key, vector_model
from embeddings.vectors import SEGMENT_FILE, Segments, VectorIndex, choose_dtype, choose_kind
from qa.config import Config
from qa.corpus import Corpus, load_corpus
from qa.errors import ArchiveQAError, IndexProblem
from qa.index.encoding import default_embedder, embedded_text, lexical_text
from qa.index.lexical import Analyzer, Postings
from qa.index.manifest import (
    BUILD_MARKER,
    BUILDS,
    CURRENT,
    KEYS,
    MARKER,
    SEGMENTS,
    Manifest,
    corpus_state,
    df_file,
    file_entry,
    positions_file,
    same_state,
    segment_files,
)
from qa.index.passages import plan_passages, write_passages
from qa.index.people import People
from qa.index.reuse import RECORD_FILES, AsRead, Known, write_as_read, write_records
from qa.index.segments import Layout, Match, lay_out, match, new_name
from qa.index.store import KEY_DTYPE, RecordStore, Segment, check_build, read_keys
from qa.index.vocabulary import plan_vocabulary, write_vocabulary
from qa.records import Record
from qa.shared import close_lock, die_with_parent, fsync_path, open_lock

ENCODE_CHUNK = 1024
LOCK = ".lock"
ID_LINE = "id: "  # the line of the index marker that holds its id
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
    """The current build, as far as a new one can reuse it: its records, their content keys and its segments."""

    folder: Path
    manifest: Manifest
    keys: list[bytes]
    segments: list[Segment]
    records: RecordStore
    read: AsRead

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors of some of its records, as float32 rows."""
        parts = [(s.vectors, s.positions) for s in self.segments]
        return Segments(parts, self.manifest.count, self.manifest.dim).vectors(positions)


@dataclass(slots=True)
class Plan:
    """What a build will hold, where each record's row comes from, and what it must encode."""

    config: Config
    state: dict[str, dict]
    corpus: Corpus
    known: Known
    keys: list[bytes]
    kind: str
    dtype: str
    analyzer: Analyzer
    previous: Previous | None
    match: Match
    layout: Layout
    missing: np.ndarray  # a mask of the records whose text must be encoded (its key is not in the previous build)
    origin: np.ndarray  # each record's position in the previous build when taken from it (same text), else -1

    @property
    def embedded(self) -> int:
        return int(np.count_nonzero(self.missing))

    @property
    def records(self) -> list[Record]:
        return self.corpus.records

    def text(self, position: int) -> str:
        """What is embedded for the record at a position."""
        return embedded_text(self.records[position])


# ---------------------------------------------------------------------------------------------- the index folder


def claim(index_dir: Path) -> None:
    """Make sure the index folder is the tool's: new, empty, or marked by an earlier build; refuse any other."""
    marker = index_dir / MARKER
    if marker.is_file():
        return
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexProblem(f"the index folder {index_dir} is a file: choose a folder for the index")
    entries = {p.name for p in index_dir.iterdir()} - {LOCK} if index_dir.is_dir() else set()
    legacy = entries <= {BUILDS, CURRENT} and (index_dir / CURRENT).is_symlink()  # made before the marker
    if entries and not legacy:
        raise IndexProblem(
            f"{index_dir} already holds files that archive-qa did not make: choose an empty or new folder for the "
            "index (--index), so that nothing of yours is replaced"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        "This folder is an archive-qa index: builds/ and current are replaced by each build.\n"
        f"{ID_LINE}{uuid.uuid4().hex}\n"
    )


def index_id(index_dir: Path) -> str:
    """The index folder's id, kept in its marker (given one if it has none): each build folder names the index
    that made it, so index folders sharing one builds/ folder never remove each other's builds."""
    marker = index_dir / MARKER
    text = _small_text(marker)
    for line in text.splitlines():
        if line.startswith(ID_LINE):
            return line.removeprefix(ID_LINE).strip()
    new = uuid.uuid4().hex
    marker.write_text(f"{text.rstrip()}\n{ID_LINE}{new}\n", encoding="utf-8")
    return new


def _small_text(path: Path, limit: int = 4096) -> str:
    """The start of a small text file the tool wrote (a marker), read without following a link to a device."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        return os.read(fd, limit).decode("utf-8", "replace") if stat.S_ISREG(os.fstat(fd).st_mode) else ""
    finally:
        os.close(fd)


class Lock:
    """One build at a time per index folder, held by the building process alone (none it forks holds it)."""

    def __init__(self, index_dir: Path) -> None:
        self._path = index_dir / LOCK
        self._fd = -1

    def __enter__(self) -> Lock:
        try:
            self._fd = open_lock(self._path)
        except OSError:
            raise IndexProblem(
                f"{self._path} is a link or not a regular file: remove it (`rm {self._path}`) and build again"
            ) from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            close_lock(self._fd)
            raise IndexProblem("another `archive-qa index` is building this index: wait for it to finish") from None
        return self

    def __exit__(self, *exc: object) -> None:
        close_lock(self._fd)


def current_manifest(index_dir: Path, model: str) -> tuple[Path, Manifest] | None:
    """The current build's folder and manifest, checked, when a new build can reuse it; else None."""
    link = index_dir / CURRENT
    if not link.exists():
        return None
    folder = link.resolve()
    try:
        manifest = Manifest.read(folder)
        manifest.check(folder, model, whole=True)  # every file by its digest, however large
    except (IndexProblem, OSError):
        return None
    return folder, manifest


def loads(folder: Path, manifest: Manifest) -> bool:
    """Whether the current build loads as a reader loads it (a build that does not is built again, not kept)."""
    try:
        check_build(folder, manifest)
    except (OSError, ValueError, RuntimeError):
        return False
    return True


def previous_build(folder: Path, manifest: Manifest) -> Previous | None:
    """The current build read for reuse, or None when its files do not agree with its manifest."""
    try:
        segments = check_build(folder, manifest)
        keys = read_keys(folder, manifest.count)
        records = RecordStore(folder, manifest.count)
        return Previous(folder, manifest, keys, segments, records, AsRead(folder, records))
    except (OSError, ValueError, RuntimeError):
        return None


def same_settings(manifest: Manifest, kind: str, dtype: str, analyzer: Analyzer) -> bool:
    """Whether a build's segments are of this index kind, vector type and lexical analyzer (else all are remade)."""
    return (manifest.kind, manifest.vector_dtype, manifest.aliases) == (kind, dtype, analyzer.fingerprint)


def unchanged(manifest: Manifest, state: dict, analyzer: Analyzer, kind: str, dtype: str) -> bool:
    """Whether a build from this state would be the previous one again."""
    return same_settings(manifest, kind, dtype, analyzer) and same_state(manifest.corpus_files, state)


# ---------------------------------------------------------------------------------------------- the four steps


def read_corpus(config: Config, known: Known) -> Corpus:
    """The corpus's records (a file unchanged since the previous build taken from it), or IndexProblem when it
    has a problem or none."""
    corpus = load_corpus([config.corpus], known=known)
    if corpus.errors:
        first = corpus.errors[0]
        raise IndexProblem(
            f"the corpus has {corpus.error_count:,} problem(s), first {first}: fix them (see `archive-qa corpus check`)"
        )
    if not corpus.records:
        raise IndexProblem(
            f"no records in {config.corpus}: add listing pages (.txt), .jsonl or .csv files "
            "(see `archive-qa corpus check`)"
        )
    return corpus


def plan(config: Config, state: dict[str, dict], previous: Previous | None, *, force: bool) -> Plan:
    """Read the corpus and decide, record by record, which row it keeps and which text is encoded."""
    known = Known(config, state, previous.manifest if previous else None, previous.read if previous else None)
    corpus = read_corpus(config, known)
    origin = np.fromiter((-1 if (o := known.origin(r)) is None else o for r in corpus.records), np.int64,
                         len(corpus.records))
    keys = _keys(config, corpus.records, origin, previous)
    kind = choose_kind(config.index_kind, len(keys), config.hnsw_threshold)
    dtype = choose_dtype(config.vector_dtype, kind)
    analyzer = Analyzer.from_files(config.aliases)
    m = match(previous.keys, previous.segments, keys, origin) if previous else _no_match(len(keys))
    p = Plan(config, state, corpus, known, keys, kind, dtype, analyzer, previous, m, None, None, origin)
    # float32 asked for by name over float16 vectors: they are encoded again, not widened from their rounding
    # (an `auto` change of kind keeps the stored vectors: a collection crossing the size rule is not re-encoded).
    widened = previous is not None and previous.manifest.vector_dtype == "float16" and config.vector_dtype == "float32"
    lay_out_plan(p, force=force or widened)
    return p


def _keys(config: Config, records: list[Record], origin: np.ndarray, previous: Previous | None) -> list[bytes]:
    """The records' content keys: the previous build's for a record taken from it, else made."""
    model = vector_model(config.model, config.encoder)
    old = previous.keys if previous is not None else []
    pairs = zip(records, origin.tolist(), strict=True)
    return [old[o] if o >= 0 else text_key(model, embedded_text(r)) for r, o in pairs]


def lay_out_plan(p: Plan, *, force: bool) -> None:
    """Lay the plan's records out in segments (qa/index/segments.py); with `force` every text is encoded again."""
    previous = p.previous
    keep = previous is not None and not force and same_settings(previous.manifest, p.kind, p.dtype, p.analyzer)
    m = _no_match(len(p.keys)) if force else p.match
    p.layout = lay_out(previous.segments if previous else [], m, p.kind, merge_all=not keep)
    p.missing = ~m.known


def _no_match(count: int) -> Match:
    none = np.full(count, -1, dtype=np.int64)
    return Match(none.astype(np.int16), np.zeros(count, dtype=np.int64), np.zeros(count, dtype=bool), none)


def encode(p: Plan, embedder: Embedder | None, progress: Progress | None) -> np.ndarray:
    """The new segment's vectors: rows taken from previous segments, copies of known texts' vectors, and each
    distinct missing text encoded once."""
    if p.previous is not None and embedder is not None and embedder.dim != p.previous.manifest.dim:
        # The same name for another model (a local folder replaced): no old vector can be kept.
        p.previous, p.match = None, _no_match(len(p.keys))
        lay_out_plan(p, force=True)
    dim = embedder.dim if embedder is not None else p.previous.manifest.dim
    out = np.zeros((p.layout.rows, dim), dtype=np.float32)
    for segment, old, new in p.layout.gathered:
        out[new] = segment.vectors.matrix[old]
    fresh = p.layout.fresh
    copies = fresh[~p.missing[fresh]]
    if len(copies):  # a known text, no row of its own left: its vector is copied
        out[p.layout.new_row(copies)] = p.previous.vectors(p.match.donor[copies])
    missing = fresh[p.missing[fresh]]
    if len(missing):
        # Records sharing a text (title-only listings often do) have it encoded once.
        first_with: dict[bytes, int] = {}
        for i in missing.tolist():
            first_with.setdefault(p.keys[i], i)
        encoded = encode_texts(p.config, embedder, [p.text(i) for i in first_with.values()], progress)
        row = {key: n for n, key in enumerate(first_with)}
        out[p.layout.new_row(missing)] = encoded[[row[p.keys[i]] for i in missing.tolist()]]
    return out


def encode_texts(config: Config, embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    """Encode here in chunks, or on a Ray cluster (`config.engine`), telling `progress` as texts are done (and
    once before any is, so a progress bar shows while the first chunk is encoded)."""
    if progress is not None and texts:
        progress(0, len(texts))
    if config.engine == "ray":
        from embeddings.ray_engine import encode_on_ray

        make = functools.partial(default_embedder, config)
        return encode_on_ray(texts, make, address=config.ray_address, progress=progress, gpus=config.device != "cpu")
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), ENCODE_CHUNK):
        chunk = texts[start : start + ENCODE_CHUNK]
        out[start : start + len(chunk)] = embedder.encode(chunk)
        if progress is not None:
            progress(start + len(chunk), len(texts))
    return out


def write(p: Plan, vectors: np.ndarray, folder: Path, started: float) -> None:
    """Write every file of the build, then its manifest, and flush them all to disk. The records are written
    by a forked process while this one writes the rest (on two cores, a tenth of a 1M-record update), which
    also flushes and digests them for the manifest."""
    done = beside(lambda: _write_records(p, folder))
    try:
        np.save(folder / KEYS, np.asarray(p.keys, dtype=KEY_DTYPE))
        segments, linked = _write_segments(p, vectors, folder)
        people(p).save(folder)  # who wrote to whom (qa/index/people.py)
    except BaseException:
        done(check=False)
        raise
    written = done()  # the files the other process wrote, flushed and digested there
    Manifest(
        model=p.config.model,
        dim=int(vectors.shape[1]),
        count=len(p.records),
        kind=p.kind,
        aliases=p.analyzer.fingerprint,
        corpus=str(p.config.corpus),
        corpus_files=p.state,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        segments=segments,
        vector_dtype=p.dtype,
        vectors=vector_model(p.config.model, p.config.encoder),
        build_seconds=round(time.perf_counter() - started, 3),
    ).write(folder, {**linked, **written})
    for path in folder.rglob("*"):
        if path.is_file() and str(path.relative_to(folder)) not in linked.keys() | written.keys():
            fsync_path(path)
    for path in [folder, *(d for d in folder.rglob("*") if d.is_dir())]:
        fsync_path(path)


def people(p: Plan) -> People:
    """The people of the records' titles: the previous build's updated (only the new records' titles read), or
    read from every title when it has none to update."""
    previous = p.previous
    before = People.read(previous.folder, p.analyzer) if previous is not None else None
    if before is not None and before.count == previous.manifest.count:
        titles = [r.title for r in p.records]
        try:
            old_title = lambda position: previous.records[position].title  # noqa: E731
            return People.update(before, titles, p.origin, old_title, p.analyzer)
        except ValueError:
            pass
    return People.build(p.records, p.analyzer)


def _write_records(p: Plan, folder: Path) -> dict[str, dict]:
    """Write the records and how they were read; flush each file and return its manifest entry."""
    write_records(folder, p.records, p.known)
    write_as_read(folder, p.corpus, p.known)
    entries = {}
    for name in RECORD_FILES:
        path = folder / name
        fsync_path(path)
        entries[name] = file_entry(path)
    return entries


def beside(job: Callable[[], dict | None]) -> Callable[..., dict]:
    """Run a job in a forked process beside this one, which ends with this one (inline where there is no fork);
    returns the wait for it, which gives the job's result (a dict of JSON values), or raises OSError with the
    job's error, if it failed, unless `check=False` (the result is then {})."""
    if not hasattr(os, "fork"):
        result = job() or {}
        return lambda check=True: result
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: the job, its result or error told to the parent, then out, running nothing else
        status, message = 1, b"!"
        try:
            die_with_parent(parent)
            os.close(read_end)
            message = b"=" + json.dumps(job() or {}).encode()
            status = 0
        except BaseException as exc:  # told to the parent in one line
            message = b"!" + f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")[:2000]
        finally:
            try:
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(message)
            finally:
                os._exit(status)
    os.close(write_end)

    def wait(check: bool = True) -> dict:
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code == 0 and message[:1] == b"=":
            return json.loads(message[1:])
        if check:
            error = message[1:].decode("utf-8", "replace")
            raise OSError(error or f"a process writing the index ended with {code}")
        return {}

    return wait


def _write_segments(p: Plan, vectors: np.ndarray, folder: Path) -> tuple[list[dict], dict[str, dict]]:
    """Link the kept segments, write the new one and every segment's row map and live document frequencies;
    returns the manifest's segment entries (the main one first) and the linked files' manifest entries."""
    entries, linked = [], {}
    for segment, row_map in p.layout.kept:
        for name in segment_files(segment.name):
            _link(p.previous.folder / name, folder / name)
            linked[name] = p.previous.manifest.files[name]
        live = row_map >= 0
        _write_row_map(folder, segment.name, row_map, segment.postings.document_frequency(None if live.all() else live))
        entries.append({"name": segment.name, "kind": segment.kind, "rows": segment.rows})
    if p.layout.rows:
        name = new_name()
        VectorIndex.build(vectors, p.layout.kind, p.dtype).save(_segment_dir(folder, name) / SEGMENT_FILE)
        postings = _new_postings(p)
        postings.save(folder / SEGMENTS / name)
        _write_row_map(folder, name, p.layout.positions, postings.document_frequency())
        entry = {"name": name, "kind": p.layout.kind, "rows": p.layout.rows}
        entries = [entry] + entries if p.layout.merged == "all" else entries + [entry]
    return entries, linked


def _segment_dir(folder: Path, name: str) -> Path:
    path = folder / SEGMENTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_row_map(folder: Path, name: str, positions: np.ndarray, df: np.ndarray) -> None:
    np.save(folder / positions_file(name), np.asarray(positions, dtype=np.int64))
    np.save(folder / df_file(name), np.asarray(df, dtype=np.int64))


def _link(source: Path, target: Path) -> None:
    """A kept segment's file in the new build: a hard link (its files are never changed), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _new_postings(p: Plan) -> Postings:
    """The new segment's postings: rows taken from previous segments, and the fresh rows' texts tokenised; every
    row's text tokenised when the analyzer changed (its version, aliases or romanisation table: the previous
    postings were made by another one, and every segment is merged then)."""
    layout = p.layout
    if p.previous is not None and p.previous.manifest.aliases != p.analyzer.fingerprint:
        return Postings.build([p.analyzer.tokens(lexical_text(p.records[i])) for i in layout.positions.tolist()])
    fresh = Postings.build([p.analyzer.tokens(lexical_text(p.records[i])) for i in layout.fresh.tolist()])
    if not layout.gathered and len(layout.fresh) == layout.rows:
        return fresh  # every row is fresh, in position order
    parts = [(segment.postings, old, new) for segment, old, new in layout.gathered]
    parts.append((fresh, np.arange(fresh.count), layout.new_row(layout.fresh)))
    return Postings.gather(parts, layout.rows)


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


def _made_here(folder: Path, own: str, shared: bool) -> bool:
    """Whether a folder under builds/ is a build of this index: marked as a build, and, when builds/ is a link
    (which other index folders may share), marked by this index."""
    marker = folder / BUILD_MARKER
    if not marker.is_file() or marker.is_symlink():
        return False
    return not shared or _small_text(marker).strip() == own


def clean(index_dir: Path) -> None:
    """Remove the builds that are not current and that this tool made (old ones, and any a killed build left)."""
    keep = (index_dir / CURRENT).resolve()
    builds = index_dir / BUILDS
    own = index_id(index_dir)
    for folder in builds.iterdir() if builds.is_dir() else ():
        if not folder.is_symlink() and folder.resolve() != keep and _made_here(folder, own, builds.is_symlink()):
            shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(f".{CURRENT}-*"):
        if stale.is_symlink():
            stale.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- the whole cycle


def build_index(
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
    encoder = getattr(embedder, "encoder", config.encoder)
    if vector_model(config.model, encoder) != vector_model(config.model, config.encoder):
        raise ValueError(f"the embedder encodes with {encoder!r} but the configuration names {config.encoder!r}")
    if config.device != "cpu" and config.encoder != "torch":
        raise ArchiveQAError(
            f"device {config.device} runs the torch encoder only (the ONNX encoders run on the CPU)",
            f"archive-qa index --device {config.device} --encoder torch",
        )
    step = on_step or (lambda name: None)
    index_dir = config.index_dir
    claim(index_dir)
    with Lock(index_dir):
        current = current_manifest(index_dir, config.model)
        # The state is taken before the records are read: a file changed in between leaves the index stale, not
        # wrong. A file whose size and times are as the current build recorded keeps the digest recorded then.
        state = corpus_state(config.corpus, current[1].corpus_files if current else None)
        analyzer = Analyzer.from_files(config.aliases)
        # Vectors made otherwise (another encoder, another int8 recipe) are not mixed with new ones: all re-encoded.
        force = force or (current is not None and current[1].vectors != vector_model(config.model, config.encoder))
        if (
            not force
            and current
            and unchanged(current[1], state, analyzer, *_kind(config, current[1]))
            and loads(*current)
        ):
            clean(index_dir)
            count = current[1].count
            return BuildReport(count, 0, count, 0, time.perf_counter() - started, True)
        previous = previous_build(*current) if current else None
        with gc_paused():  # not while encoding: a model's library may well make cycles, over hours
            p = plan(config, state, previous, force=force)
        step("planned")
        if p.embedded and embedder is None:
            embedder = (embedder_factory or default_embedder)(config)
        folder = index_dir / BUILDS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        (folder / BUILD_MARKER).write_text(index_id(index_dir), encoding="utf-8")
        try:
            try:
                vectors = encode(p, embedder, progress)
                settings = {"dim": int(vectors.shape[1]), "dtype": p.dtype, "aliases": p.analyzer.fingerprint}
                passages = plan_passages(p.records, vector_model(config.model, config.encoder),
                                         None if force or previous is None else previous.folder, settings,
                                         lambda count: choose_kind(config.index_kind, count, config.hnsw_threshold))
                if passages.missing and embedder is None:
                    embedder = (embedder_factory or default_embedder)(config)
                passage_vectors = passages.vectors(lambda texts: encode_texts(config, embedder, texts, None),
                                                   settings["dim"])
                words = plan_vocabulary(p.records, vector_model(config.model, config.encoder),
                                        None if previous is None else previous.folder, settings["dim"])  # by key
                if words.missing and embedder is None:
                    embedder = (embedder_factory or default_embedder)(config)
                word_vectors = words.vectors(lambda texts: encode_texts(config, embedder, texts, None), settings["dim"])
            finally:  # the encoder's worker processes, if it started any, end once the build has encoded:
                _release(embedder)  # a forked worker keeps every file the process had open (pipes included)
            step("encoded")
            with gc_paused():
                write_passages(folder, passages, passage_vectors, p.analyzer, settings, _link)
                write_vocabulary(folder, words, word_vectors)
                write(p, vectors, folder, started)
            step("written")
        except BaseException:  # an error or Ctrl-C: the half-written build goes, the current one stays
            shutil.rmtree(folder, ignore_errors=True)
            raise
        swap(index_dir, folder)
        step("swapped")
        clean(index_dir)
    removed = previous.manifest.count - int((p.match.segment >= 0).sum()) if previous else 0
    count = len(p.records)
    return BuildReport(count, p.embedded, count - p.embedded, removed, time.perf_counter() - started)


def _release(embedder: Embedder | None) -> None:
    """Stop an embedder's worker processes, when it has any (they start again when next needed)."""
    if embedder is not None and hasattr(embedder, "release"):
        embedder.release()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off for a while: a build makes millions of records and arrays of them, none in a
    cycle, and the collector walking them again and again took a quarter of a 1M-record update."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _kind(config: Config, manifest: Manifest) -> tuple[str, str]:
    """The index kind and vector type a build of the previous build's size would have."""
    kind = choose_kind(config.index_kind, manifest.count, config.hnsw_threshold)
    return kind, choose_dtype(config.vector_dtype, kind)
