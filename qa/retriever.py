"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index import ArchiveIndex, DateFilter

RRF_K = 60
CANDIDATES = 50
# Under a date range, an undated record may be from any time: it is kept, but ranked after dated matches.
UNDATED_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved record: its position in the index, fused score and evidence measures."""

    position: int
    score: float
    similarity: float
    coverage: float


class Retriever:
    """Ranks the index's records for a question in one of three modes: dense, bm25 or hybrid."""

    def __init__(self, index: ArchiveIndex) -> None:
        self.index = index
        self._idf_cache: dict[str, float] = {}

    def retrieve(
        self,
        query_vector: np.ndarray | None,
        tokens: list[str],
        k: int,
        mode: str = "hybrid",
        date_filter: DateFilter | None = None,
    ) -> list[Hit]:
        """The best k records, best first; dense needs the question's vector, bm25 its tokens."""
        allowed = date_filter.mask(self.index.dates) if date_filter else None
        if allowed is not None and not allowed.any():
            return []
        depth = max(CANDIDATES, k)
        ranked: list[np.ndarray] = []
        if mode in ("dense", "hybrid") and query_vector is not None:
            ranked.append(self.index.vector_index.search(query_vector, depth, allowed)[0])
        if mode in ("bm25", "hybrid"):
            ranked.append(self.index.lexical.search(tokens, depth, allowed)[0])
        fused: dict[int, float] = {}
        for positions in ranked:
            for rank, position in enumerate(positions.tolist()):
                fused[position] = fused.get(position, 0.0) + 1.0 / (RRF_K + rank + 1)
        if date_filter is not None and date_filter.keep_undated:
            for position in fused:
                if self.index.dates[position, 0] == 0:
                    fused[position] *= UNDATED_WEIGHT
        best = sorted(fused, key=lambda p: (-fused[p], p))[:k]
        if not best:
            return []
        rows = np.asarray(best)
        similarity = (
            np.asarray(self.index.vectors[rows], dtype=np.float32) @ query_vector
            if query_vector is not None
            else np.zeros(len(best), dtype=np.float32)
        )
        return [
            Hit(p, fused[p], float(s), self.coverage(tokens, self.index.record_tokens(p)))
            for p, s in zip(best, similarity, strict=True)
        ]

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token in the collection; highest for a word it never uses."""
        cached = self._idf_cache.get(token)
        if cached is None:
            df = self.index.lexical.document_frequency(token)
            n = max(self.index.count, 1)
            cached = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
            if len(self._idf_cache) < 100_000:
                self._idf_cache[token] = cached
        return cached

    def coverage(self, question: list[str], text: list[str]) -> float:
        """The share of the question's IDF weight that a text's tokens carry (0 to 1)."""
        weights = {t: self.idf(t) for t in set(question)}
        total = sum(weights.values())
        if total == 0:
            return 0.0
        present = set(text)
        return sum(w for t, w in weights.items() if t in present) / total
