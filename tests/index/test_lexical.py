"""Lexical matching: the analyzer (aliases, stop words, stems) and the BM25 index over records."""

from __future__ import annotations

import numpy as np
import pytest

from qa.errors import AliasError
from qa.index.lexical import SHIPPED_ALIASES, Analyzer, LexicalIndex, Postings, _best, read_aliases


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.from_files()


def test_tokens_are_lower_case_stems_without_stop_words(analyzer):
    assert analyzer.tokens("The Meetings of the Delegations, and their DISCUSSIONS") == ["meet", "deleg", "discuss"]
    assert analyzer.tokens("What did they tell him about it?") == []
    assert analyzer.tokens("") == []


def test_aliases_become_their_canonical_form(analyzer):
    assert analyzer.tokens("Filippov") == analyzer.tokens("Stalin") == ["stalin"]
    assert analyzer.tokens("KMT") == analyzer.tokens("Guomindang") and analyzer.tokens("CPSU") == ["cpsu"]


def test_romanised_names_become_pinyin_whole_words_only(analyzer):
    assert analyzer.canonical("Chou En-lai met Mao in Peking") == "zhou enlai met mao in beijing"
    assert analyzer.tokens("Mao Tse-tung") == analyzer.tokens("Mao Zedong")
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
    postings = Postings.build([analyzer.tokens(d) for d in DOCS])
    postings.save(tmp_path)
    loaded = Postings.load(tmp_path)
    index = LexicalIndex([(loaded, np.arange(len(DOCS)), loaded.document_frequency())], len(DOCS))
    question = analyzer.tokens("loan to China")
    for got, expected in zip(index.search(question, 5), bm25.search(question, 5), strict=True):
        np.testing.assert_allclose(got, expected)


def test_bm25_scores_are_lucenes(bm25, analyzer):
    tokens = [analyzer.tokens(d) for d in DOCS]
    mean = sum(map(len, tokens)) / len(tokens)
    (term,) = analyzer.tokens("loan")
    df, n = 2, len(DOCS)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    tf, length = tokens[2].count(term), len(tokens[2])
    k1, b = LexicalIndex.K1, LexicalIndex.B
    expected = idf * tf / (tf + k1 * (1 - b + b * length / mean))
    positions, scores = bm25.search([term], 1)
    assert positions.tolist() == [2] and scores[0] == pytest.approx(expected, rel=1e-6)


MORE = [
    "Molotov meets Mao on the loan",
    "The harvest in Manchuria fails",
    "Stalin writes to Mao about the treaty",
]


def test_segments_with_deleted_rows_rank_as_one_index_built_afresh(analyzer):
    """Two segments: the first (DOCS) with rows 1 and 3 deleted, the second (MORE) added; positions interleave."""
    first, second = (Postings.build([analyzer.tokens(d) for d in docs]) for docs in (DOCS, MORE))
    first_positions = np.array([0, -1, 2, -1, 4])
    live = first_positions >= 0
    second_positions = np.array([1, 3, 5])
    parts = [
        (first, first_positions, first.document_frequency(live)),
        (second, second_positions, second.document_frequency()),
    ]
    segmented = LexicalIndex(parts, 6)
    texts = [DOCS[0], MORE[0], DOCS[2], MORE[1], DOCS[4], MORE[2]]  # by position
    afresh = LexicalIndex.build([analyzer.tokens(t) for t in texts])
    for question in ("the Soviet loan", "Mao", "harvest in Manchuria", "Kovalev weather"):
        tokens = analyzer.tokens(question)
        assert segmented.document_frequency(tokens[0]) == afresh.document_frequency(tokens[0])
        for got, expected in zip(segmented.search(tokens, 6), afresh.search(tokens, 6), strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-6)
    gathered = Postings.gather(
        [(first, np.flatnonzero(live), np.array([0, 2, 4])), (second, np.arange(3), np.array([1, 3, 5]))], 6
    )
    rebuilt = Postings.build([analyzer.tokens(t) for t in texts])
    assert sorted(gathered.terms) == sorted(rebuilt.terms)
    np.testing.assert_array_equal(gathered.lengths, rebuilt.lengths)
    for term in rebuilt.terms:
        g, r = gathered.vocab[term], rebuilt.vocab[term]
        np.testing.assert_array_equal(
            gathered.rows[gathered.indptr[g] : gathered.indptr[g + 1]],
            rebuilt.rows[rebuilt.indptr[r] : rebuilt.indptr[r + 1]],
        )


@pytest.mark.parametrize("k", [1, 7, 50, 10_000])
def test_the_best_scores_are_found_exactly_even_among_many_ties(k):
    rng = np.random.default_rng(k)
    arrays = [
        rng.random(20_000).astype(np.float32) * (rng.random(20_000) < 0.3),  # sparse, all distinct
        np.repeat(np.float32([0.0, 0.7, 0.7, 1.3, 0.2]), 3_000),  # a few values, thousands of each
        np.float32([0.0, 1e-30, 2.5, 2.5000002, 0.0]),  # tiny and nearly equal scores
        np.zeros(100, dtype=np.float32),
    ]
    for scores in arrays:
        positive = np.flatnonzero(scores > 0)
        expected = positive[np.lexsort((positive, -scores[positive]))][:k]
        assert _best(scores, k).tolist() == expected.tolist()


def test_a_segment_too_large_for_its_weights_in_memory_scores_the_same(bm25, analyzer, monkeypatch):
    from qa.index import lexical

    monkeypatch.setattr(lexical._Part, "WEIGHTS_IN_MEMORY", 0)  # every segment computes its weights per question
    lazy = LexicalIndex.build([analyzer.tokens(d) for d in DOCS])
    assert lazy.parts[0].weights is None
    for question in ("the Soviet loan", "harvest in Manchuria", "loan loan"):
        tokens = analyzer.tokens(question)
        for got, expected in zip(lazy.search(tokens, 5), bm25.search(tokens, 5), strict=True):
            np.testing.assert_allclose(got, expected)


def test_live_document_frequency_counts_each_term_in_live_rows_only():
    rng = np.random.default_rng(7)
    token_lists = [[f"t{int(x)}" for x in rng.integers(0, 30, size=int(rng.integers(0, 8)))] for _ in range(200)]
    postings = Postings.build(token_lists)
    for live in (np.ones(200, dtype=bool), np.zeros(200, dtype=bool), rng.random(200) < 0.9):
        expected = [sum(1 for i, t in enumerate(token_lists) if live[i] and term in t) for term in postings.terms]
        assert postings.document_frequency(live).tolist() == expected
    assert postings.document_frequency().tolist() == [sum(term in t for t in token_lists) for term in postings.terms]
