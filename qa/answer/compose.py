"""Composing an answer of each form: the documents to cite, the sentences each is quoted by, one lead line.

- **lookup**: the retrieved records' summary sentences scored against the question; the best document's and
  one of every other document that answers (`qa.answer.choose`);
- **list** and **period**: every document that matches (`select`), in date order, each quoted by its most
  relevant sentence (the first, when the question names nothing to look for);
- **change**: one document for every period (year, or month within one year) that has evidence (a record holding
  a topic word, or close in strength to the best), in order, each under its period;
- **who**: the documents a person wrote, received, passed on or took part in, or that name them, in date order.

Each opens with a lead line made from the cited records' fields (qa/answer/leads.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from qa.answer.forms import Form, Reading, comparison_sides
from qa.answer.leads import alias_lead, documents_lead, named_lead, overview_lines, period_name, roles_lead
from qa.answer.sentences import Candidate, choose, context_for, render, trim
from qa.answer.summary import add_summary_line, change_line, compared_line
from qa.config import AnswerWeights
from qa.corpus.credits import is_attendance, is_credit
from qa.index.passages import paragraphs_of
from qa.index.search import ArchiveIndex, DateFilter, Hit, Query
from qa.records import Record
from qa.shared import split_sentences
from qa.types import Answer, AnswerSentence, Source

LIST_LIMIT = 50  # documents a list shows at most, in date order (the lead line says how many)
LIST_DEPTH = 1000  # records looked at for a list that names a topic
LIST_COVERAGE = 0.6  # the share of the topic's word weight a listed document must hold
DENSE_MARGIN = 0.05  # with no document holding the topic's words: those this close in meaning to the closest
CHANGE_SHARE = 0.4  # change over time: a period's evidence is at least this strong against the best
PER_PERIOD = 2  # change over time: documents shown for one period of the people asked about (else one)
CHANGE_DEPTH = 100  # change over time: records looked at within the range (so that no period is missed)
SINGLE_SENTENCES = 2  # a list of one document quotes up to this many of its sentences
PASSAGE_ORDER = 1_000_000  # a passage's place among its record's candidates: after every summary sentence
RANKING_DEPTH = 10  # an answer keeps the ranking to this depth (or k, if larger) for evaluation
UNDATED_SHOWN = 3  # undated documents an undated answer describes at most
CLOSEST_DATED = 2  # dated documents it names as closest in content
CLOSEST_DATED_HEADING = "Dated documents closest to it in content (evidence of its time, not its date):"
TELLING_WORDS = 3  # a sentence quoted for its record says at least this many words its title does not
# A sentence that leans on the one before it: opens with a pronoun or "this", or says "also" early on.
_LEANS = re.compile(r"^(?:he|she|it|they|his|her|its|their|this|these|that|those|such)\b|^(?:\S+\s+){0,3}also\b", re.I)


@dataclass(frozen=True, slots=True)
class Request:
    """What composing an answer works from: the question's reading and query, the ranking found within the
    filters (or widened), and the filters themselves."""

    reading: Reading
    query: Query
    ranking: list[Hit]
    k: int
    mode: str
    date_filter: DateFilter | None
    mask: np.ndarray | None
    strength: Callable[[Hit], float]
    search_part: Callable[[str], list[Hit]] = lambda text: []  # noqa: E731 - a part of the question searched alone
    excluded: DateFilter | None = None  # a date range the question leaves out ("everything that isn't from 1949")
    closest: bool = False  # the answer shows the closest documents (the question's words are not all the collection's)
    day: int | None = None  # the one day the question names (YYYYMMDD): documents of that day answer first


@dataclass(slots=True)
class Cited:
    """A document an answer cites: its record, the sentences quoted (whole, in reading order), a heading."""

    record: Record
    sentences: list[str] = field(default_factory=list)
    score: float = 0.0
    similarity: float = 0.0
    heading: str = ""
    paragraphs: dict[int, int] = field(default_factory=dict)  # a quoted passage's index in `sentences`: its ¶


class Composer:
    """Turns records into cited answers, scoring sentences with the index's word weights."""

    def __init__(self, index: ArchiveIndex, weights: AnswerWeights) -> None:
        self.index = index
        self.weights = weights
        self.forms: dict[Form, Callable[[Answer, Request], None]] = {
            Form.LOOKUP: self.looked_up,
            Form.LIST: self.listed,
            Form.PERIOD: self.listed,
            Form.CHANGE: self.changed,
            Form.WHO: self.who,
            Form.YESNO: self.looked_up,
            Form.OVERVIEW: self.overview,
            Form.COMPARISON: self.compared,
            Form.UNDATED: self.undated,
        }

    def compose(self, answer: Answer, request: Request) -> None:
        """Fill the answer in the form the question asks for (its sentences stay empty when nothing fits)."""
        self.forms[request.reading.form](answer, request)

    # ------------------------------------------------------------------------------------------ the forms

    def looked_up(self, answer: Answer, request: Request) -> None:
        """Look-up: the best records' sentences that answer, undated ones held back under a date range, and those of
        another day held back when the question names a day some of them are of."""
        hits, held = _dated_first(self.index, request.ranking[: request.k], request.date_filter)
        if request.day and (that_day := [h for h in hits if self.index.first_days([h.position])[0] == request.day]):
            hits, held = that_day, [h for h in hits if h not in that_day] + held
        self.lookup(answer, hits, held, request.query.tokens, request.strength)

    def listed(self, answer: Answer, request: Request) -> None:
        """List and period: every record allowed that holds the topic; with none, the look-up of the topic. Shown
        as the closest documents, the best ranked in their order."""
        reading = request.reading
        if request.closest and reading.topic and request.ranking:  # by closeness, not date: the best first
            kind = self.index.holding(reading.required) if reading.required else None
            ranked = [h.position for h in request.ranking if kind is None or kind[h.position]][: request.k]
            if ranked:
                self.listing(answer, ranked, reading.topic)
                return
        allowed = _allowed(self.index, request.date_filter, request.mask, undated=reading.undated)
        positions = select(self.index, allowed, reading, request.query, request.mode)
        if positions:
            answer.notice = None  # the list holds what the filters allow, however weak the best match
            self.listing(answer, positions, reading.topic)
        elif reading.topic and request.ranking:  # no document holds the topic's words: those that answer it best
            answer.form = Form.LOOKUP
            self.looked_up(answer, request)

    def changed(self, answer: Answer, request: Request) -> None:
        """Change over time: every record within the filters (unless widened), not only the top ones."""
        query, mode, ranking = request.query, request.mode, request.ranking
        if answer.notice:
            hits = ranking
        else:
            hits = self.index.search(query, CHANGE_DEPTH, mode, request.date_filter, request.mask)
        shown = ranking[: max(request.k, RANKING_DEPTH)]
        people = request.reading.has_people
        self.change(answer, hits, request.reading.topic or query.tokens, request.strength, shown, people=people)

    def who(self, answer: Answer, request: Request) -> None:
        """Who-is: what the alias table says the name stands for, then the documents of that person, in date
        order."""
        index, name = self.index, request.reading.who
        canonical = " ".join(index.canonical(name).split())
        keys = index.person_keys(name)
        alias = canonical != " ".join(name.lower().split()) or index.is_code_name(name)
        tokens = index.tokens(name)
        positions = set(index.with_people(keys).nonzero()[0].tolist()) if keys else set()
        names = [index.named(keys[0])] if len(keys) == 1 else []
        found = index.matching(tokens, LIST_DEPTH)
        positions |= {int(p) for p in found if index.holds_words(int(p), tokens, names) >= 1.0}
        ordered = date_order(index, sorted(positions))[:LIST_LIMIT]
        if not ordered:
            return
        records = [index.records[p] for p in ordered]
        person = index.person_name(keys[0]) if len(keys) == 1 else _written_as(canonical, records)
        if len(keys) == 1:
            lead = roles_lead(person, keys[0], records, index)
        else:
            lead = named_lead(person, len(records))
        if alias:
            lead = f"{alias_lead(name, person)} {lead}"
        self.listing(answer, ordered, tokens, lead)

    # ------------------------------------------------------------------------------------------ sentences

    def scored(self, record: Record, tokens: Sequence[str]) -> list[tuple[float, int, str, frozenset[str]]]:
        """Each summary sentence with its match to the tokens (alone and with the title), best first, and its tokens."""
        w, index = self.weights, self.index
        title = frozenset(index.tokens(record.title))
        tokens = list(tokens)
        out = []
        for position, sentence in enumerate(split_sentences(record.summary)):
            own = frozenset(index.tokens(sentence))
            score = (
                w.sentence_and_title * index.coverage(tokens, own | title)
                + w.sentence * index.coverage(tokens, own)
                + (w.first_sentence if position == 0 else 0.0)
            )
            out.append((score, position, sentence, own))
        return sorted(out, key=lambda x: (-x[0], x[1]))

    def scored_passages(self, record: Record, hit: Hit, tokens: Sequence[str]) -> list[tuple[float, int, int, str]]:
        """Each passage of a record's full text scored as a summary sentence is (the one that ranked the record
        counting as a first sentence): (score, order, paragraph number, text); none without passages or words, and
        none of an attendance or credit line."""
        if self.index.passages is None or not record.full_text or not tokens:
            return []
        w, index = self.weights, self.index
        title = frozenset(index.tokens(record.title))
        ranked = index.passage(hit)
        out = []
        for order, (number, text) in enumerate(paragraphs_of(record)):
            if is_attendance(text) or is_credit(text):
                continue  # who took part, who funded: never the answer
            own = frozenset(index.tokens(text))
            score = (
                w.sentence_and_title * index.coverage(list(tokens), own | title)
                + w.sentence * index.coverage(list(tokens), own)
                + (w.first_sentence if ranked is not None and ranked.text == text else 0.0)
            )
            out.append((score, PASSAGE_ORDER + order, number, text))
        return out

    def key_sentences(self, record: Record, tokens: Sequence[str], limit: int = 1) -> list[str]:
        """The record's most relevant sentences (the first ones when there is nothing to match), in summary order."""
        ranked = self.scored(record, tokens) if tokens else []
        if not ranked:
            return self._telling(record, limit)
        best = ranked[0][0]
        kept = [r for r in ranked[:limit] if r[0] >= 0.5 * best]
        return [r[2] for r in sorted(kept, key=lambda r: r[1])]

    def _telling(self, record: Record, limit: int) -> list[str]:
        """The record's first sentences, from the first that says more than its title (at least TELLING_WORDS
        words of its own: not "Kovalev reports to Stalin on the politburo meeting." before what was discussed)."""
        sentences = split_sentences(record.summary)
        title = set(self.index.tokens(record.title))
        start = next((i for i, t in enumerate(sentences) if len(set(self.index.tokens(t)) - title) >= TELLING_WORDS), 0)
        return list(sentences[start : start + limit])

    def overview(self, answer: Answer, request: Request) -> None:
        """Overview: the documents in scope counted by year, kind and correspondent, then each quoted by its first
        sentence (its main subject), in date order."""
        allowed = self.index.within(request.date_filter, request.mask)
        if request.excluded is not None:
            left_out = self.index.within(request.excluded)
            allowed = ~left_out if allowed is None else allowed & ~left_out
        positions = np.flatnonzero(allowed) if allowed is not None else np.arange(self.index.count)
        ordered = date_order(self.index, positions)[:LIST_LIMIT]
        records = [self.index.records[p] for p in ordered]
        if records:
            lead = "\n\n".join([documents_lead(records, self.index), *overview_lines(records, self.index)])
            finish(answer, [Cited(r, self.key_sentences(r, [])) for r in records], [], lead)

    def compared(self, answer: Answer, request: Request) -> None:
        """Comparison: each side's best document (each side searched alone), then what they share and where they
        differ in their own words; a question without two sides is looked up."""
        sides = comparison_sides(request.query.text)
        chosen: list[Hit] = []
        for side in sides or ():
            hits = [h for h in request.search_part(side) if h.position not in {c.position for c in chosen}]
            if hits:
                chosen.append(hits[0])
        if len(chosen) < 2:
            self.looked_up(answer, request)
            return
        tokens = request.reading.topic or request.query.tokens
        cited = [Cited(self.index.records[h.position], self.key_sentences(self.index.records[h.position], tokens),
                       h.score, h.similarity) for h in chosen]  # fmt: skip
        shown = {h.position for h in chosen}
        related = [(self.index.records[h.position], h) for h in request.ranking[: request.k] if h.position not in shown]
        finish(answer, cited, related, documents_lead([c.record for c in cited], self.index))
        add_summary_line(answer, compared_line(cited, self.index))

    def undated(self, answer: Answer, request: Request) -> None:
        """Undated: what the undated documents in scope are about, then the dated documents closest to each in
        content (evidence of when it may be from, never a date)."""
        allowed = self.index.within(request.date_filter, request.mask)
        undated = self.index.undated() if allowed is None else allowed & self.index.undated()
        ranked = [h.position for h in request.ranking if undated[h.position]]
        positions = ranked or [int(p) for p in np.flatnonzero(undated)]
        if not positions:
            self.looked_up(answer, request)
            return
        dated = ~self.index.undated()
        tokens = request.reading.topic
        cited = [Cited(self.index.records[p], self.key_sentences(self.index.records[p], tokens, SINGLE_SENTENCES))
                 for p in positions[:UNDATED_SHOWN]]  # fmt: skip
        near = self.index.closest_in_content(positions[0], CLOSEST_DATED, dated)
        for n, p in enumerate(near):
            record = self.index.records[p]
            heading = CLOSEST_DATED_HEADING if n == 0 else ""
            cited.append(Cited(record, self.key_sentences(record, []), heading=heading))
        finish(answer, cited, [], documents_lead([c.record for c in cited[: len(cited) - len(near)]], self.index))

    # ------------------------------------------------------------------------------------------ composing

    def lookup(self, answer: Answer, hits: list[Hit], held: list[Hit], tokens: list[str], strength) -> None:
        """The best document's sentences and one of each other document that answers; `held` are only related."""
        records = [self.index.records[h.position] for h in hits]
        top = max((h.score for h in hits), default=1.0) or 1.0
        candidates = []
        paragraph: dict[tuple[int, int], int] = {}  # (record rank, order) of a passage candidate: its ¶
        for rank, (record, hit) in enumerate(zip(records, hits, strict=True)):
            title = frozenset(self.index.tokens(record.title))
            extra = self._retrieval_part(hit, top)
            for score, position, sentence, own in self.scored(record, tokens):
                candidates.append(Candidate(rank, position, sentence, score + extra, own, title, strength(hit)))
            for score, order, number, text in self.scored_passages(record, hit, tokens):
                paragraph[(rank, order)] = number
                own = frozenset(self.index.tokens(text))
                candidates.append(Candidate(rank, order, text, score + extra, own, title, strength(hit)))
        chosen = choose(candidates, set(tokens))
        cited: dict[int, Cited] = {}
        for c in chosen:
            hit = hits[c.record_rank]
            entry = cited.setdefault(c.record_rank, Cited(records[c.record_rank], [], hit.score, hit.similarity))
            if (c.record_rank, c.position) in paragraph:
                entry.paragraphs[len(entry.sentences)] = paragraph[(c.record_rank, c.position)]
            entry.sentences.append(c.text)
        order = list(cited.values())
        related = [(records[i], hits[i]) for i in range(len(hits)) if i not in cited]
        related += [(self.index.records[h.position], h) for h in held]
        finish(answer, order, related, documents_lead([c.record for c in order], self.index))

    def listing(self, answer: Answer, positions: Sequence[int], tokens: list[str], lead: str | None = None) -> None:
        """Every listed record in date order, each quoted by its key sentence(s), under a lead line."""
        records = [self.index.records[int(p)] for p in positions]
        limit = SINGLE_SENTENCES if len(records) == 1 else 1
        cited = [Cited(r, self.key_sentences(r, tokens, limit)) for r in records]
        finish(answer, cited, [], lead or documents_lead(records, self.index))

    def change(
        self, answer: Answer, hits: list[Hit], tokens: list[str], strength, shown: list[Hit], *, people: bool = False
    ) -> None:
        """One document for every period that has evidence, periods in order, each under its period; the records of
        `shown` (the answer's ranking) not cited are related.

        Every dated record found that holds one of the topic's words, or is at least CHANGE_SHARE as strong as the
        best, is evidence of its period: its year, or its month when all of them fall in one year (and are dated to
        the month). A period's document is the one whose best sentence answers best, scored as a look-up scores them.
        """
        best = max((strength(h) for h in hits), default=0.0)
        wanted = set(tokens)
        evidence = [
            h
            for h in hits
            if self.index.dated(h.position)
            and (strength(h) >= CHANGE_SHARE * best or wanted & set(self.index.record_tokens(h.position)))
        ]
        unit = "month" if _within_a_year([self.index.records[h.position].date for h in evidence]) else "year"
        chosen = self._per_period(evidence, unit, tokens, max((h.score for h in hits), default=1.0) or 1.0, people)
        cited = []
        for n, hit in enumerate(chosen):
            record = self.index.records[hit.position]
            period = period_name(record.date, unit)
            heading = "" if n and _period_of(cited, unit) == period else f"{period}:"
            cited.append(Cited(record, self.key_sentences(record, tokens), hit.score, hit.similarity, heading))
        taken = {h.position for h in chosen}
        related = [(self.index.records[h.position], h) for h in shown if h.position not in taken]
        finish(answer, cited, related, documents_lead([c.record for c in cited], self.index, by=unit))
        add_summary_line(answer, change_line(cited, self.index, unit))

    def _per_period(self, hits: list[Hit], unit: str, tokens: list[str], top: float, everyone: bool) -> list[Hit]:
        """Each period's record whose best sentence (with its retrieval) scores best (its PER_PERIOD best when
        `everyone`: the documents are those of the people asked about), in date order."""
        best: dict[str, list[tuple[float, Hit]]] = {}
        for hit in hits:
            record = self.index.records[hit.position]
            period = record.date[: 7 if unit == "month" else 4]
            score = self._best_sentence(record, tokens) + self._retrieval_part(hit, top)
            best.setdefault(period, []).append((score, hit))
        chosen = []
        for period in sorted(best):
            ranked = sorted(best[period], key=lambda x: -x[0])
            kept = [h for _, h in ranked[: PER_PERIOD if everyone else 1]]
            chosen += sorted(kept, key=lambda h: self.index.records[h.position].date)
        return chosen

    def _best_sentence(self, record: Record, tokens: Sequence[str]) -> float:
        """The score of the record's sentence that matches the tokens best (0 for a record without a summary)."""
        ranked = self.scored(record, tokens)
        return ranked[0][0] if ranked else 0.0

    def _retrieval_part(self, hit: Hit, top: float) -> float:
        """What a record's retrieval adds to its sentences' scores: its share of the top score, its similarity."""
        return self.weights.retrieval * hit.score / top + self.weights.similarity * max(hit.similarity, 0.0)


