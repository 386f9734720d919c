"""The assistant: a question (and the conversation so far) in, a cited answer or an honest abstention out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from qa.answer.compose import RANKING_DEPTH, Composer, Request, relead
from qa.answer.dates import DateRange, find_date_range, named_day, strip_dates
from qa.answer.forms import Form, Reading, capitalised_names, excluded_date, read_question, swap_topic
from qa.answer.leads import CLOSEST_LEAD
from qa.config import MAX_K, MODES, Config
from qa.errors import QuestionError
from qa.index.lexical import Analyzer
from qa.index.people import People
from qa.index.search import ArchiveIndex, DateFilter, Hit, Query
from qa.records import date_bounds
from qa.types import Answer, AppliedFilter, AppliedPeople, Filters, Source

MAX_QUESTION_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPEECH = re.compile(r"\b(?:tell|tells|told|say|says|said|discuss|discussed|discusses|talk|talked|spoke|speak)\b", re.I)
# "And what did they say …?": a follow-up that is a question of its own (read with the previous answer if it refers
# back), not a part of the previous question.
_OWN_QUESTION = re.compile(
    r"(?:what|who|whom|which|when|where|why|how|did|does|do|was|were|is|are|has|have|had|could|can)\s+\w", re.I
)
_REFERS_BACK = re.compile(r"\b(?:he|him|his|she|her|they|them|their|its|these|those)\b", re.I)
ABSENT_WORDS = 2  # a yes/no question about at most this many words the collection never uses is answered "no"
# Forms answered from the ranking (not from every document of a period or person): nothing ranked, nothing to say.
ANSWERED_FROM_RANKING = frozenset({Form.LOOKUP, Form.CHANGE, Form.YESNO, Form.COMPARISON})
THRESHOLDS_FILE = Path(__file__).parent.parent / "data" / "abstention.json"
STANDS_FOR_FILE = Path(__file__).parent.parent / "data" / "stands_for.tsv"
_FOLLOW_UP = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+|^\s*what\s+of\s+|^\s*and\s+(?:in\s+|for\s+)?|^\s*(?:same|also)\s+for\s+",
    re.I,
)


def load_stands_for(path: Path = STANDS_FOR_FILE) -> dict[str, list[str]]:
    """Names a question may use for what the documents call otherwise (qa/data/stands_for.tsv): name -> words."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, *others = line.split("\t")
            table[name.strip()] = [o.strip() for o in others if o.strip()]
    return table


def load_thresholds() -> dict[str, float]:
    """Evidence below which each mode abstains (calibrated on the eval set; see eval/README.md)."""
    return {k: float(v) for k, v in json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))["thresholds"].items()}


def resolve_follow_up(
    question: str, history: Sequence[str | Answer], analyzer: Analyzer | None = None, people: People | None = None
) -> str:
    """A follow-up read against the previous question.

    The rule: a question that starts with "and", "what about", "how about", "what of", "same for" or "also for",
    or that is nothing but a date, continues the previous one, unless what follows is a question of its own ("And
    what did they say about …?": asked as it is, within the previous answer's documents when it refers back). It
    keeps the previous question's frame — its form, the people it names and its date — and what it brings
    replaces the same part:

    - a date replaces the previous question's date ("What did Kovalev report in May 1949?" → "What about July
      1949?": "What did Kovalev report in July 1949");
    - a topic (words other than a date and the people it names as senders or receivers) replaces the previous
      topic, the words after the previous question's first marker ("about", "on", "regarding", "concerning", or a
      word that only asks for documents: "mention", "discuss", "tell", "report", …) that a topic word follows
      ("What did Kovalev tell Stalin about Wang Ming?" → "And about Shanghai?": "What did Kovalev tell Stalin
      about Shanghai"; "Which documents mention Manchuria in 1949?" → "And Xinjiang?": "Which documents mention
      Xinjiang in 1949"; "Who was Kovalev?" → "And Mikoyan?": "Who was Mikoyan"). `qa.answer.forms.swap_topic`;
    - anything else is added to the previous question: people in roles, or a topic when the previous question
      has none after a marker ("What did Mikoyan discuss with Mao Zedong?" → "And the structure of state
      power?": "What did Mikoyan discuss with Mao Zedong the structure of state power").

    Topics are swapped with the collection's analyzer and people (`Assistant.ask` passes them); without them,
    they are added. Any other question starts afresh.
    """
    if not history:
        return question
    last = history[-1]
    previous = last.resolved_question if isinstance(last, Answer) else str(last)
    stripped = question.strip().rstrip("?").strip()
    rest = _FOLLOW_UP.sub("", stripped, count=1)
    only_date = find_date_range(stripped) is not None and not strip_dates(stripped).strip(" ,.")
    if (rest == stripped and not only_date) or _OWN_QUESTION.match(rest):
        return question
    new_date = find_date_range(rest)
    base = strip_dates(previous).rstrip("?").strip() if new_date else previous.rstrip("?").strip()
    if new_date and re.fullmatch(r"\d{4}", new_date.phrase):
        rest = rest.replace(new_date.phrase, f"in {new_date.phrase}", 1)
    swapped = swap_topic(base, rest, analyzer, people) if analyzer is not None and people is not None else None
    return swapped or f"{base} {rest}".strip()


