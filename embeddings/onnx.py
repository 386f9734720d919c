"""The model's transformer exported once to ONNX and run by onnxruntime: for questions one at a time, and for
the index's records on every core.

PyTorch spends most of a single short query in per-call overhead and thread start-up; onnxruntime runs the
same graph several times faster and holds up far better when other work shares the two cores. For many
texts (`OnnxBatchEncoder`), worker processes (one a core) each run the graph on one text at a time,
optionally through a copy of the graph with int8 weights (onnxruntime's dynamic quantisation). Only models
that are a transformer, mean pooling and (optionally) normalisation take these paths; the float32 vectors
agree with `SentenceTransformer.encode` to about 1e-6 (tests check it). The export is cached on disk by the
model files' content, so it happens once per machine and model. Its sha256 is kept beside it: an export that
no longer matches (truncated, damaged) is made again rather than silently left for the slower path.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from qa.shared import close_lock, file_digest, forked_pool, open_lock

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir(cache: Path) -> Path:
    """Where exported models are kept inside the cache folder."""
    return Path(cache) / "onnx"


def export_path(model_path: str, cache: Path) -> Path:
    """The export of one model (named by its files' fingerprint) in the cache folder."""
    return cache_dir(cache) / f"{_fingerprint(model_path)}.onnx"


# The recipe of `_quantize`, in the int8 copy's name: a copy made by another recipe is not taken for this one's.
INT8_RECIPE = "int8-r2"


def quantized_path(model_path: str, cache: Path) -> Path:
    """The int8 copy of a model's export in the cache folder."""
    target = export_path(model_path, cache)
    return target.with_name(f"{target.stem}-{INT8_RECIPE}.onnx")


def _digest_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.sha256")


def verified(target: Path) -> bool:
    """Whether an export is whole: its content's digest is the one recorded when it was made."""
    try:
        return _digest_path(target).read_text(encoding="ascii").strip() == file_digest(target)
    except (OSError, UnicodeDecodeError):
        return False


def _supported(model) -> bool:
    """A transformer, mean pooling and optional normalisation: what this path reproduces exactly."""
    names = [type(m).__name__ for m in model]
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
        return False
    pooling = model[1]
    return getattr(pooling, "pooling_mode", None) == "mean" or bool(getattr(pooling, "pooling_mode_mean_tokens", False))


_MODULE_TYPES = {
    "sentence_transformers.models.Transformer": "Transformer",
    "sentence_transformers.models.Pooling": "Pooling",
    "sentence_transformers.models.Normalize": "Normalize",
}


def _folder_layout(folder: Path) -> tuple[int, bool] | None:
    """From a model folder's files alone: (max tokens, normalised) when this path reproduces it, else None."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        names = [_MODULE_TYPES.get(m.get("type", ""), "?") for m in modules]
        if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
            return None
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        if not pooling.get("pooling_mode_mean_tokens") or any(
            pooling.get(k)
            for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
        ):
            return None
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        if config.get("do_lower_case") or not (folder / "tokenizer.json").is_file():
            return None
        return int(config.get("max_seq_length") or 512), names[2:] == ["Normalize"]
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def _fingerprint(model_path: str) -> str:
    """A digest of the model folder's files, so a changed model is exported again."""
    h = hashlib.sha256()
    root = Path(model_path)
    for p in sorted(root.rglob("*")) if root.is_dir() else []:
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(model_path.encode())
    return h.hexdigest()[:20]


def _body(model):
    """The model's transformer as a module from token ids to hidden states: what is exported."""
    import torch

    class Body(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return Body(model[0].auto_model).eval()


def _export(model, target: Path) -> None:
    """Export the model to `target`, with its digest beside it; a reader sees a whole export or none."""
    import torch

    sample = model.tokenizer(["an example question"], return_tensors="pt")
    if "token_type_ids" not in sample:
        raise ValueError("model has no token type ids")
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _body(model),
            tuple(sample[name] for name in INPUTS),
            str(tmp),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    _publish(tmp, target)


def _publish(tmp: Path, target: Path) -> None:
    """Move a finished file into place with its digest beside it; a reader sees a whole file or none."""
    digest = _digest_path(tmp)
    digest.write_text(file_digest(tmp) + "\n", encoding="ascii")
    os.replace(tmp, target)  # the file first, then its digest: killed in between, it is made again
    os.replace(digest, _digest_path(target))


def _quantize(source: Path, target: Path) -> None:
    """An int8 copy of an export: the products with weight matrices quantised (weights per channel, activations
    on the fly: onnxruntime's dynamic quantisation), except each layer's feed-forward output, whose inputs
    (after GELU) lose the most. So quantised, nDCG@10 on the eval set stayed within 0.005 of float32 (hybrid
    -0.001, dense +0.005); with those quantised too, 1.2-1.5x faster, hybrid lost 0.013."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    products = [n.name for n in onnx.load(str(source)).graph.node if n.op_type == "MatMul"]
    keep = [name for name in products if name.endswith("/output/dense/MatMul") and "/attention/" not in name]
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process the graph is not for the user
    try:
        quantize_dynamic(
            str(source),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep,
            extra_options={"MatMulConstBOnly": True},  # products of two activations stay float32
        )
    finally:
        root.setLevel(level)
    _publish(tmp, target)


def _under_lock(cache: Path, target: Path, make) -> None:
    """Make a cached file once, whichever process gets there first."""
    folder = cache_dir(cache)
    folder.mkdir(parents=True, exist_ok=True)
    lock = open_lock(folder / ".lock")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not verified(target):
            make(target)
    finally:
        close_lock(lock)


def _session(target: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # one short question: a second thread costs more than it saves
    options.inter_op_num_threads = 1
    # Threads that wait without spinning: on a machine shared with other work, batches ran 15% faster.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])


class OnnxQueryEncoder:
    """Encodes single questions with onnxruntime; `None` from `create` means: use the model as it is."""

    def __init__(self, session, tokenizer, max_length: int, normalize: bool) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._normalize = normalize
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def from_folder(cls, model_path: str, cache: Path) -> OnnxQueryEncoder | None:
        """Open an export made before, with the `tokenizers` library alone: no PyTorch import, no model load."""
        folder = Path(model_path)
        layout = _folder_layout(folder) if folder.is_dir() else None
        target = export_path(model_path, cache)
        if layout is None or not verified(target):  # none yet, or damaged: `create` makes it (again)
            return None
        try:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=layout[0])
            return cls(_session(target), _FastTokenizer(tokenizer), layout[0], layout[1])
        except Exception:  # a damaged export or tokenizer file: the full model is loaded instead
            return None

    @property
    def dim(self) -> int:
        return int(self.encode("dimension").shape[0])

    @classmethod
    def create(cls, model, model_path: str, cache: Path) -> OnnxQueryEncoder | None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return None
        if not _supported(model):
            return None
        target = export_path(model_path, cache)
        try:
            _under_lock(cache, target, lambda path: _export(model, path))
            session = _session(target)
        except Exception:  # any failure to export or load just means the slower path is used
            return None
        normalize = any(type(m).__name__ == "Normalize" for m in model)
        return cls(session, model.tokenizer, int(model.max_seq_length or 512), normalize)

    def encode(self, text: str) -> np.ndarray:
        with self._tokenizer_lock:
            features = self._tokenizer([text], return_tensors="np", truncation=True, max_length=self._max_length)
        feeds = {name: features[name].astype(np.int64) for name in INPUTS}
        return _pooled(self._session.run(None, feeds)[0], features["attention_mask"], self._normalize)[0]


def _pooled(hidden: np.ndarray, attention: np.ndarray, normalize: bool) -> np.ndarray:
    """Mean pooling over the tokens the attention mask keeps, then (optionally) unit length: one row a text."""
    mask = attention[..., None].astype(np.float32)
    vectors = ((hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)).astype(np.float32)
    if normalize:
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


class OnnxBatchEncoder:
    """Encodes many texts on every core, float32 or int8, each text run through the graph alone.

    One text a run: nothing is padded, and a text's vector does not depend on the texts encoded with it. (The
    int8 graph quantises a run's activations by their range: in batches of 64, a text's vector moved with its
    neighbours' by up to 2e-2, so a build on Ray, or an incremental one, gave other vectors than a full local
    build.) On these 2 cores it was also faster than batches of 64 sorted by length: float32 1.3x, int8 1.4x.
    With more than one core, chunks of texts go to a pool of worker processes, each running the graph on one
    thread: on two cores this encoded 30% more texts a second than one session on two threads, whose threads
    meet at every operation (and wait whenever other work takes a core).
    """

    CHUNK = 64  # texts a worker is handed at a time

    def __init__(self, target: Path, folder: Path, layout: tuple[int, bool], workers: int) -> None:
        self._setup = (str(target), str(folder), layout)
        self.workers = workers
        self._local = None
        self._pool = None

    @classmethod
    def open(cls, model_path: str, cache: Path, *, int8: bool = False, threads: int | None = None):
        """The batch encoder of a model whose export is in the cache (the int8 copy is made from it once), or
        None when the model does not take this path or has no export yet. `threads`: the cores to use (all)."""
        folder = Path(model_path)
        layout = _folder_layout(folder) if folder.is_dir() else None
        source = export_path(model_path, cache)
        if layout is None or not verified(source):
            return None
        target = quantized_path(model_path, cache) if int8 else source
        try:
            if int8:
                _under_lock(cache, target, lambda path: _quantize(source, path))
            encoder = cls(target, folder, layout, threads or os.cpu_count() or 1)
            encoder._local = _Batches(*encoder._setup)  # opened here: a damaged file shows now, not in a worker
            return encoder
        except Exception:  # a damaged file or an export onnxruntime cannot quantise: the model is used instead
            return None

    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector a text, in the order given."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if self.workers > 1 and len(texts) > self.CHUNK:
            chunks = [texts[start : start + self.CHUNK] for start in range(0, len(texts), self.CHUNK)]
            return np.concatenate(list(self._workers().map(_encode_in_worker, chunks)))
        return self._local.encode(texts)

    def _workers(self):
        """The pool of worker processes, started on first need. They are forked: a spawned process would import
        the program's main module again, which a script without a `__main__` guard does not survive; a forked
        one runs only onnxruntime and tokenizers (without threads) from a clean start. They end with this process,
killed or not, and hold none of its locks."""
        if self._pool is None:
            self._pool = forked_pool(self.workers, _start_worker, self._setup)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class _Batches:
    """One session on one thread, with the model's tokenizer: encodes texts one at a time."""

    def __init__(self, target: str, folder: str, layout: tuple[int, bool]) -> None:
        from tokenizers import Tokenizer

        self._session = _session(Path(target), 1)
        self._tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=layout[0])
        self._tokenizer.no_padding()
        self._normalize = layout[1]

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([self._one(encoding) for encoding in self._tokenizer.encode_batch(texts)])

    def _one(self, encoding) -> np.ndarray:
        features = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        return _pooled(self._session.run(None, features)[0], features["attention_mask"], self._normalize)


_WORKER: list[_Batches] = []  # in a worker process: its session


def _start_worker(target: str, folder: str, layout: tuple[int, bool]) -> None:
    _WORKER.append(_Batches(target, folder, layout))


def _encode_in_worker(texts: list[str]) -> np.ndarray:
    return _WORKER[0].encode(texts)


class _FastTokenizer:
    """The `tokenizers` library behind the small part of the transformers tokenizer call used here."""

    def __init__(self, tokenizer) -> None:
        self._tokenizer = tokenizer

    def __call__(self, texts: list[str], **_: object) -> dict[str, np.ndarray]:
        encoding = self._tokenizer.encode(texts[0])
        return {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
