"""The index folder: records, vectors, FAISS and BM25 indexes and a manifest; loaded safely, searched by id."""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from embeddings.model import same_model
from embeddings.vectors import HNSW_FILE, VectorIndex
from qa.config import Config
from qa.corpus import corpus_files
from qa.lexical import AliasError, Analyzer, LexicalIndex
from qa.records import Record

FORMAT_VERSION = 1
CURRENT = "current"
BUILDS = "builds"
MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
OFFSETS = "record_offsets.npy"
VECTORS = "vectors.npy"
KEYS = "keys.npy"
DATES = "dates.npy"
VERIFY_LIMIT = 256 * 1024 * 1024
KINDS = ("flat", "hnsw")
LOAD_ATTEMPTS = 3


class IndexProblem(Exception):
    """An index that cannot be used as it is: the message says why and what to run."""


@dataclass(frozen=True, slots=True)
class DateFilter:
    """Records whose date overlaps [start, end] (YYYYMMDD integers, either open); undated kept or not."""

    start: int | None = None
    end: int | None = None
    keep_undated: bool = True

    def mask(self, dates: np.ndarray) -> np.ndarray:
        """A boolean mask over records from their (start, end) date rows; 0 means undated."""
        starts, ends = dates[:, 0], dates[:, 1]
        undated = starts == 0
        ok = ~undated
        if self.start is not None:
            ok &= ends >= self.start
        if self.end is not None:
            ok &= starts <= self.end
        return ok | undated if self.keep_undated else ok


def embedded_text(record: Record) -> str:
    """What is embedded for a record: "title · date · summary", or the title alone when there is no summary."""
    if not record.summary:
        return record.title
    parts = [record.title] + ([record.display_date] if record.date else []) + [record.summary]
    return " · ".join(parts)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_state(corpus: Path) -> dict[str, dict]:
    """Each corpus file (relative path) with its size, modification time and content digest."""
    files, _ = corpus_files([corpus])
    return {
        str(p.relative_to(corpus)): {
            "size": p.stat().st_size,
            "mtime_ns": p.stat().st_mtime_ns,
            "sha256": file_digest(p),
        }
        for p in files
    }


def corpus_changes(corpus: Path, recorded: dict[str, dict]) -> list[str]:
    """Files added, removed or changed since the state was recorded; digests only where size or time differ."""
    files, _ = corpus_files([corpus])
    now = {str(p.relative_to(corpus)): p for p in files}
    changes = [f"removed {name}" for name in recorded if name not in now]
    for name, path in now.items():
        old = recorded.get(name)
        if old is None:
            changes.append(f"added {name}")
            continue
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) != (old["size"], old["mtime_ns"]) and file_digest(path) != old["sha256"]:
            changes.append(f"changed {name}")
    return changes


class RecordStore:
    """Records kept on disk as JSON lines and read by position through a memory map."""

    def __init__(self, folder: Path, count: int) -> None:
        self._offsets = np.load(folder / OFFSETS, mmap_mode="r")
        self.count = count
        with (folder / RECORDS).open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if count else None
        self._positions: dict[str, int] | None = None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, position: int) -> Record:
        assert self._map is not None
        start, end = int(self._offsets[position]), int(self._offsets[position + 1])
        return Record.from_dict(json.loads(self._map[start:end]))

    def __iter__(self):
        return (self[i] for i in range(self.count))

    def position(self, record_id: str) -> int | None:
        """The position of a record id (the table is made on first use)."""
        if self._positions is None:
            self._positions = {r.id: i for i, r in enumerate(self)}
        return self._positions.get(record_id)


