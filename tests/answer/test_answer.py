"""Sentence splitting, trimming and choosing: the pieces answers are made of."""

from qa.answer.sentences import MAX_SENTENCES, Candidate, choose, render, trim
from qa.records import Record
from qa.shared import split_sentences
from qa.types import AnswerSentence, Source


def test_split_keeps_abbreviations_and_initials_inside_sentences():
    text = (
        "Secretaries CC CPSU Konstantin Katushev and B. Ponomarov provide information. "
        'Addressed are issues related to the fact "that Maoism failed ideologically." '
        "The U.S. seems to be trying (see No. 5) to help. the discussion concerned China."
    )
    assert split_sentences(text) == (
        "Secretaries CC CPSU Konstantin Katushev and B. Ponomarov provide information.",
        'Addressed are issues related to the fact "that Maoism failed ideologically."',
        "The U.S. seems to be trying (see No. 5) to help.",
        "the discussion concerned China.",
    )


def test_split_of_an_empty_summary_is_empty():
    assert split_sentences("") == ()


def test_trim_cuts_long_sentences_at_a_clause_boundary():
    long = "Stalin and Mao discuss " + ", ".join(f"topic number {i}" for i in range(40)) + "."
    cut = trim(long)
    assert cut.endswith(" …")
    assert long.startswith(cut.removesuffix(" …"))
    assert len(cut.split()) <= 47
    short = "Kovalev reports to Stalin on the politburo meeting."
    assert trim(short) == short


def _candidate(rank, position, score, words):
    return Candidate(rank, position, " ".join(words), score, frozenset(words))


def test_choose_skips_repeats_and_caps_the_answer():
    question = {"loan", "stalin", "mao", "xinjiang", "fleet", "plenum"}
    candidates = [
        _candidate(0, 0, 1.0, ["loan", "stalin"]),
        _candidate(1, 0, 0.95, ["loan", "stalin"]),  # says the same again
        _candidate(2, 0, 0.9, ["xinjiang", "mao"]),
        _candidate(3, 0, 0.85, ["fleet"]),
        _candidate(4, 0, 0.8, ["plenum"]),
        _candidate(5, 0, 0.8, ["plenum", "other"]),
        _candidate(6, 0, 0.3, ["mao", "weak"]),  # too weak
    ]
    chosen = choose(candidates, question)
    assert [c.record_rank for c in chosen] == [0, 2, 3, 4]
    assert len(chosen) <= MAX_SENTENCES


def test_render_cites_every_sentence_and_names_the_document_once_per_run():
    sentences = [
        AnswerSentence("First.", 1, "a", "In “A” (1949):"),
        AnswerSentence("Second.", 1, "a", "In “A” (1949):"),
        AnswerSentence("Third.", 2, "b", "In “B” (undated):"),
    ]
    assert render(sentences) == "In “A” (1949): First. [1] Second. [1]\n\nIn “B” (undated): Third. [2]"


def _scored(rank, position, score, words, evidence, title=()):
    return Candidate(rank, position, " ".join(words), score, frozenset(words), frozenset(title), evidence)


def test_the_best_document_speaks_first_in_its_own_order():
    question = {"romanian", "worri", "publish"}
    candidates = [
        _scored(0, 0, 0.9, ["publish", "declar"], 0.7, ["romanian"]),
        _scored(0, 1, 0.6, ["react", "tension"], 0.7, ["romanian"]),
        _scored(0, 2, 0.2, ["unrelated"], 0.7, ["romanian"]),
    ]
    chosen = choose(candidates, question)
    assert [(c.record_rank, c.position) for c in chosen] == [(0, 0), (0, 1)]


def test_a_weaker_document_is_not_cited_even_with_new_words():
    question = {"navi", "stalin", "fleet"}
    candidates = [
        _scored(0, 0, 1.0, ["stalin", "fleet"], 0.6),
        _scored(1, 0, 0.9, ["navi"], 0.3),
    ]
    assert [c.record_rank for c in choose(candidates, question)] == [0]


def test_a_document_as_strong_as_the_first_is_cited_without_new_words():
    question = {"telegram", "stalin", "mao"}
    candidates = [
        _scored(0, 0, 1.0, ["mao", "militari"], 0.8, ["telegram", "stalin"]),
        _scored(1, 0, 0.9, ["mao", "loan"], 0.78, ["telegram", "stalin"]),
        _scored(2, 0, 0.8, ["mao", "econom"], 0.5, ["telegram", "stalin"]),
    ]
    assert [c.record_rank for c in choose(candidates, question)] == [0, 1]


def test_every_document_that_answers_is_cited_and_the_best_one_keeps_two_sentences():
    question = {"loan", "china"}
    candidates = [
        _scored(0, 0, 1.0, ["loan", "china"], 0.8),
        _scored(0, 1, 0.9, ["china", "govern"], 0.8),
        _scored(0, 2, 0.8, ["china", "fleet"], 0.8),
        *[_scored(r, 0, 0.9, ["loan", f"x{r}", f"y{r}"], 0.78) for r in range(1, 5)],
    ]
    chosen = choose(candidates, question)
    assert [c.record_rank for c in chosen] == [0, 0, 1, 2, 3, 4]


def test_a_heading_is_a_paragraph_of_its_own_before_its_sentence():
    sentences = [
        AnswerSentence("First.", 1, "a", "In “A” (1949):", "Two documents from 1949:\n\n1949:"),
        AnswerSentence("Second.", 2, "b", "In “B” (1963):", "1963:"),
        AnswerSentence("", 3, "c", "In “C” (1977):"),
    ]
    assert render(sentences) == (
        "Two documents from 1949:\n\n1949:\n\nIn “A” (1949): First. [1]\n\n1963:\n\nIn “B” (1963): Second. [2]"
        "\n\nIn “C” (1977): [3]"
    )


def test_a_source_card_shows_what_the_answer_does_not_quote():
    record = Record(
        id="r", title="T", date=None, date_precision=None, summary="One thing. Another thing. A third.", url=None,
        collection="c", source="f:1",
    )
    source = Source(1, record, 0.1, 0.2, True, ("Another thing.",))
    assert source.unquoted == "One thing. A third." and not source.fully_quoted
    whole = Source(1, record, 0.1, 0.2, True, split_sentences(record.summary))
    assert whole.unquoted == "" and whole.fully_quoted
