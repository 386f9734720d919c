"""Extractive answers: pick summary sentences that answer the question, cite each one, or abstain."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from qa.records import Record

MAX_PER_RECORD = 3
OWN_WITH_OTHERS = 2  # the best document's sentences when other documents answer too
MAX_OTHERS = 5
MAX_SENTENCES = OWN_WITH_OTHERS + MAX_OTHERS
MAX_WORDS = 60
TRIM_TO_WORDS = 45

_ABBREVIATIONS = frozenset(
    "no nos mr mrs ms dr st vs etc e.g i.e gen col lt sgt capt adm gov sen rep jr sr co corp inc ltd dept vol".split()
)
_BOUNDARY = re.compile(r"([.!?][\"'”’)\]]*)\s+(?=\S)")
_CLAUSE = re.compile(r"[,;:]\s+")


@lru_cache(maxsize=16384)
def split_sentences(summary: str) -> tuple[str, ...]:
    """A summary's sentences, verbatim; a full stop after an abbreviation or an initial does not end one."""
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(summary):
        # The word before the boundary, found by looking back from it (not by re-splitting the sentence so far,
        # which made a summary of many initials quadratic).
        word_start = max(summary.rfind(" ", start, m.start()), summary.rfind("\n", start, m.start()), start - 1)
        last = summary[word_start + 1 : m.start()].strip().lower().rstrip(".")
        if m.group(1) == "." and (last in _ABBREVIATIONS or len(last) == 1 or re.fullmatch(r"(\w\.)+\w?", last)):
            continue
        sentences.append(summary[start : m.end(1)].strip())
        start = m.end()
    tail = summary[start:].strip()
    if tail:
        sentences.append(tail)
    return tuple(sentences)


def trim(sentence: str) -> str:
    """A long sentence cut at the last clause boundary before TRIM_TO_WORDS words, marked with an ellipsis."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return sentence
    limit = len(" ".join(words[:TRIM_TO_WORDS]))
    cuts = [m.start() for m in _CLAUSE.finditer(sentence) if m.start() <= limit]
    return sentence[: cuts[-1]] + " …" if cuts else sentence


@dataclass(frozen=True, slots=True)
class Source:
    """A numbered source: the record it is, its retrieval score, whether the answer cites it, what it quotes.

    `quoted` holds the summary's sentences that the answer quotes (whole, as in the summary); `unquoted` is the
    rest of the summary, for a source card that does not repeat the answer word for word.
    """

    n: int
    record: Record
    score: float
    similarity: float
    cited: bool
    quoted: tuple[str, ...] = ()

    @property
    def unquoted(self) -> str:
        """The summary's sentences the answer does not quote, in order ("" when it quotes them all)."""
        return " ".join(s for s in split_sentences(self.record.summary) if s not in self.quoted)

    @property
    def fully_quoted(self) -> bool:
        """Whether the answer quotes every sentence of the summary (a card then need not show it again)."""
        return bool(self.record.summary) and not self.unquoted

    def citation(self) -> str:
        """One line to cite the document: title, date, collection, link."""
        parts = [f"“{self.record.title}”", self.record.display_date, self.record.collection]
        if self.record.url:
            parts.append(self.record.url)
        return f"[{self.n}] " + ", ".join(p for p in parts if p) + "."


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    """A sentence of the answer: text taken from a cited summary, and the citation number."""

    text: str
    n: int
    record_id: str
    context: str
    heading: str = ""  # a line put before this sentence's paragraph: the answer's lead line, or a period ("1949:")


@dataclass(frozen=True, slots=True)
class AppliedFilter:
    """The date range the answer was limited to, and where it came from ("question" or "filters")."""

    description: str
    source: str
    span: str
    start: int | None
    end: int | None
    keep_undated: bool
    phrase: str = ""


@dataclass(frozen=True, slots=True)
class AppliedPeople:
    """The people filter the answer was limited to (keys), how it reads, and where it came from."""

    description: str
    source: str
    span: str = ""  # "written by Kovalev, to Stalin"
    authors: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    anyone: tuple[str, ...] = ()


