"""The record model and its date helpers: parse_date, date_bounds, human_date, stable_id, Record."""

from __future__ import annotations

import hashlib

import pytest

from qa.records import DateError, Record, date_bounds, human_date, parse_date, stable_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("July 4, 1963", ("1963-07-04", "day")),
        ("July 4 1963", ("1963-07-04", "day")),
        ("july  4,   1963", ("1963-07-04", "day")),
        ("Jul. 4, 1963", ("1963-07-04", "day")),
        ("Sept. 9, 1949", ("1949-09-09", "day")),
        ("Sep 9, 1949", ("1949-09-09", "day")),
        ("July 4th, 1963", ("1963-07-04", "day")),
        ("4 July 1963", ("1963-07-04", "day")),
        ("22nd May 1949", ("1949-05-22", "day")),
        ("September 1944", ("1944-09", "month")),
        ("Sept 1944", ("1944-09", "month")),
        ("September, 1944", ("1944-09", "month")),
        ("1962", ("1962", "year")),
        ("1949-02-06", ("1949-02-06", "day")),
        ("1949-02", ("1949-02", "month")),
        ("February 29, 1948", ("1948-02-29", "day")),
        ("  March 2, 1977 ", ("1977-03-02", "day")),
    ],
)
def test_parse_date_reads_archive_and_iso_dates(text: str, expected: tuple[str, str]) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "Report, Kovalev to Stalin", "1962-1963", "62", "July 1963 meeting", "Summer 1962", "1963-7-4", "circa 1962"],
)
def test_parse_date_returns_none_for_text_that_is_not_a_date(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text",
    ["February 30, 1949", "February 29, 1949", "April 31, 1950", "1949-02-30", "1949-13", "1949-00-10", "July 0, 1963"],
)
def test_parse_date_rejects_impossible_days_and_months(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text)


def test_date_error_is_a_value_error_naming_the_text() -> None:
    with pytest.raises(ValueError, match="February 30, 1949"):
        parse_date("February 30, 1949")


@pytest.mark.parametrize(
    ("iso", "bounds"),
    [
        ("1962", (19620101, 19621231)),
        ("1944-09", (19440901, 19440930)),
        ("1948-02", (19480201, 19480229)),
        ("1949-02", (19490201, 19490228)),
        ("1963-07-04", (19630704, 19630704)),
        (None, None),
        ("", None),
    ],
)
def test_date_bounds_cover_the_whole_period(iso: str | None, bounds: tuple[int, int] | None) -> None:
    assert date_bounds(iso) == bounds


@pytest.mark.parametrize(
    ("iso", "text"),
    [("1963-07-04", "July 4, 1963"), ("1944-09", "September 1944"), ("1962", "1962"), (None, "undated")],
)
def test_human_date_writes_dates_as_the_archive_does(iso: str | None, text: str) -> None:
    assert human_date(iso) == text


def test_human_date_and_parse_date_round_trip() -> None:
    for iso in ("1963-07-04", "1944-09", "1962"):
        assert parse_date(human_date(iso))[0] == iso  # type: ignore[index]


def test_stable_id_is_a_fixed_hash_of_collection_title_and_date() -> None:
    key = "sino-soviet-relations\x1freport, kovalev to stalin\x1f1949-07-06\x1f"
    expected = hashlib.sha256(key.encode()).hexdigest()[:16]
    assert stable_id("sino-soviet-relations", "Report, Kovalev to Stalin", "1949-07-06") == expected
    # Pinned literally: the same on every machine and in every later version, or indexes go stale.
    assert expected == "88795f794b555551"


def test_stable_id_ignores_case_and_spacing_of_the_title_only() -> None:
    base = stable_id("c", "Report, Kovalev to Stalin", "1949")
    assert stable_id("c", "  report,  KOVALEV to Stalin ", "1949") == base
    assert stable_id("d", "Report, Kovalev to Stalin", "1949") != base
    assert stable_id("c", "Report, Kovalev to Stalin", "1950") != base
    assert stable_id("c", "Report, Kovalev to Stalin", None) != base
    assert stable_id("c", "Report, Kovalev to Stalin", "1949", "a summary") != base


def _record(**overrides: object) -> Record:
    values: dict = {
        "id": "r1",
        "title": "Report, Kovalev to Stalin",
        "date": "1949-07",
        "date_precision": "month",
        "summary": "Kovalev relays several requests.",
        "url": None,
        "collection": "c",
        "source": "c/page.txt:3",
    }
    values.update(overrides)
    return Record(**values)


def test_record_computes_its_date_bounds_and_display_date() -> None:
    record = _record()
    assert (record.date_start, record.date_end) == (19490701, 19490731)
    assert record.display_date == "July 1949"
    undated = _record(date=None, date_precision=None)
    assert (undated.date_start, undated.date_end) == (None, None)
    assert undated.display_date == "undated"


def test_record_round_trips_through_a_dict_without_the_bounds() -> None:
    record = _record(url="https://example.org/document/1")
    d = record.to_dict()
    assert set(d) == {"id", "title", "date", "date_precision", "summary", "url", "collection", "source",
                      "full_text", "record_type", "language", "archive", "citation", "people", "places", "topics",
                      "listed_under", "archive_id"}
    again = Record.from_dict(d)
    assert again == record
    assert (again.date_start, again.date_end) == (19490701, 19490731)


def test_record_from_a_minimal_dict() -> None:
    record = Record.from_dict({"id": "x", "title": "T", "summary": None})
    assert (record.date, record.summary, record.url, record.collection) == (None, "", None, "")


def test_record_is_immutable() -> None:
    with pytest.raises(AttributeError):
        _record().title = "other"  # type: ignore[misc]


def test_record_is_made_with_keywords_and_its_fields_declared_once() -> None:
    """Record takes exactly its dataclass fields, by keyword only; Raw's detail fields are Record's."""
    import dataclasses
    import inspect

    params = list(inspect.signature(Record.__init__).parameters.values())[1:]
    expected = [
        (f.name, inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default)
        for f in dataclasses.fields(Record)
    ]
    assert [(p.name, p.default) for p in params] == expected
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    values = {f.name: f"v{i}" for i, f in enumerate(dataclasses.fields(Record))}
    values.update(date=None, date_start=3, date_end=4)
    by_name = Record(**values)
    assert {name: getattr(by_name, name) for name in values} == values  # every field set, none swapped
    with pytest.raises(TypeError):
        Record(*values.values())
    from qa.corpus.raw import Raw
    from qa.records import DETAIL_FIELDS

    raw_details = {f.name: f.default for f in dataclasses.fields(Raw) if f.name in DETAIL_FIELDS}
    record_details = {f.name: f.default for f in dataclasses.fields(Record) if f.name in DETAIL_FIELDS}
    assert raw_details == record_details and set(raw_details) == set(DETAIL_FIELDS)


def test_record_bounds_follow_its_date_also_when_replaced() -> None:
    import dataclasses

    record = _record(date_start=1, date_end=2)  # given bounds give way to the date's
    assert (record.date_start, record.date_end) == (19490701, 19490731)
    moved = dataclasses.replace(record, date="1950", date_precision="year")
    assert (moved.date_start, moved.date_end) == (19500101, 19501231)
    assert dataclasses.replace(record, id="y") == _record(id="y") and hash(record) == hash(_record())
