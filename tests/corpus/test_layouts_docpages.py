"""Document pages saved as text: one record each, with its metadata and full text (synthetic fixtures)."""

from __future__ import annotations

from pathlib import Path

from qa.corpus import load_corpus
from qa.records import Record, stable_id

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
ARCHIVE = "https://digitalarchive.wilsoncenter.org/document/"


def one(name: str) -> Record:
    corpus = load_corpus([PAGES / name])
    assert [str(p) for p in corpus.errors + corpus.warnings] == []
    (record,) = corpus.records
    return record


def test_new_site_document_page() -> None:
    record = one("doc-new-site.txt")
    title = "Record of a Conversation between Mao Zedong and the Yugoslav Ambassador"
    assert record == Record(
        id=stable_id("doc-new-site", title, "1957-04-02"),
        title=title,
        date="1957-04-02",
        date_precision="day",
        summary="Mao Zedong and the Yugoslav ambassador discuss the cooperatives, the events in Hungary and relations "
        "between the two parties.",
        url=None,
        collection="doc-new-site",
        source=f"{PAGES / 'doc-new-site.txt'}:3",
        full_text="Mao Zedong: Welcome. How long have you been in China?\n"
        "Ambassador: Two months. I have visited Shanghai and Hangzhou.\n"
        "Mao Zedong: You should see the countryside too; the cooperatives are where the changes are.\n"
        "[...]",
        record_type="Meeting Minutes",
        language=None,
        archive="Invented Archive of Yugoslavia",
        citation="Invented Archive of Yugoslavia, KPR I-3-a/19-5. Translated for the fixture by an invented "
        "translator.",
        people=("Mao, Zedong, 1893-1976", "Tito, Josip Broz, 1892-1980"),
        places=("China", "Yugoslavia"),
        topics=("Sino-Yugoslav Relations", "Hungarian Revolution, 1956"),
        listed_under=None,
        archive_id="500119",
    )


def test_new_site_document_page_without_blank_lines_and_with_headings() -> None:
    record = one("doc-new-site-compact.txt")
    assert (record.title, record.date, record.date_precision, record.source) == (
        "Draft Letter from the Korean Workers' Party to the CPSU on the Cuban Events (excerpt)", "1962", "year",
        f"{PAGES / 'doc-new-site-compact.txt'}:2",
    )
    assert record.summary == (
        "The Korean Workers' Party tells the CPSU that it regrets the withdrawal of the missiles from Cuba"
    )
    assert record.full_text == (
        "To the Central Committee of the Communist Party of the Soviet Union.\n"
        "Dear comrades, we have studied your letter of 28 October with the greatest attention.\n"
        "With communist greetings."
    )
    assert (record.record_type, record.language, record.archive_id) == ("Letter", "Korean", "500208")
    assert (record.archive, record.citation) == (
        "Invented Foreign Ministry Archive", "Invented Foreign Ministry Archive, file 0402/17."
    )
    assert record.people == ("Korean Workers' Party", "Communist Party of the Soviet Union")
    assert (record.places, record.topics) == (("Korea (North)", "Cuba"), ("Cuban Missile Crisis",))
    assert (record.url, record.listed_under) == (None, None)


def test_old_site_document_page() -> None:
    record = one("doc-old-site.txt")
    url = f"{ARCHIVE}500123"
    assert record == Record(
        id=url,  # the citation's URL is the record's id
        title="Letter from Imre Horv\u00e1th to the Chinese Ambassador",
        date="1956-11-30",
        date_precision="day",
        summary="Horv\u00e1th thanks the ambassador for China\u2019s support and asks for credits to buy grain.",
        url=url,
        collection="doc-old-site",
        source=f"{PAGES / 'doc-old-site.txt'}:2",
        full_text="Dear Comrade Ambassador,\n"
        "The Hungarian people will not forget the help of the Chinese people in these difficult weeks.\n"
        "We ask that the grain be sent through the Soviet Union before the winter.\n"
        "Budapest, 30 November 1956",
        language="Hungarian",
        archive="Invented Hungarian National Archive",
        citation='"Letter from Imre Horv\u00e1th to the Chinese Ambassador," November 30, 1956, History and Public '
        "Policy Program Digital Archive, Invented Hungarian Archive, XIX-J-1-j K\u00edna 4/bf. Translated for the "
        f"fixture. {url}",
        archive_id="500123",
    )


def test_old_site_document_page_takes_title_and_date_from_the_citation_when_missing(tmp_path: Path) -> None:
    page = tmp_path / "doc.txt"
    page.write_text(
        "\u2022 Citation\nget citation\n"
        '"Cable from Roshchin to Filippov [Stalin]," May 13, 1950, History and Public Policy Program Digital Archive, '
        "Invented Archive. https://digitalarchive.wilsoncenter.org/document/500999\n"
        "\u2022 share document\nEnglish HTML\nTo Filippov.\n",
        encoding="utf-8",
    )
    (record,) = load_corpus([page]).records
    assert (record.title, record.date, record.url, record.archive_id, record.full_text) == (
        "Cable from Roshchin to Filippov [Stalin]", "1950-05-13", f"{ARCHIVE}500999", "500999", "To Filippov.",
    )
    assert record.source == f"{page}:3"


def test_pdf_export() -> None:
    record = one("doc-pdf-export.txt")
    url = f"{ARCHIVE}500456"
    assert record == Record(
        id=url,
        title="Minutes of Conversation between Mao Zedong and Ambassador Yudin on the Joint Fleet Proposal",
        date="1958-07-22",
        date_precision="day",
        summary="Mao rejects the proposal for a joint submarine fleet and complains that the Soviet side treats China "
        "as a junior partner.",
        url=url,
        collection="doc-pdf-export",
        source=f"{PAGES / 'doc-pdf-export.txt'}:4",
        full_text="Mao Zedong: We have called you here to talk about the fleet. Yesterday you spoke of a joint fleet, "
        "and I could not sleep.\n"
        "Yudin: The proposal came from our military comrades.\n"
        "Mao Zedong: Then tell Khrushchev to come to Beijing himself.",
        language="Chinese",
        citation='"Minutes of Conversation between Mao Zedong and Ambassador Yudin on the Joint Fleet Proposal," '
        "July 22, 1958, Wilson Center Digital Archive, Invented Central Archive, fond 1, file 22. "
        f"{url}",
        archive_id="500456",
    )


def test_document_page_without_a_title_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "doc.txt"
    page.write_text("Skip to content\n1950\nDocument Information\nRecord ID\n1\n", encoding="utf-8")
    corpus = load_corpus([page])
    assert [str(e) for e in corpus.errors] == [f"{page}:2: document page without a title"]
    assert corpus.records == []


def test_a_document_page_and_a_listing_of_the_same_document_are_one_record(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    listing = tmp_path / "c" / "results.txt"
    listing.write_text(
        "Skip to content\n\nApril 2, 1957\n\n"
        "Record of a Conversation between Mao Zedong and the Yugoslav Ambassador\n\n"
        "Mao Zedong and the Yugoslav ambassador discuss the cooperatives, the events in Hungary and relations between "
        "the two parties.\n",
        encoding="utf-8",
    )
    page = tmp_path / "c" / "z-document.txt"
    page.write_bytes((PAGES / "doc-new-site.txt").read_bytes())
    corpus = load_corpus([tmp_path])
    (record,) = corpus.records
    assert record.source == f"{page}:3" and record.archive_id == "500119"  # the page, with its full text, is kept
    assert [str(w) for w in corpus.warnings] == [f"{listing}:3: same document as {page}:3 (listed twice): read once"]
