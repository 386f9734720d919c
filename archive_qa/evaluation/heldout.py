"""Held-out figures for the abstention threshold: the best threshold on a set, and k-fold cross-validation."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from archive_qa.evaluation import metrics

FOLDS = 5


def abstention_score(abstained: Sequence[bool], answerable: Sequence[bool]) -> float:
    """What a threshold is fitted for: the lesser of abstention precision and recall (0 when either is undefined).

    The bar is on both (no false "not covered", no unanswerable question answered). Balanced accuracy, the mean
    of the two classes' recalls, weighs each unanswerable question by the inverse of their number: with few of
    them, catching one is worth declining several answerable questions, which lowers precision.
    """
    scores = metrics.abstention_scores(abstained, answerable)
    return min(scores["precision"] or 0.0, scores["recall"] or 0.0)


def best_threshold(evidence: Sequence[float], answerable: Sequence[bool]) -> tuple[float, float, float]:
    """The threshold with the best `abstention_score`, as (threshold, score, gap).

    Candidates are the midpoints between consecutive distinct evidence values (and a step beyond
    each end); among equally good ones the widest gap between the classes wins, so the threshold
    sits in the middle of the largest margin.
    """
    values = sorted(set(float(e) for e in evidence))
    if not values:
        raise ValueError("no evidence values to calibrate on")
    candidates = [(values[0] - 0.01, 0.0), (values[-1] + 0.01, 0.0)]
    candidates += [((a + b) / 2, b - a) for a, b in zip(values, values[1:], strict=False)]
    scored = [(abstention_score([e < t for e in evidence], answerable), gap, -t, t) for t, gap in candidates]
    score, gap, _, threshold = max(scored)
    return threshold, score, gap


def fold_of(question_id: str, folds: int = FOLDS) -> int:
    """A question's fold, fixed by its id (the same on every run and machine)."""
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % folds


def cross_validate(outcomes, folds: int = FOLDS) -> dict:
    """Abstention on questions the threshold was not fitted on: k-fold, by question id.

    Only a question decided by its evidence depends on the threshold (one decided by its names or words does
    not): for each fold, the threshold is fitted on the other folds' evidence-decided questions and applied to
    this fold's; the others keep their decision. Returns precision, recall and balanced accuracy over all
    questions, and each fold's threshold.
    """
    predictions, thresholds = [], []
    for fold in range(folds):
        train = [o for o in outcomes if fold_of(o.id, folds) != fold and o.decided_by == "evidence"]
        threshold = best_threshold([o.evidence for o in train], [o.answerable for o in train])[0] if train else 0.0
        thresholds.append(round(threshold, 4))
        for o in outcomes:
            if fold_of(o.id, folds) == fold:
                predictions.append((o, o.evidence < threshold if o.decided_by == "evidence" else o.abstained))
    scores = metrics.abstention_scores([p for _, p in predictions], [o.answerable for o, _ in predictions])
    return {
        "folds": folds,
        "abstention_precision": scores["precision"],
        "abstention_recall": scores["recall"],
        "abstention_balanced_accuracy": scores["balanced_accuracy"],
        "thresholds": thresholds,
    }