def select(index: ArchiveIndex, allowed: np.ndarray | None, reading: Reading, query, mode: str) -> list[int]:
    """The records a list answers with: those allowed that hold the topic's words (all allowed when it has none).

    A record holds the topic when its words carry LIST_COVERAGE of the topic's word weight, a person named by a
    handle of theirs alone counting as named in full (qa/index/people.py: the surname rule). A list of a kind of
    document holds only records that use the kind's word (`Reading.required`). When no record holds the topic (the
    question's words are not the summaries'), the records closest in meaning are taken: within DENSE_MARGIN of
    the most similar one. At most LIST_LIMIT, in date order (undated last).
    """
    topic = reading.topic
    if reading.required:
        allowed = index.holding(reading.required, allowed)
    if not topic:
        positions = np.flatnonzero(allowed) if allowed is not None else np.arange(index.count)
        return date_order(index, positions)[:LIST_LIMIT]
    candidates = index.matching(topic, LIST_DEPTH, allowed)
    matched = [int(p) for p in candidates if index.holds_words(int(p), topic, reading.names) >= LIST_COVERAGE]
    if not matched and query.vector is not None and mode != "bm25":
        hits = index.search(query, LIST_LIMIT, "dense", None, allowed)
        best = max((h.similarity for h in hits), default=0.0)
        matched = [h.position for h in hits if h.similarity >= best - DENSE_MARGIN]
    return date_order(index, matched)[:LIST_LIMIT]


