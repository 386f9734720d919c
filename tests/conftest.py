"""Shared fixtures: the real embedding model, loaded once, and an index built on the shipped corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    from embeddings.model import Embedder

    return Embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def shipped_config(tmp_path_factory, embedder):
    """A configuration whose index is built from a copy of the shipped corpus (read-only to tests)."""
    from qa.config import Config
    from qa.indexing import build_index

    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(SHIPPED_CORPUS, root / "corpus")
    config = Config(corpus=root / "corpus", index=root / "index")
    build_index(config, embedder=embedder)
    return config


@pytest.fixture(scope="session")
def shipped_index(shipped_config):
    from qa.index import ArchiveIndex

    return ArchiveIndex.load(shipped_config)


@pytest.fixture(scope="session")
def assistant(shipped_config, shipped_index, embedder):
    """One assistant over the shipped corpus, shared like the app shares it across sessions."""
    from qa.assistant import Assistant

    return Assistant(shipped_config, index=shipped_index, embedder=embedder)


@pytest.fixture(scope="session")
def shipped_records(shipped_index):
    """The shipped records by a short key: the first words of their titles."""
    return list(shipped_index.records)
