"""Building the index folder from the corpus: incremental by content key, swapped in atomically."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from embeddings.model import Embedder, ModelError, same_model, text_key
from embeddings.vectors import VectorIndex, choose_kind
from qa.config import Config
from qa.corpus import load_corpus
from qa.index import (
    BUILDS,
    CURRENT,
    DATES,
    FORMAT_VERSION,
    KEYS,
    MANIFEST,
    OFFSETS,
    RECORDS,
    VECTORS,
    IndexProblem,
    check_manifest,
    corpus_state,
    embedded_text,
    fsync_tree,
    list_files,
    read_manifest,
)
from qa.lexical import AliasError, Analyzer, LexicalIndex
from qa.records import Record

ENCODE_CHUNK = 1024
KEY_SIZE = 16
KEY_DTYPE = np.dtype(f"S{KEY_SIZE}")


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


class _Lock:
    """One build at a time per index folder."""

    def __init__(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        self._file = (index_dir / ".lock").open("w")

    def __enter__(self) -> _Lock:
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise IndexProblem("another `archive-qa index` is building this index: wait for it to finish") from None
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def _previous(index_dir: Path, model: str) -> tuple[dict | None, list[bytes], np.ndarray | None]:
    """The current build's manifest, content keys (one a record) and vectors, when it can be reused."""
    link = index_dir / CURRENT
    if not link.exists():
        return None, [], None
    folder = link.resolve()
    try:
        manifest = read_manifest(folder)
        check_manifest(manifest, folder, Config(model=model, index=index_dir))
        keys = np.load(folder / KEYS)
        vectors = np.load(folder / VECTORS, mmap_mode="r")
        if keys.dtype != KEY_DTYPE or keys.shape != (manifest["count"],):
            raise ValueError("keys do not agree with the manifest")
        if vectors.shape != (manifest["count"], manifest["dim"]):
            raise ValueError("vectors do not agree with the manifest")
    except (IndexProblem, OSError, ValueError):
        return None, [], None
    # Read the raw 16 bytes: numpy drops the trailing zero bytes of an S16 item, which would change 1 key in 256.
    raw = keys.tobytes()
    return manifest, [raw[i : i + KEY_SIZE] for i in range(0, len(raw), KEY_SIZE)], vectors