class ArchiveIndex:
    """A loaded index: the collection's records with their vectors, dense and lexical search."""

    def __init__(self, folder: Path, manifest: dict, analyzer: Analyzer) -> None:
        count = manifest["count"]
        self.folder = folder
        self.manifest = manifest
        self.analyzer = analyzer
        self.records = RecordStore(folder, count)
        self.vectors = np.load(folder / VECTORS, mmap_mode="r")
        self.dates = np.load(folder / DATES, mmap_mode="r")
        self.vector_index = VectorIndex.load(folder, manifest["kind"], self.vectors)
        self.lexical = LexicalIndex.load(folder, count)
        offsets = self.records._offsets
        if (
            self.vectors.shape != (count, manifest["dim"])
            or self.dates.shape != (count, 2)
            or offsets.shape != (count + 1,)
            or self.vector_index.count != count
            or self.vector_index.index.d != manifest["dim"]
        ):
            raise IndexProblem(
                f"index files in {folder} do not agree with its manifest: run `archive-qa index --force`"
            )

    @property
    def count(self) -> int:
        return int(self.manifest["count"])

    @property
    def dim(self) -> int:
        """The length of the index's vectors: that of its model's embeddings."""
        return int(self.manifest["dim"])

    @property
    def model(self) -> str:
        """The name or path of the model the index was built with."""
        return str(self.manifest["model"])

    def check_embedder(self, embedder) -> None:
        """Refuse a loaded model other than the index's, by name or by the length of its vectors."""
        if not same_model(embedder.name, self.model):
            raise IndexProblem(
                f"the index was built with model {self.model!r}, not {embedder.name!r}: "
                f"run `archive-qa index --model {embedder.name}` (or choose model {self.model!r})"
            )
        if embedder.dim != self.dim:
            raise IndexProblem(
                f"model {embedder.name!r} gives {embedder.dim}-dimensional vectors, the index holds {self.dim}: "
                "run `archive-qa index --force`"
            )

    @lru_cache(maxsize=8192)  # noqa: B019 - one index per process; entries are small token lists
    def record_tokens(self, position: int) -> list[str]:
        """The lexical tokens of a record's embedded text."""
        return self.analyzer.tokens(embedded_text(self.records[position]))

    @classmethod
    def load(cls, config: Config, *, check_stale: bool = True) -> ArchiveIndex:
        """Load and check the index for this configuration; IndexProblem says what to run when it can't.

        Should a build be swapped in (and the old one removed) while this one is being read, the
        new current build is read instead.
        """
        for attempt in range(LOAD_ATTEMPTS):
            folder = current_build(config.index_dir)
            try:
                return cls._load_build(folder, config, check_stale)
            except IndexProblem:
                if attempt + 1 == LOAD_ATTEMPTS or not _swapped(config.index_dir, folder):
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_build(cls, folder: Path, config: Config, check_stale: bool) -> ArchiveIndex:
        manifest = read_manifest(folder)
        check_manifest(manifest, folder, config)
        try:
            analyzer = Analyzer.from_files(config.aliases)
        except AliasError as exc:
            raise IndexProblem(str(exc)) from None
        if manifest.get("aliases") != analyzer.fingerprint:
            raise IndexProblem("the alias files changed since the index was built: run `archive-qa index`")
        if check_stale:
            changes = corpus_changes(config.corpus, manifest["corpus_files"])
            if changes:
                raise IndexProblem(
                    f"the corpus changed since the index was built ({', '.join(changes[:3])}"
                    f"{'…' if len(changes) > 3 else ''}): run `archive-qa index`"
                )
        try:
            return cls(folder, manifest, analyzer)
        except IndexProblem:
            raise
        except Exception as exc:  # numpy, faiss and bm25s raise many kinds on damaged files
            raise IndexProblem(
                f"index files in {folder} are damaged ({type(exc).__name__}): run `archive-qa index --force`"
            ) from None

    def search(
        self,
        query: np.ndarray | str | None,
        k: int,
        date_filter: DateFilter | None = None,
        mode: str = "dense",
        text: str = "",
        *,
        embedder=None,
    ) -> list[tuple[str, float]]:
        """Record ids and scores of the best k matches, best first.

        `query` is a question vector (dense) or the question itself; a question given as text is
        embedded with `embedder`, which must be the index's model (bm25 needs no embedder).
        `text` is the question for bm25 when `query` is a vector. Any mode but "bm25" is dense.
        """
        if isinstance(query, str):
            text = text or query
            query = None
            if mode != "bm25":
                if embedder is None:
                    raise ValueError("a question given as text needs an embedder for dense search")
                self.check_embedder(embedder)
                query = embedder.encode_query(text)
        allowed = date_filter.mask(self.dates) if date_filter else None
        if mode == "bm25":
            positions, scores = self.lexical.search(self.analyzer.tokens(text), k, allowed)
        else:
            if query is None:
                raise ValueError("dense search needs a question vector, or the question and an embedder")
            query = np.asarray(query, dtype=np.float32).reshape(-1)
            if query.shape[0] != self.dim:
                raise IndexProblem(
                    f"the question's vector has {query.shape[0]} dimensions, the index's ({self.model!r}) "
                    f"{self.dim}: embed questions with model {self.model!r}, or rebuild the index with "
                    "`archive-qa index --model <model>`"
                )
            positions, scores = self.vector_index.search(query, k, allowed)
        return [(self.records[int(p)].id, float(s)) for p, s in zip(positions, scores, strict=True)]


