"""What `corpus show` prints (the rows and the plain text), the furniture check, and exports of the new fields."""

from __future__ import annotations

import json
from pathlib import Path

from qa.corpus import format_records, load_corpus, record_rows
from qa.records import Record

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
DOC = "https://digitalarchive.wilsoncenter.org/document/500456"


def test_record_rows_give_every_field_with_its_source() -> None:
    (row,) = record_rows(load_corpus([PAGES / "doc-pdf-export.txt"]))
    assert list(row) == [
        "id", "title", "date", "date_precision", "summary", "url", "collection", "source", "full_text", "record_type",
        "language", "archive", "citation", "people", "places", "topics", "listed_under", "archive_id",
    ]
    assert (row["id"], row["source"], row["language"], row["people"]) == (
        DOC, f"{PAGES / 'doc-pdf-export.txt'}:4", "Chinese", [],
    )
    assert json.loads(json.dumps(row, ensure_ascii=False)) == row


def test_format_records_shows_each_field_that_has_a_value() -> None:
    corpus = load_corpus([PAGES / "doc-new-site-compact.txt", PAGES / "new-topic-page.txt"])
    text = format_records(corpus.records)
    first = text.split("\n\n")[0].splitlines()
    assert first[0] == "Draft Letter from the Korean Workers' Party to the CPSU on the Cuban Events (excerpt)"
    assert "  date: 1962 (year)" in first
    assert f"  source: {PAGES / 'doc-new-site-compact.txt'}:2" in first
    assert "  people: Korean Workers' Party; Communist Party of the Soviet Union" in first
    assert "  record type: Letter" in first and "  language: Korean" in first and "  archive id: 500208" in first
    assert "  full text (180 characters):" in first
    assert first[-1] == "    With communist greetings."
    assert "  listed under: Cuban Missile Crisis" in text
    assert "  url:" not in first  # empty fields are left out


def test_furniture_check_warns_about_records_that_look_like_page_furniture(tmp_path: Path) -> None:
    rows = [
        {"title": "Documents"}, {"title": "-"}, {"title": "Search in"}, {"title": "11 - 20 of 108"},
        {"title": "Cuban Missile Crisis", "listed_under": "Cuban  missile crisis"}, {"title": "A Real Report"},
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    corpus = load_corpus([path])
    assert len(corpus.records) == 6
    assert [str(w) for w in corpus.warnings] == [
        f"{path}:1: title 'Documents' looks like page furniture, not a document",
        f"{path}:2: title '-' looks like page furniture, not a document",
        f"{path}:3: title 'Search in' looks like page furniture, not a document",
        f"{path}:4: title '11 - 20 of 108' looks like page furniture, not a document",
        f"{path}:5: title 'Cuban Missile Crisis' is the name of the page that lists it, not a document",
    ]


def test_exported_records_with_every_field_read_back_the_same(tmp_path: Path) -> None:
    corpus = load_corpus([PAGES / "doc-new-site.txt", PAGES / "new-topic-page.txt"], root=PAGES.parent)
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in record_rows(corpus)), encoding="utf-8")
    again = load_corpus([path])
    assert again.errors == [] and again.warnings == []
    fields = [f for f in Record.__dataclass_fields__ if f not in ("source", "date_start", "date_end")]
    assert [[getattr(r, f) for f in fields] for r in again.records] == [
        [getattr(r, f) for f in fields] for r in corpus.records
    ]
    assert again.records[0].full_text.count("\n") == 3


def test_csv_lists_are_separated_by_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text('title,people,topics\nA,"Mao, Zedong; Stalin, Joseph",Korean War\n', encoding="utf-8")
    (record,) = load_corpus([path]).records
    assert (record.people, record.topics) == (("Mao, Zedong", "Stalin, Joseph"), ("Korean War",))


def test_record_from_an_old_dict_without_the_new_fields() -> None:
    record = Record.from_dict({"id": "x", "title": "T", "summary": "S.", "source": "f:1"})
    assert (record.full_text, record.people, record.listed_under, record.archive_id) == ("", (), None, None)
    assert Record.from_dict(record.to_dict()) == record
