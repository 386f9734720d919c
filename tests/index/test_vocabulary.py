"""The collection's vocabulary: built from the records, kept per build, and a question's words read in it."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.lexical import Analyzer
from qa.index.vocabulary import (
    SEARCHED,
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
def test_reading_a_word_costs_one_product_linear_in_the_vocabulary(size):
    """At 4x the words, one look-up multiplies 4x the vectors, never more than SEARCHED of them: the cost never
    depends on the number of records."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(size, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = Vocabulary([f"w{i}" for i in range(size)], vectors)
    assert vocabulary.vectors.shape == (size, 16)  # one product: size x 16 multiplications
    found = vocabulary.nearest(vectors[:3], 2)
    assert [f[0][0] for f in found] == ["w0", "w1", "w2"] and all(f[0][1] >= f[1][1] for f in found)


def test_only_the_most_used_words_are_searched():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(SEARCHED + 10, 8)).astype(np.float32)
    vocabulary = Vocabulary([str(i) for i in range(len(vectors))], vectors)
    assert vocabulary.vectors.shape == (SEARCHED, 8) and vocabulary.words[-1] == str(SEARCHED - 1)


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
