"""qa.chat.citations: archive-style citations, links into the archive, RIS, CSL-JSON and BibTeX (read back with rispy,
citeproc-py and bibtexparser)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from qa.chat.citations import (
    DEFAULT_ARCHIVE,
    Citing,
    CollectionInfo,
    archive_base,
    archive_citation,
    numbered_citations,
    record_link,
    record_number,
    reference,
    safe_url,
    search_url,
    to_bibtex,
    to_csl_json,
    to_ris,
)
from qa.records import Record

DOC = "https://digitalarchive.wilsoncenter.org/document/112345"
WILSON = CollectionInfo("Sino-Soviet Relations", "Wilson Center Digital Archive", "https://digitalarchive.wilsoncenter.org")
CITING = Citing({"sino-soviet-relations": WILSON}, accessed=date(2026, 12, 8))
ACCESSED = "(accessed December 8, 2026)."
# A document page's citation as the old site and the PDF export give it, and the new site's source note.
FULL_CITATION = (
    '"Report, Kovalev to Stalin," July 6, 1949, History and Public Policy Program Digital Archive, APRF, f. 45, op. 1, '
    "d. 331, ll. 75-83. Translated by Sergey Radchenko. https://digitalarchive.wilsoncenter.org/document/112345"
)
SOURCE_NOTE = "Invented Archive of Yugoslavia, KPR I-3-a/19-5. Translated for the fixture by an invented translator."


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


def test_the_archive_style_citation_names_repository_source_translator_id_link_and_access():
    full = record(archive="Archive of the President of the Russian Federation")
    assert archive_citation(full, CITING) == (
        '"Report, Kovalev to Stalin," July 6, 1949, Wilson Center Digital Archive, Archive of the President of the '
        f"Russian Federation, Record ID 112345. {DOC} {ACCESSED}"
    )
    paged = archive_citation(record(citation=FULL_CITATION), CITING)
    assert paged == (
        '"Report, Kovalev to Stalin," July 6, 1949, History and Public Policy Program Digital Archive, APRF, f. 45, '
        f"op. 1, d. 331, ll. 75-83, Record ID 112345. Translated by Sergey Radchenko. {DOC} {ACCESSED}"
    )
    noted = record(url=None, archive_id="500999", citation=SOURCE_NOTE)
    assert archive_citation(noted, CITING) == (
        '"Report, Kovalev to Stalin," July 6, 1949, Wilson Center Digital Archive, Invented Archive of Yugoslavia, '
        "KPR I-3-a/19-5, Record ID 500999. Translated for the fixture by an invented translator. "
        f"https://digitalarchive.wilsoncenter.org/document/500999 {ACCESSED}"
    )
    assert reference(noted, CITING).translator == "an invented translator"
    undated = archive_citation(record(url=None, date=None), CITING)
    assert undated == '"Report, Kovalev to Stalin," undated, Wilson Center Digital Archive.'
    assert archive_citation(record(url=None)) == '"Report, Kovalev to Stalin," July 6, 1949, sino-soviet-relations.'
    markdown = archive_citation(record(), CITING, escape=lambda t: t.upper(), link=lambda u: f"<{u}>")
    assert markdown == (
        f'"REPORT, KOVALEV TO STALIN," JULY 6, 1949, WILSON CENTER DIGITAL ARCHIVE, RECORD ID 112345. <{DOC}> '
        "(ACCESSED DECEMBER 8, 2026)."
    )


def test_numbered_citations_are_one_a_line():
    from qa.types import Source

    sources = [Source(1, record(), 0.1, 0.5, True), Source(3, record(title="Cable\nbroken", url=None), 0.1, 0.5, True)]
    assert numbered_citations(sources, CITING).splitlines() == [
        f'[1] "Report, Kovalev to Stalin," July 6, 1949, Wilson Center Digital Archive, Record ID 112345. {DOC} '
        + ACCESSED,
        '[3] "Cable broken," July 6, 1949, Wilson Center Digital Archive.',
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
                  listed_under="Sino-Soviet Relations", citation=FULL_CITATION)
    month = record(title="Letter from Mao Zedong to Stalin via Kovalev", date="1950-02", url=None, rid="r2")
    entries = rispy.loads(to_ris([rich, month, record(date=None, url=None, rid="r3")], CITING))
    assert len(entries) == 3
    first = entries[0]
    assert first["type_of_reference"] == "MANSCPT"
    assert (first["title"], first["date"], first["year"], first["urls"]) == (
        "Report, Kovalev to Stalin", "1949/07/06/", "1949", [DOC]
    )
    assert first["authors"] == ["Kovalev"] and first["accession_number"] == "112345" and first["id"] == "r1"
    assert first["name_of_database"] == "History and Public Policy Program Digital Archive"
    assert first["subsidiary_authors"] == ["Sergey Radchenko"] and first["access_date"] == "2026/12/08/"
    assert first["keywords"] == ["Loans", "Mao"] and first["language"] == "Russian"
    assert first["notes"] == [
        "Archival source: APRF, f. 45, op. 1, d. 331, ll. 75-83; Translated by Sergey Radchenko; To Stalin; "
        "Listed under Sino-Soviet Relations"
    ]
    assert (entries[1]["date"], entries[1]["authors"]) == ("1950/02//", ["Mao Zedong"])
    assert entries[1]["name_of_database"] == "Wilson Center Digital Archive"
    assert "date" not in entries[2] and "urls" not in entries[2]


def test_csl_json_items_read_by_citeproc():
    items = json.loads(to_csl_json([record(), record(date="1950-02", url=None, rid="r2"), record(date=None)], CITING))
    assert items[0] == {
        "id": "r1",
        "type": "manuscript",
        "title": "Report, Kovalev to Stalin",
        "author": [{"literal": "Kovalev"}],
        "issued": {"date-parts": [[1949, 7, 6]]},
        "abstract": "Kovalev relays requests.",
        "URL": DOC,
        "accessed": {"date-parts": [[2026, 12, 8]]},
        "archive": "Wilson Center Digital Archive",
        "number": "112345",
        "note": "To Stalin",
    }
    assert items[1]["issued"] == {"date-parts": [[1950, 2]]} and "URL" not in items[1]
    assert "issued" not in items[2]
    citeproc = pytest.importorskip("citeproc")
    from citeproc.source.json import CiteProcJSON

    read = CiteProcJSON(items[:2])
    entry = read["r1"]
    assert (str(entry.archive), str(entry["URL"]), str(entry.number)) == (WILSON.repository, DOC, "112345")
    assert (entry.accessed.year, entry.accessed.month, entry.accessed.day) == (2026, 12, 8)
    bibliography = citeproc.CitationStylesBibliography(
        citeproc.CitationStylesStyle("harvard-cite-them-right", validate=False), read, citeproc.formatter.plain
    )
    bibliography.register(citeproc.Citation([citeproc.CitationItem("r1")]))
    assert "Report, Kovalev to Stalin" in str(bibliography.bibliography()[0])


def test_bibtex_reads_back_with_every_field():
    bibtexparser = pytest.importorskip("bibtexparser")
    from bibtexparser.middlewares import LatexDecodingMiddleware

    hostile = record(title="Memo {on} 50% & co_ops \\end", rid="r9", url=None, citation=SOURCE_NOTE)
    text = to_bibtex([record(citation=FULL_CITATION), hostile, record(rid="r10")], CITING)
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks and len(library.entries) == 3
    first, second, third = library.entries
    assert first.key == "archive-112345" and third.key == "archive-112345-2"  # unique keys
    values = {name: first.fields_dict[name].value for name in first.fields_dict}
    assert values["title"] == "Report, Kovalev to Stalin" and values["url"] == DOC
    assert values["howpublished"] == "History and Public Policy Program Digital Archive"
    assert values["date"] == "1949-07-06" and values["urldate"] == "2026-12-08"
    assert values["note"] == "APRF, f. 45, op. 1, d. 331, ll. 75-83; Record ID 112345; Translated by Sergey Radchenko."
    assert values["translator"] == "Sergey Radchenko"
    assert second.fields_dict["title"].value == "Memo {on} 50% & co_ops \\end"
    assert "url" not in second.fields_dict


def test_a_hostile_record_stays_one_entry_of_plain_text():
    rispy = pytest.importorskip("rispy")
    ris = to_ris([HOSTILE])
    entries = rispy.loads(ris)
    assert len(entries) == 1  # line breaks in values cannot start a tag or end the entry
    assert entries[0]["title"] == "Memo **urgent** [see](http://evil.example/t) TY - JOUR"
    assert entries[0]["abstract"].startswith("<script>alert(1)</script> ER - TY - BOOK")
    assert "urls" not in entries[0] and "javascript" not in ris
    item = json.loads(to_csl_json([HOSTILE]))[0]
    assert "javascript" not in to_bibtex([HOSTILE])
    assert item["abstract"].startswith("<script>") and "URL" not in item
