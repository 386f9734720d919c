"""The types every layer passes around: the filters a user chooses, and an answer with its sources."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from qa.errors import QuestionError
from qa.records import DateError, Record, parse_date
from qa.shared import split_sentences


@dataclass(frozen=True, slots=True)
class Filters:
    """Filters chosen by the user: a date range (ISO of any precision), people (names as the titles write them or
    any name of the alias table: `from_person` wrote, `to_person` received, `person` had any role), and whether to
    read dates and people in questions."""

    date_from: str | None = None
    date_to: str | None = None
    include_undated: bool = False
    infer_dates: bool = True
    from_person: str | None = None
    to_person: str | None = None
    person: str | None = None
    infer_people: bool = True
    expand: bool = True  # read question words the collection never uses as its nearest words (qa/index/vocabulary.py)

    def __post_init__(self) -> None:
        """Dates are read as the archive writes them or in ISO, and kept in ISO; people are names (text);
        QuestionError names a bad one."""
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, iso_date(name, value))
        for name in ("from_person", "to_person", "person"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise QuestionError(f"{name}: {value!r} is not a name")


def iso_date(name: str, value: object) -> str:
    """A date as the archive writes it or in ISO, as ISO; QuestionError naming `name` when it is not one."""
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except DateError:
        parsed = None
    if parsed is None:
        raise QuestionError(f"{name}: {value!r} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    return parsed[0]


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
    passages: tuple[tuple[int, str], ...] = ()  # the full text's paragraphs the answer quotes: (number, text)

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
        if self.record.url and self.record.url.lower().startswith(("http://", "https://")):  # never javascript:
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
    paragraph: int = 0  # quoted from this paragraph of the full text (cited "[n] ¶14"); 0: from the summary


@dataclass(frozen=True, slots=True)
class WrittenSentence:
    """A sentence a language model wrote: its text, the numbers of the sources it cites, its quote from one of them."""

    text: str
    cited: tuple[int, ...]
    quote: str


@dataclass(slots=True)
class Written:
    """A written answer: the model's sentences that passed the check against their sources (qa/answer/check.py).

    `fallback` says why the quoted answer is shown instead ("" when the written one is); `removed` holds why
    each sentence that failed the check was left out.
    """

    model: str
    sentences: list[WrittenSentence] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    fallback: str = ""
    proposed: int = 0  # the sentences the model wrote
    latency_ms: float = 0.0

    @property
    def shown(self) -> bool:
        return not self.fallback and bool(self.sentences)


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
    step: str = "answer"  # the answer's confidence: "answer", "closest" (the closest documents, no lead) or "decline"
    notice: str | None = None
    error: str | None = None
    evidence: float = 0.0
    mode: str = "hybrid"
    timings: dict[str, float] = field(default_factory=dict)
    ranking: list[tuple[str, float]] = field(default_factory=list)  # the retrieval it was built from: ids, scores
    form: str = "lookup"  # the answer form: one of qa.answer.forms.Form
    lead: str = ""  # the line the answer opens with, made from the cited records' fields
    closing: str = ""  # the line it may close with: what the cited documents add up to (qa/answer/summary.py)
    override: str = ""  # the line saying a date or person of the question replaced the filters' for it
    people_filter: AppliedPeople | None = None
    decided_by: str = ""  # what decided to answer or abstain: "names", "words" or "evidence"
    unknown_names: list[str] = field(default_factory=list)  # names of the question the collection never uses
    read_as: list[str] = field(default_factory=list)  # question words read in the collection's words: "a → b"
    written: Written | None = None  # the written answer asked for, checked sentence by sentence (qa/answer/written.py)

    @property
    def kind(self) -> str:
        """The kind of answer shown: "written" (a model's checked sentences) or "quoted" (summary sentences)."""
        return "written" if self.written and self.written.shown else "quoted"

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
            "step": self.step,
            "error": self.error,
            "notice": self.notice,
            "sentences": [asdict(s) for s in self.sentences],
            "sources": [source(s) for s in self.sources],
            "related": [source(s) for s in self.related],
            "filter": asdict(self.applied_filter) if self.applied_filter else None,
            "people_filter": asdict(self.people_filter) if self.people_filter else None,
            "form": self.form,
            "lead": self.lead,
            "closing": self.closing,
            "override": self.override,
            "decided_by": self.decided_by,
            "unknown_names": self.unknown_names,
            "read_as": self.read_as,
            "kind": self.kind,
            "written": asdict(self.written) if self.written else None,
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
