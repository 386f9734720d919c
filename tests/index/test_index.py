"""Loading and searching the index (qa/index/search.py): every mode, date filters, the model check, one clear message
for each bad index, and loading while a build is swapped in. Only the first test needs the real model's meaning.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from index_helpers import assert_one_line, current, listing, run, search, segment_path, truncate, where

from embeddings.hashing import HashingEmbedder
from embeddings.vectors import SEGMENT_FILE
from qa.errors import IndexProblem
from qa.index.build import build_index
from qa.index.manifest import CURRENT, DATES, OFFSETS, RECORDS, Manifest
from qa.index.search import FUSION_DENSE, ArchiveIndex, DateFilter, fuse

KNOWN = [
    (
        "Romanian party leaders worry about publishing the Chinese and Soviet declarations",
        "Transcript of Meeting of the Political Bureau of the CC of Romanian Worker’s Party",
    ),
    ("Mikoyan's talks with Mao in February 1949", "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong"),
    ("the Soviet loan to China discussed with the CCP delegation", "Memorandum of Conversation between Stalin and CCP"),
    ("Maoism failed ideologically, secretaries of fraternal parties meet in Sofia", "Informational Note from the"),
]


def _titles(index: ArchiveIndex, hits) -> list[str]:
    return [index.records[h.position].title for h in hits]


def _ids(index: ArchiveIndex, *prefixes: str) -> set[str]:
    return {r.id for r in index.records if r.title.startswith(prefixes)}


# ---------------------------------------------------------------------------------------------- search


@pytest.mark.parametrize(("question", "title"), KNOWN)
def test_a_question_about_a_known_document_finds_it_first(shipped_index, embedder, question, title):
    for mode in ("dense", "hybrid"):
        assert _titles(shipped_index, search(shipped_index, question, embedder, 3, mode))[0].startswith(title)


def test_bm25_search_finds_a_known_document_by_its_words(hashing_index):
    hits = search(hashing_index, "Mikoyan Mao", k=3, mode="bm25")
    assert _titles(hashing_index, hits)[0].startswith("Memorandum of Conversation between Anastas Mikoyan")
    assert hits[0].similarity == 0.0 and hits[0].coverage == 1.0  # no vector in bm25 mode
    # the alias table maps Filippov to Stalin on both sides
    hits = search(hashing_index, "Filippov loan", k=1, mode="bm25")
    assert _titles(hashing_index, hits)[0].startswith("Memorandum of Conversation between Stalin")
    assert search(hashing_index, "zeppelin", mode="bm25") == []


def test_hits_are_best_first_with_their_measures(hashing_index, hashing_embedder):
    question = "a telegram from Kovalev to Stalin"
    hits = search(hashing_index, question, hashing_embedder, k=4)
    assert len(hits) == 4 and len({h.id for h in hits}) == 4
    assert all(hashing_index.records[h.position].id == h.id for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 1.0  # each search's share of its best, weighted
    vector = hashing_embedder.encode_query(question)
    for hit in hits:
        assert hit.similarity == pytest.approx(float(hashing_index.vectors[hit.position] @ vector), abs=1e-6)
        assert 0.0 <= hit.coverage <= 1.0
    assert len(search(hashing_index, question, hashing_embedder, k=100)) == hashing_index.count == 10
    dense = search(hashing_index, question, hashing_embedder, k=10, mode="dense")
    assert dense[0].score == 1.0  # one list, fused alone: each similarity as a share of the best one
    assert [h.score for h in dense] == pytest.approx([h.similarity / dense[0].similarity for h in dense], abs=1e-6)
    assert [h.similarity for h in dense] == sorted((h.similarity for h in dense), reverse=True)


def test_fusion_weighs_each_search_by_its_best_score_and_fills_what_it_missed():
    dense = (np.array([3, 1, 2]), np.array([0.8, 0.4, 0.2]))
    lexical = (np.array([2, 5]), np.array([10.0, 5.0]))
    fused = fuse([dense, lexical], (FUSION_DENSE, 1 - FUSION_DENSE))
    w = FUSION_DENSE
    assert fused[3] == pytest.approx(w * 1.0 + (1 - w) * 0.5)  # not ranked by words: their lowest share
    assert fused[2] == pytest.approx(w * 0.25 + (1 - w) * 1.0)
    assert fused[5] == pytest.approx(w * 0.25 + (1 - w) * 0.5)  # not ranked by meaning: its lowest share
    assert set(fused) == {1, 2, 3, 5}


def test_a_question_is_embedded_with_the_index_model_only(hashing_index):
    with pytest.raises(ValueError, match="needs the index's embedder"):
        hashing_index.query("who met Mao?", None, "dense")
    assert hashing_index.query("who met Mao?", None, "bm25").vector is None
    with pytest.raises(IndexProblem) as caught:
        hashing_index.query("who met Mao?", HashingEmbedder("hashing:32"), "hybrid")
    assert "the index was built with model 'hashing:64', not 'hashing:32'" in str(caught.value)
    assert "run `archive-qa index --model hashing:32`" in str(caught.value)
    renamed = HashingEmbedder("hashing:32")
    renamed.name = "hashing:64"  # a model folder replaced under the same name
    with pytest.raises(IndexProblem, match="gives 32-dimensional vectors, the index holds 64"):
        hashing_index.check_embedder(renamed)
    with pytest.raises(ValueError, match="'fuzzy' is not one of"):
        hashing_index.search(hashing_index.query("Mao", None, "bm25"), 3, "fuzzy")


def test_idf_and_coverage(hashing_index):
    tokens = hashing_index.analyzer.tokens
    assert hashing_index.idf("zeppelin") > hashing_index.idf(tokens("Kovalev")[0]) > 0
    question = tokens("Kovalev zeppelin")
    assert hashing_index.coverage(question, question) == 1.0
    assert 0 < hashing_index.coverage(question, tokens("Kovalev")) < 0.5
    assert hashing_index.coverage([], tokens("Kovalev")) == 0.0


# ---------------------------------------------------------------------------------------------- date filter


def test_date_filter_overlaps_dates_of_any_precision():
    # rows: a day, a month, a year, undated
    dates = np.array([[19630704, 19630704], [19440901, 19440930], [19620101, 19621231], [0, 0]], dtype=np.int32)
    assert DateFilter(19440915, 19440920).mask(dates).tolist() == [False, True, False, True]
    assert DateFilter(19440915, 19440920, keep_undated=False).mask(dates).tolist() == [False, True, False, False]
    assert DateFilter(start=19621231, keep_undated=False).mask(dates).tolist() == [True, False, True, False]
    assert DateFilter(end=19620101, keep_undated=False).mask(dates).tolist() == [False, True, True, False]
    assert DateFilter().mask(dates).all()
    assert DateFilter(keep_undated=False).mask(dates).tolist() == [True, True, True, False]


def test_date_filter_keeps_or_drops_undated_records_insearch(hashing_index, hashing_embedder):
    question = "Chinese foreign policy and the Soviet Union"
    note_1977 = _ids(hashing_index, "Informational Note")
    undated = _ids(hashing_index, "CC CPSU Information on Chinese Foreign Policy Issues")
    assert hashing_index.records[hashing_index.records.position(next(iter(undated)))].date is None

    def found(date_filter, mode="hybrid"):
        return {h.id for h in search(hashing_index, question, hashing_embedder, mode=mode, date_filter=date_filter)}

    assert found(DateFilter(19770101, 19771231)) == note_1977 | undated
    strict = DateFilter(19770101, 19771231, keep_undated=False)
    assert found(strict) == note_1977 and found(strict, "bm25") <= note_1977
    in_1949 = found(DateFilter(end=19491231, keep_undated=False), "dense")
    assert len(in_1949) == 7
    assert all(hashing_index.records[hashing_index.records.position(i)].date < "1950" for i in in_1949)
    assert found(DateFilter(20000101, keep_undated=False)) == set()


def test_an_undated_record_ranks_after_an_equal_dated_one(hashing_index, hashing_embedder):
    question = "Chinese foreign policy"
    (undated,) = _ids(hashing_index, "CC CPSU Information on Chinese Foreign Policy Issues")
    plain = {h.id: h.score for h in search(hashing_index, question, hashing_embedder)}
    kept = {h.id: h.score for h in search(hashing_index, question, hashing_embedder, date_filter=DateFilter())}
    assert kept[undated] == pytest.approx(plain[undated] / 2)
    assert all(kept[i] == pytest.approx(plain[i]) for i in plain if i != undated)


# ---------------------------------------------------------------------------------------------- bad indexes


def _flip(name, at=200, segment=False):
    def damage(config):
        path = segment_path(config, name) if segment else config.index_dir / CURRENT / name
        data = bytearray(path.read_bytes())
        data[at : at + 4] = bytes(b ^ 0x5A for b in data[at : at + 4])
        path.write_bytes(bytes(data))

    return damage


def _change_corpus(config):
    with listing(config).open("a", encoding="utf-8") as f:
        f.write("\nJuly 7, 1949\n\nA New Telegram\n\nA summary that was not there when the index was built.\n")


def _add_corpus_file(config):
    (config.corpus / "extra.jsonl").write_text('{"title": "A new record"}\n', encoding="utf-8")


FORCE = "run `archive-qa index --force`"
BUILD = "run `archive-qa index`"
STALE = "the corpus changed since the index was built"
BAD = {
    "missing index": (lambda c: shutil.rmtree(c.index_dir), ["no index in", BUILD]),
    "build folder gone": (lambda c: shutil.rmtree(current(c)), ["no index in", BUILD]),
    "truncated vectors": (
        lambda c: truncate(segment_path(c, SEGMENT_FILE)),
        ["vectors.faiss is truncated or damaged", FORCE],
    ),
    "a file removed": (lambda c: (c.index_dir / CURRENT / DATES).unlink(), ["dates.npy is truncated or", FORCE]),
    "flipped bytes in records": (_flip(RECORDS), ["records.jsonl is truncated or damaged", FORCE]),
    "flipped bytes in the BM25 vocabulary": (
        _flip("terms.json", at=40, segment=True),
        ["terms.json is truncated or damaged", FORCE],
    ),
    "corpus file changed": (_change_corpus, [f"{STALE} (changed sino-soviet-relations/", "run `archive-qa index`"]),
    "corpus file added": (_add_corpus_file, [f"{STALE} (added extra.jsonl)", "run `archive-qa index`"]),
    "corpus file removed": (
        lambda c: listing(c).unlink(),
        [f"{STALE} (removed sino-soviet-relations/", "run `archive-qa index`"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_index_gives_one_clear_message(hashing_copy, case):
    damage, expected = BAD[case]
    damage(hashing_copy)
    with pytest.raises(IndexProblem) as caught:
        ArchiveIndex.load(hashing_copy)
    message = str(caught.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


@pytest.mark.parametrize("case", ["missing index", "flipped bytes in records", "corpus file changed"])
def test_ask_prints_the_message_in_one_line(hashing_copy, case, capfd):
    damage, expected = BAD[case]
    damage(hashing_copy)
    assert_one_line(*run(capfd, "ask", "Who met Mao in 1949?", *where(hashing_copy)), *expected)


def test_a_stale_index_loads_when_asked_not_to_check_and_says_so(hashing_copy):
    assert ArchiveIndex.load(hashing_copy).stale_problem() is None
    _change_corpus(hashing_copy)
    with pytest.raises(IndexProblem, match=STALE):
        ArchiveIndex.load(hashing_copy)
    index = ArchiveIndex.load(hashing_copy, check_stale=False)
    assert index.count == 10
    problem = index.stale_problem()
    assert problem.startswith(f"{STALE} (changed ") and problem.endswith("run `archive-qa index`")


def test_a_corpus_file_touched_but_unchanged_is_not_stale(hashing_copy, hashing_index):
    path = listing(hashing_copy)
    stat = path.stat()
    path.write_bytes(path.read_bytes())  # new times, same bytes: the digest says the index still holds
    assert path.stat().st_ctime_ns != stat.st_ctime_ns or path.stat().st_mtime_ns != stat.st_mtime_ns
    index = ArchiveIndex.load(hashing_copy)
    assert [r.id for r in index.records] == [r.id for r in hashing_index.records]


# ---------------------------------------------------------------------------------------------- loading during a build


def _rebuild_during_first_check(monkeypatch, config) -> list:
    """Make the next load's manifest check pass, then swap a new build in and remove the one being loaded."""
    check = Manifest.check
    swapped: list = []

    def check_then_rebuild(self, folder, model, **options):
        check(self, folder, model, **options)
        if not swapped:
            swapped.append(folder)
            build_index(config, force=True, embedder=HashingEmbedder(config.model))
            assert not folder.exists()

    monkeypatch.setattr(Manifest, "check", check_then_rebuild)
    return swapped


def test_a_load_retries_when_a_build_is_swapped_in_mid_load(hashing_copy, monkeypatch):
    swapped = _rebuild_during_first_check(monkeypatch, hashing_copy)
    index = ArchiveIndex.load(hashing_copy)
    assert swapped and index.folder == (hashing_copy.index_dir / CURRENT).resolve() != swapped[0]
    assert index.count == 10 and index.records[0].id


def test_a_file_vanishing_without_a_new_build_is_one_clear_message(hashing_copy, monkeypatch):
    check = Manifest.check

    def check_then_remove(self, folder, model, **options):
        check(self, folder, model, **options)
        (folder / OFFSETS).unlink()

    monkeypatch.setattr(Manifest, "check", check_then_remove)
    with pytest.raises(IndexProblem, match=r"index file .*record_offsets\.npy is missing: run `archive-qa index --f"):
        ArchiveIndex.load(hashing_copy)
