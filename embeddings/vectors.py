"""FAISS over normalised vectors, in segments: each segment is one FAISS index that holds its vectors itself.

A segment is exact (`flat`), a graph (`hnsw`) or, for collections whose vectors do not fit in memory,
`ivfpq` (an inverted file of product-quantised codes trained on a sample, its candidates re-ranked exactly
against the stored vectors). The vectors are stored once, in the segment's file, as float32 or float16,
and memory-mapped on load; `VectorIndex.matrix` reads them without a copy. `Segments` searches several
segments as one index over record positions: each segment row maps to a position, or to -1 once deleted.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

KINDS = ("flat", "hnsw", "ivfpq")
DTYPES = ("float32", "float16")
SEGMENT_FILE = "vectors.faiss"
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 512
# IVF-PQ: about 2·√n lists (a power of two), each vector cut into sub-vectors of 8 dimensions coded in 8 bits,
# trained on a sample of TRAIN_PER_LIST vectors a list; NPROBE lists searched and K_FACTOR·k candidates re-ranked
# (at 2M stand-in vectors: Recall@10 0.93-0.95 for 3-5 ms; 48 and 16 gave 0.88).
IVF_TRAIN_PER_LIST = 40
IVF_MAX_TRAIN = 200_000
IVF_NPROBE = 128
IVF_K_FACTOR = 32
IVF_MIN_ROWS = 10_000  # a smaller segment gains nothing from quantisation: it is kept exact
# A date filter that leaves a graph at most this many rows (or this share of them) is searched exactly:
# a graph's filtered walk misses most of a small allowed set, and scoring a few thousand rows is cheap.
EXACT_FILTER_ROWS = 50_000
EXACT_FILTER_SHARE = 0.05
GATHER_ROWS = 5_000  # so few allowed rows are read and scored directly
_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def choose_kind(kind: str, count: int, threshold: int) -> str:
    """'flat', 'hnsw' or 'ivfpq': as asked, or flat/hnsw by size when asked for 'auto'."""
    if kind != "auto":
        return kind
    return "hnsw" if count > threshold else "flat"


def choose_dtype(dtype: str, kind: str) -> str:
    """How vectors are stored: as asked, or for 'auto' float16 in approximate indexes (half the disk, a recall
    loss the bench measures) and float32 in exact ones."""
    if dtype != "auto":
        return dtype
    return "float32" if kind == "flat" else "float16"


def same_threads() -> Callable[[], None]:
    """An initializer giving a new thread this thread's FAISS thread count (OpenMP keeps the count per thread: a
    new thread would search on every core, and one search handed between cores lost 10-40 ms on a busy machine)."""
    count = faiss.omp_get_max_threads()
    return lambda: faiss.omp_set_num_threads(count)


@contextmanager
def all_cores() -> Iterator[None]:
    """FAISS on every core for a while (building a graph or training), then back to its thread count."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _storage(dim: int, dtype: str) -> faiss.Index:
    if dtype == "float16":
        return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    return faiss.IndexFlatIP(dim)


