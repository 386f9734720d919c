"""A model-free embedder for tests and benchmarks: each word hashed to a fixed random direction, summed.

Named `hashing:<dim>` (e.g. `hashing:64`) wherever a model name is taken. It knows no meaning — texts are
close only when they share words — but it is deterministic, needs no download and encodes instantly.
"""

from __future__ import annotations

import hashlib

import numpy as np

from qa.shared import words

PREFIX = "hashing:"


def is_hashing(name: str) -> bool:
    return name.startswith(PREFIX)


class HashingEmbedder:
    """Bag-of-words vectors from hashed words, normalised; the same text gives the same vector everywhere."""

    def __init__(self, name: str = "hashing:64") -> None:
        try:
            self.dim = int(name.removeprefix(PREFIX))
        except ValueError:
            self.dim = 0
        if not is_hashing(name) or not 2 <= self.dim <= 4096:
            raise ValueError(f"{name!r} is not a hashing model name (hashing:<2..4096>)")
        self.name = name
        self.query_backend = "none"
        self._rows: dict[str, np.ndarray] = {}

    def _row(self, word: str) -> np.ndarray:
        row = self._rows.get(word)
        if row is None:
            seed = int.from_bytes(hashlib.sha256(word.encode("utf-8", "surrogatepass")).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            if len(self._rows) < 200_000:
                self._rows[word] = row
        return row

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        """Normalised float32 vectors, one row a text (a text without words gets a zero vector)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in words(text.lower()):
                out[i] += self._row(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
