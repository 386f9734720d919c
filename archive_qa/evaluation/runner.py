"""Running a question set through the public API (`Assistant.ask`) and scoring what comes back."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from archive_qa.evaluation import metrics
from archive_qa.evaluation.heldout import cross_validate
from archive_qa.evaluation.questions import FORM_CATEGORIES, LOOKUP_CATEGORIES, Question

RANK_DEPTH = 10


@dataclass(slots=True)
class Outcome:
    """What the assistant did with one question in one mode."""

    id: str
    category: str
    answerable: bool
    resolved_question: str
    ranking: list[str]
    abstained: bool
    evidence: float
    threshold: float
    cited: list[str]
    text: str
    latency_ms: float
    keywords_missing: list[str] = field(default_factory=list)
    notice: str | None = None
    error: str | None = None
    form: str = "lookup"
    decided_by: str = ""
    split: str = "dev"
    cited_years: list[str] = field(default_factory=list)  # the years of the cited records that are relevant
    relevant_years: list[str] = field(default_factory=list)  # the years of the relevant records
    written: dict | None = None  # with --write: sentences proposed and kept, why it fell back, the writing's time

    def to_dict(self) -> dict:
        d = asdict(self)
        d["evidence"] = round(self.evidence, 4)
        d["latency_ms"] = round(self.latency_ms, 2)
        return d


def _filters(question: Question):
    from qa.types import Filters

    return Filters(**question.filters) if question.filters else None


def run_questions(
    assistant, questions: Sequence[Question], modes: Iterable[str], *, k: int | None = None
) -> dict[str, list[Outcome]]:
    """Ask every question once in every mode; a follow-up is asked with its predecessor's answer as history.

    The answer is scored as it is, and the ranking it was built from (its first RANK_DEPTH records) as the run.
    """
    modes = list(modes)
    if modes:
        assistant.ask("warm-up question about the collection", mode=modes[0])
    return {mode: _run_mode(assistant, questions, mode, k) for mode in modes}


def _run_mode(assistant, questions: Sequence[Question], mode: str, k: int | None) -> list[Outcome]:
    answers: dict[str, object] = {}
    outcomes: list[Outcome] = []
    for q in questions:
        history = [answers[q.follows]] if q.follows else []
        answer, latency_ms = timed_ask(assistant, q.question, history, _filters(q), k=k, mode=mode)
        answers[q.id] = answer
        outcome = _outcome(q, answer, float(assistant.thresholds[mode]), latency_ms)
        outcome.relevant_years = sorted(_years(assistant, q.relevant))
        outcome.cited_years = sorted(_years(assistant, set(outcome.cited) & set(q.relevant)))
        outcomes.append(outcome)
    return outcomes


def _years(assistant, ids) -> set[str]:
    """The years of the records with these ids (undated ones have none)."""
    records = assistant.index.records
    found = (records[p] for i in ids if (p := records.position(i)) is not None)
    return {r.date[:4] for r in found if r.date}


def timed_ask(assistant, question: str, *args, **kwargs) -> tuple:
    """The answer to one question and its latency in ms: the assistant's own total, else the wall-clock time."""
    started = time.perf_counter()
    answer = assistant.ask(question, *args, **kwargs)
    return answer, float(answer.timings.get("total_ms", (time.perf_counter() - started) * 1000))


def run_ranking(answer) -> list[str]:
    """The ranking an answer was built from, as a run to score: its first RANK_DEPTH record ids."""
    return [record_id for record_id, _ in answer.ranking[:RANK_DEPTH]]


def _outcome(q: Question, answer, threshold: float, latency_ms: float) -> Outcome:
    """What one answer is scored on."""
    hits = q.keyword_hits(answer.text) if not answer.abstained else [False] * len(q.answer_contains)
    return Outcome(
        id=q.id,
        category=q.category,
        answerable=q.answerable,
        resolved_question=answer.resolved_question,
        ranking=run_ranking(answer),
        abstained=bool(answer.abstained),
        evidence=float(answer.evidence),
        threshold=threshold,
        cited=[s.record.id for s in answer.sources],
        text=answer.text,
        latency_ms=latency_ms,
        keywords_missing=[p for p, hit in zip(q.answer_contains, hits, strict=True) if not hit],
        notice=answer.notice,
        error=answer.error,
        form=answer.form,
        decided_by=answer.decided_by,
        split=q.split,
        written=_written(answer),
    )


