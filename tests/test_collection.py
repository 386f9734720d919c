"""qa.collection: what the chat page says about a collection, and the example questions it offers (no model)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qa.assistant import Filters
from qa.collection import (
    EXAMPLES,
    Overview,
    built_label,
    collection_names,
    documents_per_year,
    example_questions,
    overview,
    status_line,
    year_filters,
)


def test_overview_of_the_shipped_collection(hashing_index):
    view = overview(hashing_index)
    assert (view.count, view.undated, view.first_year, view.last_year) == (10, 1, 1949, 1977)
    assert view.collections == ("sino-soviet-relations",)
    assert view.model == "hashing:64"
    assert view.year_range == (1949, 1977)
    assert [row["year"] for row in view.per_year] == list(range(1949, 1978))
    assert view.description() == "10 documents from sino-soviet-relations, dated 1949 to 1977 (1 undated)."
    assert view.build_line().startswith("10 records · model hashing:64 · built ")


def fake_index(dates, collections=("a",), count=None):
    records = [SimpleNamespace(collection=c) for c in collections]
    manifest = SimpleNamespace(model="m", built_at="2024-05-01T12:30:00+00:00")
    dates = np.array(dates, dtype=np.int64).reshape(-1, 2)
    count = len(dates) if count is None else count
    return SimpleNamespace(dates=dates, records=records, count=count, manifest=manifest)


def test_overview_of_an_undated_collection_has_no_years():
    view = overview(fake_index([[0, 0], [0, 0]], collections=("", "")))
    assert (view.undated, view.first_year, view.last_year, view.year_range) == (2, None, None, None)
    assert view.per_year == []
    assert view.description() == "2 documents from the collection, all undated."


def test_overview_of_one_year_offers_no_year_range():
    view = overview(fake_index([[19490101, 19491231], [19490526, 19490526]]))
    assert (view.first_year, view.last_year, view.year_range) == (1949, 1949, None)
    assert view.description() == "2 documents from a, dated 1949 to 1949."


def test_overview_names_collections_only_when_small_enough():
    assert overview(fake_index([[0, 0]], collections=("b", "a", "b"), count=50_000)).collections == ("a", "b")
    assert overview(fake_index([[0, 0]], collections=("b", "a"), count=50_001)).collections == ()
    assert collection_names([SimpleNamespace(collection=c) for c in ("z", "", "y", "z")]) == ("y", "z")


def test_built_label_and_status_line():
    assert built_label("2024-05-01T12:30:45+00:00") == "2024-05-01 12:30 UTC"
    assert built_label("2024-05-01T12:30:45") == "2024-05-01 12:30"
    assert built_label("yesterday") == "yesterday"
    assert status_line(None) == "Index up to date"
    assert status_line("the corpus changed") == "Index out of date"


def test_year_filters_leave_the_full_range_unlimited():
    view = Overview(count=3, undated=1, first_year=1949, last_year=1977)
    assert year_filters(view, (1949, 1977), include_undated=True) == Filters()
    assert year_filters(view, (1950, 1977), include_undated=False) == Filters("1950", None, False)
    assert year_filters(view, (1949, 1960), include_undated=True) == Filters(None, "1960", True)
    assert year_filters(view, (1950, 1960), include_undated=True) == Filters("1950", "1960", True)


class FakeAssistant:
    """Abstains on the questions it is told to; counts the records looked at for titles."""

    def __init__(self, abstains_on, titles) -> None:
        self.abstains_on = set(abstains_on)
        self.seen = 0
        self.index = SimpleNamespace(records=self._records(titles))

    def _records(self, titles):
        for title in titles:
            self.seen += 1
            yield SimpleNamespace(title=title, summary="" if title.startswith("no summary") else "A summary.")

    def ask(self, question):
        return SimpleNamespace(abstained=question in self.abstains_on)


def test_example_questions_are_those_answered_in_order():
    assistant = FakeAssistant(abstains_on=[EXAMPLES[1]], titles=["T1", "T2"])
    assert example_questions(assistant) == [EXAMPLES[0], EXAMPLES[2], "What is “T1” about?"]
    assert assistant.seen == 1  # the records are read only as far as needed


def test_example_questions_fall_back_to_titles_with_summaries():
    assistant = FakeAssistant(abstains_on=EXAMPLES, titles=["no summary", "T1", "T2", "T3", "T4"])
    assert example_questions(assistant) == ["What is “T1” about?", "What is “T2” about?", "What is “T3” about?"]
    assert example_questions(FakeAssistant(abstains_on=EXAMPLES, titles=[])) == []
    assert example_questions(FakeAssistant([], []), candidates=["q1", "q2"], n=1) == ["q1"]


def test_documents_per_year_counts_start_years_and_fills_gaps():
    dates = np.array(
        [[19490526, 19490526], [19490101, 19491231], [19520000 + 301, 19520301], [0, 0], [19500000 + 1231, 19510110]]
    )
    assert documents_per_year(dates) == [
        {"year": 1949, "documents": 2},
        {"year": 1950, "documents": 1},
        {"year": 1951, "documents": 0},
        {"year": 1952, "documents": 1},
    ]


def test_documents_per_year_of_an_undated_or_empty_collection_is_empty():
    assert documents_per_year(np.zeros((3, 2), dtype=np.int64)) == []
    assert documents_per_year(np.zeros((0, 2), dtype=np.int64)) == []
