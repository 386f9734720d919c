"""What the bench measures with: a clock, resident memory, latency percentiles, exact top-k and Recall@k."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from archive_qa.evaluation.metrics import percentile

T = TypeVar("T")


def clock(fn: Callable[..., T], *args, **kwargs) -> tuple[T, float]:
    """Call `fn` and return its result with the seconds it took."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def clock_ms(fn: Callable[..., T], *args, **kwargs) -> tuple[T, float]:
    """Call `fn` and return its result with the milliseconds it took."""
    result, seconds = clock(fn, *args, **kwargs)
    return result, seconds * 1000


class TimedEmbedder:
    """Wraps an embedder (real or stand-in) and adds up the time spent encoding and the texts encoded."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seconds = 0.0
        self.texts = 0

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False):
        started = time.perf_counter()
        try:
            return self.inner.encode(texts, batch_size=batch_size, progress=progress)
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)

    def encode_query(self, text: str):
        return self.encode([text])[0]

    def reset(self) -> None:
        self.seconds, self.texts = 0.0, 0


def rss() -> dict[str, float]:
    """Resident memory of this process in MB, from /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile)."""
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        import resource

        out["VmHWM"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and mean (2 decimals) and the count of a list of timings; NaN figures for none."""
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "mean": float("nan"), "n": 0}
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "mean": round(float(np.mean(values)), 2),
        "n": len(values),
    }


def padded(positions: np.ndarray, k: int) -> np.ndarray:
    """A search's positions filled up to k with -1 (found nothing), so that rows stack."""
    return np.pad(positions, (0, k - len(positions)), constant_values=-1)


def exact_top(vectors, queries, k: int, chunk: int = 65_536) -> np.ndarray:
    """Exact top-k rows by inner product for each query, by chunks over the (memory-mapped) vectors."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        block = np.asarray(vectors[start : start + chunk], dtype=np.float32)
        scores = q @ block.T
        kk = min(k, scores.shape[1])
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        s = np.concatenate([best_s, np.take_along_axis(scores, part, axis=1)], axis=1)
        i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(s, order, axis=1), np.take_along_axis(i, order, axis=1)
    return best_i


def recall(found, truth) -> float:
    """The mean share of each query's true top rows that were found (-1 entries of `found` are no row)."""
    per = [len(set(map(int, f[f >= 0])) & set(map(int, t))) / max(1, len(t)) for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(per)), 4) if per else float("nan")


def disk_mb(folder: Path) -> float:
    """The size of a folder's files in MB."""
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)
