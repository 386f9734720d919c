"""What the cited documents add up to: one closing line made only of their own words and dates.

- change over time: the words that recur across the cited documents, each with the documents that use it, then
  the words the last period's document is the first to use ("Across them: loan recurs [1][3][4]; new in March
  1977: Maoism, devastation [6]");
- comparison: the words both documents use, then each one's own ("Both: economic, military [1][2]; the first
  alone: loan, Xinjiang [1]; the second alone: PLA [2]").

A word is a content word of a record's summary or title as the record writes it (generic words that only name
documents or asking apart), chosen by how rare it is in the collection. Each clause ends with the citation markers
of the documents its words are taken from, the first of them holding every word of the clause.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from qa.answer.forms import GENERIC
from qa.answer.leads import period_name
from qa.answer.sentences import render
from qa.index.search import ArchiveIndex
from qa.records import Record
from qa.types import Answer

SUMMARY_WORDS = 3  # words a clause names at most
_WORD = re.compile(r"[A-Za-z][\w’'-]*[\w]|[A-Za-z]")


def add_summary_line(answer: Answer, line: str) -> None:
    """Close the answer with the line (kept apart from the quoted sentences as `Answer.closing`)."""
    if line:
        answer.closing = line
        answer.text = render(answer.sentences, closing=line)


def change_line(cited: Sequence, index: ArchiveIndex, unit: str) -> str:
    """What recurs across documents in date order and what the last one brings new (empty for fewer than two)."""
    records = [c.record for c in cited]
    if len(records) < 2:
        return ""
    words = [_content_words(r, index) for r in records]
    counts = {
        t: [n for n, w in enumerate(words, start=1) if t in w] for t in dict.fromkeys(t for w in words for t in w)
    }
    recurring = sorted((t for t, ns in counts.items() if len(ns) > 1), key=lambda t: (-len(counts[t]), -index.idf(t)))
    clauses = [f"{words[counts[t][0] - 1][t]} recurs {_markers(counts[t])}" for t in recurring[:SUMMARY_WORDS]]
    earlier = set().union(*words[:-1])
    new = _rarest([t for t in words[-1] if t not in earlier], index)
    if new and records[-1].date:
        listed = ", ".join(words[-1][t] for t in new)
        clauses.append(f"new in {period_name(records[-1].date, unit)}: {listed} {_markers([len(records)])}")
    return ("Across them: " + "; ".join(clauses)) if clauses else ""


def compared_line(cited: Sequence, index: ArchiveIndex) -> str:
    """What the first two documents share and what each alone says, in their own words."""
    if len(cited) < 2:
        return ""
    first, second = (_content_words(c.record, index) for c in cited[:2])
    shared = _rarest([t for t in first if t in second], index)
    clauses = [f"Both: {', '.join(first[t] for t in shared)} [1][2]"] if shared else []
    for n, (own, other) in enumerate(((first, second), (second, first)), start=1):
        alone = _rarest([t for t in own if t not in other], index)
        if alone:
            clauses.append(f"the {('first', 'second')[n - 1]} alone: {', '.join(own[t] for t in alone)} [{n}]")
    return "; ".join(clauses)


def _markers(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _rarest(tokens: Sequence[str], index: ArchiveIndex) -> list[str]:
    """The SUMMARY_WORDS rarest tokens in the collection, rarest first."""
    return sorted(dict.fromkeys(tokens), key=lambda t: -index.idf(t))[:SUMMARY_WORDS]


def _content_words(record: Record, index: ArchiveIndex) -> dict[str, str]:
    """A record's content tokens (summary, then title), each with the first word that gives it, as written."""
    out: dict[str, str] = {}
    generic = _generic(index)
    for word in _WORD.findall(f"{record.summary} {record.title}"):
        tokens = index.tokens(word)
        if len(tokens) == 1 and tokens[0] not in generic and len(word) > 2 and tokens[0] not in out:
            out[tokens[0]] = word
    return out


@lru_cache(maxsize=8)
def _generic(index: ArchiveIndex) -> frozenset[str]:
    """The tokens of words that only name documents or asking (qa.answer.forms.GENERIC), as the index makes them."""
    return frozenset(index.tokens(" ".join(GENERIC)))
