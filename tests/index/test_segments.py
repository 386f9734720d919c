"""Updates proportional to the change (qa/index/segments.py): kept segments linked, a new one for the new rows, deleted
rows masked, merges past a share; an updated index ranks as one built afresh. The model-free embedder throughout.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import CountingEmbedder
from index_helpers import Factory, never, read_manifest, search, segment_path

from archive_qa.bench import synthetic
from embeddings.vectors import SEGMENT_FILE
from qa.config import Config
from qa.index import segments
from qa.index.build import build_index
from qa.index.encoding import embedded_text
from qa.index.search import ArchiveIndex, DateFilter

SIZE = 300
SEED = 7
QUESTIONS = ["grain shipments to Moscow", "the border dispute", "a report on the famine relief", "Zhou Enlai"]


@pytest.fixture
def synthetic_config(tmp_path, hashing_embedder) -> Config:
    """A synthetic collection of 300 records (one JSON Lines file) with its model-free index."""
    synthetic.write_corpus(tmp_path / "corpus", SIZE, SEED)
    config = Config(corpus=tmp_path / "corpus", index=tmp_path / "index", model="hashing:64", cache=tmp_path / "c")
    build_index(config, embedder=hashing_embedder)
    return config


def _change(config: Config, changed: set[int], count: int = SIZE) -> None:
    synthetic.write_corpus(config.corpus, count, SEED, changed=changed)


def _build(config: Config, embedder=None):
    report = build_index(config, embedder_factory=Factory(embedder) if embedder else never)
    return report.count, report.embedded, report.reused, report.removed


def _segments(config: Config) -> list[tuple[str, str, int]]:
    return [(s["name"], s["kind"], s["rows"]) for s in read_manifest(config)["segments"]]


def _afresh(config: Config, tmp_path, embedder) -> ArchiveIndex:
    """The same corpus indexed from nothing, in another index folder."""
    other = replace(config, index=tmp_path / "afresh")
    build_index(other, embedder=embedder)
    return ArchiveIndex.load(other)


def _same_rankings(updated: ArchiveIndex, afresh: ArchiveIndex, embedder) -> None:
    in_range = DateFilter(19500101, 19691231)
    for question in QUESTIONS:
        for mode in ("dense", "bm25", "hybrid"):
            for date_filter in (None, in_range):
                got = search(updated, question, embedder, 10, mode, date_filter)
                expected = search(afresh, question, embedder, 10, mode, date_filter)
                assert [h.id for h in got] == [h.id for h in expected], (question, mode, date_filter)
                assert [h.score for h in got] == pytest.approx([h.score for h in expected], abs=1e-9)
                assert [h.similarity for h in got] == pytest.approx([h.similarity for h in expected], abs=1e-6)


def test_a_small_change_adds_one_segment_and_links_the_others(synthetic_config, hashing_embedder, tmp_path):
    config = synthetic_config
    ((main, kind, rows),) = _segments(config)
    assert (kind, rows) == ("flat", SIZE)
    inode = segment_path(config, SEGMENT_FILE).stat().st_ino
    _change(config, {5, 50, 250})
    counter = CountingEmbedder(hashing_embedder)
    assert _build(config, counter) == (SIZE, 3, SIZE - 3, 3)
    assert len(counter.record_texts) == 3
    (kept, new) = _segments(config)
    assert kept == (main, "flat", SIZE) and new[1:] == ("flat", 3)
    assert segment_path(config, SEGMENT_FILE).stat().st_ino == inode  # linked, not written again
    index = ArchiveIndex.load(config)
    assert [s.positions.tolist().count(-1) for s in index.segments] == [3, 0]  # the old rows are deleted
    assert sorted(index.segments[1].positions.tolist()) == [5, 50, 250]
    for position in (5, 6, 250):  # each record's vector, wherever its row is
        vector = hashing_embedder.encode([embedded_text(index.records[position])])[0]
        np.testing.assert_allclose(index.vectors[position], vector, atol=1e-6)
    _same_rankings(index, _afresh(config, tmp_path, hashing_embedder), hashing_embedder)


def test_records_added_and_removed_rank_as_an_index_built_afresh(synthetic_config, hashing_embedder, tmp_path):
    config = synthetic_config
    _change(config, {1, 2}, count=SIZE + 5)  # two edited, five added
    assert _build(config, hashing_embedder) == (SIZE + 5, 7, SIZE - 2, 2)
    _change(config, set(), count=SIZE - 4)  # the edits reverted, nine records gone
    report = _build(config, hashing_embedder)
    assert report[:2] == (SIZE - 4, 2)  # the two original texts are not in the previous build any more
    assert [s[2] for s in _segments(config)][0] == SIZE
    _same_rankings(ArchiveIndex.load(config), _afresh(config, tmp_path, hashing_embedder), hashing_embedder)


def test_past_the_share_every_segment_is_merged_without_encoding_again(
    synthetic_config, hashing_embedder, tmp_path, monkeypatch
):
    config = synthetic_config
    monkeypatch.setattr(segments, "MERGE_SHARE", 0.01)
    _change(config, {1, 2, 3})
    counter = CountingEmbedder(hashing_embedder)
    assert _build(config, counter) == (SIZE, 3, SIZE - 3, 3) and len(counter.record_texts) == 3
    ((_, kind, rows),) = _segments(config)
    assert (kind, rows) == ("flat", SIZE)
    index = ArchiveIndex.load(config)
    assert index.segments[0].positions.tolist() == list(range(SIZE))
    _same_rankings(index, _afresh(config, tmp_path, hashing_embedder), hashing_embedder)


def test_many_small_segments_are_merged_into_one(synthetic_config, hashing_embedder, tmp_path, monkeypatch):
    config = synthetic_config
    monkeypatch.setattr(segments, "MAX_DELTAS", 2)
    for round_, changed in enumerate(({1}, {1, 2}, {1, 2, 3})):
        _change(config, changed)
        _build(config, hashing_embedder)
        assert len(_segments(config)) == [2, 3, 2][round_]
    assert _segments(config)[1][2] == 3  # the small segments' live rows, together
    _same_rankings(ArchiveIndex.load(config), _afresh(config, tmp_path, hashing_embedder), hashing_embedder)


def test_an_hnsw_index_takes_updates_in_a_small_exact_segment(synthetic_config, hashing_embedder, tmp_path):
    config = replace(synthetic_config, hnsw_threshold=100)
    assert _build(config) == (SIZE, 0, SIZE, 0)  # the kind changed: one new main segment, nothing encoded
    (main,) = _segments(config)
    assert main[1:] == ("hnsw", SIZE) and read_manifest(config)["vector_dtype"] == "float16"
    _change(config, {7})
    assert _build(config, hashing_embedder) == (SIZE, 1, SIZE - 1, 1)
    assert [s[1] for s in _segments(config)] == ["hnsw", "flat"] and _segments(config)[0] == main
    index = ArchiveIndex.load(config)
    assert index.vector_index.kind == "hnsw"
    record = index.records[7]
    hits = search(index, embedded_text(record), hashing_embedder, 1, "dense")
    assert hits[0].id == record.id and hits[0].similarity == pytest.approx(1.0, abs=1e-3)


def test_a_copied_index_keeps_working_when_its_segments_are_copied_not_linked(
    synthetic_config, hashing_embedder, tmp_path, monkeypatch
):
    def no_links(source, target):
        raise OSError("links are not supported here")

    monkeypatch.setattr(os, "link", no_links)
    _change(synthetic_config, {9})
    assert _build(synthetic_config, hashing_embedder)[:2] == (SIZE, 1)
    assert len(_segments(synthetic_config)) == 2
    shutil.rmtree(tmp_path / "c", ignore_errors=True)
    assert ArchiveIndex.load(synthetic_config).count == SIZE


def test_an_ivfpq_index_re_ranks_exactly_and_takes_updates(synthetic_config, hashing_embedder, monkeypatch):
    from embeddings import vectors

    monkeypatch.setattr(vectors, "IVF_MIN_ROWS", 100)  # the test's 300 records are enough to train on
    config = replace(synthetic_config, index_kind="ivfpq")
    assert _build(config) == (SIZE, 0, SIZE, 0)  # another kind: one new main segment, nothing encoded
    assert _segments(config)[0][1:] == ("ivfpq", SIZE)
    _change(config, {3, 4})
    assert _build(config, hashing_embedder)[:2] == (SIZE, 2)
    index = ArchiveIndex.load(config)
    assert index.vector_index.kind == "ivfpq" and [s.kind for s in index.segments] == ["ivfpq", "flat"]
    for position in (3, 10, 200):
        record = index.records[position]
        hits = search(index, embedded_text(record), hashing_embedder, 3, "dense")
        assert hits[0].id == record.id and hits[0].similarity == pytest.approx(1.0, abs=1e-3)


def test_matching_gives_each_previous_row_to_one_record_and_copies_the_rest():
    """Rows by key, each to one record; a record taken from the previous build keeps its own position's row; a
    known text with no row left has a donor to copy from, a new one neither."""
    from types import SimpleNamespace

    old = [b"a", b"b", b"a", b"c"]  # positions 0-3; segment 0 serves 0, 1, 3 and segment 1 serves 2
    parts = [SimpleNamespace(positions=np.array([0, 1, -1, 3])), SimpleNamespace(positions=np.array([2]))]
    m = segments.match(old, parts, [b"c", b"a", b"a", b"a", b"new"])
    assert m.segment.tolist() == [0, 0, 1, -1, -1] and m.row.tolist()[:3] == [3, 0, 0]
    assert m.known.tolist() == [True, True, True, True, False] and m.donor.tolist() == [-1, -1, -1, 0, -1]
    m = segments.match(old, parts, [b"a", b"a", b"c"], origin=np.array([2, -1, 3]))
    assert m.segment.tolist() == [1, 0, 0] and m.row.tolist() == [0, 0, 3] and m.known.all()
