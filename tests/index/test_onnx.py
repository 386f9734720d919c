"""The ONNX fast path for questions: the same vectors as the sentence-transformers model, an export kept in the
cache folder and checked by its digest, made again when damaged."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from index_helpers import truncate

from embeddings.model import Embedder, resolve_model
from embeddings.onnx import INT8_RECIPE, OnnxQueryEncoder, cache_dir, export_path, quantized_path, verified
from qa.shared import file_digest

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture
def bundled() -> str:
    """The bundled model's folder (its files are read; the model is not loaded)."""
    return resolve_model(MODEL)


# ---------------------------------------------------------------------------------------------- the cache, no model


def test_an_export_is_verified_by_the_digest_beside_it(tmp_path):
    target = tmp_path / "model.onnx"
    assert not verified(target)
    target.write_bytes(b"an export")
    assert not verified(target)  # no digest: made before digests, or killed before its digest was written
    (tmp_path / "model.onnx.sha256").write_text(file_digest(target) + "\n", encoding="ascii")
    assert verified(target)
    target.write_bytes(b"an exporT")
    assert not verified(target)


def test_the_export_lives_in_the_configured_cache(own_cache, bundled):
    target = export_path(bundled, own_cache)
    assert target.parent == cache_dir(own_cache) == own_cache / "onnx" and target.suffix == ".onnx"


def test_no_export_or_a_damaged_one_is_not_opened(own_cache, bundled):
    assert OnnxQueryEncoder.from_folder(bundled, own_cache) is None
    target = export_path(bundled, own_cache)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not an onnx graph")
    assert OnnxQueryEncoder.from_folder(bundled, own_cache) is None
    (target.parent / f"{target.name}.sha256").write_text(file_digest(target), encoding="ascii")
    assert OnnxQueryEncoder.from_folder(bundled, own_cache) is None  # whole, but not a graph onnxruntime opens


# ---------------------------------------------------------------------------------------------- with the real model


def test_questions_take_the_onnx_path(embedder):
    assert embedder.query_backend == "onnx"
    assert verified(export_path(resolve_model(MODEL), embedder.cache))


@pytest.mark.parametrize(
    "question",
    [
        "What did Stalin tell Mao about the economic situation in China?",
        "x",
        "Ünïcødé “quotes” 北京",
        "telegram " * 400,
    ],
)
def test_onnx_vectors_match_the_model(embedder, question):
    fast = embedder.encode_query(question)
    reference = embedder._torch_encode([question])[0]  # SentenceTransformer.encode
    assert fast.dtype == np.float32 and fast.shape == (embedder.dim,)
    assert np.abs(fast - reference).max() < 1e-4
    assert abs(float(np.linalg.norm(fast)) - 1.0) < 1e-5
    float32 = Embedder(MODEL, cache=embedder.cache, encoder="onnx")
    assert np.abs(float32.encode([question])[0] - reference).max() < 1e-4  # the build's float32 batch path too


TEXTS = [
    "Report, Kovalev to Stalin · July 6, 1949 · Kovalev relays several requests from the CCP leadership.",
    "Memorandum of Conversation",
    "x",
    "Ünïcødé “quotes” 北京 · 1950",
    "telegram " * 400,  # cut at the model's 256 tokens, as the model cuts it
] * 30


def test_records_are_encoded_on_every_core_as_the_model_encodes_them(embedder):
    float32 = Embedder(MODEL, cache=embedder.cache, encoder="onnx")
    assert float32.batch_backend == "onnx"
    fast = float32.encode(TEXTS)  # 150 texts: chunks shared out to the worker processes
    reference = embedder._torch_encode(TEXTS)
    assert fast.shape == reference.shape == (len(TEXTS), 384) and fast.dtype == np.float32
    assert np.abs(fast - reference).max() < 1e-5


@pytest.mark.parametrize("encoder", ["onnx", "onnx-int8"])
def test_a_texts_vector_does_not_depend_on_the_texts_encoded_with_it(embedder, encoder):
    # int8 activations are quantised by the range of what one run holds: batched, a text moved with its neighbours
    model = Embedder(MODEL, cache=embedder.cache, encoder=encoder)
    together = model.encode(TEXTS[:120])  # on the worker processes
    order = np.random.default_rng(0).permutation(120)
    np.testing.assert_allclose(model.encode([TEXTS[i] for i in order]), together[order], atol=1e-6)
    alone = np.stack([model.encode([text])[0] for text in TEXTS[:5]])  # in this process, one at a time
    np.testing.assert_allclose(alone, together[:5], atol=1e-6)


def test_the_int8_model_is_made_once_and_stays_close(embedder, own_cache):
    shutil.copytree(cache_dir(embedder.cache), cache_dir(own_cache))
    (own_cache / "onnx" / quantized_path(resolve_model(MODEL), own_cache).name).unlink(missing_ok=True)
    int8 = Embedder(MODEL, cache=own_cache)  # the default
    target = quantized_path(resolve_model(MODEL), own_cache)
    assert int8.batch_backend == "onnx-int8" and verified(target) and INT8_RECIPE in target.name
    made = target.stat().st_mtime_ns
    cosines = (int8.encode(TEXTS[:5]) * embedder._torch_encode(TEXTS[:5])).sum(axis=1)
    assert cosines.min() > 0.98  # close, not equal: the bench and the evaluation measure what it costs
    assert Embedder(MODEL, cache=own_cache).batch_backend == "onnx-int8" and target.stat().st_mtime_ns == made


@pytest.mark.slow  # loads the model a second time
@pytest.mark.parametrize("cache", [True, False])
def test_the_torch_path_is_used_when_asked_or_without_a_cache(own_cache, cache):
    plain = Embedder(MODEL, query_backend="torch", cache=own_cache) if cache else Embedder(MODEL)
    assert plain.query_backend == "torch"
    assert plain.encode_query("Stalin").shape == (plain.dim,)
    assert not cache_dir(own_cache).exists()


def test_a_truncated_export_is_made_again(embedder, own_cache):
    shutil.copytree(cache_dir(embedder.cache), cache_dir(own_cache))
    target = export_path(resolve_model(MODEL), own_cache)
    truncate(target)
    assert OnnxQueryEncoder.from_folder(resolve_model(MODEL), own_cache) is None
    healed = Embedder(MODEL, cache=own_cache)  # loads the model, exports again: not PyTorch for every question
    assert healed.query_backend == "onnx" and verified(target)
    question = "telegrams from Stalin to Mao"
    assert np.abs(healed.encode_query(question) - embedder.encode_query(question)).max() < 1e-5
    _answers_without_pytorch(own_cache)


def _answers_without_pytorch(cache) -> None:
    """A new process opens the cached export with the tokenizers library alone: no PyTorch, no model load."""
    code = (
        "import sys; from embeddings.model import Embedder; "
        f"e = Embedder({MODEL!r}, cache={str(cache)!r}); v = e.encode_query('telegrams from Stalin to Mao'); "
        "print(e.query_backend, e.dim, v.shape[0], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["onnx", "384", "384", "False", "False"]


def test_a_cached_export_answers_questions_without_loading_pytorch(embedder):
    _answers_without_pytorch(embedder.cache)
