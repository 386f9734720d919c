"""The collection's vocabulary: built from the records, kept per build, and a question's words read in it."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.lexical import Analyzer
from qa.index.vocabulary import (
    EXACT_UP_TO,
    Vocabulary,
    VocabularyPlan,
    collection_words,
    plan_vocabulary,
    unknown_words,
    write_vocabulary,
)
from qa.records import Record


def _record(i: int, title: str, summary: str) -> Record:
    return Record(id=f"r{i}", title=title, date="1949-05-01", date_precision=None, summary=summary, url=None,
                  collection="test", source="test")  # fmt: skip


RECORDS = [
    _record(1, "Report, Kovalev to Stalin", "Kovalev relays requests that Soviet professors be sent to China."),
    _record(2, "Cable, Stalin to Mao", "Stalin discusses the loan. Professors and specialists are discussed."),
]


def test_the_vocabulary_holds_words_most_used_first_its_names_marked():
    words, names = collection_words(RECORDS)
    assert words[:3] == ["stalin", "kovalev", "professors"]  # three times, twice, twice (first seen first)
    named = {w for w, name in zip(words, names, strict=True) if name}
    assert {"kovalev", "stalin", "mao", "soviet", "china"} <= named  # capitalised in most of their uses inside
    assert "professors" not in named and "loan" not in named
    assert "the" not in words and "to" not in words  # stop words


def test_a_question_word_written_as_a_name_is_never_read():
    analyzer = Analyzer({})
    assert unknown_words("Did Nixon meet the teachers in nanjing?", analyzer) == ["meet", "teachers"]
    # Wade-Giles names are read as pinyin first, and a pinyin name is a name in any case
    assert "zhou" not in unknown_words("what did chou en-lai tell the teachers", analyzer)


def test_a_build_encodes_only_the_words_the_previous_build_lacked(tmp_path):
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.eye(8, dtype=np.float32)[[len(t) % 8 for t in texts]]

    first = plan_vocabulary(RECORDS[:1], "m", None, 8)
    write_vocabulary(tmp_path / "a", first, first.vectors(encode, 8))
    second = plan_vocabulary(RECORDS, "m", tmp_path / "a", 8)
    vectors = second.vectors(encode, 8)
    assert calls[1] == [w for w in second.words if w not in first.words]
    loaded = Vocabulary.load(_written(tmp_path / "b", second, vectors))
    assert loaded is not None and loaded.words == [w for w, n in zip(second.words, second.names, strict=True) if not n]
    assert Vocabulary.load(tmp_path / "none") is None


def _written(folder, plan: VocabularyPlan, vectors):
    write_vocabulary(folder, plan, vectors)
    return folder


@pytest.mark.parametrize("size", [1000, 4000])
def test_reading_a_word_costs_one_search_linear_in_the_vocabulary(size):
    """At 4x the words, one look-up scans 4x the vectors (exact search), and a vocabulary beyond EXACT_UP_TO words
    is a graph whose search does not scan them all: the cost never depends on the number of records."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(size, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = Vocabulary([f"w{i}" for i in range(size)], vectors)
    assert vocabulary.graph is None and vocabulary.vectors.shape == (size, 16)  # one product: size x 16 operations
    found = vocabulary.nearest(vectors[:3], 1)
    assert [f[0][0] for f in found] == ["w0", "w1", "w2"]
    assert EXACT_UP_TO >= 4 * 1000


def test_a_large_vocabulary_is_searched_through_a_graph():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(EXACT_UP_TO + 10, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = Vocabulary([str(i) for i in range(len(vectors))], vectors)
    assert type(vocabulary.graph).__name__ == "IndexHNSWFlat" and vocabulary.graph.ntotal == len(vectors)
    assert "5" in [word for word, _ in vocabulary.nearest(vectors[5], 5)[0]]


# ---------------------------------------------------------------------------------------------- with the real model


def test_teachers_are_read_as_the_collections_professors(assistant):
    from qa.types import Filters

    question = "Where do the Chinese leaders ask Moscow to send university teachers?"
    report = next(r for r in assistant.index.records if r.title == "Report, Kovalev to Stalin")
    answer = assistant.ask(question)
    assert "teachers → professors" in answer.read_as
    assert report.id in [i for i, _ in answer.ranking[:3]]
    plain = assistant.ask(question, filters=Filters(expand=False))
    assert plain.read_as == [] and answer.to_dict()["read_as"] == answer.read_as


def test_no_name_is_read_as_another_name(assistant):
    vocabulary = assistant.index.vocabulary
    titles_people = {"kovalev", "stalin", "mao", "filippov", "mikoyan", "liu", "gao", "zhou"}
    assert not titles_people & set(vocabulary.words)
    for question in ("What did Nixon tell Kovalev?", "what did nixon tell kovalev about nanjing?"):
        readings = assistant.ask(question).read_as
        assert not any(r.split(" → ")[0] in ("nixon", "nanjing", "kovalev") for r in readings), readings