@dataclass(slots=True)
class Answer:
    """What `Assistant.ask` returns; `to_dict` is the documented JSON schema of `archive-qa ask --json`."""

    question: str
    resolved_question: str
    text: str = ""
    sentences: list[AnswerSentence] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    related: list[Source] = field(default_factory=list)
    applied_filter: AppliedFilter | None = None
    abstained: bool = False
    notice: str | None = None
    error: str | None = None
    evidence: float = 0.0
    mode: str = "hybrid"
    timings: dict[str, float] = field(default_factory=dict)
    ranking: list[tuple[str, float]] = field(default_factory=list)  # the retrieval it was built from: ids, scores
    form: str = "lookup"  # lookup, list, period, change or who (qa/forms.py)
    lead: str = ""  # the line the answer opens with, made from the cited records' fields
    people_filter: AppliedPeople | None = None
    decided_by: str = ""  # what decided to answer or abstain: "names", "words" or "evidence"
    unknown_names: list[str] = field(default_factory=list)  # names of the question the collection never uses

    @property
    def citations(self) -> list[str]:
        return [s.citation() for s in self.sources]

    def to_dict(self) -> dict:
        def source(s: Source) -> dict:
            record = {k: v for k, v in s.record.to_dict().items() if k != "full_text"}  # a page's text is long
            scores = {"n": s.n, "score": round(s.score, 6), "similarity": round(s.similarity, 4)}
            return {**scores, **record, "unquoted": s.unquoted}

        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "answer": self.text,
            "abstained": self.abstained,
            "error": self.error,
            "notice": self.notice,
            "sentences": [asdict(s) for s in self.sentences],
            "sources": [source(s) for s in self.sources],
            "related": [source(s) for s in self.related],
            "filter": asdict(self.applied_filter) if self.applied_filter else None,
            "people_filter": asdict(self.people_filter) if self.people_filter else None,
            "form": self.form,
            "lead": self.lead,
            "decided_by": self.decided_by,
            "unknown_names": self.unknown_names,
            "evidence": round(self.evidence, 4),
            "mode": self.mode,
            "ranking": [{"id": i, "score": round(score, 6)} for i, score in self.ranking],
            "timings_ms": {k: round(v, 2) for k, v in self.timings.items()},
        }

    def to_markdown(self) -> str:
        """The answer with its numbered sources, as plain Markdown (text escaped by the caller if rendered)."""
        lines = [f"**Q:** {self.question}", "", self.text or "", ""]
        if self.applied_filter:
            lines += [f"_{self.applied_filter.description}_", ""]
        if self.sources:
            lines += ["Sources:", *[f"- {c}" for c in self.citations], ""]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A summary sentence that might answer the question, with its score and its document's."""

    record_rank: int
    position: int
    text: str
    score: float
    tokens: frozenset[str]
    context_tokens: frozenset[str] = frozenset()
    record_evidence: float = 0.0


def choose(candidates: list[Candidate], question_tokens: set[str]) -> list[Candidate]:
    """The sentences to quote, in the order they are to be read: the best document's, then one of each other
    document that answers.

    The best-matching document speaks first: its sentences that score at least half as well as its best (up to
    MAX_PER_RECORD, in the summary's order; OWN_WITH_OTHERS when other documents answer too). Another document
    answers when its best sentence scores close to the best (3/4), the document is nearly as strong as the first
    (4/5), the sentence does not repeat what is already said, and it either brings a word of the question that the
    answer does not yet contain or matches the question as well as the first document does (another document of
    the kind asked for). Every such document is cited, up to MAX_OTHERS.
    """
    ranked = sorted(candidates, key=lambda c: (-c.score, c.record_rank, c.position))
    if not ranked:
        return []
    best = ranked[0]
    own = [c for c in ranked if c.record_rank == best.record_rank and c.score >= 0.5 * best.score]
    chosen = sorted(own[:MAX_PER_RECORD], key=lambda c: c.position)
    covered = set().union(*(c.tokens | c.context_tokens for c in chosen)) & question_tokens
    used = {best.record_rank}
    others: list[Candidate] = []
    for c in ranked:
        if len(others) == MAX_OTHERS or c.score < 0.75 * best.score:
            break
        if c.record_rank in used or c.record_evidence < 0.8 * best.record_evidence:
            continue
        if any(_overlap(c.tokens, o.tokens) > 0.5 for o in chosen + others):
            continue
        adds = ((c.tokens | c.context_tokens) & question_tokens) - covered
        as_strong = c.record_evidence >= 0.9 * best.record_evidence and c.score >= 0.85 * best.score
        if not adds and not as_strong:
            continue
        others.append(c)
        used.add(c.record_rank)
        covered |= adds
    return (chosen[:OWN_WITH_OTHERS] if others else chosen) + others


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def context_for(record: Record) -> str:
    """The words put before a cited sentence: the document's title and date."""
    return f"In “{record.title}” ({record.display_date}):"


def render(
    sentences: list[AnswerSentence],
    escape: Callable[[str], str] = str,
    marker: Callable[[int], str] = "[{}]".format,
) -> str:
    """One paragraph per run of sentences from the same document, each sentence followed by its marker; a
    sentence's heading (the lead line, a period) is a paragraph of its own before it."""
    paragraphs: list[str] = []
    previous = None
    for s in sentences:
        if s.heading:
            paragraphs.extend(escape(line) for line in s.heading.split("\n\n"))
            previous = None
        if s.n == previous:
            paragraphs[-1] += f" {escape(s.text)} {marker(s.n)}"
        else:
            paragraphs.append(" ".join(p for p in (escape(s.context), escape(s.text), marker(s.n)) if p))
        previous = s.n
    return "\n\n".join(paragraphs)
