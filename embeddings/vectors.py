"""FAISS over normalised vectors: exact inner product up to a size, HNSW above it; filterable search."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_FILE = "hnsw.faiss"
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 512
# A date filter that leaves at most this many rows (or this share of them) is searched exactly:
# HNSW's filtered walk misses most of a small allowed set, and scoring a few thousand rows is cheap.
EXACT_FILTER_ROWS = 50_000
EXACT_FILTER_SHARE = 0.05


def choose_kind(kind: str, count: int, threshold: int) -> str:
    """'flat' or 'hnsw': as asked, or by size when asked for 'auto'."""
    if kind != "auto":
        return kind
    return "hnsw" if count > threshold else "flat"


class VectorIndex:
    """Nearest neighbours by inner product over rows of a vector matrix."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self.index = index
        self.kind = kind

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str) -> VectorIndex:
        dim = vectors.shape[1]
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, kind)

    def save(self, folder: Path) -> None:
        """Only an HNSW graph needs a file: an exact index is rebuilt from the vectors on load."""
        if self.kind == "hnsw":
            faiss.write_index(self.index, str(folder / HNSW_FILE))

    @classmethod
    def load(cls, folder: Path, kind: str, vectors: np.ndarray) -> VectorIndex:
        if kind == "hnsw":
            # The graph is read; its vectors are memory-mapped (read as searches touch them), not copied in.
            index = faiss.read_index(str(folder / HNSW_FILE), getattr(faiss, "IO_FLAG_MMAP_IFC", 0))
            index.hnsw.efSearch = HNSW_EF_SEARCH
            return cls(index, kind)
        return cls.build(vectors, kind)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the k nearest rows, best first; `allowed` is a boolean row mask."""
        k = min(k, self.count)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        index = self.index
        if allowed is not None:
            allowed_count = int(np.count_nonzero(allowed))
            if not allowed_count:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            selector = faiss.IDSelectorBitmap(np.packbits(allowed, bitorder="little"))
            if self.kind == "hnsw" and allowed_count <= max(EXACT_FILTER_ROWS, EXACT_FILTER_SHARE * self.count):
                # A graph walk finds few of a small allowed set: score the allowed rows exactly instead.
                index = faiss.downcast_index(self.index.storage)
                params = faiss.SearchParameters(sel=selector)
            elif self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, positions = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = positions[0] >= 0
        return positions[0][keep], scores[0][keep]
