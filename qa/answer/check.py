"""Checking a written sentence against the records it cites, before it is shown.

A sentence passes only when all of these hold (`Checker.check` says which failed):

- it cites at least one record, and every number it cites is one of the records given (a wrong number is never
  "repaired" to a likely one);
- its quote occurs verbatim (case, whitespace and quotation marks folded) in the title or summary of a record it
  cites: a quote found only in another record is misattributed, one stitched from two places is not found;
- every name, month, year and number it holds occurs in its cited records (names through the alias table, as
  the lexical analyzer reads them; a record's own date counts);
- its content words (stemmed, stop words out) are covered by its cited records at least COVERAGE.

A record's text is data: a summary sentence that reads as instructions to an assistant (`planted`) is not part
of what a sentence may rest on, so an answer that follows it fails like an invented one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from qa.answer.forms import capitalised_names
from qa.index.lexical import Analyzer
from qa.records import MONTHS, Record
from qa.shared import split_sentences, words
from qa.types import WrittenSentence

COVERAGE = 0.65  # share of a sentence's content words its cited records hold (fitted: tests/answer/written_set.py)
MIN_QUOTE_WORDS = 3
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?")
_DECADE = re.compile(r"\b(\d{3})0s\b")
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
    if i >= 2
}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90})
NUMBER_WORDS.update({"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9})
NUMBER_WORDS.update(
    {w: i for i, w in enumerate("second third fourth fifth sixth seventh eighth ninth tenth".split(), start=2)}
)
# Words that open an English sentence without being names (the stop words aside): a sentence's opening capital
# is checked as a name unless it is one of these, a stop word, or an adverb or participle (-ly, -ing, -ed).
OPENERS = frozenset(
    """according afterwards although among another around back both concerning despite either earlier eventually
    finally first following furthermore hence however instead later likewise meanwhile moreover nevertheless next
    nonetheless notably overall regarding second several similarly still subsequently thereafter thus together
    third though topics whereas yet""".split()
)
_PLANTED = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?]{0,60}\b(?:instructions?|prompts?|above|previous|prior|rules)\b"
    r"|\b(?:system|developer)\s+(?:prompt|message)s?\b"
    r"|\bas an? (?:ai|assistant|language model)\b"
    r"|\b(?:assistant|chatbot|language model|llm|ai model)s?\b[^.!?]{0,80}\b(?:must|should|shall|will|is to|now)\b"
    r"|\byou (?:must|should|are to|will now|are now|have to)\b"
    r"|\bnew instructions?\b"
    r"|^\s*(?:say|write|answer|respond|reply|state|output|claim)\s+(?:that|with|only)\b",
    re.I,
)


def fold(text: str) -> str:
    """Text for verbatim comparison: lower case, one kind of quotation mark and dash, whitespace collapsed."""
    return " ".join(text.casefold().translate(_FOLD).split())


def planted(sentence: str) -> bool:
    """Whether a record's sentence reads as instructions to an assistant rather than as a description."""
    return bool(_PLANTED.search(sentence))


def record_sentences(record: Record) -> list[str]:
    """What a written sentence may rest on: the record's title and its summary sentences, instructions left out."""
    return [record.title, *(s for s in split_sentences(record.summary) if not planted(s))]


