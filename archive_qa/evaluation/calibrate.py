"""Calibrating the abstention thresholds: per mode, the evidence level that best separates the question
set's answerable questions from its unanswerable ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archive_qa.evaluation import metrics
from archive_qa.evaluation.runner import run_questions
from archive_qa.evaluation.tables import text_table


@dataclass(frozen=True, slots=True)
class Calibration:
    """A threshold (answer when evidence >= it) and how well it separates the classes on the set."""

    threshold: float
    balanced_accuracy: float
    loo_balanced_accuracy: float
    gap: float


def _balanced_accuracy(evidence: Sequence[float], answerable: Sequence[bool], threshold: float) -> float:
    abstained = [e < threshold for e in evidence]
    return metrics.abstention_scores(abstained, answerable)["balanced_accuracy"] or 0.0


def best_threshold(evidence: Sequence[float], answerable: Sequence[bool]) -> tuple[float, float, float]:
    """The threshold with the best balanced accuracy, as (threshold, balanced accuracy, gap).

    Candidates are the midpoints between consecutive distinct evidence values (and a step beyond
    each end); among equally good ones the widest gap between the classes wins, so the threshold
    sits in the middle of the largest margin.
    """
    values = sorted(set(float(e) for e in evidence))
    if not values:
        raise ValueError("no evidence values to calibrate on")
    candidates = [(values[0] - 0.01, 0.0), (values[-1] + 0.01, 0.0)]
    candidates += [((a + b) / 2, b - a) for a, b in zip(values, values[1:], strict=False)]
    scored = [(_balanced_accuracy(evidence, answerable, t), gap, -t, t) for t, gap in candidates]
    accuracy, gap, _, threshold = max(scored)
    return threshold, accuracy, gap


def calibrate(evidence: Sequence[float], answerable: Sequence[bool]) -> Calibration:
    """The best threshold, with a leave-one-out estimate of its balanced accuracy on unseen questions."""
    threshold, accuracy, gap = best_threshold(evidence, answerable)
    predictions = []
    for i in range(len(evidence)):
        rest_e = [e for j, e in enumerate(evidence) if j != i]
        rest_a = [a for j, a in enumerate(answerable) if j != i]
        t = best_threshold(rest_e, rest_a)[0] if rest_e else threshold
        predictions.append(evidence[i] < t)
    loo = metrics.abstention_scores(predictions, answerable)["balanced_accuracy"] or 0.0
    return Calibration(threshold, accuracy, loo, gap)


def write_thresholds(thresholds: dict[str, float], path: Path) -> None:
    """Store thresholds in qa/data/abstention.json, keeping its "about" text and other modes' values."""
    current = json.loads(path.read_text(encoding="utf-8"))
    current["thresholds"] = {**current.get("thresholds", {}), **{m: round(t, 4) for m, t in thresholds.items()}}
    data = {"about": current.get("about", ""), "thresholds": current["thresholds"]}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def calibrate_thresholds(assistant, questions, modes: Sequence[str]) -> tuple[dict[str, float], list[str]]:
    """Per mode, the threshold calibrated on the question set, with a table and the abstention it then gives."""
    before = dict(assistant.thresholds)
    results = run_questions(assistant, questions, modes)
    chosen: dict[str, float] = {}
    rows = []
    for mode in modes:
        outcomes = results[mode]
        cal = calibrate([o.evidence for o in outcomes], [o.answerable for o in outcomes])
        chosen[mode] = cal.threshold
        rows.append([mode, before[mode], round(cal.threshold, 4), cal.balanced_accuracy, cal.loo_balanced_accuracy])
    header = ["mode", "old threshold", "new threshold", "balanced accuracy", "leave-one-out balanced accuracy"]
    lines = text_table(header, rows)
    assistant.thresholds.update(chosen)
    check = run_questions(assistant, questions, modes)
    for mode in modes:
        scores = metrics.abstention_scores([o.abstained for o in check[mode]], [o.answerable for o in check[mode]])
        shown = ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} —" for k, v in scores.items())
        lines.append(f"{mode} with the new threshold: abstention {shown}")
    return chosen, lines