def _allowed(index: ArchiveIndex, date_filter: DateFilter | None, mask: np.ndarray | None, *, undated: bool):
    """The records a list may hold: within the dates and the people filter; only undated ones when asked for."""
    allowed = index.within(date_filter, mask)
    if undated:
        none = index.undated()
        allowed = none if allowed is None else allowed & none
    return allowed


def _dated_first(index: ArchiveIndex, hits: list[Hit], date_filter: DateFilter | None) -> tuple[list[Hit], list[Hit]]:
    """The records to answer from and those held back: under a date range, undated records are held back (shown
    as related, never cited) whenever a dated one is there to answer."""
    if date_filter is None:
        return hits, []
    dated = [h for h in hits if index.dated(h.position)]
    return (dated, [h for h in hits if h not in dated]) if dated else (hits, [])


def _written_as(canonical: str, records: Sequence[Record]) -> str:
    """A name as the records write it (their own capitals), else in title case."""
    for record in records:
        for text in (record.title, record.summary):
            at = text.lower().find(canonical)
            if at >= 0:
                return text[at : at + len(canonical)]
    return canonical.title()


def _period_of(cited: list[Cited], unit: str) -> str:
    """The period of the last cited record ("" with none)."""
    return period_name(cited[-1].record.date, unit) if cited else ""


