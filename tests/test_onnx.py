"""The ONNX fast path for questions gives the same vectors as the sentence-transformers model."""

import numpy as np
import pytest


def test_questions_take_the_onnx_path(embedder):
    assert embedder.query_backend == "onnx"


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
    reference = embedder.encode([question])[0]
    assert fast.dtype == np.float32 and fast.shape == (embedder.dim,)
    assert np.abs(fast - reference).max() < 1e-4
    assert abs(float(np.linalg.norm(fast)) - 1.0) < 1e-5


def test_the_torch_path_is_used_when_asked(monkeypatch):
    from embeddings.model import Embedder

    monkeypatch.setenv("ARCHIVE_QA_QUERY_BACKEND", "torch")
    plain = Embedder("all-MiniLM-L6-v2")
    assert plain.query_backend == "torch"
    assert plain.encode_query("Stalin").shape == (plain.dim,)


def test_a_cached_export_answers_questions_without_loading_pytorch(embedder):
    import subprocess
    import sys

    assert embedder.query_backend == "onnx"  # the session's embedder has made the export by now
    code = (
        "import sys; from embeddings.model import Embedder; e = Embedder('all-MiniLM-L6-v2'); "
        "v = e.encode_query('telegrams from Stalin to Mao'); "
        "print(e.query_backend, e.dim, v.shape[0], 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["onnx", "384", "384", "False", "False"]
