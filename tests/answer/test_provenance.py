"""Provenance: every word of every answer to the eval questions comes from the records it cites.

The checker is written here, independently of qa's rendering code. An answer's paragraphs without a citation
marker are its lead line and headings: each word must be a word of a cited record's summary, title or date, a
name of the alias table, a count, or one of a small fixed list of connectives. The rest is cut at its citation
markers [n]; each piece must be made only of words (and punctuation) of source n's summary, title and date,
plus a smaller fixed list of connectives; a piece cited to a paragraph of the full text ([n] ¶k) only of words
of that paragraph, source n's title and date.
"""

from __future__ import annotations

import calendar
import re

import pytest

from archive_qa.evaluation.questions import load_questions
from qa.index.lexical import SHIPPED_ALIASES, STOPWORDS
from qa.index.romanise import Romaniser

QUESTIONS = load_questions()
CONNECTIVES = frozenset({"in", ":", "(", ")", "“", "”", '"', "…"})
# Lead lines and headings: counts and the words that join the cited records' values ("Four documents from 1949,
# written by Kovalev, all to Stalin:"; "Filippov is another name for Stalin."), nothing that states a fact.
LEAD_CONNECTIVES = CONNECTIVES | frozenset(
    """one two three four five six seven eight nine ten eleven twelve document documents from to and by written all
    both sent is another name for named of author recipient intermediary participant undated year month more , . :
    kind correspondents yes no says this directly the closest are ; dated it content evidence its time not date
    """.split()
)
# The closing line of a change over time or a comparison: each clause's words are its first cited record's, joined
# by these ("Across them: loan recurs [1][3]; new in June 1949: Xinjiang [4]"; "Both: loan [1][2]; the first
# alone: Mongolia [1]").
SUMMARY_CONNECTIVES = CONNECTIVES | frozenset("across them recurs new in both the first second alone , : ;".split())
# Questions in the forms the eval set has few of: yes/no, overview, comparison, undated, change over time.
FORM_QUESTIONS = (
    "Did Stalin meet the CCP delegation?",
    "What is this collection about?",
    "Summarise the 1949 documents",
    "Give me an overview of everything that is not from 1949",
    "Compare the Romanian meeting of 1963 with the Sofia conference of 1977",
    "How do Kovalev's telegrams compare with Stalin's cable to Mao?",
    "What is the undated document about?",
    "How did the discussion of the Soviet loan change over 1949?",
    "Did Kovalev report on the military situation?",
)
ALIAS_NAMES = sorted(
    {n.strip().casefold() for line in SHIPPED_ALIASES.read_text(encoding="utf-8").splitlines()
     if not line.startswith("#") for n in line.split("\t") if n.strip()},
    key=len,
    reverse=True,
)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_MARKER = re.compile(r"\[(\d+)\](?: ¶(\d+))?")


def tokens(text: str) -> list[str]:
    """Words and single punctuation marks, case-folded."""
    return [t.casefold() for t in _TOKEN.findall(text)]


def date_words(iso: str | None) -> set[str]:
    """The words a date can be written with: year, month name, day number (or "undated")."""
    if not iso:
        return {"undated"}
    parts = [int(p) for p in iso.split("-")]
    words = {str(parts[0])}
    if len(parts) > 1:
        words.add(calendar.month_name[parts[1]].casefold())
    if len(parts) > 2:
        words |= {str(parts[2]), ","}
    return words


def vocabulary(record, paragraph: int = 0) -> set[str]:
    """The words a piece cited to a record may use: its summary's, or (cited to a paragraph) that paragraph's."""
    said = record.full_text.split("\n")[paragraph - 1] if paragraph else record.summary
    return set(tokens(said)) | set(tokens(record.title)) | date_words(record.date) | CONNECTIVES


ROMANISER = Romaniser()


def without_alias_names(text: str, known: frozenset[str] = frozenset()) -> str:
    """The text with every whole name of the alias table taken out (a lead line may name what an alias stands for),
    romanised names read as the romanisation table reads them with the `known` words (a lead may name the spelling
    asked about)."""
    text = ROMANISER.canonical(text.casefold(), known.__contains__, STOPWORDS)
    for name in ALIAS_NAMES:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text)
    return text