def _written(answer) -> dict | None:
    """What writing did with an answer (None when it was not asked for)."""
    w = getattr(answer, "written", None)
    if w is None:
        return None
    kept = len(w.sentences) if w.shown else 0
    return {"kind": answer.kind, "sent": not (answer.abstained or answer.error), "proposed": w.proposed, "kept": kept,
            "fallback": w.fallback, "latency_ms": round(w.latency_ms, 2)}


class Writing:
    """An assistant whose answers a model server writes, each sentence checked (`archive-qa eval --write`)."""

    def __init__(self, assistant, writer) -> None:
        self.inner, self.writer = assistant, writer
        self.config, self.index, self.thresholds = assistant.config, assistant.index, assistant.thresholds

    def ask(self, question, history=(), filters=None, *, k=None, mode=None):
        return self.writer.write(self.inner.ask(question, history, filters, k=k, mode=mode), stream=False)


def written_scores(outcomes: Sequence[Outcome]) -> dict:
    """Per answer form and in all, over the answers sent to the model (an abstention is not): how many, the share
    shown written, the share of the model's sentences kept, the answers that fell back to quotations (and why, most
    common first), the writing's latency."""
    asked = [o for o in outcomes if o.written is not None and o.written["sent"]]

    def row(members: Sequence[Outcome]) -> dict:
        proposed = sum(o.written["proposed"] for o in members)
        fell_back = [o.written["fallback"] for o in members if o.written["kind"] != "written"]
        return {
            "answers": len(members),
            "written_share": metrics.safe_ratio(len(members) - len(fell_back), len(members)),
            "sentences_kept": metrics.safe_ratio(sum(o.written["kept"] for o in members), proposed),
            "fallbacks": len(fell_back),
            "fallback_reasons": dict(Counter(_reason_kind(r) for r in fell_back).most_common()),
            **metrics.latency_scores([o.written["latency_ms"] for o in members]),
        }

    forms = {form: row([o for o in asked if o.form == form]) for form in dict.fromkeys(o.form for o in asked)}
    return {"all": row(asked), **forms} if asked else {}


def _reason_kind(reason: str) -> str:
    """A fallback's reason without its particulars (numbers, the server's words in brackets)."""
    return re.sub(r"\d+(?:\.\d+)?", "N", reason.split(" (")[0])


def score_mode(outcomes: Sequence[Outcome], questions: Sequence[Question], k: int) -> dict:
    """Retrieval, answer, per-kind and per-category metrics of one mode, held-out abstention, each question's problems.

    Retrieval is scored over the look-up questions (the answerable ones of LOOKUP_CATEGORIES): a list, period,
    change or who-is answer is scored by what it lists (`kinds`), not by its ranking.
    """
    by_id = {q.id: q for q in questions}
    lookup = [o for o in outcomes if o.answerable and o.category in LOOKUP_CATEGORIES]
    test = [o for o in outcomes if o.split == "test"]
    return {
        "retrieval": _retrieval(lookup, by_id),
        "answers": _answer_scores(outcomes, by_id),
        "kinds": _kinds(outcomes, by_id),
        "held_out": {
            "cross_validated": cross_validate(outcomes),
            "test_split": {
                "questions": len(test),
                **_abstention(test),
                "kinds": _kinds(test, by_id),
            },
        },
        "categories": {
            category: _category_scores([o for o in outcomes if o.category == category], by_id)
            for category in dict.fromkeys(o.category for o in outcomes)
        },
        "problems": {o.id: p for o in outcomes if (p := diagnose(o, by_id[o.id], k))},
        **({"written": written_scores(outcomes)} if any(o.written is not None for o in outcomes) else {}),
    }


def _kinds(outcomes: Sequence[Outcome], by_id: dict[str, Question]) -> dict:
    """Each answer form's figures (`kind_scores`) over the outcomes of its category."""
    return {kind: kind_scores([o for o in outcomes if o.category == kind], by_id) for kind in FORM_CATEGORIES}


