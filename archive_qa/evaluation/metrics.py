"""Ranking and answer metrics, small and dependency-light (numpy); checked against trec_eval in the tests.

A ranking is a sequence of record ids, best first. Relevance judgements (qrels) map a record id to a
grade; a grade of 1 or more is relevant. Definitions follow trec_eval: nDCG uses the grade as the gain
and log2(rank + 1) as the discount, the ideal ranking is made from every judged record; MRR@k is the
reciprocal rank of the first relevant record within the first k, else 0.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np

Qrels = Mapping[str, int]
DEFAULT_KS = (1, 3, 5, 10)


def as_qrels(relevant: Qrels | Collection[str]) -> dict[str, int]:
    """Judgements as {id: grade}; a plain collection of ids means grade 1 for each."""
    if isinstance(relevant, Mapping):
        return {str(k): int(v) for k, v in relevant.items()}
    return {str(r): 1 for r in relevant}


def _unique(ranking: Iterable[str]) -> list[str]:
    """The ranking with later repeats of an id dropped (a record counts once, where it first appears)."""
    return list(dict.fromkeys(ranking))


def recall_at_k(ranking: Sequence[str], relevant: Qrels | Collection[str], k: int) -> float:
    """The share of the relevant records that appear in the first k; 0 when nothing is relevant."""
    qrels = as_qrels(relevant)
    wanted = {d for d, g in qrels.items() if g >= 1}
    if not wanted:
        return 0.0
    return len(wanted.intersection(_unique(ranking)[:k])) / len(wanted)


def reciprocal_rank(ranking: Sequence[str], relevant: Qrels | Collection[str], k: int = 10) -> float:
    """1 / rank of the first relevant record within the first k, else 0."""
    qrels = as_qrels(relevant)
    for rank, doc in enumerate(_unique(ranking)[:k], start=1):
        if qrels.get(doc, 0) >= 1:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevant: Qrels | Collection[str], k: int = 10) -> float:
    """Normalised discounted cumulative gain at k with linear gains (the grade) and log2 discounts."""
    qrels = as_qrels(relevant)
    discounts = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    gains = np.array([max(qrels.get(d, 0), 0) for d in _unique(ranking)[:k]], dtype=np.float64)
    ideal = np.sort(np.array([g for g in qrels.values() if g > 0], dtype=np.float64))[::-1][:k]
    idcg = float(ideal @ discounts[: len(ideal)])
    if idcg == 0.0:
        return 0.0
    return float(gains @ discounts[: len(gains)]) / idcg


def first_relevant_rank(ranking: Sequence[str], relevant: Qrels | Collection[str]) -> int | None:
    """The 1-based rank of the first relevant record, or None when none is retrieved."""
    qrels = as_qrels(relevant)
    return next((i for i, d in enumerate(_unique(ranking), start=1) if qrels.get(d, 0) >= 1), None)


def per_query(ranking: Sequence[str], relevant: Qrels | Collection[str], ks: Sequence[int] = DEFAULT_KS) -> dict:
    """Every ranking metric of one query: recall@k for each k, mrr@10 and ndcg@10."""
    scores = {f"recall@{k}": recall_at_k(ranking, relevant, k) for k in ks}
    scores["mrr@10"] = reciprocal_rank(ranking, relevant, 10)
    scores["ndcg@10"] = ndcg_at_k(ranking, relevant, 10)
    return scores


def retrieval_metrics(
    runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Qrels | Collection[str]], ks: Sequence[int] = DEFAULT_KS
) -> dict[str, float]:
    """Each metric averaged over the queries that have at least one relevant record.

    A query with judgements but no ranking counts as a ranking that found nothing. The result also
    holds "queries", the number of queries averaged over.
    """
    judged = {q: as_qrels(r) for q, r in qrels.items() if any(g >= 1 for g in as_qrels(r).values())}
    rows = [per_query(runs.get(q, ()), rel, ks) for q, rel in sorted(judged.items())]
    names = [f"recall@{k}" for k in ks] + ["mrr@10", "ndcg@10"]
    out = {name: float(np.mean([r[name] for r in rows])) if rows else 0.0 for name in names}
    out["queries"] = len(rows)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else 0.0


def latency_scores(latencies_ms: Sequence[float]) -> dict[str, float]:
    """The median and 95th percentile of latencies in milliseconds, as reports name them."""
    return {"latency_p50_ms": percentile(latencies_ms, 50), "latency_p95_ms": percentile(latencies_ms, 95)}


def safe_ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0 (a metric with nothing to measure)."""
    return numerator / denominator if denominator else None


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float | None]:
    """Abstaining treated as the positive class: precision, recall, accuracy and balanced accuracy."""
    a = np.asarray(abstained, dtype=bool)
    unanswerable = ~np.asarray(answerable, dtype=bool)
    tp = int(np.sum(a & unanswerable))
    fp = int(np.sum(a & ~unanswerable))
    fn = int(np.sum(~a & unanswerable))
    tn = int(np.sum(~a & ~unanswerable))
    recall = safe_ratio(tp, tp + fn)
    specificity = safe_ratio(tn, tn + fp)
    balanced = (recall + specificity) / 2 if recall is not None and specificity is not None else None
    return {
        "precision": safe_ratio(tp, tp + fp),
        "recall": recall,
        "accuracy": safe_ratio(tp + tn, len(a)),
        "balanced_accuracy": balanced,
    }
