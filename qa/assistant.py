"""The assistant: a question (and the conversation so far) in, a cited answer or an honest abstention out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.answer import (
    Answer,
    AnswerSentence,
    AppliedFilter,
    Candidate,
    Source,
    choose,
    context_for,
    render,
    split_sentences,
    trim,
)
from qa.config import MAX_K, MODES, Config
from qa.dates import DateRange, find_date_range, strip_dates
from qa.errors import QuestionError
from qa.index import ArchiveIndex, DateFilter, Hit, Query
from qa.records import DateError, date_bounds, parse_date

MAX_QUESTION_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
RANKING_DEPTH = 10  # an answer keeps the ranking to this depth (or k, if larger) for evaluation
THRESHOLDS_FILE = Path(__file__).parent / "data" / "abstention.json"
_FOLLOW_UP = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+|^\s*what\s+of\s+|^\s*and\s+(?:in\s+|for\s+)?|^\s*(?:same|also)\s+for\s+",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Filters:
    """Filters chosen by the user: a date range (ISO of any precision), and whether to read dates in questions."""

    date_from: str | None = None
    date_to: str | None = None
    include_undated: bool = False
    infer_dates: bool = True

    def __post_init__(self) -> None:
        """Dates are read as the archive writes them or in ISO, and kept in ISO; QuestionError names a bad one."""
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, iso_date(name, value))


def iso_date(name: str, value: object) -> str:
    """A date as the archive writes it or in ISO, as ISO; QuestionError naming `name` when it is not one."""
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except DateError:
        parsed = None
    if parsed is None:
        raise QuestionError(f"{name}: {value!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    return parsed[0]


def load_thresholds() -> dict[str, float]:
    """Evidence below which each mode abstains (calibrated on the eval set; see eval/README.md)."""
    return {k: float(v) for k, v in json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))["thresholds"].items()}


def resolve_follow_up(question: str, history: Sequence[str | Answer]) -> str:
    """A follow-up read against the previous question.

    The rule: a question that starts with "and", "what about", "how about", "what of", "same for" or
    "also for", or that is nothing but a date, continues the previous one. If it brings a date, that
    date replaces the previous question's; any other words it brings are added to the previous question.
    Anything else is a new question.
    """
    if not history:
        return question
    last = history[-1]
    previous = last.resolved_question if isinstance(last, Answer) else str(last)
    stripped = question.strip().rstrip("?").strip()
    rest = _FOLLOW_UP.sub("", stripped, count=1)
    only_date = find_date_range(stripped) is not None and not strip_dates(stripped).strip(" ,.")
    if rest == stripped and not only_date:
        return question
    new_date = find_date_range(rest)
    base = strip_dates(previous).rstrip("?").strip() if new_date else previous.rstrip("?").strip()
    if new_date and re.fullmatch(r"\d{4}", new_date.phrase):
        rest = rest.replace(new_date.phrase, f"in {new_date.phrase}", 1)
    return f"{base} {rest}".strip()


class Assistant:
    """Answers questions from one index; `ask` is safe to call from many threads at once."""

    def __init__(self, config: Config | None = None, *, index: ArchiveIndex | None = None, embedder=None) -> None:
        self.config = config or Config.from_env()
        self.index = index or ArchiveIndex.load(self.config)
        self._embedder = embedder
        self.thresholds = load_thresholds()

    @property
    def embedder(self):
        """The index's model, loaded on first use and checked against the index."""
        if self._embedder is None:
            from qa.build import default_embedder

            self._embedder = default_embedder(self.config)
        self.index.check_embedder(self._embedder)
        return self._embedder

    def warm_up(self) -> None:
        """Load the model and run one question, so the first user's question is as fast as the rest."""
        self.ask("warm-up question about the collection")

    def ask(
        self,
        question: str,
        history: Sequence[str | Answer] = (),
        filters: Filters | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
    ) -> Answer:
        started = time.perf_counter()
        mode = mode or self.config.mode
        k = self.config.k if k is None else k
        if mode not in MODES:
            raise QuestionError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise QuestionError(f"k: {k!r} must be a whole number from 1 to {MAX_K}")
        error = _check_question(question)
        if not error:
            question = _SURROGATE.sub("\ufffd", question)  # a lone surrogate (broken input) cannot be encoded
        if error:
            return Answer(question, question, error=error, abstained=True, mode=mode)
        resolved = resolve_follow_up(question, history)
        filters = filters or Filters()
        date_filter, applied = _date_filter(resolved, filters)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        query = self.index.query(resolved, self.embedder if mode != "bm25" else None, mode)
        timings["encode_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        depth = max(k, RANKING_DEPTH)
        ranking = self.index.search(query, depth, mode, date_filter)
        evidence = _evidence(ranking, mode)
        notice = None
        if date_filter is not None:
            # The matches from any date are looked at whatever the threshold, so that the evidence an
            # answer reports (the better of the two) does not depend on the threshold it is compared with.
            wider = self.index.search(query, depth, mode, None)
            wider_evidence = _evidence(wider, mode)
            if (evidence < self.thresholds[mode] <= wider_evidence) or not ranking:
                notice = f"No document {applied.span} answers this question; showing the best matches from any date."
                ranking = wider
            evidence = max(evidence, wider_evidence)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        answer = self._compose(question, resolved, ranking[:k], query, evidence, mode)
        answer.ranking = [(h.id, h.score) for h in ranking]
        answer.applied_filter = applied
        answer.notice = notice
        timings["compose_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer.timings = timings
        return answer

    def _compose(
        self, question: str, resolved: str, hits: list[Hit], query: Query, evidence: float, mode: str
    ) -> Answer:
        records = [self.index.records[h.position] for h in hits]
        answer = Answer(question, resolved, evidence=evidence, mode=mode)
        if not hits or evidence < self.thresholds[mode]:
            answer.abstained = True
            answer.text = "The collection does not seem to cover this question. The closest documents are listed below."
            answer.related = [
                Source(i + 1, r, h.score, h.similarity, False)
                for i, (r, h) in enumerate(zip(records, hits, strict=True))
            ]
            return answer
        tokens, w = query.tokens, self.config.answer_weights
        top = max(h.score for h in hits)
        candidates = []
        for rank, (record, hit) in enumerate(zip(records, hits, strict=True)):
            title_tokens = frozenset(self.index.analyzer.tokens(record.title))
            strength = _strength(hit, mode)
            for position, sentence in enumerate(split_sentences(record.summary) or ()):
                sentence_tokens = frozenset(self.index.analyzer.tokens(sentence))
                score = (
                    w.sentence_and_title * self.index.coverage(tokens, sentence_tokens | title_tokens)
                    + w.sentence * self.index.coverage(tokens, sentence_tokens)
                    + w.retrieval * hit.score / top
                    + w.similarity * max(hit.similarity, 0.0)
                    + (w.first_sentence if position == 0 else 0.0)
                )
                candidates.append(Candidate(rank, position, sentence, score, sentence_tokens, title_tokens, strength))
        chosen = choose(candidates, set(tokens))
        numbers: dict[int, int] = {}
        for c in chosen:
            numbers.setdefault(c.record_rank, len(numbers) + 1)
        answer.sentences = [
            AnswerSentence(
                trim(c.text), numbers[c.record_rank], records[c.record_rank].id, context_for(records[c.record_rank])
            )
            for c in chosen
        ]
        answer.text = render(answer.sentences)
        answer.sources = [
            Source(n, records[rank], hits[rank].score, hits[rank].similarity, True)
            for rank, n in sorted(numbers.items(), key=lambda item: item[1])
        ]
        others = [i for i in range(len(hits)) if i not in numbers]
        answer.related = [
            Source(len(numbers) + j + 1, records[i], hits[i].score, hits[i].similarity, False)
            for j, i in enumerate(others)
        ]
        if not answer.sentences:
            answer.text = "The closest documents have no summary to quote; they are listed below."
            answer.abstained = True
        return answer


def _check_question(question: str) -> str | None:
    if not isinstance(question, str) or not question.strip():
        return "Please type a question."
    if len(question) > MAX_QUESTION_CHARS:
        return f"The question is {len(question)} characters long; please keep it under {MAX_QUESTION_CHARS}."
    return None


def _date_filter(question: str, filters: Filters) -> tuple[DateFilter | None, AppliedFilter | None]:
    """The user's explicit date range, else one read from the question (which keeps undated records)."""
    if filters.date_from or filters.date_to:
        start = date_bounds(filters.date_from)
        end = date_bounds(filters.date_to)
        rng = DateRange(start[0] if start else None, end[1] if end else None)
        source, keep = "filters", filters.include_undated
    elif filters.infer_dates and (found := find_date_range(question)):
        rng, source, keep = found, "question", True
    else:
        return None, None
    span = rng.describe()
    description = f"showing documents {span}" + (" (and undated ones)" if keep else "")
    return DateFilter(rng.start, rng.end, keep), AppliedFilter(
        description, source, span, rng.start, rng.end, keep, rng.phrase
    )


def _strength(hit: Hit, mode: str) -> float:
    """How strongly one record supports an answer: similarity (dense), coverage (bm25) or their mean."""
    if mode == "dense":
        return hit.similarity
    if mode == "bm25":
        return hit.coverage
    return (hit.similarity + hit.coverage) / 2


def _evidence(hits: list[Hit], mode: str) -> float:
    """How strongly the best records support an answer: the strongest of the top three."""
    return max((_strength(h, mode) for h in hits[:3]), default=0.0)
