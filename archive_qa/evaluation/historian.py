"""Question sets in a historian's shape (kind, history, expected titles or ids, should_decline): read, run, scored.

One JSON object a line: `id`, `question`, `kind` (any label: scores are reported per kind), `history` (the
earlier questions of the conversation, oldest first; optional), `expected_titles` and/or `expected_ids` (the
records an answer should draw on, a title naming every record that bears it), `expected_answer` (free text, not
scored) and `should_decline` (true for a question the collection does not cover).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from archive_qa.evaluation import metrics
from archive_qa.evaluation.jsonl import read_rows
from archive_qa.evaluation.questions import QuestionSetError, normalise
from archive_qa.evaluation.runner import RANK_DEPTH, run_ranking, timed_ask

_KEYS = {"id", "question", "kind", "history", "expected_titles", "expected_ids", "expected_answer", "should_decline"}
TOP = (3, 10)


@dataclass(frozen=True, slots=True)
class HistorianQuestion:
    """One question as a historian asked it, with the records (by title or id) that answer it."""

    id: str
    question: str
    kind: str
    should_decline: bool
    history: tuple[str, ...] = ()
    expected_titles: tuple[str, ...] = ()
    expected_ids: tuple[str, ...] = ()
    expected_answer: str = ""


@dataclass(slots=True)
class HistorianOutcome:
    """What the assistant did with one question in one mode: its ranking (ids), the expected ids, its decision."""

    id: str
    kind: str
    should_decline: bool
    expected: list[str]
    ranking: list[str]
    declined: bool
    latency_ms: float
    cited: list[str] = field(default_factory=list)  # the ids the answer cites, in its order
    step: str = "answer"  # the answer's confidence: answer, closest or decline (qa.types.Answer.step)

    @property
    def confident_wrong(self) -> bool:
        """A confident answer whose first cited document is not one expected (any, for a question to decline)."""
        return self.step == "answer" and bool(self.cited) and self.cited[0] not in self.expected

    @property
    def right(self) -> bool:
        """Declined when it should be (or shown only the closest documents, no confident answer); otherwise not
        declined, every expected record cited and none other leading (a question expecting no record: none cited)."""
        if self.should_decline:
            return self.step != "answer"
        if self.step == "decline" or not set(self.expected) <= set(self.cited):
            return False
        return not self.cited or self.cited[0] in self.expected

    def to_dict(self) -> dict:
        return {**asdict(self), "latency_ms": round(self.latency_ms, 2)}


def is_historian_set(path: Path) -> bool:
    """Whether a question file is in the historian's shape (its first question has `kind` or `should_decline`)."""
    for _, row in read_rows(path, QuestionSetError, "the question set"):
        return isinstance(row, dict) and ("should_decline" in row or "kind" in row)
    return False


def load_historian(path: Path) -> list[HistorianQuestion]:
    """Read and check a historian-shaped question set; QuestionSetError names the first bad line."""
    questions, seen = [], set()
    for where, row in read_rows(path, QuestionSetError, "the question set"):
        q = _question(row, where)
        if q.id in seen:
            raise QuestionSetError(f"{where}: id {q.id!r} is used twice")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QuestionSetError(f"{path}: no questions")
    return questions