def _within_a_year(dates: Sequence[str]) -> bool:
    """Whether dates (ISO, at least to the month) all fall in one year, in more than one month."""
    return (
        bool(dates)
        and all(len(d) >= 7 for d in dates)
        and len({d[:4] for d in dates}) == 1
        and len({d[:7] for d in dates}) > 1
    )


def date_order(index: ArchiveIndex, positions) -> list[int]:
    """Positions sorted by their records' first day, undated ones last, ties in collection order."""
    positions = np.asarray(positions, dtype=np.int64)
    if not len(positions):
        return []
    starts = index.first_days(positions)
    keys = np.where(starts == 0, np.iinfo(np.int64).max, starts)
    return [int(p) for p in positions[np.lexsort((positions, keys))]]


def with_antecedents(cited: Cited) -> None:
    """Quote before a sentence that leans on the one before it ("Stalin also discusses …", "He …", "This …")
    that sentence too (a summary's sentences only, in summary order)."""
    if cited.paragraphs or not cited.sentences:
        return
    summary = split_sentences(cited.record.summary)
    wanted = {i for i, t in enumerate(summary) if t in cited.sentences}
    wanted |= {i - 1 for i in wanted if i > 0 and _LEANS.search(summary[i])}
    if wanted:
        cited.sentences = [summary[i] for i in sorted(wanted)]