def _ivfpq(dim: int, dtype: str, rows: int) -> faiss.Index:
    lists = 2 ** max(4, round(math.log2(2 * math.sqrt(rows))))
    sub = next(m for m in (dim // 8, dim // 4, dim // 2, dim) if m and dim % m == 0)
    refine = "Refine(SQfp16)" if dtype == "float16" else "RFlat"
    index = faiss.index_factory(dim, f"IVF{lists},PQ{sub}x8,{refine}", faiss.METRIC_INNER_PRODUCT)
    # The codes are compared through distance tables, never by Hamming distance: no polysemous training (slow).
    faiss.downcast_index(faiss.extract_index_ivf(index)).do_polysemous_training = False
    return index


def _new_index(dim: int, kind: str, dtype: str, rows: int) -> faiss.Index:
    if kind == "hnsw":
        if dtype == "float16":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    if kind == "ivfpq":
        return _ivfpq(dim, dtype, rows)
    return _storage(dim, dtype)


def segment_kind(kind: str, rows: int) -> str:
    """The kind a segment of this many rows is built as: an IVF-PQ segment too small to train is exact."""
    return "flat" if kind == "ivfpq" and rows < IVF_MIN_ROWS else kind


class VectorIndex:
    """One segment: nearest rows by inner product, over vectors the FAISS index itself stores."""

    def __init__(self, index: faiss.Index, kind: str, dtype: str) -> None:
        self.index = index
        self.kind = kind
        self.dtype = dtype
        self._storage = self._find_storage()
        self._tune()

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str, dtype: str = "float32") -> VectorIndex:
        """A segment over these vectors (kept exact when `ivfpq` has too few rows to train on)."""
        rows, dim = vectors.shape
        kind = segment_kind(kind, rows)
        index = _new_index(dim, kind, dtype, rows)
        with all_cores():
            if kind == "ivfpq":
                index.train(_training_sample(vectors, index))
            _add(index, vectors)
        return cls(index, kind, dtype)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str, dtype: str) -> VectorIndex:
        """A saved segment, its vectors memory-mapped (read as searches touch them), not copied in; ValueError when
        it holds vectors of another kind or type than named."""
        try:
            segment = cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC), kind, dtype)
            stored = segment._storage.codes.size()
        except AttributeError:  # another kind of FAISS index than named
            raise ValueError(f"{path} is not a {kind} segment") from None
        if stored != segment.count * segment.dim * np.dtype(dtype).itemsize:
            raise ValueError(f"{path} does not hold {dtype} vectors")
        return segment

    def _find_storage(self) -> faiss.Index:
        """The part of the index that holds the full vectors: itself, the graph's storage, or the re-ranker's."""
        if self.kind == "hnsw":
            return faiss.downcast_index(self.index.storage)
        if self.kind == "ivfpq":
            return faiss.downcast_index(self.index.refine_index)
        return self.index

    def _tune(self) -> None:
        if self.kind == "hnsw":
            self.index.hnsw.efSearch = HNSW_EF_SEARCH
        elif self.kind == "ivfpq":
            faiss.extract_index_ivf(self.index.base_index).nprobe = IVF_NPROBE
            self.index.k_factor = IVF_K_FACTOR

    @property
    def matrix(self) -> np.ndarray:
        """The stored vectors, one row a row of the segment (float32 or float16), a view of the index's own memory."""
        if not self.count:
            return np.zeros((0, self.dim), dtype=self.dtype)
        codes = self._storage.codes
        raw = faiss.rev_swig_ptr(codes.data(), codes.size())
        return raw.view(self.dtype).reshape(self.count, self.dim)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the k nearest rows, best first; `allowed` is a boolean row mask."""
        k = min(k, self.count)
        if k <= 0:
            return _NONE
        index, params = self.index, [None]
        if allowed is not None:
            allowed_count = int(np.count_nonzero(allowed))
            if not allowed_count:
                return _NONE
            if allowed_count <= GATHER_ROWS and self.kind != "flat":
                return self._gathered(query, k, allowed)
            selector = faiss.IDSelectorBitmap(np.packbits(allowed, bitorder="little"))
            index, params = self._filtered(selector, allowed_count, k)
        scores, rows = index.search(query.reshape(1, -1).astype(np.float32), k, params=params[0])
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def _gathered(self, query: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact search of a few allowed rows: their stored vectors read and scored (a FAISS scan with a
        selector visits every row)."""
        rows = np.flatnonzero(allowed)
        scores = np.asarray(self.matrix[rows], dtype=np.float32) @ np.asarray(query, dtype=np.float32).reshape(-1)
        top = np.argpartition(-scores, min(k, len(rows)) - 1)[:k]
        top = top[np.lexsort((rows[top], -scores[top]))]
        return rows[top], scores[top]

    def _filtered(self, selector, allowed_count: int, k: int) -> tuple[faiss.Index, list]:
        """The index and search parameters (first in the list; what they point to after them, kept alive for
        the search) within allowed rows: a small allowed set of a graph is scored exactly; an inverted file
        probes more lists the fewer rows are allowed."""
        share = allowed_count / max(self.count, 1)
        small = self.kind == "hnsw" and (allowed_count <= EXACT_FILTER_ROWS or share <= EXACT_FILTER_SHARE)
        if self.kind == "flat" or small:
            return self._storage, [faiss.SearchParameters(sel=selector), selector]
        if self.kind == "hnsw":  # the index's own efSearch (a tuning sweep may have changed it)
            ef = max(int(self.index.hnsw.efSearch), k)
            return self.index, [faiss.SearchParametersHNSW(sel=selector, efSearch=ef), selector]
        # Lists hold allowed rows in proportion: probe more lists as the filter leaves fewer rows (at 2M and a
        # filter leaving 1.3%: 1,126 of 2,048 lists, 6 ms, 99% of the exact top 50; all lists took 11 ms).
        lists = faiss.extract_index_ivf(self.index.base_index)
        nprobe = min(int(lists.nlist), math.ceil(lists.nprobe / math.sqrt(share)))
        ivf = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        params = faiss.IndexRefineSearchParameters(k_factor=float(self.index.k_factor), base_index_params=ivf)
        params.sel = selector
        return self.index, [params, ivf, selector]


