"""Passages: full texts cut into paragraphs, embedded and indexed with the records, searched and reused by builds."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.hashing import HashingEmbedder
from qa.config import Config
from qa.errors import IndexProblem
from qa.index import ArchiveIndex
from qa.index.build import build_index
from qa.index.passages import MAX_PASSAGE, PASSAGES, paragraphs_of
from qa.records import Record

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
DOCUMENT_PAGES = ("doc-old-site-bare.txt", "doc-old-site-funding.txt", "doc-pdf-export.txt", "doc-prelaunch.txt")
BODY_ONLY = "Who proposed that the inspection be carried out at sea by officers of the Red Cross?"


class CountingEmbedder(HashingEmbedder):
    """The model-free embedder, counting the texts it is given to encode."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.encoded: list[str] = []

    def encode(self, texts, **kwargs):
        self.encoded.extend(texts)
        return super().encode(texts, **kwargs)


def record(full_text: str) -> Record:
    return Record(id="x", title="T", date=None, date_precision=None, summary="", url=None, collection="c",
                  source="f:1", full_text=full_text)


def test_a_full_text_is_cut_into_its_paragraphs_and_a_long_one_at_sentences() -> None:
    sentence = "The delegation discussed the grain deliveries of the spring at some length. "
    long = (sentence * 20).strip()
    passages = paragraphs_of(record(f"Dear comrade,\n{long}\nWith greetings."))
    assert passages[0] == (1, "Dear comrade,") and passages[-1] == (3, "With greetings.")
    middle = [text for number, text in passages if number == 2]
    assert len(middle) > 1 and all(len(text) <= MAX_PASSAGE for text in middle)
    assert " ".join(middle) == long  # every sentence kept, in order, none cut
    assert paragraphs_of(record("")) == []


def corpus_of(root: Path, names: tuple[str, ...]) -> Config:
    folder = root / "corpus" / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(PAGES / name, folder / name)
    shutil.copy(PAGES.parents[2] / "corpus" / "sino-soviet-relations" / "listing-page-17_docs-161-170.txt", folder)
    return Config(corpus=root / "corpus", index=root / "index", model="hashing:64", cache=root / "cache")


@pytest.mark.parametrize("mode", ["bm25", "hybrid", "dense"])
def test_a_question_about_a_documents_body_finds_it_by_the_right_paragraph(tmp_path: Path, mode: str) -> None:
    config = corpus_of(tmp_path, DOCUMENT_PAGES)
    embedder = HashingEmbedder("hashing:64")
    build_index(config, embedder=embedder)
    index = ArchiveIndex.load(config)
    hits = index.search(index.query(BODY_ONLY, embedder, mode), 3, mode)
    top = index.records[hits[0].position]
    assert top.title == "Record of Conversation between Anastas Mikoyan and Fidel Castro on the Inspection Question"
    if mode != "dense":  # the model-free vectors carry words, not meaning: the words rank it in the other modes
        found = index.passage(hits[0])
        assert (found.paragraph, found.text) == (5, top.full_text.split("\n")[4])
        assert hits[0].coverage == 1.0  # the passage holds every word of the question that the summary lacks


def test_a_corpus_without_full_texts_has_no_passages_and_searches_as_before(hashing_index) -> None:
    assert hashing_index.passages is None
    assert not (hashing_index.folder / PASSAGES).exists()
    hits = hashing_index.search(hashing_index.query("Stalin", None, "bm25"), 5, "bm25")
    assert hits and all(h.passage == -1 for h in hits)


def test_an_update_encodes_only_the_new_passages_and_a_damaged_passage_file_is_refused(tmp_path: Path) -> None:
    config = corpus_of(tmp_path, DOCUMENT_PAGES[:2])
    embedder = CountingEmbedder("hashing:64")
    build_index(config, embedder=embedder)
    first = {text for r in ArchiveIndex.load(config).records for _, text in paragraphs_of(r)}
    assert "CASTRO replied that the Cuban people would never accept inspectors on their territory, whatever the " \
           "United States promised in exchange." in first <= set(embedder.encoded)
    embedder.encoded.clear()
    shutil.copy(PAGES / DOCUMENT_PAGES[2], config.corpus / "docs")
    build_index(config, embedder=embedder)
    added = ArchiveIndex.load(config)
    new_passages = {text for r in added.records if r.source.endswith(":4") and "pdf" in r.source
                    for _, text in paragraphs_of(r)}
    assert new_passages and new_passages <= set(embedder.encoded)
    assert not first & set(embedder.encoded)  # every passage it had is kept, not encoded again
    assert len(added.passages.where) == len(first) + len(new_passages)
    where = added.folder / PASSAGES / "where.npy"
    np.save(where, np.zeros((1, 2), dtype=np.int64))
    with pytest.raises(IndexProblem, match="truncated or damaged"):
        ArchiveIndex.load(config)


def test_an_update_that_leaves_every_full_text_as_it_was_links_the_passages(tmp_path: Path) -> None:
    config = corpus_of(tmp_path, DOCUMENT_PAGES[:2])
    embedder = CountingEmbedder("hashing:64")
    build_index(config, embedder=embedder)
    folder = ArchiveIndex.load(config).folder / PASSAGES
    files = ("vectors.faiss", "words/terms.json")
    before = [(folder / name).stat().st_ino for name in files]
    page = config.corpus / "docs" / DOCUMENT_PAGES[0]
    page.write_text(page.read_text(encoding="utf-8").replace("Mikoyan and Castro discuss", "Mikoyan and Castro debate"),
                    encoding="utf-8")
    embedder.encoded.clear()
    build_index(config, embedder=embedder)
    after = ArchiveIndex.load(config)
    passages = {text for r in after.records for _, text in paragraphs_of(r)}
    assert any("Castro debate" in text for text in embedder.encoded)  # the record's new text
    assert passages and not passages & set(embedder.encoded)  # no passage encoded again
    assert after.folder / PASSAGES != folder
    assert [(after.folder / PASSAGES / name).stat().st_ino for name in files] == before  # linked, not made again
    hits = after.search(after.query(BODY_ONLY, None, "bm25"), 1, "bm25")
    assert after.passage(hits[0]).paragraph == 5


def test_passages_above_the_hnsw_threshold_are_searched_in_a_graph(tmp_path: Path) -> None:
    config = dataclasses.replace(corpus_of(tmp_path, DOCUMENT_PAGES), hnsw_threshold=10)
    embedder = HashingEmbedder("hashing:64")
    build_index(config, embedder=embedder)
    index = ArchiveIndex.load(config)
    info = json.loads((index.folder / PASSAGES / "info.json").read_text())
    assert (info["kind"], index.passages.vectors.kind) == ("hnsw", "hnsw") and info["count"] > 10
    hits = index.search(index.query(BODY_ONLY, embedder, "hybrid"), 1, "hybrid")
    assert index.passage(hits[0]).paragraph == 5
