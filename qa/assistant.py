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
from qa.config import MODES, Config
from qa.dates import DateRange, find_date_range, strip_dates
from qa.index import ArchiveIndex, DateFilter, IndexProblem
from qa.records import date_bounds
from qa.retriever import Hit, Retriever

MAX_QUESTION_CHARS = 2000
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
        self.retriever = Retriever(self.index)
        self.thresholds = load_thresholds()

    @property
    def embedder(self):
        if self._embedder is None:
            from embeddings.model import Embedder

            self._embedder = Embedder(self.config.model)
        if self._embedder.dim != self.index.manifest["dim"]:
            raise IndexProblem(
                f"the model gives {self._embedder.dim}-dimensional vectors, the index holds "
                f"{self.index.manifest['dim']}: run `archive-qa index --force`"
            )
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
        k = k or self.config.k
        if mode not in MODES:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        error = _check_question(question)
        if error:
            return Answer(question, question, error=error, abstained=True, mode=mode)
        resolved = resolve_follow_up(question, history)
        filters = filters or Filters()
        date_filter, applied = _date_filter(resolved, filters)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        vector = self.embedder.encode_query(resolved) if mode != "bm25" else None
        tokens = self.index.analyzer.tokens(resolved)
        timings["encode_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        hits = self.retriever.retrieve(vector, tokens, k, mode, date_filter)
        evidence = _evidence(hits, mode)
        notice = None
        if date_filter is not None:
            # The matches from any date are looked at whatever the threshold, so that the evidence an
            # answer reports (the better of the two) does not depend on the threshold it is compared with.
            wider = self.retriever.retrieve(vector, tokens, k, mode, None)
            wider_evidence = _evidence(wider, mode)
            if (evidence < self.thresholds[mode] <= wider_evidence) or not hits:
                notice = f"No document {applied.span} answers this question; showing the best matches from any date."
                hits = wider
            evidence = max(evidence, wider_evidence)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        answer = self._compose(question, resolved, hits, tokens, evidence, mode)
        answer.applied_filter = applied
        answer.notice = notice
        timings["compose_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer.timings = timings
        return answer

    def _compose(
        self, question: str, resolved: str, hits: list[Hit], tokens: list[str], evidence: float, mode: str
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
        question_tokens = set(tokens)
        top = max(h.score for h in hits)
        candidates = []
        for rank, (record, hit) in enumerate(zip(records, hits, strict=True)):
            title_tokens = frozenset(self.index.analyzer.tokens(record.title))
            strength = _strength(hit, mode)
            for position, sentence in enumerate(split_sentences(record.summary) or ()):
                sentence_tokens = frozenset(self.index.analyzer.tokens(sentence))
                score = (
                    0.35 * self.retriever.coverage(tokens, list(sentence_tokens | title_tokens))
                    + 0.3 * self.retriever.coverage(tokens, list(sentence_tokens))
                    + 0.15 * hit.score / top
                    + 0.2 * max(hit.similarity, 0.0)
                    + (0.03 if position == 0 else 0.0)
                )
                candidates.append(Candidate(rank, position, sentence, score, sentence_tokens, title_tokens, strength))
        chosen = choose(candidates, question_tokens)
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