def foreign_words(answer) -> list[tuple[int, str]]:
    """(citation number, word) for every word of the answer not found where it may come from (0: the lead line)."""
    paragraphs = [p for p in answer.text.split("\n\n") if not getattr(answer, "closing", "") or p != answer.closing]
    leads = [p for p in paragraphs if not _MARKER.search(p)]
    body = "\n\n".join(p for p in paragraphs if _MARKER.search(p))
    sources = {s.n: s.record for s in answer.sources}
    cited = set().union(*(vocabulary(r) for r in sources.values())) if sources else set()
    allowed = cited | LEAD_CONNECTIVES
    read = [tokens(without_alias_names(_unnamed(lead), frozenset(cited))) for lead in leads]
    found = [(0, word) for words in read for word in words if word not in allowed]
    found += closing_words(getattr(answer, "closing", ""), sources)
    pieces = _MARKER.split(body)
    assert not pieces[-1].strip(), f"text after the last citation: {pieces[-1]!r}"
    for text, number, paragraph in zip(pieces[0::3], pieces[1::3], pieces[2::3], strict=False):
        n = int(number)
        assert n in sources, f"[{n}] cites no listed source"
        assert text.strip(), f"an empty piece before [{n}]"
        allowed = vocabulary(sources[n], int(paragraph or 0))
        found += [(n, word) for word in tokens(text) if word not in allowed]
    return found


def _unnamed(lead: str) -> str:
    """A lead without the names it says the collection never mentions (those are the question's own words)."""
    return re.sub(r"^The collection never mentions [^;]*;", "", lead)


def closing_words(closing: str, sources: dict) -> list[tuple[int, str]]:
    """(citation number, word) for every word of a closing line's clause not in the clause's first cited record."""
    found = []
    for clause in filter(str.strip, closing.split(";")):
        numbers = [int(m.group(1)) for m in _MARKER.finditer(clause)]
        assert numbers, f"a closing clause cites nothing: {clause!r}"
        assert all(n in sources for n in numbers), f"a closing clause cites an unlisted source: {clause!r}"
        allowed = vocabulary(sources[numbers[0]]) | SUMMARY_CONNECTIVES
        found += [(numbers[0], word) for word in tokens(_MARKER.sub(" ", clause)) if word not in allowed]
    return found


def test_closing_lines_use_each_clauses_first_record_only():
    a = _Record("Report, Kovalev to Stalin", "1949-07-06", "Kovalev relays several requests.")
    b = _Record("Cable, Stalin to Mao Zedong", "1949-05-26", "Stalin discusses the loan.")
    sources = {1: a, 2: b}
    assert closing_words("Across them: Stalin recurs [2][1]; new in July 1949: requests [1]", sources) == []
    assert closing_words("Both: loan [1][2]", sources) == [(1, "loan")]


def test_lead_lines_may_use_the_cited_records_and_the_alias_table_only():
    a = _Record("Report, Kovalev to Stalin", "1949-07-06", "Kovalev relays several requests.")
    good = _Answer(
        "Filippov is another name for Stalin. One document from July 1949, written by Kovalev to Stalin:"
        "\n\nIn “Report, Kovalev to Stalin” (July 6, 1949): Kovalev relays several requests. [1]",
        [_Source(1, a)],
    )
    assert foreign_words(good) == []
    bad = _Answer("Kovalev, a Soviet envoy, wrote one:\n\nKovalev relays several requests. [1]", [_Source(1, a)])
    assert foreign_words(bad) == [(0, "a"), (0, "soviet"), (0, "envoy"), (0, "wrote")]


def provenance_problems(answer) -> list[str]:
    """What is wrong with one answer's provenance: citations that do not match the sources, foreign words."""
    if answer.abstained and answer.step == "decline":
        return [] if not _MARKER.search(answer.text) and not answer.sources else ["an abstention cites something"]
    if not answer.sources or not all(s.cited for s in answer.sources):
        return ["a listed source is not cited"]
    if {int(m.group(1)) for m in _MARKER.finditer(answer.text)} != {s.n for s in answer.sources}:
        return ["the text cites other sources than the listed ones"]
    return [f"[{n}] {word!r} is not in its source" for n, word in foreign_words(answer)]


def ask_all(assistant, mode: str) -> dict:
    """Every eval question asked in one mode, follow-ups with their predecessor's answer as history."""
    out = {}
    for q in QUESTIONS:
        history = [out[q.follows]] if q.follows else []
        out[q.id] = assistant.ask(q.question, history, mode=mode)
    for n, question in enumerate(FORM_QUESTIONS):
        out[f"form{n}"] = assistant.ask(question, mode=mode)
    return out


def check_all(assistant, mode: str) -> tuple[int, dict[str, list[str]]]:
    """How many of the questions were answered (not abstained on), and the provenance problems by question id."""
    answers = ask_all(assistant, mode)
    problems = {qid: p for qid, answer in answers.items() if (p := provenance_problems(answer))}
    return sum(not a.abstained for a in answers.values()), problems


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_answer_word_comes_from_its_cited_source_model_free(
    hashing_config, hashing_index, hashing_embedder, mode
):
    """The composition is the same whatever the embedder: checked on every question in every mode, model-free."""
    from qa.answer.assistant import Assistant

    answered, problems = check_all(Assistant(hashing_config, index=hashing_index, embedder=hashing_embedder), mode)
    assert answered >= len(QUESTIONS) // 3, "too few answers for the check to mean much"
    assert problems == {}