class Assistant:
    """Answers questions from one index; `ask` is safe to call from many threads at once."""

    def __init__(self, config: Config | None = None, *, index: ArchiveIndex | None = None, embedder=None) -> None:
        self.config = config or Config.from_env()
        self.index = index or ArchiveIndex.load(self.config)
        self._embedder = embedder
        self.thresholds = load_thresholds()
        table = load_stands_for()
        self.stands_for = {**{t: w for name, w in table.items() for t in self.index.tokens(name)}, **table}
        self.composer = Composer(self.index, self.config.answer_weights)
        self._knows = lru_cache(maxsize=16384)(self._knows_name)  # names repeat across questions
        self._forms_of = lru_cache(maxsize=16384)(self._forms_of_name)
        self._names_in = lru_cache(maxsize=4096)(self._question_names)

    @property
    def embedder(self):
        """The index's model, loaded on first use and checked against the index."""
        if self._embedder is None:
            from qa.index.encoding import default_embedder

            self._embedder = default_embedder(self.config)
        self.index.check_embedder(self._embedder)
        return self._embedder

    def warm_up(self) -> None:
        """Load the model and run one question, so the first user's question is as fast as the rest."""
        self.ask("warm-up question about the collection")

    def people_names(self) -> list[tuple[str, int]]:
        """The people of the collection's titles with their number of documents, most first (for a person filter)."""
        return self.index.people_names()

    def ask(
        self,
        question: str,
        history: Sequence[str | Answer] = (),
        filters: Filters | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
    ) -> Answer:
        """The cited answer to a question read with the conversation so far (see docs/answers.md)."""
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
            return Answer(question, question, error=error, abstained=True, step="decline", mode=mode)
        # The history may hold broken text too (an API caller's): the question read with it is cleaned as well.
        resolved = _SURROGATE.sub(
            "\ufffd", resolve_follow_up(question, history, self.index.analyzer, self.index.people)
        )
        filters = filters or Filters()
        reading, date_filter, applied, people_mask, people_applied = self._read(resolved, filters)
        followed = self._followed(question, resolved, history, filters, k, mode)
        if followed is not None:
            people_mask = followed if people_mask is None else people_mask & followed
        timings: dict[str, float] = {}
        t = time.perf_counter()
        expand = (filters or Filters()).expand
        query = self.index.query(resolved, self.embedder if mode != "bm25" else None, mode, expand=expand)
        timings["encode_ms"] = (time.perf_counter() - t) * 1000
        query, reading = self._as_written(resolved, query, reading)
        t = time.perf_counter()
        spans = [f.span for f in (applied, people_applied) if f]
        spans += ["cited in the previous answer"] if followed is not None else []
        ranking, evidence, notice = self._retrieve(query, max(k, RANKING_DEPTH), mode, date_filter, people_mask, spans)
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        answer = Answer(question, resolved, evidence=evidence, mode=mode, form=reading.form)
        answer.applied_filter, answer.people_filter, answer.notice = applied, people_applied, notice
        answer.override = _override(filters, applied, people_applied)
        answer.unknown_names = self.unknown_names(resolved)
        answer.read_as = [str(r) for r in query.read_as]
        answer.decided_by, step = self._decide(reading, answer.unknown_names, evidence, mode)
        if followed is not None and step == "decline" and ranking:
            answer.decided_by, step = "conversation", "closest"  # the previous answer's documents are in question
        closest = [self.index.records[h.position] for h in ranking[:k]], ranking[:k]
        if step != "answer" and (absent := self._absent(resolved, reading)):
            answer.text, answer.step = f"No document in the collection mentions {_joined(absent)}.", "answer"
            answer.related = _abstained_related(*closest)
        elif (
            reading.form == Form.YESNO
            and people_applied
            and people_applied.source == "question"
            and (people_mask is not None and not people_mask.any())
        ):
            answer.text, answer.step, answer.notice = (
                f"No document in the collection is {people_applied.span}.",
                "answer",
                None,
            )
            answer.related = _abstained_related(*closest)
        elif step == "decline" or (not ranking and reading.form in ANSWERED_FROM_RANKING):
            _abstain(answer, *closest)
        elif applied and applied.source == "question" and self._no_dated_record(applied, reading):
            _abstain(answer, *closest)
            answer.text = f"The collection has no document {applied.span}. The closest documents are listed below."
            answer.notice = None  # said once: the text says it
        else:
            strength = partial(_strength, mode=mode)
            request = Request(reading, query, ranking, k, mode, date_filter, people_mask, strength,
                              partial(self._search_part, mode=mode, mask=people_mask), _excluded(resolved),
                              step == "closest", named_day(resolved))  # fmt: skip
            self._compose(answer, request)
            if not answer.abstained:
                self._settle(answer, reading, step)
        answer.ranking = [(h.id, h.score) for h in ranking]
        timings["compose_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer.timings = timings
        return answer

    # ------------------------------------------------------------------------------------------ filters

    def _read(self, resolved: str, filters: Filters):
        """The question's reading (qa/answer/forms.py), its date filter and its people filter, each with its note."""
        reading = read_question(resolved, self.index.analyzer, self.index.people)
        date_filter, applied = _date_filter(resolved, filters, listing=reading.form.lists)
        people_mask, people_applied = self._people_filter(reading, filters, resolved)
        if people_applied and not reading.topic and reading.form == Form.LOOKUP:
            reading = replace(reading, form=Form.LIST)  # people chosen in the filters, nothing else asked: their list
        return reading, date_filter, applied, people_mask, people_applied

    def _people_filter(
        self, reading: Reading, filters: Filters, question: str
    ) -> tuple[np.ndarray | None, AppliedPeople | None]:
        """The people a question names in roles, else the user's people filters (the question's win for that
        question); as a record mask and a note. A question that has someone tell, say or discuss reads the
        participants of a conversation record in either role."""
        speech = _SPEECH.search(question) is not None
        if filters.infer_people and reading.has_people:
            authors, recipients, anyone, source = reading.authors, reading.recipients, (), "question"
        elif filters.from_person or filters.to_person or filters.person:
            authors = self._person_keys("from_person", filters.from_person)
            recipients = self._person_keys("to_person", filters.to_person)
            anyone = self._person_keys("person", filters.person)
            source, speech = "filters", False
        else:
            return None, None
        mask = np.ones(self.index.count, dtype=bool)
        in_roles = (
            (("authors", "participants"), ("recipients", "participants")) if speech else (("authors",), ("recipients",))
        )
        for keys, roles in ((authors, in_roles[0]), (recipients, in_roles[1]), (anyone, None)):
            if keys:
                mask &= self.index.with_people(keys, roles)
        span = _describe_people(self.index, authors, recipients, anyone)
        applied = AppliedPeople(f"showing documents {span}", source, span, tuple(authors), tuple(recipients))
        return mask, replace(applied, anyone=tuple(anyone))

    def _person_keys(self, name: str, value: str | None) -> tuple[str, ...]:
        """The people a filter's name stands for; QuestionError when it names no one of the titles."""
        if not value:
            return ()
        keys = self.index.person_keys(value)
        if not keys:
            raise QuestionError(f"{name}: {value!r} is not a name the collection's titles give")
        return tuple(keys)

    # ------------------------------------------------------------------------------------------ retrieval

    def _retrieve(
        self,
        query: Query,
        depth: int,
        mode: str,
        date_filter: DateFilter | None,
        mask: np.ndarray | None,
        spans: list[str],
    ) -> tuple[list[Hit], float, str | None]:
        """The ranking within the filters, its evidence, and a notice when the filters had to be widened.

        The matches without a filter are looked at whatever the threshold, so that the evidence an answer
        reports (the better of the two) does not depend on the threshold it is compared with.
        """
        ranking = self.index.search(query, depth, mode, date_filter, mask)
        evidence = _evidence(ranking, mode)
        if date_filter is None and mask is None:
            return ranking, evidence, None
        wider = self.index.search(query, depth, mode, None, None)
        wider_evidence = _evidence(wider, mode)
        notice = None
        if (evidence < self.thresholds[mode] <= wider_evidence) or not ranking:
            anything = "date" if mask is None else "document"
            notice = f"No document {', '.join(spans)} answers this question; "
            notice += f"showing the best matches from any {anything}."
            ranking = wider
        return ranking, max(evidence, wider_evidence), notice

    # ------------------------------------------------------------------------------------------ abstention

    def unknown_names(self, question: str) -> list[str]:
        """The names (capitalised words) of a question that the collection never uses, nor anything they stand for."""
        return [name for name in self._names_in(question) if not self._knows(name)]

    def _question_names(self, question: str) -> tuple[str, ...]:
        """The capitalised names of a question, its dates apart (cached per assistant as `_names_in`)."""
        return tuple(capitalised_names(strip_dates(question), self.index.analyzer))

    def _knows_name(self, name: str) -> bool:
        """Whether the collection uses every word of a name (or a form: Romania, Romanian), or what it stands for."""
        phrase = " ".join(name.lower().split())
        if phrase in self.stands_for:
            return self._known(phrase)
        return all(self._known(word) for word in self.index.canonical(name).split())

    def _known(self, word: str) -> bool:
        """Whether the collection uses a word (of a name, or a topic token), or a word it stands for."""
        word = word.strip(".'’-")
        if self.index.uses(word):  # a token (stem) of the collection as it is
            return True
        return self._used(word) or any(self._used(w) for w in self.stands_for.get(word, ()))

    def _used(self, word: str) -> bool:
        """Whether the collection uses a word or a near form of it (country and people, singular and plural)."""
        return self._near_form(word) is not None

    def _near_form(self, word: str) -> str | None:
        """The collection's token for a word or, when it does not use the word itself, for a near form of it
        (Czechoslovakia: czechoslovak, Maoist: maoism, Romanians: romanian); "" for a stop word or a single letter
        (not a name); None when the collection uses neither."""
        near = [word, word + "n", word + "an", word + "ese", word[:-1] + "ian", word[:-2], word.removesuffix("n")]
        near += [word.removesuffix("an"), word.removesuffix("ian"), word.removesuffix("ese"), word[:-3] + "ism"]
        tokens = [t for f in dict.fromkeys(near) if len(f) >= 3 for t in self.index.tokens(f)]
        if not tokens:
            return ""
        return next((t for t in tokens if self.index.uses(t)), None)

    def _as_written(self, question: str, query: Query, reading: Reading) -> tuple[Query, Reading]:
        """The query's and the topic's tokens with the question's names as the collection writes them."""
        forms = self._name_forms(question)
        if not forms:
            return query, reading
        written = lambda tokens: [forms.get(t, t) for t in tokens]  # noqa: E731
        return replace(query, tokens=written(query.tokens)), replace(reading, topic=written(reading.topic))

    def _name_forms(self, question: str) -> dict[str, str]:
        """The tokens of a question's names that the collection uses only in a near form, mapped to that form: a
        name is matched as the collection writes it ("Maoist" finds "Maoism", "Czechoslovakia" "Czechoslovak"),
        the form by which it is known for abstention (`unknown_names`). A word the collection never uses but
        writes one letter apart is read as the collection writes it ("recieving", "telegarm")."""
        forms = {}
        for word in re.findall(r"[^\W\d_]+", strip_dates(question)):
            tokens = self.index.tokens(word)
            if len(tokens) == 1 and not self.index.uses(tokens[0]) and (spelled := self.index.spelled(word)):
                forms[tokens[0]] = spelled
        for name in self._names_in(question):
            forms.update(self._forms_of(name))
        return forms

    def _forms_of_name(self, name: str) -> dict[str, str]:
        forms = {}
        for word in self.index.canonical(name).split():
            tokens = self.index.tokens(word)
            if len(tokens) == 1 and not self.index.uses(tokens[0]):
                if near := self._near_form(word.strip(".'’-")):
                    forms[tokens[0]] = near
        return forms

    def _decide(self, reading: Reading, unknown: list[str], evidence: float, mode: str) -> tuple[str, str]:
        """Why, and the answer's step (`answer`, `closest` or `decline`).

        A question whose words the collection all uses, or that asks for documents by date or person alone, is
        answered ("words"). Below the mode's evidence threshold it is declined ("evidence"; "names" when it names
        something the collection never uses). At or above it, the closest documents are shown without a
        confident lead: for a name the collection never uses, saying so ("names"); for words it never uses
        ("evidence").
        """
        reached = evidence >= self.thresholds[mode]
        if reading.form in (Form.OVERVIEW, Form.UNDATED):
            return "words", "answer"  # what the documents in scope are about: their words are not asked for
        if unknown:
            return "names", "closest" if reached else "decline"
        topic = reading.topic
        if (topic and all(self._known(t) for t in topic)) or (not topic and reading.form != Form.LOOKUP):
            return "words", "answer"
        return "evidence", "closest" if reached else "decline"

    def _followed(
        self, question: str, resolved: str, history: Sequence[str | Answer], filters: Filters, k: int, mode: str
    ) -> np.ndarray | None:
        """For a question that refers back ("what were they afraid of?", "which of his reports …") and that no
        rule of `resolve_follow_up` rewrote: the documents the previous answer cites, as a record mask (None
        for any other question, or when the previous answer cites nothing)."""
        if not history or resolved != question or not _REFERS_BACK.search(question):
            return None
        last = history[-1]
        previous = last if isinstance(last, Answer) else self.ask(str(last), history[:-1], filters, k=k, mode=mode)
        if not previous.sources:
            return None
        mask = np.zeros(self.index.count, dtype=bool)
        mask[[self.index.records.position(s.record.id) for s in previous.sources]] = True
        return mask

    def _absent(self, question: str, reading: Reading) -> list[str]:
        """For a yes/no question about a word or two the collection never uses (and nothing else): those words as
        the question writes them ("Does Khrushchev come up anywhere?"); else nothing."""
        topic = reading.topic
        if reading.form != Form.YESNO or not topic or len(topic) > ABSENT_WORDS or any(self._known(t) for t in topic):
            return []
        return [w for w in re.findall(r"[\w'’-]+", question) if set(self.index.tokens(w)) & set(topic)]

    def _no_dated_record(self, applied: AppliedFilter, reading: Reading) -> bool:
        """Whether a date read from a question that asks about something holds no dated record at all."""
        if reading.form not in ANSWERED_FROM_RANKING:
            return False
        return not self.index.within(DateFilter(applied.start, applied.end, keep_undated=False)).any()

    def _search_part(self, text: str, *, mode: str, mask: np.ndarray | None) -> list[Hit]:
        """The best records for a part of the question searched alone, within its own date (if it names one)."""
        found = find_date_range(text)
        dates = DateFilter(found.start, found.end, keep_undated=False) if found else None
        query = self.index.query(text, self.embedder if mode != "bm25" else None, mode)
        return self.index.search(query, RANKING_DEPTH, mode, dates, mask) or self.index.search(
            query, 3, mode, None, mask
        )

    def _settle(self, answer: Answer, reading: Reading, step: str) -> None:
        """The answer's step and its opening: the closest documents without a confident lead (saying which names
        the collection never uses); a yes/no answered "Yes:" only when a cited sentence holds every word asked
        about (and the filters were not widened to find it), else the closest documents."""
        if reading.form == Form.YESNO and step == "answer" and (answer.notice or not self._stated(answer, reading)):
            step = "closest"
        answer.step = step
        if step == "closest":
            missing = answer.unknown_names
            if missing:
                relead(
                    answer,
                    f"The collection never mentions {_joined(missing)}; {CLOSEST_LEAD[0].lower()}{CLOSEST_LEAD[1:]}",
                )
            else:
                relead(answer, CLOSEST_LEAD)
            answer.abstained = bool(missing)
        elif reading.form == Form.YESNO:
            relead(answer, "Yes:")

    def _stated(self, answer: Answer, reading: Reading) -> bool:
        """Whether one cited document's quoted sentences (with its title) hold every topic word of the question."""
        wanted = set(reading.topic)
        if not wanted:  # asked only whether people wrote or received: their documents say it
            return bool(answer.people_filter and answer.people_filter.source == "question" and answer.sources)
        for source in answer.sources[:1]:
            words = set(self.index.tokens(" ".join((source.record.title, *source.quoted))))
            if wanted and wanted <= words:
                return True
        return False

    # ------------------------------------------------------------------------------------------ composition

    def _compose(self, answer: Answer, request: Request) -> None:
        """Compose the answer in the question's form (qa/answer/compose.py); abstain when nothing fits."""
        self.composer.compose(answer, request)
        if not answer.sentences:
            ranking, k = request.ranking, request.k
            _abstain(answer, [self.index.records[h.position] for h in ranking[:k]], ranking[:k])
            asked = [f.span for f in (answer.applied_filter, answer.people_filter) if f]
            if asked:
                answer.text = f"The collection has no document {', '.join(asked)} that answers this question."
                answer.notice = None  # said once: the text says it


def _joined(names: Sequence[str]) -> str:
    """ "Nanjing", "Nanjing and Korea", "Nanjing, Korea and Vietnam"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _excluded(question: str) -> DateFilter | None:
    """The date range a question leaves out ("everything that isn't from 1949"), as a filter, or None."""
    if not excluded_date(question):
        return None
    found = find_date_range(question)
    return DateFilter(found.start, found.end, keep_undated=False)


def _override(filters: Filters, applied: AppliedFilter | None, people: AppliedPeople | None) -> str:
    """The line saying the question's date or people replaced the filters' for this question ("" when not)."""
    parts = []
    if applied and applied.source == "question" and (filters.date_from or filters.date_to):
        parts.append(f"date ({applied.span})")
    if people and people.source == "question" and (filters.from_person or filters.to_person or filters.person):
        parts.append(f"people ({people.span})")
    if not parts:
        return ""
    return f"The question's {' and '.join(parts)} replace the filters' for this question."


def _describe_people(index: ArchiveIndex, authors, recipients, anyone) -> str:
    """How a people filter reads: "written by Kovalev, to Stalin"."""
    parts = []
    if authors:
        parts.append("written by " + " or ".join(index.person_name(k) for k in authors))
    if recipients:
        parts.append("to " + " or ".join(index.person_name(k) for k in recipients))
    if anyone:
        parts.append("involving " + " or ".join(index.person_name(k) for k in anyone))
    return ", ".join(parts)


def _abstain(answer: Answer, records, hits: list[Hit]) -> None:
    """Say the collection does not seem to cover the question, and list the closest documents."""
    answer.abstained, answer.step = True, "decline"
    answer.text = "The collection does not seem to cover this question. The closest documents are listed below."
    answer.sentences, answer.sources, answer.lead = [], [], ""
    answer.related = _abstained_related(records, hits)


def _abstained_related(records, hits: list[Hit]) -> list[Source]:
    """The closest documents shown under an answer that cites none."""
    return [Source(i + 1, r, h.score, h.similarity, False) for i, (r, h) in enumerate(zip(records, hits, strict=True))]


def _check_question(question: str) -> str | None:
    if not isinstance(question, str) or not question.strip():
        return "Please type a question."
    if len(question) > MAX_QUESTION_CHARS:
        return f"The question is {len(question)} characters long; please keep it under {MAX_QUESTION_CHARS}."
    return None


def _date_filter(
    question: str, filters: Filters, *, listing: bool = False
) -> tuple[DateFilter | None, AppliedFilter | None]:
    """The date range read from the question (which keeps undated records, except for a question that asks for the
    documents of a period: a list, a period, a change over time), else the user's explicit one: the question's
    date wins for that question. A date the question leaves out ("not from 1949") is no range of it."""
    found = find_date_range(question) if filters.infer_dates and not excluded_date(question) else None
    if found:
        rng, source, keep = found, "question", not listing
    elif filters.date_from or filters.date_to:
        start = date_bounds(filters.date_from)
        end = date_bounds(filters.date_to)
        rng = DateRange(start[0] if start else None, end[1] if end else None)
        source, keep = "filters", filters.include_undated
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
