"""Calibrating the abstention thresholds: per mode, the evidence level that best separates the question
set's answerable questions from its unanswerable ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archive_qa.evaluation import metrics
from archive_qa.evaluation.heldout import FOLDS, abstention_score, best_threshold, cross_validate
from archive_qa.evaluation.runner import run_questions
from archive_qa.evaluation.tables import text_table

__all__ = ["Calibration", "best_threshold", "calibrate", "calibrate_thresholds", "cross_validate", "write_thresholds"]


@dataclass(frozen=True, slots=True)
class Calibration:
    """A threshold (answer when evidence >= it) and how well it separates the classes on the set."""

    threshold: float
    score: float  # heldout.abstention_score: the lesser of abstention precision and recall
    loo_score: float
    gap: float


def calibrate(evidence: Sequence[float], answerable: Sequence[bool]) -> Calibration:
    """The best threshold, with a leave-one-out estimate of its score on unseen questions."""
    threshold, score, gap = best_threshold(evidence, answerable)
    predictions = []
    for i in range(len(evidence)):
        rest_e = [e for j, e in enumerate(evidence) if j != i]
        rest_a = [a for j, a in enumerate(answerable) if j != i]
        t = best_threshold(rest_e, rest_a)[0] if rest_e else threshold
        predictions.append(evidence[i] < t)
    return Calibration(threshold, score, abstention_score(predictions, answerable), gap)


def write_thresholds(thresholds: dict[str, float], path: Path) -> None:
    """Store thresholds in qa/data/abstention.json, keeping its "about" text and other modes' values."""
    current = json.loads(path.read_text(encoding="utf-8"))
    current["thresholds"] = {**current.get("thresholds", {}), **{m: round(t, 4) for m, t in thresholds.items()}}
    data = {"about": current.get("about", ""), "thresholds": current["thresholds"]}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def calibrate_thresholds(assistant, questions, modes: Sequence[str]) -> tuple[dict[str, float], list[str]]:
    """Per mode, the threshold fitted on the dev split's questions decided by their evidence, with a table,
    the cross-validated abstention over all questions and the abstention the new threshold gives."""
    before = dict(assistant.thresholds)
    results = run_questions(assistant, questions, modes)
    chosen: dict[str, float] = {}
    rows = []
    for mode in modes:
        fit = [o for o in results[mode] if o.split == "dev" and o.decided_by == "evidence"]
        cal = calibrate([o.evidence for o in fit], [o.answerable for o in fit])
        chosen[mode] = cal.threshold
        held = cross_validate(results[mode])
        rows.append([mode, before[mode], round(cal.threshold, 4), cal.score, cal.loo_score,
                     held["abstention_precision"], held["abstention_recall"]])
    header = ["mode", "old threshold", "new threshold", "min(precision, recall) (dev)", "leave-one-out",
              f"{FOLDS}-fold abstention precision", f"{FOLDS}-fold abstention recall"]
    lines = text_table(header, rows)
    assistant.thresholds.update(chosen)
    check = run_questions(assistant, questions, modes)
    for mode in modes:
        scores = metrics.abstention_scores([o.abstained for o in check[mode]], [o.answerable for o in check[mode]])
        shown = ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} —" for k, v in scores.items())
        lines.append(f"{mode} with the new threshold: abstention {shown}")
    return chosen, lines
