"""The build's encoding, measured: each encoder's rate on the same texts in the same run (the bare
`SentenceTransformer.encode` the build is held against, the ONNX batches the build uses, their int8 copy), the
retrieval quality each gives on the synthetic questions (and float16 storage of the vectors), and the build on
a local Ray cluster against the local build.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from archive_qa.bench.measure import clock, exact_top
from archive_qa.evaluation.metrics import ndcg_at_k, recall_at_k
from embeddings.model import Embedder
from embeddings.onnx import OnnxBatchEncoder
from qa.config import Config
from qa.index import ArchiveIndex, default_embedder
from qa.index.build import build_index

ENCODERS = ("torch", "onnx", "onnx-int8")
PASSES = 3  # each encoder times the texts this often, interleaved with the others; the fastest pass counts


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def embedders(config: Config) -> dict[str, Embedder]:
    """One embedder per encoder, over the same model and cache."""
    return {name: Embedder(config.model, cache=config.cache, encoder=name) for name in ENCODERS}


def _encode(embedder: Embedder, name: str, texts: list[str]) -> np.ndarray:
    """The bare model's `encode` for "torch" (as the bench's raw rate), else the build's ONNX batches."""
    return embedder._torch_encode(texts) if name == "torch" else embedder.encode(texts)


def encoder_rates(config: Config, texts: list[str]) -> tuple[dict, dict[str, np.ndarray]]:
    """Each encoder's texts a second on these texts (passes interleaved), and the vectors each gave."""
    models = embedders(config)
    best = dict.fromkeys(ENCODERS, math.inf)
    vectors: dict[str, np.ndarray] = {}
    for name in ENCODERS:  # warm-up: the export and int8 copy made if not yet, the worker processes started
        _encode(models[name], name, texts[: 4 * OnnxBatchEncoder.CHUNK])
    for _ in range(PASSES):
        for name in ENCODERS:
            vectors[name], seconds = clock(_encode, models[name], name, texts)
            best[name] = min(best[name], seconds)
    figures = {
        name: {"texts": len(texts), "seconds": round(s, 2), "rate": round(len(texts) / s, 1)}
        for name, s in best.items()
    }
    for name in ENCODERS:
        figures[name]["vs_torch"] = round(best["torch"] / best[name], 3)
    log(f"encoders: {figures}")
    return figures, vectors


def retrieval_quality(config: Config, vectors: dict[str, np.ndarray], ids: list[str], questions: list[dict]) -> dict:
    """nDCG@10 and Recall@10 of exact dense search over each encoder's vectors (questions encoded as the app does,
    by the float32 ONNX path), and of the ONNX vectors stored as float16."""
    query = Embedder(config.model, cache=config.cache)
    queries = np.stack([query.encode_query(q["question"]) for q in questions])
    runs = {name: vectors[name] for name in ENCODERS}
    runs["onnx, stored float16"] = vectors["onnx"].astype(np.float16).astype(np.float32)
    out = {name: _quality(exact_top(matrix, queries, 10), ids, questions) for name, matrix in runs.items()}
    for name in out:
        out[name]["ndcg_vs_torch"] = round(out[name]["ndcg_at_10"] - out["torch"]["ndcg_at_10"], 4)
    log(f"retrieval quality: {out}")
    return out


def _quality(top: np.ndarray, ids: list[str], questions: list[dict]) -> dict:
    """Mean nDCG@10 and Recall@10 of rankings (rows of record numbers) against each question's answer."""
    rankings = [([ids[i] for i in row], [q["answer_id"]]) for row, q in zip(top, questions, strict=True)]
    return {
        "ndcg_at_10": round(float(np.mean([ndcg_at_k(r, answer, 10) for r, answer in rankings])), 4),
        "recall_at_10": round(float(np.mean([recall_at_k(r, answer, 10) for r, answer in rankings])), 4),
    }


def ray_build(config: Config, work: Path, local_seconds: float, texts: list[str]) -> dict:
    """`--engine ray` on a local cluster of this machine's CPUs (started before the timing): the size's corpus
    built on it (its time against the local build's; whether its records and vectors are the local build's),
    and the encoding throughput of the cluster against the local path on more texts (its start-up amortised
    as in a large build)."""
    try:
        from embeddings.ray_engine import connect, encode_on_ray, workers

        ray, started = clock(connect)
    except Exception as exc:  # not installed, or no cluster here: said in the report
        return {"error": str(exc)}
    on_ray = replace(config, index=work / "index-ray", engine="ray")
    report, seconds = clock(build_index, on_ray)
    a, b = ArchiveIndex.load(on_ray, check_stale=False), ArchiveIndex.load(config, check_stale=False)
    local_embedder = Embedder(config.model, cache=config.cache, encoder=config.encoder)
    local_embedder.encode(texts[:32])
    local, local_s = clock(local_embedder.encode, texts)
    remote, remote_s = clock(encode_on_ray, texts, functools.partial(default_embedder, config))
    figures = {
        "cluster_cpus": workers(ray),
        "cluster_start_s": round(started, 2),
        "build_s": round(seconds, 2),
        "local_build_s": round(local_seconds, 2),
        "build_vs_local": round(local_seconds / seconds, 3),
        "embedded": report.embedded,
        "same_records": list(a.records) == list(b.records),
        "max_vector_difference": float(np.abs(np.asarray(a.vectors) - np.asarray(b.vectors)).max()),
        "texts": len(texts),
        "local_rate": round(len(texts) / local_s, 1),
        "rate": round(len(texts) / remote_s, 1),
        "vs_local": round(local_s / remote_s, 3),
        "max_vector_difference_texts": float(np.abs(remote - local).max()),
    }
    log(f"ray engine: {figures}")
    return figures
