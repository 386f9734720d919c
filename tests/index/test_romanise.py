"""Romanisation as data: Wade-Giles, postal and Russian spellings read alike in records and questions."""

from __future__ import annotations

import pytest

from qa.errors import AliasError
from qa.index.lexical import Analyzer, LexicalIndex
from qa.index.romanise import SHIPPED_TABLE, Romaniser


@pytest.fixture(scope="module")
def romaniser():
    return Romaniser()


def test_the_table_is_syllables_with_a_cited_source(romaniser):
    text = SHIPPED_TABLE.read_text(encoding="utf-8")
    assert "Library of Congress" in text and "Postal" in text and "BGN/PCGN" in text
    assert len(romaniser.syllables) > 400 and romaniser.syllables["hsiao"] == ["xiao"]
    assert romaniser.syllables["chi"][:2] == ["ji", "qi"]  # apostrophe-less: the unaspirated reading first
    assert romaniser.syllables["ch'i"] == ["qi"]


@pytest.mark.parametrize(
    "written, read",
    [
        ("mao tse-tung", "mao zedong"),
        ("chou en-lai and chu teh", "zhou enlai and zhu de"),
        ("teng hsiao-p'ing", "deng xiaoping"),
        ("the nanking side", "the nanjing side"),
        ("khrushchov and dostoevskii", "khrushchev and dostoevsky"),
        ("sent to chou en-lai", "sent to zhou enlai"),  # a stop word is never part of a name
    ],
)
def test_marked_spellings_are_read_without_a_vocabulary(romaniser, written, read):
    from qa.index.lexical import STOPWORDS

    assert romaniser.canonical(written, None, STOPWORDS) == read


@pytest.mark.parametrize(
    "text",
    ["the lung is long", "he hung the sign", "a chinese banana", "making and taking", "changes in china", "molotov"],
)
def test_english_words_and_real_endings_are_left_alone(romaniser, text):
    assert romaniser.canonical(text) == text
    assert romaniser.canonical(text, lambda w: w in {"long", "hong", "song"}) == text


def test_with_a_vocabulary_the_collections_reading_is_taken(romaniser):
    known = {"liu", "shaoqi", "gao", "gang", "lin", "biao", "ponomarov", "guomindang"}.__contains__
    assert romaniser.canonical("liu shao-chi", None) == "liu shaoji"  # no vocabulary: the first reading
    assert romaniser.canonical("liu shao-chi", known) == "liu shaoqi"
    assert romaniser.canonical("kao kang and lin piao", known) == "gao gang and lin biao"
    assert romaniser.canonical("kuomintang", known) == "guomindang"
    assert romaniser.canonical("ponomarev", known) == "ponomarov"
    assert romaniser.canonical("kao", known) == "kao"  # one short unmarked word: too often English


def test_a_name_is_never_read_as_another_name(romaniser):
    known = {"zhou", "enlai", "zhu", "de", "mao", "zedong", "molotov", "kovalev"}.__contains__
    # Kovalev and Molotov are in the collection: neither is read as a variant of something else
    assert romaniser.canonical("kovalev and molotov", known) == "kovalev and molotov"
    # an unknown name with no reading the collection uses stays as it is (not the nearest known name)
    assert romaniser.canonical("chiang ching-kuo", known) == "jiang jingguo"  # marked: read, not replaced by a name
    assert romaniser.canonical("kim il-sung", known) == "kim il-sung"


def test_records_and_questions_meet_in_both_directions():
    analyzer = Analyzer({})
    records = ["Kovalev met Zhou Enlai and Liu Shaoqi in Beijing", "Memorandum on Mao Tse-tung and Nanking"]
    index = LexicalIndex.build([analyzer.tokens(t) for t in records])
    asking = Analyzer({})
    asking.use_vocabulary(lambda w: index.document_frequency(asking.stem(w)) > 0)
    first = lambda q: int(index.search(asking.tokens(q), 1)[0][0])  # noqa: E731
    assert first("what did chou en-lai and liu shao-chi say in peking?") == 0  # Wade-Giles and postal question
    assert first("Mao Zedong in Nanjing") == 1  # pinyin question, Wade-Giles and postal record


def test_a_changed_table_changes_the_analyzer_fingerprint(tmp_path):
    table = tmp_path / "romanisation.tsv"
    table.write_text(SHIPPED_TABLE.read_text(encoding="utf-8") + "postal\tmukden\tshenyang\n", encoding="utf-8")
    assert Analyzer({}, Romaniser(table)).fingerprint != Analyzer({}).fingerprint


def test_a_bad_table_line_is_named(tmp_path):
    table = tmp_path / "romanisation.tsv"
    table.write_text("# ok\nwg\tchou\tzhou\nklingon\tx\ty\n", encoding="utf-8")
    with pytest.raises(AliasError, match=r"romanisation\.tsv:3: unknown system 'klingon'"):
        Romaniser(table)