def finish(answer: Answer, cited: list[Cited], related: list[tuple[Record, Hit]], lead: str) -> None:
    """Fill the answer: numbered sentences under the lead line (each with a capital first letter, and the sentence
    before any that leans on it), the cited sources, then the related ones."""
    sentences = []
    for c in cited:
        with_antecedents(c)
    for n, c in enumerate(cited, start=1):
        heading = "\n\n".join(h for h in (lead if n == 1 else "", c.heading) if h)
        quoted = c.sentences or [""]
        for i, sentence in enumerate(quoted):
            text = trim(sentence[:1].upper() + sentence[1:]) if sentence else ""
            sentences.append(AnswerSentence(text, n, c.record.id, context_for(c.record), heading if i == 0 else "",
                                            c.paragraphs.get(i, 0)))
    answer.lead = lead
    answer.sentences = sentences
    answer.text = render(sentences, closing=answer.closing)
    answer.sources = [
        Source(n, c.record, c.score, c.similarity, True,
               tuple(t for i, t in enumerate(c.sentences) if i not in c.paragraphs),
               tuple((c.paragraphs[i], t) for i, t in enumerate(c.sentences) if i in c.paragraphs))
        for n, c in enumerate(cited, start=1)
    ]
    answer.related = [
        Source(len(cited) + j, r, h.score, h.similarity, False) for j, (r, h) in enumerate(related, start=1)
    ]


def relead(answer: Answer, lead: str) -> None:
    """Replace the answer's lead line (the first paragraph of its first sentence's heading) and render it again."""
    if not answer.sentences:
        return
    first = answer.sentences[0]
    rest = first.heading.split("\n\n")[1:] if answer.lead and first.heading.startswith(answer.lead) else []
    answer.sentences[0] = replace(first, heading="\n\n".join([lead, *rest]))
    answer.lead = lead
    answer.text = render(answer.sentences, closing=answer.closing)