def _abstention(outcomes: Sequence[Outcome]) -> dict:
    """Abstention precision and recall of some outcomes, as reported."""
    scores = metrics.abstention_scores([o.abstained for o in outcomes], [o.answerable for o in outcomes])
    return {"abstention_precision": scores["precision"], "abstention_recall": scores["recall"]}


def listed_scores(o: Outcome, q: Question) -> tuple[float, float]:
    """Recall and precision of the documents an answer cites against the question's relevant ones (0, 0 if none)."""
    cited, relevant = set(o.cited), set(q.relevant)
    if o.abstained or not cited:
        return 0.0, 0.0
    hit = len(cited & relevant)
    return hit / len(relevant), hit / len(cited)


def kind_scores(members: Sequence[Outcome], by_id: dict[str, Question]) -> dict:
    """A kind's figures over its answerable questions: the share answered in its form; for list and period the
    recall and precision of the listed documents; for change the share of the relevant years covered and the
    precision; for who-is the share whose answer holds the expected name."""
    judged = [o for o in members if o.answerable]
    row: dict = {"questions": len(judged)}
    if not judged:
        return row
    row["form_accuracy"] = sum(o.form == o.category for o in judged) / len(judged)
    pairs = [listed_scores(o, by_id[o.id]) for o in judged]
    if judged[0].category == "change":
        row["period_recall"] = sum(_years_covered(o) for o in judged) / len(judged)
    elif judged[0].category != "who":
        row["document_recall"] = sum(r for r, _ in pairs) / len(pairs)
    if judged[0].category == "who":
        row["name_hit_rate"] = _keyword_hit_rate(judged, by_id)
    else:
        row["document_precision"] = sum(p for _, p in pairs) / len(pairs)
    return row


def _years_covered(o: Outcome) -> float:
    """The share of the relevant records' years that the answer's cited relevant records cover."""
    wanted = set(o.relevant_years)
    return len(wanted & set(o.cited_years)) / len(wanted) if wanted and not o.abstained else 0.0


def _retrieval(answerable: Sequence[Outcome], by_id: dict[str, Question]) -> dict[str, float]:
    """Ranking metrics over answerable questions: each outcome's ranking against its question's relevant records."""
    return metrics.retrieval_metrics(
        {o.id: o.ranking for o in answerable}, {o.id: by_id[o.id].relevant for o in answerable}
    )


def _keyword_hit_rate(answerable: Sequence[Outcome], by_id: dict[str, Question]) -> float | None:
    """The mean share of required phrases found, over answerable questions that require some."""
    rates = [
        1 - len(o.keywords_missing) / len(by_id[o.id].answer_contains)
        for o in answerable
        if by_id[o.id].answer_contains
    ]
    return sum(rates) / len(rates) if rates else None


def _answer_scores(outcomes: Sequence[Outcome], by_id: dict[str, Question]) -> dict:
    """Abstention, citation precision, keyword hit rate and latency of one mode."""
    abstention = metrics.abstention_scores([o.abstained for o in outcomes], [o.answerable for o in outcomes])
    answerable = [o for o in outcomes if o.answerable]
    answered = [o for o in answerable if not o.abstained and o.cited]
    citation = [len(set(o.cited) & set(by_id[o.id].relevant)) / len(o.cited) for o in answered]
    latencies = [o.latency_ms for o in outcomes if o.error is None]
    return {
        "abstention_precision": abstention["precision"],
        "abstention_recall": abstention["recall"],
        "abstention_accuracy": abstention["accuracy"],
        "abstention_balanced_accuracy": abstention["balanced_accuracy"],
        "citation_precision": sum(citation) / len(citation) if citation else None,
        "keyword_hit_rate": _keyword_hit_rate(answerable, by_id),
        "answered_answerable": len(answered),
        **metrics.latency_scores(latencies),
    }


