"""qa.chat.collection: what the chat page says about a collection, and the example questions it offers (no model)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qa.chat.citations import DEFAULT_ARCHIVE, CollectionInfo
from qa.chat.collection import (
    EXAMPLES,
    SUMMARY_QUESTION,
    Browse,
    Overview,
    browse_rows,
    browse_table,
    built_label,
    collection_names,
    collection_settings,
    documents_per_year,
    example_questions,
    overview,
    page_names,
    question_years,
    range_words,
    status_line,
    year_filters,
)
from qa.errors import ConfigError
from qa.types import AppliedFilter, Filters


def test_overview_of_the_shipped_collection(hashing_index):
    view = overview(hashing_index)
    assert (view.count, view.undated, view.first_year, view.last_year) == (10, 1, 1949, 1977)
    assert view.collections == ("sino-soviet-relations",)
    assert view.model == "hashing:64"
    assert view.year_range == (1949, 1977)
    assert [row["year"] for row in view.per_year] == list(range(1949, 1978))
    assert view.description() == (
        "10 documents from sino-soviet-relations, read from 1 page (listing-page-17_docs-161-170.txt), "
        "dated 1949 to 1977 (1 undated)."
    )
    assert view.build_line().startswith("10 records · model hashing:64 · built ")
    assert view.archive == DEFAULT_ARCHIVE  # the shipped records carry no links
    assert overview(hashing_index, "https://mine.example/").archive == "https://mine.example"
    assert view.people[:2] == (("Stalin", 6), ("Kovalev", 5))  # the titles' people, most documents first


def fake_index(dates, collections=("a",), count=None, sources=(), urls=()):
    sources = [*sources, *[""] * (len(collections) - len(sources))]
    urls = [*urls, *[None] * (len(collections) - len(urls))]
    rows = zip(collections, sources, urls, strict=True)
    records = [SimpleNamespace(collection=c, source=s, url=u) for c, s, u in rows]
    manifest = SimpleNamespace(model="m", built_at="2024-05-01T12:30:00+00:00")
    dates = np.array(dates, dtype=np.int64).reshape(-1, 2)
    count = len(dates) if count is None else count
    people = SimpleNamespace(names=lambda: [("Kovalev", 2)])
    return SimpleNamespace(dates=dates, records=records, count=count, manifest=manifest, people=people)


def test_overview_of_an_undated_collection_has_no_years():
    view = overview(fake_index([[0, 0], [0, 0]], collections=("", "")))
    assert (view.undated, view.first_year, view.last_year, view.year_range) == (2, None, None, None)
    assert view.per_year == []
    assert view.description() == "2 documents from the collection, all undated."


def test_overview_of_one_year_offers_no_year_range():
    view = overview(fake_index([[19490101, 19491231], [19490526, 19490526]]))
    assert (view.first_year, view.last_year, view.year_range) == (1949, 1949, None)
    assert view.description() == "2 documents from a, dated 1949 to 1949."


def test_overview_names_the_pages_read_and_the_archive_the_links_point_to():
    sources = ("corpus/a/p1.txt:3", "corpus/a/p2.html:9", "corpus/a/p1.txt:40")
    urls = ("https://a.example/document/1", None, "https://a.example/document/2")
    view = overview(fake_index([[0, 0]] * 3, collections=("a", "a", "a"), sources=sources, urls=urls))
    assert view.pages == ("p1.txt", "p2.html") and view.archive == "https://a.example"
    assert view.description() == "3 documents from a, read from 2 pages (p1.txt, p2.html), all undated."
    many = [SimpleNamespace(source=f"corpus/p{i}.txt:1") for i in range(5)]
    assert Overview(5, 0, 1949, 1950, ("a",), pages=page_names(many)).description() == (
        "5 documents from a, read from 5 pages, dated 1949 to 1950."
    )


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
    # Undated documents left out of the full range: the dated ones only.
    assert year_filters(view, (1949, 1977), include_undated=False) == Filters("1949", None, False)


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
    assert example_questions(assistant) == [SUMMARY_QUESTION, EXAMPLES[0], EXAMPLES[2], "What is “T1” about?"]
    assert assistant.seen == 1  # the records are read only as far as needed


def test_example_questions_fall_back_to_titles_with_summaries():
    assistant = FakeAssistant(abstains_on=EXAMPLES, titles=["no summary", "T1", "T2", "T3", "T4"])
    titled = ["What is “T1” about?", "What is “T2” about?", "What is “T3” about?"]
    assert example_questions(assistant) == [SUMMARY_QUESTION, *titled]
    assert example_questions(FakeAssistant(abstains_on=EXAMPLES, titles=[])) == [SUMMARY_QUESTION]
    assert example_questions(FakeAssistant([], []), candidates=["q1", "q2"], n=1) == [SUMMARY_QUESTION, "q1"]


def test_the_shipped_collection_is_cited_as_the_wilson_center_digital_archive():
    settings = collection_settings(Path(__file__).resolve().parents[2] / "corpus")
    assert settings["sino-soviet-relations"] == CollectionInfo(
        "Sino-Soviet Relations", "Wilson Center Digital Archive", "https://digitalarchive.wilsoncenter.org"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "A"\nrepository = 3\n', "field 'repository' must be non-empty text"),
        ('base_url = "javascript:alert(1)"\n', "field 'base_url' must be an http(s) address"),
        ('repositry = "Typo"\n', "unknown field 'repositry'"),
        ('name = "A\n', "cannot be read as TOML"),
    ],
)
def test_a_bad_collection_setting_is_one_line_naming_file_and_field(tmp_path, text, message):
    (tmp_path / "letters").mkdir()
    path = tmp_path / "letters" / "collection.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        collection_settings(tmp_path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_collection_without_settings_keeps_its_folder_name(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "collection.toml").write_text('repository = "Hoover Institution"\n', encoding="utf-8")
    assert collection_settings(tmp_path) == {"letters": CollectionInfo("letters", "Hoover Institution", None)}
    assert collection_settings(tmp_path / "missing") == {}


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


def applied(start, end):
    return AppliedFilter("d", "question", "s", start, end, True)


def test_question_years_for_the_date_control():
    view = Overview(count=3, undated=1, first_year=1949, last_year=1977)
    assert question_years(applied(19490501, 19490531), view) == (1949, 1949)
    assert question_years(applied(None, 19591231), view) == (1949, 1959)  # "before 1960"
    assert question_years(applied(19700101, None), view) == (1970, 1977)  # "after 1970"
    assert question_years(applied(19200101, 19301231), view) is None  # outside the collection
    assert question_years(None, view) is None
    assert question_years(applied(19490101, 19491231), Overview(1, 0, 1949, 1949)) is None


def test_range_words_are_the_answers_own():
    view = Overview(count=3, undated=1, first_year=1949, last_year=1977)
    assert range_words(view, (1949, 1977), True) == "any date"
    assert range_words(view, (1950, 1977), False) == "showing documents from 1950 on"
    assert range_words(view, (1949, 1960), True) == "showing documents up to 1960 (and undated ones)"
    assert range_words(view, (1963, 1963), False) == "showing documents from 1963"
    assert range_words(view, (1950, 1960), False) == "showing documents from 1950 to 1960"
    assert range_words(view, (1949, 1977), False) == "dated documents only"


def test_browse_table_and_its_filters(hashing_index):
    table = browse_table(hashing_index)
    assert len(table) == 10 and list(table.columns) == ["Date", "Title", "From", "To", "Participants", "Record ID",
                                                       "Collection", "Summary"]
    people = hashing_index.people
    rows = lambda **kw: [table.columns["Title"][i] for i in browse_rows(table, Browse(**kw), people)]  # noqa: E731
    assert len(rows()) == 10
    assert rows(words="kovalev STALIN") and all("Kovalev" in t for t in rows(words="kovalev STALIN"))
    assert rows(undated="only") == ["CC CPSU Information on Chinese Foreign Policy Issues"]
    assert len(rows(undated="without")) == 9
    assert len(rows(years=(1963, 1977))) == 3  # 1963, 1977 and the undated one
    assert len(rows(years=(1963, 1977), undated="without")) == 2
    assert rows(years=(1963, 1977), undated="only") == rows(undated="only")
    assert set(rows(person="Kovalev")) <= set(rows(words="kovalev")) and rows(person="Kovalev")
    assert rows(person="Kovalev", years=(1963, 1977)) == []
    assert len(rows(collections=("sino-soviet-relations",))) == 10 and rows(collections=("other",)) == []
    kovalev = table.columns["Title"].index("Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]")
    assert (table.columns["From"][kovalev], table.columns["To"][kovalev]) == ("Kovalev", "Stalin")
    mikoyan = table.columns["Title"].index("Memorandum of Conversation between Anastas Mikoyan and Mao Zedong")
    assert table.columns["From"][mikoyan] == ""
    assert table.columns["Participants"][mikoyan] == "Anastas Mikoyan, Mao Zedong"
    assert all(table.columns["Record ID"])  # the archive's id where known, else the id answers cite


def test_browse_rows_are_sorted_by_date_undated_last(hashing_index):
    table = browse_table(hashing_index)
    dates = lambda order: [table.columns["Date"][i] for i in browse_rows(table, Browse(order=order))]  # noqa: E731
    dated = sorted(d for d in table.columns["Date"] if d)
    assert dates("oldest") == [*dated, ""]
    assert dates("newest") == [*reversed(dated), ""]
    assert dates("listed") == table.columns["Date"]