def numbers_in(text: str) -> list[int | float]:
    """The numbers a text writes in digits (1,000 and 1000 alike), then those it writes in words (two to twenty,
    tens, hundred, second to tenth…), each once, in order."""
    found: list[int | float] = []
    for m in _NUMBER.finditer(text):
        value = float(m.group(0).replace(",", ""))
        found.append(int(value) if value.is_integer() else value)
    found += [NUMBER_WORDS[w] for w in words(text.lower()) if w in NUMBER_WORDS]
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a sentence passed, and if not, why (one phrase)."""

    kept: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Source:
    """One record as the checker reads it."""

    folded: str  # its title and summary sentences, folded, one per line (a quote cannot run across two)
    tokens: frozenset[str]  # its content tokens (stemmed)
    numbers: frozenset[int | float]  # its numbers, its date's among them
    months: frozenset[int]  # the months it names, its date's among them
    years: frozenset[int]


class Checker:
    """Checks written sentences against the numbered records an answer was written from."""

    def __init__(self, records: Mapping[int, Record], analyzer: Analyzer, coverage: float = COVERAGE) -> None:
        self.analyzer = analyzer
        self.coverage = coverage
        self.sources = {n: self._read(r) for n, r in records.items()}

    def _read(self, record: Record) -> _Source:
        parts = record_sentences(record)
        text = " ".join(parts)
        numbers = set(numbers_in(text))
        months = {MONTHS[w] for w in words(text.lower()) if w in MONTHS and len(w) > 3 or w == "may"}
        if record.date:
            iso = [int(p) for p in record.date.split("-")]
            numbers.update(iso)
            months.update(iso[1:2])
        return _Source(
            folded="\n".join(fold(p) for p in parts),
            tokens=frozenset(self.analyzer.tokens(text)) | frozenset(self.analyzer.tokens(record.display_date)),
            numbers=frozenset(numbers),
            months=frozenset(months),
            years=frozenset(n for n in numbers if isinstance(n, int) and 1000 <= n <= 2999),
        )

    def check(self, sentence: WrittenSentence) -> Verdict:
        """Whether the sentence may be shown; the first rule it breaks, when not."""
        for rule in (self._citations, self._quote, self._names, self._dates_and_numbers, self._words):
            reason = rule(sentence)
            if reason:
                return Verdict(False, reason)
        return Verdict(True)

    def _cited(self, sentence: WrittenSentence) -> list[_Source]:
        return [self.sources[n] for n in sentence.cited]

    def _citations(self, sentence: WrittenSentence) -> str:
        if not sentence.cited:
            return "cites no document"
        unknown = [n for n in sentence.cited if n not in self.sources]
        if unknown:
            return f"cites [{unknown[0]}], which is not among the documents given"
        return ""

    def _quote(self, sentence: WrittenSentence) -> str:
        quote = fold(sentence.quote).strip(" \"'.,;:…")
        if len(quote.split()) < MIN_QUOTE_WORDS:
            return f"its quote is shorter than {MIN_QUOTE_WORDS} words"
        if any(quote in s.folded for s in self._cited(sentence)):
            return ""
        elsewhere = [n for n, s in self.sources.items() if quote in s.folded]
        if elsewhere:
            return f"its quote is from [{elsewhere[0]}], not from a document it cites"
        return "its quote is not in the documents it cites"

    def _names(self, sentence: WrittenSentence) -> str:
        known = frozenset().union(*(s.tokens for s in self._cited(sentence)))
        for name in self._sentence_names(sentence.text):
            if not all(t in known for t in self.analyzer.tokens(name)):
                return f"the name {name!r} is not in the documents it cites"
        return ""

    def _sentence_names(self, text: str) -> list[str]:
        """The sentence's names: its runs of capitalised words, its opening word too unless it is a common one."""
        names = capitalised_names(text, self.analyzer)
        found = words(text[:40])
        opening = found[0] if found else ""
        common = opening.lower() in OPENERS or re.search(r"(?:ly|ing|ed)$", opening.lower())
        if opening[:1].isupper() and not common and self.analyzer.tokens(opening) and opening.lower() not in MONTHS:
            names.append(opening)
        return names

    def _dates_and_numbers(self, sentence: WrittenSentence) -> str:
        cited = self._cited(sentence)
        numbers = frozenset().union(*(s.numbers for s in cited))
        months = frozenset().union(*(s.months for s in cited))
        years = frozenset().union(*(s.years for s in cited))
        text = sentence.text
        for m in _DECADE.finditer(text):
            if not any(y // 10 == int(m.group(1)) for y in years):
                return f"the decade {m.group(0)!r} is not in the documents it cites"
        for number in numbers_in(_DECADE.sub("", text)):
            if number not in numbers:
                return f"the number {number} is not in the documents it cites"
        for word in words(text):
            month = MONTHS.get(word.lower()) if word[:1].isupper() and (len(word) > 3 or word == "May") else None
            if month and month not in months:
                return f"the month {word!r} is not in the documents it cites"
        return ""

    def share(self, sentence: WrittenSentence) -> float:
        """The share of the sentence's content words (stemmed, aliases resolved) that its cited records hold."""
        tokens = self.analyzer.tokens(sentence.text)
        known = frozenset().union(*(self.sources[n].tokens for n in sentence.cited if n in self.sources))
        return sum(t in known for t in tokens) / len(tokens) if tokens else 0.0

    def _words(self, sentence: WrittenSentence) -> str:
        if not self.analyzer.tokens(sentence.text):
            return "it says nothing the documents could support"
        share = self.share(sentence)
        if share < self.coverage:
            return f"only {share:.0%} of its words are in the documents it cites"
        return ""