def current_build(index_dir: Path) -> Path:
    link = index_dir / CURRENT
    if not link.exists():
        raise IndexProblem(f"no index in {index_dir}: run `archive-qa index` to build it")
    return link.resolve()


def _swapped(index_dir: Path, folder: Path) -> bool:
    """Whether another build has become current since `folder` was."""
    try:
        return current_build(index_dir) != folder
    except IndexProblem:
        return False


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise IndexProblem(f"{folder / MANIFEST} is missing or damaged: run `archive-qa index --force`") from None
    if not isinstance(manifest, dict):
        raise IndexProblem(f"{folder / MANIFEST} is damaged: run `archive-qa index --force`")
    return manifest


def check_manifest(manifest: dict, folder: Path, config: Config) -> None:
    """Refuse an index of another format or model, or with a file truncated or changed since it was written."""
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexProblem(
            f"the index in {config.index_dir} has format {version}, this version reads format {FORMAT_VERSION}: "
            "run `archive-qa index --force`"
        )
    model = manifest.get("model")
    if not isinstance(model, str) or not same_model(model, config.model):
        raise IndexProblem(
            f"the index was built with model {model!r}, not {config.model!r}: "
            f"run `archive-qa index --model {config.model}` (or choose model {model!r})"
        )
    if not _well_formed(manifest):
        raise IndexProblem(f"{folder / MANIFEST} is damaged: run `archive-qa index --force`")
    for name, expected in manifest["files"].items():
        path = folder / name
        size = path.stat().st_size if path.is_file() else -1
        if size != expected["size"] or (size <= VERIFY_LIMIT and file_digest(path) != expected["sha256"]):
            raise IndexProblem(f"index file {path} is truncated or damaged: run `archive-qa index --force`")


def _well_formed(manifest: dict) -> bool:
    """Whether a manifest of this format has every field, of its type, and lists the files loading reads."""

    def whole(value: object, least: int | None = 0) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and (least is None or value >= least)

    def entry(value: object, timed: bool = False) -> bool:
        return (
            isinstance(value, dict)
            and whole(value.get("size"))
            and isinstance(value.get("sha256"), str)
            and (not timed or whole(value.get("mtime_ns"), None))
        )

    files, corpus = manifest.get("files"), manifest.get("corpus_files")
    if not (
        whole(manifest.get("count"))
        and whole(manifest.get("dim"), 1)
        and manifest.get("kind") in KINDS
        and isinstance(manifest.get("aliases"), str)
        and isinstance(files, dict)
        and isinstance(corpus, dict)
    ):
        return False
    needed = {RECORDS, OFFSETS, VECTORS, KEYS, DATES} | ({HNSW_FILE} if manifest["kind"] == "hnsw" else set())
    return (
        needed <= files.keys()
        and all(entry(f) for f in files.values())
        and all(entry(f, timed=True) for f in corpus.values())
    )


def list_files(folder: Path) -> dict[str, dict]:
    """Every file of a build with its size and digest, for the manifest."""
    return {
        str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": file_digest(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def fsync_tree(folder: Path) -> None:
    """Flush every file of a build to disk before it is swapped in."""
    for p in folder.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