def _category_scores(members: Sequence[Outcome], by_id: dict[str, Question]) -> dict:
    """Recall@5, MRR@10 and keyword hit rate (over its answerable questions) and abstention accuracy of a category."""
    judged = [o for o in members if o.answerable]
    row: dict = {"questions": len(members)}
    if judged:
        scores = _retrieval(judged, by_id)
        row.update({"recall@5": scores["recall@5"], "mrr@10": scores["mrr@10"]})
        row["keyword_hit_rate"] = _keyword_hit_rate(judged, by_id)
    row["abstention_accuracy"] = sum(o.abstained != o.answerable for o in members) / len(members)
    return row


def diagnose(o: Outcome, q: Question, k: int) -> list[str]:
    """What went wrong with one question, each labelled: retrieval, abstention or composition (failures),
    or ranking (a relevant record in the top k but not first: lowers MRR, not a failure)."""
    if o.error:
        return [f"error: {o.error}"]
    problems: list[str] = []
    if not q.answerable:
        if not o.abstained:
            problems.append(
                f"abstention: answered an unanswerable question (evidence {o.evidence:.3f} >= {o.threshold})"
            )
        return problems
    if q.category in FORM_CATEGORIES:
        return _form_problems(o, q)
    relevant = set(q.relevant)
    rank = metrics.first_relevant_rank(o.ranking, relevant)
    missing_top = [r for r in q.relevant if r not in o.ranking[:k]]
    if rank is None:
        problems.append(f"retrieval: no relevant record in the top {RANK_DEPTH}")
    elif missing_top:
        problems.append(f"retrieval: {len(missing_top)} of {len(relevant)} relevant record(s) not in the top {k}")
    elif rank > 1:
        problems.append(f"ranking: first relevant record at rank {rank}")
    if o.abstained:
        problems.append(f"abstention: abstained on an answerable question (evidence {o.evidence:.3f} < {o.threshold})")
        return problems
    wrong = [c for c in o.cited if c not in relevant]
    where = "retrieval" if rank is None else "composition"
    if wrong:
        problems.append(f"{where}: cites {len(wrong)} record(s) that are not relevant")
    if o.keywords_missing:
        problems.append(f"{where}: answer lacks {', '.join(repr(w) for w in o.keywords_missing)}")
    return problems


def _form_problems(o: Outcome, q: Question) -> list[str]:
    """What went wrong with a list, period, change or who-is question: its form, what it lists, its words."""
    problems = []
    if o.form != q.category:
        problems.append(f"form: answered as {o.form}, not {q.category}")
    if o.abstained:
        why = f"{o.decided_by}, evidence {o.evidence:.3f}"
        return problems + [f"abstention: abstained on an answerable question ({why})"]
    missing = [r for r in q.relevant if r not in o.cited]
    extra = [c for c in o.cited if c not in q.relevant]
    if q.category in ("list", "period") and missing:
        problems.append(f"listing: misses {len(missing)} of {len(q.relevant)} relevant record(s)")
    if q.category == "change" and _years_covered(o) < 1:
        problems.append(f"listing: covers {o.cited_years} of the years {o.relevant_years}")
    if q.category != "who" and extra:
        problems.append(f"listing: cites {len(extra)} record(s) that are not relevant")
    if o.keywords_missing:
        problems.append(f"composition: answer lacks {', '.join(repr(w) for w in o.keywords_missing)}")
    return problems


def is_failure(problems: Sequence[str]) -> bool:
    """Whether a question's problems include more than a lower ranking."""
    return any(not p.startswith("ranking:") for p in problems)


def evaluate(assistant, questions: Sequence[Question], modes: Sequence[str], *, k: int | None = None) -> dict:
    """Run and score a question set: the report as a JSON-ready dict (see eval/README.md)."""
    k = k or assistant.config.k
    results = run_questions(assistant, questions, modes, k=k)
    return {
        "kind": "questions",
        "config": {
            "model": assistant.config.model,
            "k": k,
            "records": assistant.index.count,
            "thresholds": {m: assistant.thresholds[m] for m in modes},
        },
        "question_count": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "modes": {mode: score_mode(results[mode], questions, k) for mode in modes},
        "outcomes": {mode: [o.to_dict() for o in results[mode]] for mode in modes},
    }
