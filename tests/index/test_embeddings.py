"""Embedders (the real model offline, the model-free hashing one) and the FAISS vector index (flat and HNSW)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import vectors
from embeddings.hashing import HashingEmbedder, is_hashing
from embeddings.model import BUNDLED_NAMES, Embedder, missing_folder, resolve_model, same_model, text_key
from embeddings.vectors import SEGMENT_FILE, Segments, VectorIndex, VectorView, choose_dtype, choose_kind
from qa.errors import ArchiveQAError, ModelError
from qa.shared import words

# ---------------------------------------------------------------------------------------------- model names


def test_default_model_is_the_bundled_folder():
    folder = Path(resolve_model("all-MiniLM-L6-v2"))
    assert folder.is_dir() and (folder / "modules.json").is_file()
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == str(folder)
    assert resolve_model("/some/local/model") == "/some/local/model"
    assert resolve_model("~/models/x") == str(Path.home() / "models" / "x")


def test_text_key_depends_on_model_and_text():
    key = text_key("all-MiniLM-L6-v2", "Report, Kovalev to Stalin")
    assert isinstance(key, bytes) and len(key) == 16
    assert key == text_key("all-MiniLM-L6-v2", "Report, Kovalev to Stalin")
    assert key != text_key("all-MiniLM-L6-v2", "Report, Kovalev to Stalin.")
    assert key != text_key("/models/other", "Report, Kovalev to Stalin")
    # the bundled model's two names are one model: its vectors are reused whichever name is configured
    assert key == text_key("sentence-transformers/all-MiniLM-L6-v2", "Report, Kovalev to Stalin")
    assert all(same_model(name, BUNDLED_NAMES[0]) for name in BUNDLED_NAMES)
    assert not same_model("all-MiniLM-L6-v2", "all-mpnet-base-v2")


def test_a_missing_model_folder_is_told_apart_from_a_model_name(tmp_path):
    assert missing_folder(str(tmp_path / "none")) and missing_folder("./no/such/folder") and missing_folder("~/no-such")
    assert not missing_folder(str(tmp_path)) and not missing_folder("all-MiniLM-L6-v2")
    assert not missing_folder("sentence-transformers/all-mpnet-base-v2")  # a hub name, not a path


def test_a_model_folder_that_does_not_exist_says_so_in_one_line(tmp_path):
    name = str(tmp_path / "no-such-model")
    with pytest.raises(ModelError) as caught:
        Embedder(name, cache=tmp_path)
    assert isinstance(caught.value, ArchiveQAError)
    assert str(caught.value) == (
        f"model folder {name!r} does not exist: choose an existing sentence-transformers model folder, "
        "or the bundled model all-MiniLM-L6-v2"
    )


@pytest.mark.slow  # imports sentence-transformers
def test_a_model_name_not_in_the_local_cache_says_so_in_one_line(tmp_path):
    with pytest.raises(ModelError) as caught:
        Embedder("no-such-org/no-such-model-here", cache=tmp_path)
    message = str(caught.value)
    assert "'no-such-org/no-such-model-here' cannot be loaded offline" in message and "\n" not in message


# ---------------------------------------------------------------------------------------------- the real model


def test_device_cuda_without_a_gpu_says_so_in_one_line(embedder):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    gpu = Embedder(embedder.name, cache=embedder.cache, encoder="torch", device="cuda")  # questions: ONNX, on the CPU
    with pytest.raises(ModelError, match="device 'cuda': PyTorch sees no CUDA GPU here") as caught:
        gpu.encode(["a cable from Kovalev"])
    assert "\n" not in str(caught.value) and "--device cpu" in str(caught.value)


def test_vectors_are_normalised_float32(embedder):
    vectors = embedder.encode(["Stalin and Mao discuss a Soviet loan", "a telegram about the harvest", "x"])
    assert embedder.dim == 384
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    empty = embedder.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    query = embedder.encode_query("Stalin and Mao discuss a Soviet loan")  # float32, as the model gives it
    assert query.shape == (384,)
    np.testing.assert_allclose(query, embedder._torch_encode(["Stalin and Mao discuss a Soviet loan"])[0], atol=1e-5)
    assert float(query @ vectors[0]) > 0.99  # the records' int8 encoding (the default) is close to it


def test_similar_texts_are_closer_than_unrelated_ones(embedder):
    loan, credit, weather = embedder.encode(
        [
            "Stalin and the Chinese delegation discuss the Soviet loan to China",
            "The Soviet Union grants credit to the People's Republic of China",
            "Rainfall and temperatures in the Alps this spring",
        ]
    )
    assert loan @ credit > loan @ weather + 0.2


def test_another_model_from_a_local_folder(small_model_dir, embedder):
    other = Embedder(str(small_model_dir))
    assert other.dim == 128
    vectors = other.encode(["Report, Kovalev to Stalin", "Cable, Stalin to Mao Zedong"])
    assert vectors.shape == (2, 128) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert text_key(str(small_model_dir), "a") != text_key(embedder.name, "a")


# ---------------------------------------------------------------------------------------------- the hashing embedder


def test_the_hashing_embedder_is_deterministic_and_normalised():
    embedder = HashingEmbedder("hashing:64")
    assert (embedder.name, embedder.dim, embedder.query_backend) == ("hashing:64", 64, "none")
    vectors = embedder.encode(["Stalin and Mao", "the loan to China", "", "!!!"])
    assert vectors.dtype == np.float32 and vectors.shape == (4, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, rtol=1e-5)
    assert not vectors[2:].any()  # no words, no direction
    again = HashingEmbedder("hashing:64")
    assert np.array_equal(again.encode_query("Stalin and Mao"), vectors[0])
    assert np.array_equal(embedder.encode_query("STALIN, and mao"), vectors[0])  # words, whatever their case


def test_the_hashing_embedder_brings_texts_sharing_words_closer():
    embedder = HashingEmbedder("hashing:256")
    loan, credit, weather = embedder.encode(["the Soviet loan to China", "a loan to China", "rain in the Alps"])
    assert loan @ credit > loan @ weather + 0.2


@pytest.mark.parametrize("name", ["hashing:", "hashing:1", "hashing:x", "hashing:5000", "all-MiniLM-L6-v2"])
def test_a_bad_hashing_name_is_refused(name):
    with pytest.raises(ValueError, match="is not a hashing model name"):
        HashingEmbedder(name)


def test_a_word_is_a_run_of_letters_or_digits_in_any_script():
    expected = ["Kovalev", "s", "cable", "no", "54755", "to", "Пекин", "1949"]
    assert words("Kovalev's cable_no.54755 to Пекин, 1949!") == expected
    assert words("") == words(" -- _ ") == []


def test_hashing_names_are_told_apart():
    assert is_hashing("hashing:64") and not is_hashing("all-MiniLM-L6-v2")


# ---------------------------------------------------------------------------------------------- FAISS


def _unit_rows(count: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_kind_is_chosen_by_size_unless_asked():
    assert choose_kind("auto", 100, 200) == "flat"
    assert choose_kind("auto", 200, 200) == "flat"
    assert choose_kind("auto", 201, 200) == "hnsw"
    assert choose_kind("flat", 10**6, 200) == "flat"
    assert choose_kind("hnsw", 3, 200) == "hnsw"


def test_flat_search_is_exact_and_best_first():
    rows = _unit_rows(300)
    index = VectorIndex.build(rows, "flat")
    query = rows[17] + 0.05 * rows[5]
    query /= np.linalg.norm(query)
    positions, scores = index.search(query, 5)
    expected = np.argsort(-(rows @ query))[:5]
    assert positions.tolist() == expected.tolist()
    assert np.all(np.diff(scores) <= 1e-6)
    np.testing.assert_allclose(scores, (rows @ query)[expected], rtol=1e-5)


def test_hnsw_finds_the_same_top_hits_and_survives_saving(tmp_path):
    rows = _unit_rows(2000, seed=1)
    flat = VectorIndex.build(rows, "flat")
    hnsw = VectorIndex.build(rows, "hnsw")
    hnsw.save(tmp_path / SEGMENT_FILE)
    loaded = VectorIndex.load(tmp_path / SEGMENT_FILE, "hnsw", "float32")
    assert loaded.kind == "hnsw" and loaded.count == 2000
    for i in (0, 123, 1999):
        assert flat.search(rows[i], 1)[0][0] == i
        assert hnsw.search(rows[i], 1)[0][0] == i
        assert loaded.search(rows[i], 3)[0].tolist() == hnsw.search(rows[i], 3)[0].tolist()


@pytest.mark.parametrize(("kind", "dtype", "tolerance"), [("flat", "float32", 0), ("hnsw", "float16", 1e-3)])
def test_a_segment_stores_its_vectors_once_and_reads_them_back(tmp_path, kind, dtype, tolerance):
    rows = _unit_rows(300, seed=3)
    VectorIndex.build(rows, kind, dtype).save(tmp_path / SEGMENT_FILE)
    loaded = VectorIndex.load(tmp_path / SEGMENT_FILE, kind, dtype)
    assert loaded.matrix.dtype == np.dtype(dtype) and loaded.matrix.shape == (300, 32)
    np.testing.assert_allclose(loaded.matrix.astype(np.float32), rows, atol=tolerance)
    assert loaded.search(rows[42], 1)[0].tolist() == [42]
    overhead = (tmp_path / SEGMENT_FILE).stat().st_size - 300 * 32 * np.dtype(dtype).itemsize
    assert overhead < (1000 if kind == "flat" else 300 * 4 * 2 * vectors.HNSW_M * 1.2)  # the graph, no second copy


def test_the_vector_type_is_float16_in_approximate_indexes_unless_asked():
    assert choose_dtype("auto", "flat") == "float32"
    assert choose_dtype("auto", "hnsw") == choose_dtype("auto", "ivfpq") == "float16"
    assert choose_dtype("float32", "hnsw") == "float32" and choose_dtype("float16", "flat") == "float16"


def test_ivfpq_re_ranks_its_candidates_exactly(monkeypatch):
    monkeypatch.setattr(vectors, "IVF_MIN_ROWS", 1000)
    rows = _unit_rows(4000, dim=32, seed=4)
    index = VectorIndex.build(rows, "ivfpq", "float16")
    assert index.kind == "ivfpq" and index.count == 4000
    for i in (0, 1234, 3999):
        positions, scores = index.search(rows[i], 5)
        assert positions[0] == i and scores[0] == pytest.approx(1.0, abs=2e-3)  # the exact score, not the code's
    assert VectorIndex.build(rows[:999], "ivfpq").kind == "flat"  # too few rows to train on: kept exact


def test_segments_search_as_one_index_over_positions_without_deleted_rows():
    rows = _unit_rows(61, seed=5)
    main = VectorIndex.build(rows[:40], "flat")
    delta = VectorIndex.build(rows[40:], "flat")
    # the main segment's rows hold positions 20..59, its row 5 deleted; the delta's rows positions 0..19 and 25
    main_positions = np.arange(20, 60)
    main_positions[5] = -1
    segments = Segments([(main, main_positions), (delta, np.r_[np.arange(20), 25])], 60, 32)
    found, scores = segments.search(rows[41], 3)
    assert found[0] == 1 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert segments.search(rows[5], 1)[0].tolist() != [25]  # the deleted row is not found
    assert segments.search(rows[60], 1)[0].tolist() == [25]  # position 25's row now is in the delta
    assert segments.search(rows[6], 1)[0].tolist() == [26]
    allowed = np.zeros(60, dtype=bool)
    allowed[[3, 30]] = True
    assert sorted(segments.search(rows[6], 5, allowed)[0].tolist()) == [3, 30]
    view = VectorView(segments)
    assert view.shape == (60, 32) and len(view) == 60
    np.testing.assert_array_equal(view[26], rows[6])
    np.testing.assert_array_equal(view[25], rows[60])
    np.testing.assert_array_equal(view[[0, 26]], rows[[40, 6]])
    np.testing.assert_array_equal(np.asarray(view)[20:22], rows[[0, 1]])


@pytest.mark.parametrize(
    ("kind", "walk"), [("flat", False), ("hnsw", False), ("hnsw", True), ("ivfpq", False), ("ivfpq", True)]
)
def test_search_keeps_to_the_allowed_rows(kind, walk, monkeypatch):
    # a small allowed set is scored exactly; a large one (here: any, with the limits at 0) takes the graph walk
    monkeypatch.setattr(vectors, "IVF_MIN_ROWS", 100)
    if walk:
        monkeypatch.setattr(vectors, "EXACT_FILTER_ROWS", 0)
        monkeypatch.setattr(vectors, "EXACT_FILTER_SHARE", 0.0)
    rows = _unit_rows(500, seed=2)
    index = VectorIndex.build(rows, kind)
    allowed = np.zeros(500, dtype=bool)
    allowed[::7] = True
    positions, _ = index.search(rows[3], 10, allowed)  # row 3 itself is not allowed
    assert len(positions) == 10 and all(allowed[p] for p in positions)
    exact = np.flatnonzero(allowed)[np.argsort(-(rows[allowed] @ rows[3]))][:10]
    assert positions[0] == exact[0]
    assert index.search(rows[3], 10, np.zeros(500, dtype=bool))[0].size == 0


def test_k_larger_than_the_index_returns_every_row():
    rows = _unit_rows(4)
    positions, scores = VectorIndex.build(rows, "flat").search(rows[0], 50)
    assert sorted(positions.tolist()) == [0, 1, 2, 3] and positions[0] == 0
    assert VectorIndex.build(rows, "flat").search(rows[0], 0)[0].size == 0
    assert VectorIndex.build(np.zeros((0, 32), dtype=np.float32), "flat").search(rows[0], 5)[0].size == 0
