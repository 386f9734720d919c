"""Lexical matching: the analyzer (aliases, stop words, stems) and the BM25 index over records."""

from __future__ import annotations

import numpy as np
import pytest

from qa.errors import AliasError
from qa.lexical import SHIPPED_ALIASES, Analyzer, LexicalIndex, read_aliases


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.from_files()


def test_tokens_are_lower_case_stems_without_stop_words(analyzer):
    assert analyzer.tokens("The Meetings of the Delegations, and their DISCUSSIONS") == ["meet", "deleg", "discuss"]
    assert analyzer.tokens("What did they tell him about it?") == []
    assert analyzer.tokens("") == []


def test_aliases_become_their_canonical_form(analyzer):
    assert analyzer.canonical("Chou En-lai met Kao Kang in Peking") == "zhou enlai met gao gang in beijing"
    assert analyzer.tokens("Filippov") == analyzer.tokens("Stalin") == ["stalin"]
    assert analyzer.tokens("Mao Tse-tung") == analyzer.tokens("Mao Zedong")
    # whole words only: a name inside another word is left alone
    assert "beij" not in analyzer.tokens("Pekingese dogs")


def test_typographic_quotes_and_dashes_match_plain_ones(analyzer):
    assert analyzer.tokens("Worker’s “Party” – report") == analyzer.tokens('Worker\'s "Party" - report')


def test_extra_alias_file_is_added_to_the_shipped_one(tmp_path):
    extra = tmp_path / "extra.tsv"
    extra.write_text("# comment\n\nmolotov\tskryabin\tvyacheslav molotov\n", encoding="utf-8")
    shipped = Analyzer.from_files()
    both = Analyzer.from_files(extra)
    assert both.tokens("Skryabin") == ["molotov"] and shipped.tokens("Skryabin") == ["skryabin"]
    assert both.tokens("Filippov") == ["stalin"]
    assert both.fingerprint != shipped.fingerprint
    assert Analyzer.from_files(extra).fingerprint == both.fingerprint


def test_alias_file_problems_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("molotov\tskryabin\nlonely\n", encoding="utf-8")
    with pytest.raises(AliasError, match=r"bad\.tsv:2: an alias line needs"):
        read_aliases([bad])
    with pytest.raises(AliasError, match="cannot read alias file"):
        read_aliases([tmp_path / "missing.tsv"])
    assert read_aliases([SHIPPED_ALIASES])["filippov"] == "stalin"


DOCS = [
    "Stalin and Mao discuss the Soviet loan to China",
    "Kovalev reports on the harvest in Manchuria",
    "The loan agreement is signed; the loan is paid in roubles",
    "A note on the weather",
    "",  # a record with no tokens at all still has a row
]


@pytest.fixture(scope="module")
def bm25(analyzer):
    return LexicalIndex.build([analyzer.tokens(d) for d in DOCS])


def test_bm25_ranks_by_the_question_terms(bm25, analyzer):
    positions, scores = bm25.search(analyzer.tokens("the Soviet loan"), 5)
    assert positions[0] == 0 and set(positions.tolist()) == {0, 2}
    assert np.all(scores > 0) and scores[0] >= scores[1]
    positions, _ = bm25.search(analyzer.tokens("loan"), 5)
    assert positions[0] == 2  # twice the term in a record of similar length
    assert bm25.search(analyzer.tokens("Filippov's harvest"), 1)[0].tolist() == [1]


def test_bm25_finds_nothing_for_unknown_words_and_keeps_to_the_allowed_rows(bm25, analyzer):
    assert bm25.search(analyzer.tokens("zeppelin"), 5)[0].size == 0
    assert bm25.search([], 5)[0].size == 0
    allowed = np.array([False, True, True, True, True])
    assert bm25.search(analyzer.tokens("Soviet loan"), 5, allowed)[0].tolist() == [2]
    assert bm25.search(analyzer.tokens("Stalin"), 5, allowed)[0].size == 0


def test_bm25_document_frequency_and_saving(bm25, analyzer, tmp_path):
    assert bm25.document_frequency(analyzer.tokens("loan")[0]) == 2
    assert bm25.document_frequency("zeppelin") == 0
    bm25.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path, len(DOCS))
    question = analyzer.tokens("loan to China")
    for got, expected in zip(loaded.search(question, 5), bm25.search(question, 5), strict=True):
        np.testing.assert_allclose(got, expected)
