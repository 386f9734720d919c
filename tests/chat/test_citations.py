"""qa.chat.citations: archive-style citations, links into the archive, RIS and CSL-JSON (read back with rispy)."""

from __future__ import annotations

import json

import pytest

from qa.chat.citations import (
    DEFAULT_ARCHIVE,
    archive_base,
    archive_citation,
    numbered_citations,
    record_link,
    record_number,
    safe_url,
    search_url,
    to_csl_json,
    to_ris,
)
from qa.records import Record

DOC = "https://digitalarchive.wilsoncenter.org/document/112345"


def record(title="Report, Kovalev to Stalin", date="1949-07-06", url=DOC, **details) -> Record:
    precision = {4: "year", 7: "month", 10: "day"}.get(len(date or ""))
    return Record(
        id=details.pop("rid", "r1"), title=title, date=date, date_precision=precision,
        summary=details.pop("summary", "Kovalev relays requests."), url=url,
        collection=details.pop("collection", "sino-soviet-relations"), source="corpus/x.txt:1", **details,
    )


HOSTILE = record(
    title="Memo **urgent** [see](http://evil.example/t)\nTY  - JOUR",
    summary="<script>alert(1)</script>\nER  - \nTY  - BOOK\nTI  - injected",
    url="javascript:alert(1)",
)


def test_the_archive_style_citation():
    full = record(archive="Archive of the President of the Russian Federation")
    assert archive_citation(full) == (
        '"Report, Kovalev to Stalin," July 6, 1949, sino-soviet-relations/Archive of the President of the Russian '
        f"Federation, Record ID 112345, {DOC}"
    )
    undated = archive_citation(record(url=None, date=None))
    assert undated == '"Report, Kovalev to Stalin," undated, sino-soviet-relations'
    assert archive_citation(record(url=None, archive_id="500999")) == (
        '"Report, Kovalev to Stalin," July 6, 1949, sino-soviet-relations, Record ID 500999'
    )
    markdown = archive_citation(record(), escape=lambda t: t.upper(), link=lambda u: f"<{u}>")
    assert markdown == f'"REPORT, KOVALEV TO STALIN," JULY 6, 1949, SINO-SOVIET-RELATIONS, RECORD ID 112345, <{DOC}>'


def test_numbered_citations_are_one_a_line():
    from qa.types import Source

    sources = [Source(1, record(), 0.1, 0.5, True), Source(3, record(title="Cable\nbroken", url=None), 0.1, 0.5, True)]
    assert numbered_citations(sources).splitlines() == [
        f'[1] "Report, Kovalev to Stalin," July 6, 1949, sino-soviet-relations, Record ID 112345, {DOC}',
        '[3] "Cable broken," July 6, 1949, sino-soviet-relations',
    ]


def test_record_ids_come_from_the_page_or_the_document_link():
    assert record_number(record()) == "112345"
    assert record_number(record(archive_id="777")) == "777"
    assert record_number(record(url="https://digitalarchive.wilsoncenter.org/document/a-slug")) is None
    assert record_number(record(url="javascript:/document/1")) is None


def test_links_go_to_the_record_or_search_the_archive_for_its_title():
    own = record_link(record(), DEFAULT_ARCHIVE)
    assert (own.url, own.exact) == (DOC, True)
    search = record_link(record(url=None, title="Cable, Stalin to Mao [via Kovalev]"), DEFAULT_ARCHIVE)
    assert not search.exact
    assert search.url == (
        "https://digitalarchive.wilsoncenter.org/search?search_api_fulltext=Cable%2C+Stalin+to+Mao+%5Bvia+Kovalev%5D"
    )
    hostile = record_link(HOSTILE, "https://archive.example/")
    assert hostile.url.startswith("https://archive.example/search?search_api_fulltext=Memo+")
    assert not any(c in hostile.url for c in "<>()[] \n")
    assert record_link(record(url=None, title="  "), DEFAULT_ARCHIVE) is None
    assert search_url("javascript:alert(1)", "x") is None


def test_the_archive_is_the_setting_else_the_records_site_else_the_shipped_ones():
    assert archive_base([None, "https://a.example/document/1"], "https://mine.example/") == "https://mine.example"
    urls = ["https://a.example/document/1", "http://b.example/x", "https://a.example/document/2", "javascript:x"]
    assert archive_base(urls) == "https://a.example"
    assert archive_base([None, "ftp://x.example/1"]) == DEFAULT_ARCHIVE


def test_safe_url_refuses_other_schemes():
    assert safe_url("https://a.example/a (b)") == "https://a.example/a%20%28b%29"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//x.example", "https://", "", None):
        assert safe_url(bad) is None


def test_ris_reads_back_with_every_field():
    rispy = pytest.importorskip("rispy")
    rich = record(archive="APRF", record_type="Telegram", language="Russian", topics=("Loans",), people=("Mao",),
                  listed_under="Sino-Soviet Relations")
    month = record(title="Letter from Mao Zedong to Stalin via Kovalev", date="1950-02", url=None, rid="r2")
    entries = rispy.loads(to_ris([rich, month, record(date=None, url=None, rid="r3")]))
    assert len(entries) == 3
    first = entries[0]
    assert first["type_of_reference"] == "MANSCPT"
    assert (first["title"], first["date"], first["year"], first["urls"]) == (
        "Report, Kovalev to Stalin", "1949/07/06/", "1949", [DOC]
    )
    assert first["authors"] == ["Kovalev"] and first["accession_number"] == "112345"
    assert first["name_of_database"] == "sino-soviet-relations/APRF"
    assert first["keywords"] == ["Loans", "Mao"] and first["language"] == "Russian"
    assert first["notes"] == ["To Stalin; Listed under Sino-Soviet Relations"]
    assert (entries[1]["date"], entries[1]["authors"]) == ("1950/02//", ["Mao Zedong"])
    assert "date" not in entries[2] and "urls" not in entries[2]


def test_csl_json_items():
    items = json.loads(to_csl_json([record(), record(date="1950-02", url=None, rid="r2"), record(date=None)]))
    assert items[0] == {
        "id": "r1",
        "type": "manuscript",
        "title": "Report, Kovalev to Stalin",
        "author": [{"literal": "Kovalev"}],
        "issued": {"date-parts": [[1949, 7, 6]]},
        "abstract": "Kovalev relays requests.",
        "URL": DOC,
        "archive": "sino-soviet-relations",
        "archive_location": "112345",
        "note": "To Stalin",
    }
    assert items[1]["issued"] == {"date-parts": [[1950, 2]]} and "URL" not in items[1]
    assert "issued" not in items[2]


def test_a_hostile_record_stays_one_entry_of_plain_text():
    rispy = pytest.importorskip("rispy")
    ris = to_ris([HOSTILE])
    entries = rispy.loads(ris)
    assert len(entries) == 1  # line breaks in values cannot start a tag or end the entry
    assert entries[0]["title"] == "Memo **urgent** [see](http://evil.example/t) TY - JOUR"
    assert entries[0]["abstract"].startswith("<script>alert(1)</script> ER - TY - BOOK")
    assert "urls" not in entries[0] and "javascript" not in ris
    item = json.loads(to_csl_json([HOSTILE]))[0]
    assert item["abstract"].startswith("<script>") and "URL" not in item