def _training_sample(vectors: np.ndarray, index: faiss.Index) -> np.ndarray:
    """An even sample of the vectors to train the IVF lists and the product quantiser on."""
    lists = faiss.extract_index_ivf(index).nlist
    size = min(len(vectors), max(IVF_TRAIN_PER_LIST * lists, 256 * 40), IVF_MAX_TRAIN)
    step = max(1, len(vectors) // size)
    return np.ascontiguousarray(vectors[::step][:size], dtype=np.float32)


def _add(index: faiss.Index, vectors: np.ndarray, chunk: int = 65_536) -> None:
    """Add vectors in chunks, so a float16 or memory-mapped source is never copied whole."""
    for start in range(0, len(vectors), chunk):
        index.add(np.ascontiguousarray(vectors[start : start + chunk], dtype=np.float32))


class Segments:
    """Several segments searched as one index over record positions; a row mapped to -1 is deleted."""

    def __init__(self, parts: list[tuple[VectorIndex, np.ndarray]], count: int, dim: int) -> None:
        self.parts = parts
        self.count = count
        self.dim = dim
        self._live = [positions >= 0 if (positions < 0).any() else None for _, positions in parts]
        self.kind = parts[0][0].kind if parts else "flat"
        self._where = locate([positions for _, positions in parts], count)

    @property
    def index(self) -> faiss.Index:
        """The first (main) segment's FAISS index."""
        return self.parts[0][0].index

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the k nearest live records, best first; `allowed` is a boolean position mask."""
        found = [self._search_part(i, query, k, allowed) for i in range(len(self.parts))]
        positions = np.concatenate([f[0] for f in found]) if found else _NONE[0]
        scores = np.concatenate([f[1] for f in found]) if found else _NONE[1]
        order = np.lexsort((positions, -scores))[:k]
        return positions[order], scores[order]

    def _search_part(self, i: int, query: np.ndarray, k: int, allowed: np.ndarray | None):
        segment, positions = self.parts[i]
        mask = self._live[i]
        if allowed is not None:
            mask = (positions >= 0) & allowed[np.maximum(positions, 0)]
        rows, scores = segment.search(query, k, mask)
        return positions[rows], scores

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors of these positions, as float32 rows."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        out = np.zeros((len(positions), self.dim), dtype=np.float32)
        part, rows = self._where[0][positions], self._where[1][positions]
        for i, (segment, _) in enumerate(self.parts):
            mine = part == i
            if mine.any():
                out[mine] = segment.matrix[rows[mine]]
        return out


def locate(row_maps: list[np.ndarray], count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position, its segment (-1: none) and row: the inverse of the segments' row maps."""
    part = np.full(count, -1, dtype=np.int16)
    row = np.zeros(count, dtype=np.int64)
    for i, positions in enumerate(row_maps):
        live = np.flatnonzero(positions >= 0)
        part[positions[live]] = i
        row[positions[live]] = live
    return part, row


class VectorView:
    """Read-only access to a `Segments`' vectors by position, shaped like an array (count, dim)."""

    def __init__(self, segments: Segments) -> None:
        self._segments = segments
        self.shape = (segments.count, segments.dim)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            return self._segments.vectors(np.arange(self.shape[0])[key])
        if np.ndim(key) == 0:
            return self._segments.vectors(np.asarray([key]))[0]
        return self._segments.vectors(np.asarray(key))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)