def test_every_answer_word_comes_from_its_cited_source(assistant):
    """The shipped answers themselves: the real model, hybrid mode (slow: marked by the `assistant` fixture)."""
    answered, problems = check_all(assistant, "hybrid")
    assert answered >= len(QUESTIONS) // 2
    assert problems == {}


class _Record:
    def __init__(self, title: str, date: str | None, summary: str, full_text: str = "") -> None:
        self.title, self.date, self.summary, self.full_text = title, date, summary, full_text


class _Source:
    def __init__(self, n: int, record: _Record) -> None:
        self.n, self.record = n, record


class _Answer:
    def __init__(self, text: str, sources: list[_Source]) -> None:
        self.text, self.sources = text, sources


def test_the_checker_catches_words_from_elsewhere():
    a = _Record(
        "Report, Kovalev to Stalin", "1949-07-06", "Kovalev relays several requests. The requests include advice."
    )
    b = _Record("Cable", None, "Stalin gives advice on the PLA.")
    good = _Answer(
        "In “Report, Kovalev to Stalin” (July 6, 1949): Kovalev relays several requests. [1] The requests include … [1]"
        "\n\nIn “Cable” (undated): Stalin gives advice on the PLA. [2]",
        [_Source(1, a), _Source(2, b)],
    )
    assert foreign_words(good) == []
    assert foreign_words(_Answer("Kovalev relays the PLA today. [1]", [_Source(1, a)])) == [(1, "pla"), (1, "today")]
    assert foreign_words(_Answer("In “Cable” (July 1949): Stalin gives advice. [2]", [_Source(2, b)])) == [
        (2, "july"),
        (2, "1949"),
    ]
    with pytest.raises(AssertionError, match="after the last citation"):
        foreign_words(_Answer("Kovalev relays. [1] Surely.", [_Source(1, a)]))
    with pytest.raises(AssertionError, match="cites no listed source"):
        foreign_words(_Answer("Kovalev relays. [3]", [_Source(1, a)]))


def test_the_checker_holds_a_piece_cited_to_a_paragraph_to_that_paragraph():
    a = _Record("Cable", None, "Stalin gives advice.", "Dear comrade,\nThe fleet sails at dawn.")
    assert foreign_words(_Answer("In “Cable” (undated): The fleet sails at dawn. [1] ¶2", [_Source(1, a)])) == []
    assert foreign_words(_Answer("The fleet gives advice. [1] ¶2", [_Source(1, a)])) == [(1, "gives"), (1, "advice")]
    assert foreign_words(_Answer("The fleet sails. [1]", [_Source(1, a)])) == [(1, "the"), (1, "fleet"), (1, "sails")]


BODY_QUESTIONS = {  # questions only the full text of a fixture document page answers: the paragraph it is in
    "Who proposed that the inspection be carried out at sea by officers of the Red Cross?": 5,
    "Did Castro accept inspectors on Cuban territory in exchange for United States promises?": 4,
    "Through which ports did the grain deliveries pass?": 2,
}


@pytest.fixture(scope="module")
def document_pages(tmp_path_factory, hashing_embedder):
    """An index of the shipped page and the synthetic document pages (with full texts), model-free."""
    import shutil
    from pathlib import Path

    from qa.config import Config
    from qa.index.build import build_index

    root = tmp_path_factory.mktemp("document-pages")
    pages = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
    shutil.copytree(Path(__file__).resolve().parents[2] / "corpus", root / "corpus")
    for page in pages.glob("doc-*.txt"):
        shutil.copy(page, root / "corpus" / "sino-soviet-relations")
    config = Config(corpus=root / "corpus", index=root / "index", model=hashing_embedder.name, cache=root / "cache")
    build_index(config, embedder=hashing_embedder)
    return config


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
@pytest.mark.parametrize("question", sorted(BODY_QUESTIONS))
def test_a_question_only_a_documents_body_answers_is_answered_from_its_paragraph(
    document_pages, hashing_embedder, question, mode
):
    from qa.answer.assistant import Assistant

    answer = Assistant(document_pages, embedder=hashing_embedder).ask(question, mode=mode)
    assert not answer.abstained and provenance_problems(answer) == []
    first = answer.sources[0]
    paragraph = BODY_QUESTIONS[question]
    assert (paragraph, first.record.full_text.split("\n")[paragraph - 1]) in first.passages
    assert f"[1] ¶{paragraph}" in answer.text