def _question(row: object, where: str) -> HistorianQuestion:
    """One line's question, each field checked."""
    if not isinstance(row, dict):
        raise QuestionSetError(f"{where}: each line must be a JSON object")
    if unknown := set(row) - _KEYS:
        raise QuestionSetError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("id", "question", "kind"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise QuestionSetError(f"{where}: field {key!r} must be non-empty text")
    if not re.fullmatch(r"[\w.-]+", row["id"]):
        raise QuestionSetError(f"{where}: id {row['id']!r} may hold only letters, digits, '.', '_' and '-'")
    if not isinstance(row.get("should_decline"), bool):
        raise QuestionSetError(f"{where}: field 'should_decline' must be true or false")
    lists = {key: _texts(row, key, where) for key in ("history", "expected_titles", "expected_ids")}
    if row["should_decline"] and (lists["expected_titles"] or lists["expected_ids"]):
        raise QuestionSetError(f"{where}: a question to decline expects no records")
    if not isinstance(row.get("expected_answer", ""), str):
        raise QuestionSetError(f"{where}: field 'expected_answer' must be text")
    return HistorianQuestion(
        row["id"], row["question"], row["kind"], row["should_decline"], **lists,
        expected_answer=row.get("expected_answer", ""),
    )  # fmt: skip


def _texts(row: dict, key: str, where: str) -> tuple[str, ...]:
    """A field that is a list of non-empty strings (absent: empty)."""
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise QuestionSetError(f"{where}: field {key!r} must be a list of non-empty strings")
    return tuple(value)


def expected_ids(question: HistorianQuestion, by_title: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """The record ids a question expects (its ids, and every record of each of its titles), and its titles that no
    record bears."""
    ids = list(question.expected_ids)
    missing = []
    for title in question.expected_titles:
        found = by_title.get(normalise(title))
        if found:
            ids += found
        else:
            missing.append(title)
    return list(dict.fromkeys(ids)), missing


def titles_index(records: Iterable) -> dict[str, list[str]]:
    """Each normalised title of the records, with the ids of the records that bear it."""
    out: dict[str, list[str]] = {}
    for record in records:
        out.setdefault(normalise(record.title), []).append(record.id)
    return out


def capped_recall(ranking: Sequence[str], expected: Sequence[str], k: int) -> float:
    """The share of the expected records in the first k, out of as many as k can hold (min(k, expected))."""
    return len(set(ranking[:k]) & set(expected)) / min(k, len(expected))


def run_historian(assistant, questions: Sequence[HistorianQuestion], modes: Iterable[str]) -> dict:
    """Ask every question once in every mode (its history as the conversation so far); the outcomes per mode, and
    the titles of the set that no record of the index bears."""
    by_title = titles_index(assistant.index.records[p] for p in range(assistant.index.count))
    expected = {q.id: expected_ids(q, by_title) for q in questions}
    modes = list(modes)
    if modes:
        assistant.ask("warm-up question about the collection", mode=modes[0])
    outcomes = {}
    for mode in modes:
        outcomes[mode] = []
        for q in questions:
            answer, ms = timed_ask(assistant, q.question, list(q.history), k=max(assistant.config.k, 3), mode=mode)
            outcomes[mode].append(
                HistorianOutcome(q.id, q.kind, q.should_decline, expected[q.id][0], run_ranking(answer),
                                 bool(answer.abstained), ms, [s.record.id for s in answer.sources], answer.step)
            )  # fmt: skip
    missing = sorted({t for _, titles in expected.values() for t in titles})
    return {"outcomes": outcomes, "missing_titles": missing}


def kind_row(members: Sequence[HistorianOutcome]) -> dict:
    """One kind's figures: questions; over those expecting records, the mean capped recall of the expected records
    in the top 3 and top 10 (`in_top3`, `in_top10`) and the share with all of them in the top 10; declines of the
    questions to decline and of the others; the share answered right and the confident wrong answers
    (`HistorianOutcome.right`, `.confident_wrong`)."""
    judged = [o for o in members if o.expected and not o.should_decline]
    to_decline = [o for o in members if o.should_decline]
    others = [o for o in members if not o.should_decline]
    row: dict = {"questions": len(members), "with_records": len(judged)}
    for k in TOP:
        row[f"in_top{k}"] = _mean([capped_recall(o.ranking, o.expected, k) for o in judged])
    row["all_in_top10"] = _mean([float(set(o.expected) <= set(o.ranking[:RANK_DEPTH])) for o in judged])
    row["declined"] = f"{sum(o.declined for o in to_decline)}/{len(to_decline)}" if to_decline else None
    row["wrongly_declined"] = f"{sum(o.declined for o in others)}/{len(others)}" if others else None
    row["right"] = _mean([float(o.right) for o in members])
    row["confident_wrong"] = sum(o.confident_wrong for o in members)
    return row


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def score_historian(outcomes: Sequence[HistorianOutcome]) -> dict:
    """A mode's figures: per kind (`kind_row`), over all questions, ranking metrics over those expecting records,
    latency and each question that misses an expected record in the top 3 or is declined wrongly."""
    kinds = dict.fromkeys(o.kind for o in outcomes)
    kinds = {kind: kind_row([o for o in outcomes if o.kind == kind]) for kind in kinds}
    judged = [o for o in outcomes if o.expected and not o.should_decline]
    return {
        "kinds": kinds,
        "all": kind_row(outcomes),
        "retrieval": metrics.retrieval_metrics({o.id: o.ranking for o in judged}, {o.id: o.expected for o in judged}),
        "latency": metrics.latency_scores([o.latency_ms for o in outcomes]),
        "problems": {o.id: p for o in outcomes if (p := _problems(o))},
    }


def _problems(o: HistorianOutcome) -> list[str]:
    """What went wrong with one question: expected records outside the top 3 or top 10, a wrong decision."""
    problems = []
    if o.confident_wrong:
        problems.append(f"confident wrong: leads with {o.cited[0]}")
    elif not o.right and o.step != "decline" and not o.should_decline:
        problems.append(f"not right ({o.step}): cites {', '.join(o.cited) or 'nothing'}")
    if o.should_decline != o.declined:
        problems.append("answered a question to decline" if o.should_decline else "declined")
    if o.expected and not o.should_decline:
        outside = [r for r in o.expected if r not in o.ranking[:RANK_DEPTH]]
        if outside:
            problems.append(f"{len(outside)} of {len(o.expected)} expected record(s) not in the top {RANK_DEPTH}")
        elif capped_recall(o.ranking, o.expected, 3) < 1:
            problems.append("an expected record not in the top 3")
    return problems


def evaluate_historian(assistant, questions: Sequence[HistorianQuestion], modes: Sequence[str]) -> dict:
    """Run and score a historian-shaped set: the report as a JSON-ready dict (see eval/README.md)."""
    run = run_historian(assistant, questions, modes)
    return {
        "kind": "historian",
        "config": {"model": assistant.config.model, "records": assistant.index.count},
        "question_count": len(questions),
        "missing_titles": run["missing_titles"],
        "modes": {mode: score_historian(run["outcomes"][mode]) for mode in modes},
        "outcomes": {mode: [o.to_dict() for o in run["outcomes"][mode]] for mode in modes},
    }


FOLDS = 5
THRESHOLD_SCALES = (0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.5, 2.0)  # candidate decline thresholds, times the shipped one


def cross_validate(assistant, questions: Sequence[HistorianQuestion], mode: str) -> list[str]:
    """The decline threshold fitted on folds of a historian set: for each of FOLDS folds, the candidate that answers
    the other folds' questions right most often (fewest confident wrong, then the shipped one, on ties), scored on
    the held-out fold; the lines that report it (the shipped threshold is not changed)."""
    by_title = titles_index(assistant.index.records[p] for p in range(assistant.index.count))
    shipped = assistant.thresholds[mode]
    grid = sorted({round(shipped * s, 4) for s in THRESHOLD_SCALES})
    outcome: dict[tuple[float, str], tuple[bool, bool]] = {}
    try:
        for threshold in grid:
            assistant.thresholds[mode] = threshold
            for q in questions:
                answer = assistant.ask(q.question, list(q.history), mode=mode)
                o = HistorianOutcome(q.id, q.kind, q.should_decline, expected_ids(q, by_title)[0], [],
                                     answer.abstained, 0.0, [s.record.id for s in answer.sources], answer.step)
                outcome[(threshold, q.id)] = (o.right, o.confident_wrong)  # fmt: skip
    finally:
        assistant.thresholds[mode] = shipped
    right = wrong = 0
    chosen = []
    for i in range(FOLDS):
        test = questions[i::FOLDS]
        train = [q for q in questions if q not in test]
        best = max(grid, key=lambda t: (sum(outcome[(t, q.id)][0] for q in train),
                                        -sum(outcome[(t, q.id)][1] for q in train), t == shipped))  # fmt: skip
        chosen.append(best)
        right += sum(outcome[(best, q.id)][0] for q in test)
        wrong += sum(outcome[(best, q.id)][1] for q in test)
    in_sample = sum(outcome[(shipped, q.id)][0] for q in questions)
    return [
        f"{mode}: shipped threshold {shipped}: right {in_sample}/{len(questions)}; {FOLDS}-fold held-out (threshold "
        f"fitted on the other folds: {', '.join(map(str, chosen))}): right {right}/{len(questions)} "
        f"({right / len(questions):.3f}), confident wrong {wrong}"
    ]
