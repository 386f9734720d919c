"""Extractive answers: pick summary sentences that answer the question, cite each one, or abstain."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.records import Record
from qa.types import AnswerSentence

MAX_PER_RECORD = 3
OWN_WITH_OTHERS = 2  # the best document's sentences when other documents answer too
MAX_OTHERS = 5
MAX_SENTENCES = OWN_WITH_OTHERS + MAX_OTHERS
MAX_WORDS = 60
TRIM_TO_WORDS = 45

_CLAUSE = re.compile(r"[,;:]\s+")
_MARKER = re.compile(r"\[(\d+)\]")


def trim(sentence: str) -> str:
    """A long sentence cut at the last clause boundary before TRIM_TO_WORDS words, marked with an ellipsis."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return sentence
    limit = len(" ".join(words[:TRIM_TO_WORDS]))
    cuts = [m.start() for m in _CLAUSE.finditer(sentence) if m.start() <= limit]
    return sentence[: cuts[-1]] + " …" if cuts else sentence


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
    closing: str = "",
) -> str:
    """One paragraph per run of sentences from the same document, each sentence followed by its marker; a
    sentence's heading (the lead line, a period) is a paragraph of its own before it; the closing line (its
    markers written "[n]") last."""
    paragraphs: list[str] = []
    previous = None
    for s in sentences:
        if s.heading:
            paragraphs.extend(escape(line) for line in s.heading.split("\n\n"))
            previous = None
        mark = f"{marker(s.n)} ¶{s.paragraph}" if s.paragraph else marker(s.n)
        if s.n == previous:
            paragraphs[-1] += f" {escape(s.text)} {mark}"
        else:
            paragraphs.append(" ".join(p for p in (escape(s.context), escape(s.text), mark) if p))
        previous = s.n
    if closing:
        pieces = _MARKER.split(closing)
        paragraphs.append("".join(escape(p) if i % 2 == 0 else marker(int(p)) for i, p in enumerate(pieces)))
    return "\n\n".join(paragraphs)