def _write_records(folder: Path, records: list[Record]) -> None:
    offsets = [0]
    with (folder / RECORDS).open("wb") as f:
        for record in records:
            line = (json.dumps(record.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / OFFSETS, np.asarray(offsets, dtype=np.int64))
    dates = np.asarray([(r.date_start or 0, r.date_end or 0) for r in records], dtype=np.int32).reshape(-1, 2)
    np.save(folder / DATES, dates)


def _clean(index_dir: Path, keep: Path) -> None:
    """Remove builds that are not current: old ones and any left by a killed build."""
    for folder in (index_dir / BUILDS).iterdir():
        if folder.resolve() != keep.resolve():
            shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(f".{CURRENT}-*"):
        stale.unlink(missing_ok=True)


def _swap(index_dir: Path, folder: Path) -> None:
    """Point `current` at the new build in one rename: readers see the old build or the new, never half."""
    tmp = index_dir / f".{CURRENT}-{uuid.uuid4().hex}"
    tmp.symlink_to(Path(BUILDS) / folder.name)
    os.replace(tmp, index_dir / CURRENT)
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_index(
    config: Config,
    *,
    force: bool = False,
    progress: bool = False,
    embedder: Embedder | None = None,
    embedder_factory: Callable[[str], Embedder] = Embedder,
) -> BuildReport:
    """Build or update the index for the configured corpus; the previous index stays usable throughout.

    A record whose embedded text (under this model) is in the current build keeps its vector;
    each other distinct text is encoded once. The model is loaded only when a text needs it.
    """
    started = time.perf_counter()
    if embedder is not None and not same_model(embedder.name, config.model):
        raise ValueError(f"the embedder is model {embedder.name!r} but the configuration names {config.model!r}")
    index_dir = config.index_dir
    # The state is taken before the records are read: a file changed in between leaves the index stale, not wrong.
    state = corpus_state(config.corpus)
    if not force and (report := _up_to_date(config, state, started)) is not None:
        return report
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
    analyzer = Analyzer.from_files(config.aliases)
    kind = choose_kind(config.index_kind, len(corpus.records), config.hnsw_threshold)
    with _Lock(index_dir):
        previous, old_list, old_vectors = _previous(index_dir, config.model)
        if not force and previous and _unchanged(previous, state, analyzer, kind):
            _clean(index_dir, index_dir / CURRENT)  # what a killed build left behind
            return BuildReport(previous["count"], 0, previous["count"], 0, time.perf_counter() - started, True)
        (index_dir / BUILDS).mkdir(exist_ok=True)
        folder = index_dir / BUILDS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        try:
            records = corpus.records
            _write_records(folder, records)
            texts = [embedded_text(r) for r in records]
            keys = [text_key(config.model, t) for t in texts]
            reusable = {} if force else {key: row for row, key in enumerate(old_list)}
            missing = [i for i, key in enumerate(keys) if key not in reusable]
            if missing and embedder is None:
                try:
                    embedder = embedder_factory(config.model)
                except ModelError as exc:
                    raise IndexProblem(str(exc)) from None
            if embedder is not None and previous is not None and embedder.dim != previous["dim"]:
                # The same name for another model (a local folder replaced): no old vector can be kept.
                reusable, missing = {}, list(range(len(records)))
            dim = embedder.dim if embedder is not None else int(previous["dim"])
            vectors = np.zeros((len(records), dim), dtype=np.float32)
            reused_rows = [(i, reusable[k]) for i, k in enumerate(keys) if k in reusable]
            if reused_rows and old_vectors is not None:
                new, old = map(np.asarray, zip(*reused_rows, strict=True))
                vectors[new] = old_vectors[old]
            if missing:
                # Records sharing a text (title-only listings often do) have it encoded once.
                first_with = {}
                for i in missing:
                    first_with.setdefault(keys[i], i)
                encoded = _encode(embedder, [texts[i] for i in first_with.values()], progress)
                row = {key: n for n, key in enumerate(first_with)}
                vectors[missing] = encoded[[row[keys[i]] for i in missing]]
            np.save(folder / VECTORS, vectors)
            np.save(folder / KEYS, np.asarray(keys, dtype=KEY_DTYPE))
            VectorIndex.build(vectors, kind).save(folder)
            LexicalIndex.build([analyzer.tokens(t) for t in texts]).save(folder)
            manifest = {
                "format_version": FORMAT_VERSION,
                "model": config.model,
                "dim": dim,
                "count": len(records),
                "kind": kind,
                "aliases": analyzer.fingerprint,
                "corpus": str(config.corpus),
                "corpus_files": state,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": list_files(folder),
            }
            # Old records whose text the new build has no more; a changed text counts as removed and embedded.
            removed = sum((Counter(old_list) - Counter(keys)).values())
            manifest["build_seconds"] = round(time.perf_counter() - started, 3)
            (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            fsync_tree(folder)
        except BaseException:  # an error or Ctrl-C: the half-written build goes, the current one stays
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _swap(index_dir, folder)
        _clean(index_dir, folder)
    return BuildReport(len(records), len(missing), len(reused_rows), removed, time.perf_counter() - started)


def _up_to_date(config: Config, state: dict, started: float) -> BuildReport | None:
    """The report of an unchanged corpus, seen from the manifest before any record is read (reading dominates)."""
    if not (config.index_dir / CURRENT).exists():
        return None
    try:
        analyzer = Analyzer.from_files(config.aliases)
    except ValueError:  # a bad alias file is reported by the full build
        return None
    with _Lock(config.index_dir):
        previous, _, _ = _previous(config.index_dir, config.model)
        if previous is None:
            return None
        kind = choose_kind(config.index_kind, int(previous["count"]), config.hnsw_threshold)
        if not _unchanged(previous, state, analyzer, kind):
            return None
        _clean(config.index_dir, config.index_dir / CURRENT)  # what a killed build left behind
        return BuildReport(previous["count"], 0, previous["count"], 0, time.perf_counter() - started, True)


def _unchanged(previous: dict, state: dict, analyzer: Analyzer, kind: str) -> bool:
    return (
        previous.get("corpus_files") == state
        and previous.get("aliases") == analyzer.fingerprint
        and previous.get("kind") == kind
    )


def _encode(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    """Encode in chunks so that a progress bar moves; each chunk is sorted by length inside the model."""
    from tqdm import tqdm

    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    with tqdm(total=len(texts), unit="rec", desc="embedding", disable=not progress) as bar:
        for start in range(0, len(texts), ENCODE_CHUNK):
            chunk = texts[start : start + ENCODE_CHUNK]
            out[start : start + len(chunk)] = embedder.encode(chunk)
            bar.update(len(chunk))
    return out


def cli(args: argparse.Namespace) -> int:
    """`archive-qa index`: build or update, with a progress bar and a closing line of counts."""
    from qa.cli import UserError, config_from_args

    config = config_from_args(args)
    try:
        report = build_index(config, force=args.force, progress=True)
    except (IndexProblem, AliasError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:  # a full disk, a folder that cannot be written: the previous index is untouched
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError(f"cannot write the index in {config.index_dir}{where}: {exc.strerror or exc}") from None
    print(report)
    return 0
