"""Process-wide settings, set once at start-up by the program that runs (the command line, the app, the tests)."""

from __future__ import annotations

import os

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def start(*, search_threads: int = 1) -> None:
    """Never reach a model hub, and give FAISS its thread count once (one question is searched on one thread:
    OpenMP's hand-off to a second thread cost more than the search itself on a busy 2-core machine)."""
    for name, value in OFFLINE.items():
        os.environ.setdefault(name, value)
    import faiss

    faiss.omp_set_num_threads(max(1, search_threads))
