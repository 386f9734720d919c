"""Loading and searching the index: known documents first, date filters, one clear message for each bad index."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from embeddings.model import Embedder
from qa.cli import main
from qa.index import CURRENT, MANIFEST, RECORDS, VECTORS, ArchiveIndex, DateFilter, IndexProblem

KNOWN = [
    (
        "Romanian party leaders worry about publishing the Chinese and Soviet declarations",
        "Transcript of Meeting of the Political Bureau of the CC of Romanian Worker’s Party",
    ),
    ("Mikoyan's talks with Mao in February 1949", "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong"),
    ("the Soviet loan to China discussed with the CCP delegation", "Memorandum of Conversation between Stalin and CCP"),
    ("Maoism failed ideologically, secretaries of fraternal parties meet in Sofia", "Informational Note from the"),
]


def _title(index: ArchiveIndex, record_id: str) -> str:
    return index.records[index.records.position(record_id)].title


def _ids(index: ArchiveIndex, *prefixes: str) -> set[str]:
    return {r.id for r in index.records if r.title.startswith(prefixes)}


# ---------------------------------------------------------------------------------------------- search


@pytest.mark.parametrize(("question", "title"), KNOWN)
def test_a_question_about_a_known_document_finds_it_first(shipped_index, embedder, question, title):
    by_text = shipped_index.search(question, 3, embedder=embedder)
    by_vector = shipped_index.search(embedder.encode_query(question), 3)
    assert _title(shipped_index, by_text[0][0]).startswith(title)
    assert [i for i, _ in by_vector] == [i for i, _ in by_text]


def test_bm25_search_finds_a_known_document_by_its_words(shipped_index):
    hits = shipped_index.search("Mikoyan Mao", 3, mode="bm25")
    assert _title(shipped_index, hits[0][0]).startswith("Memorandum of Conversation between Anastas Mikoyan")
    # the alias table maps Filippov to Stalin on both sides
    assert _title(shipped_index, shipped_index.search(None, 1, mode="bm25", text="Filippov loan")[0][0]).startswith(
        "Memorandum of Conversation between Stalin"
    )


def test_results_are_ids_and_scores_best_first(shipped_index, embedder):
    hits = shipped_index.search("a telegram from Kovalev to Stalin", 4, embedder=embedder)
    assert len(hits) == 4 and len({i for i, _ in hits}) == 4
    assert all(isinstance(i, str) and isinstance(s, float) for i, s in hits)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0 + 1e-5
    everything = shipped_index.search("a telegram from Kovalev to Stalin", 100, embedder=embedder)
    assert len(everything) == shipped_index.count == 10


def test_dense_search_refuses_another_model_or_dimension(shipped_index, small_model_dir):
    with pytest.raises(ValueError, match="needs an embedder"):
        shipped_index.search("who met Mao?", 3)
    with pytest.raises(IndexProblem, match=r"question's vector has 128 dimensions, the index's .* 384"):
        shipped_index.search(np.ones(128, dtype=np.float32), 3)
    other = Embedder(str(small_model_dir))
    with pytest.raises(IndexProblem, match="the index was built with model 'all-MiniLM-L6-v2', not") as caught:
        shipped_index.search("who met Mao?", 3, embedder=other)
    assert f"run `archive-qa index --model {small_model_dir}`" in str(caught.value)


def test_an_embedder_with_the_index_model_name_but_another_dimension_is_refused(shipped_index, small_model_dir):
    other = Embedder(str(small_model_dir))
    other.name = shipped_index.model  # a folder replaced under the same name
    with pytest.raises(IndexProblem, match="gives 128-dimensional vectors, the index holds 384"):
        shipped_index.check_embedder(other)


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


def test_date_filter_keeps_or_drops_undated_records_in_search(shipped_index, embedder):
    question = embedder.encode_query("Chinese foreign policy and the Soviet Union")
    note_1977 = _ids(shipped_index, "Informational Note")
    undated = _ids(shipped_index, "CC CPSU Information on Chinese Foreign Policy Issues")
    assert shipped_index.records[shipped_index.records.position(next(iter(undated)))].date is None
    in_1977 = DateFilter(19770101, 19771231)
    assert {i for i, _ in shipped_index.search(question, 10, in_1977)} == note_1977 | undated
    strict = DateFilter(19770101, 19771231, keep_undated=False)
    assert {i for i, _ in shipped_index.search(question, 10, strict)} == note_1977
    assert {i for i, _ in shipped_index.search(None, 10, strict, mode="bm25", text="Chinese")} <= note_1977
    in_1949 = DateFilter(end=19491231, keep_undated=False)
    found = shipped_index.search(question, 10, in_1949)
    assert len(found) == 7 and all(
        shipped_index.records[shipped_index.records.position(i)].date < "1950" for i, _ in found
    )
    assert shipped_index.search(question, 10, DateFilter(20000101, keep_undated=False)) == []


# ---------------------------------------------------------------------------------------------- bad indexes


def _manifest_edit(**changes):
    def edit(config):
        path = config.index_dir / CURRENT / MANIFEST
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for key, value in changes.items():
            if value is None:
                del manifest[key]
            else:
                manifest[key] = value
        path.write_text(json.dumps(manifest), encoding="utf-8")

    return edit


def _truncate(name):
    def edit(config):
        path = config.index_dir / CURRENT / name
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 2)

    return edit


def _flip(name, at=200):
    def edit(config):
        path = config.index_dir / CURRENT / name
        data = bytearray(path.read_bytes())
        data[at : at + 4] = bytes(b ^ 0x5A for b in data[at : at + 4])
        path.write_bytes(bytes(data))

    return edit


def _corpus_file(config):
    return next(config.corpus.rglob("*.txt"))


def _change_corpus(config):
    with _corpus_file(config).open("a", encoding="utf-8") as f:
        f.write("\nJuly 7, 1949\n\nA New Telegram\n\nA summary that was not there when the index was built.\n")


def _add_corpus_file(config):
    (config.corpus / "extra.jsonl").write_text('{"title": "A new record"}\n', encoding="utf-8")


BAD = {
    "missing index": (lambda c: shutil.rmtree(c.index_dir), ["no index in", "run `archive-qa index` to build it"]),
    "build folder gone": (
        lambda c: shutil.rmtree((c.index_dir / CURRENT).resolve()),
        ["no index in", "run `archive-qa index` to build it"],
    ),
    "other format version": (
        _manifest_edit(format_version=99),
        ["has format 99, this version reads format 1", "run `archive-qa index --force`"],
    ),
    "other model": (
        _manifest_edit(model="all-mpnet-base-v2"),
        [
            "the index was built with model 'all-mpnet-base-v2', not 'all-MiniLM-L6-v2'",
            "run `archive-qa index --model all-MiniLM-L6-v2` (or choose model 'all-mpnet-base-v2')",
        ],
    ),
    "truncated vectors": (
        _truncate(VECTORS),
        ["vectors.npy is truncated or damaged", "run `archive-qa index --force`"],
    ),
    "flipped bytes in records": (
        _flip(RECORDS),
        ["records.jsonl is truncated or damaged", "run `archive-qa index --force`"],
    ),
    "flipped bytes in the BM25 vocabulary": (
        _flip("bm25/vocab.index.json", at=40),
        ["vocab.index.json is truncated or damaged", "run `archive-qa index --force`"],
    ),
    "manifest not JSON": (
        lambda c: (c.index_dir / CURRENT / MANIFEST).write_text("{not json", encoding="utf-8"),
        ["manifest.json is missing or damaged", "run `archive-qa index --force`"],
    ),
    "manifest without its file list": (
        _manifest_edit(files=None),
        ["manifest.json is damaged", "run `archive-qa index --force`"],
    ),
    "manifest count edited": (
        _manifest_edit(count=9),
        ["do not agree with its manifest", "run `archive-qa index --force`"],
    ),
    "manifest dimension edited": (
        _manifest_edit(dim=768),
        ["do not agree with its manifest", "run `archive-qa index --force`"],
    ),
    "corpus file changed": (
        _change_corpus,
        ["the corpus changed since the index was built (changed sino-soviet-relations/", "run `archive-qa index`"],
    ),
    "corpus file added": (
        _add_corpus_file,
        ["the corpus changed since the index was built (added extra.jsonl)", "run `archive-qa index`"],
    ),
    "corpus file removed": (
        lambda c: _corpus_file(c).unlink(),
        ["the corpus changed since the index was built (removed sino-soviet-relations/", "run `archive-qa index`"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_index_gives_one_clear_message(shipped_copy, case):
    damage, expected = BAD[case]
    damage(shipped_copy)
    with pytest.raises(IndexProblem) as caught:
        ArchiveIndex.load(shipped_copy)
    message = str(caught.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


@pytest.mark.parametrize("case", ["missing index", "other format version", "other model", "flipped bytes in records"])
def test_the_cli_prints_the_message_without_a_traceback(shipped_copy, case, capfd):
    damage, expected = BAD[case]
    damage(shipped_copy)
    argv = ["ask", "Who met Mao in 1949?", "--corpus", str(shipped_copy.corpus), "--index", str(shipped_copy.index)]
    status = main(argv)
    out, err = capfd.readouterr()
    assert status == 2 and out == ""
    assert "Traceback" not in err and err.startswith("archive-qa: ") and err.count("\n") == 1
    for part in expected:
        assert part in err


def test_a_corpus_file_touched_but_unchanged_is_not_stale(shipped_copy, shipped_index):
    path = _corpus_file(shipped_copy)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    index = ArchiveIndex.load(shipped_copy)  # same bytes: the digest says the index still holds
    assert [r.id for r in index.records] == [r.id for r in shipped_index.records]


def test_a_stale_index_loads_when_asked_not_to_check(shipped_copy):
    _change_corpus(shipped_copy)
    with pytest.raises(IndexProblem):
        ArchiveIndex.load(shipped_copy)
    assert ArchiveIndex.load(shipped_copy, check_stale=False).count == 10


def test_the_bundled_model_is_one_model_whichever_name_is_configured(shipped_copy):
    from dataclasses import replace

    config = replace(shipped_copy, model="sentence-transformers/all-MiniLM-L6-v2")
    assert ArchiveIndex.load(config).count == 10
