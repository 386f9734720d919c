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


# ------------------------------------------------------------------ the shapes that were read wrong (synthetic)


def exact(name: str, line: int, **fields: object) -> None:
    """The one record of a fixture page, every field as given (the rest empty)."""
    record = one(name)
    stem = name.rsplit(".", 1)[0]
    expected = {
        "id": None, "title": None, "date": None, "date_precision": None, "summary": "", "url": None,
        "collection": stem, "source": f"{PAGES / name}:{line}", "full_text": "", "record_type": None,
        "language": None, "archive": None, "citation": None, "people": [], "places": [], "topics": [],
        "listed_under": None, "archive_id": None,
    } | fields
    assert record.to_dict() == expected


def test_old_site_page_whose_heading_is_a_credit_line_takes_the_cited_title_and_the_summary_below() -> None:
    url = f"{ARCHIVE}500601"
    title = "Report from the Invented Ministry of Foreign Affairs to the Embassy in Beijing, December 8th 1954"
    exact(
        "doc-old-site-funding.txt", 6, id=url, url=url, archive_id="500601", title=title,
        date="1954-12-08", date_precision="day",
        summary="The ministry asks the embassy to report on the grain deliveries to China and on the mood of Chinese "
        "officials after the Geneva conference.",
        citation=f'"{title}," December 08, 1954, History and Public Policy Program Digital Archive, Invented '
        f"Diplomatic Archive, fond 20/1954, file 3. Translated for the fixture by an invented translator. {url}",
        full_text="Comrade Ambassador,\n"
        "Please report by the end of the month on the deliveries of grain agreed in the spring, and on the ports "
        "through which they pass.\n"
        "We also need your assessment of how Chinese officials now see the results of the Geneva conference. Some of "
        "them are said to be disappointed with the partition of Vietnam. Others praise the settlement in public.\n"
        "The Minister of Foreign Affairs",
        language="Romanian", archive="Invented Diplomatic Archive",
    )


def test_old_site_page_without_header_or_citation_is_one_record_and_its_attendance_line_is_text() -> None:
    title = "Record of Conversation between Anastas Mikoyan and Fidel Castro on the Inspection Question"
    exact(
        "doc-old-site-bare.txt", 3, id=stable_id("doc-old-site-bare", title, "1962-11-04"), title=title,
        date="1962-11-04", date_precision="day",
        summary="Mikoyan and Castro discuss the removal of the missiles and Castro's refusal of any inspection of "
        "Cuban territory.",
        full_text="A.I. MIKOYAN with Fidel CASTRO, Osvaldo DORTICOS, Ernesto GUEVARA and Carlos Rafael RODRIGUEZ\n"
        "4 November 1962\n"
        "MIKOYAN said that he had come to explain the Soviet decision and to hear the opinion of the Cuban comrades.\n"
        "CASTRO replied that the Cuban people would never accept inspectors on their territory, whatever the United "
        "States promised in exchange.\n"
        "MIKOYAN proposed that the inspection be carried out at sea, on the Soviet ships leaving Cuba, by officers of "
        "the Red Cross.",
        archive="Invented Russian State Archive",
    )


def test_prelaunch_page_with_single_line_breaks_takes_the_summary_above_the_authors_label() -> None:
    title = "Memorandum of Conversation between Nikita Khrushchev and an Invented Parliamentary Delegation"
    exact(
        "doc-prelaunch.txt", 4, id=stable_id("doc-prelaunch", title, "1959-03-12"), title=title,
        date="1959-03-12", date_precision="day",
        summary="Khrushchev tells the delegation that West Berlin must become a free city and that the Soviet Union "
        "will sign a separate treaty if needed.",
        full_text="Khrushchev: We have waited long enough for an answer on Berlin.\n"
        "Delegate: Our government needs more time to consider the proposal of a free city.\n"
        "Khrushchev: Time is what the West has had for ten years. If there is no answer, we will sign a separate "
        "peace treaty with the German Democratic Republic.",
        record_type="Memorandum of Conversation", language="Russian", archive="Invented Presidential Archive",
        citation="Invented Presidential Archive, fond 3, file 64. Translated for the fixture.",
        places=["Berlin (Germany)"], archive_id="500702",
    )


def test_pdf_export_flattened_into_one_paragraph() -> None:
    url = f"{ARCHIVE}500803"
    title = "Record of Conversation between Mao Zedong and Nikita Khrushchev in Beijing"
    exact(
        "doc-pdf-flat.txt", 1, id=url, url=url, archive_id="500803", title=title,
        date="1959-10-03", date_precision="day",
        summary="Mao and Khrushchev argue about Taiwan, the border clash with India and the flight of the Dalai Lama.",
        citation=f'"{title}," October 3, 1959, Wilson Center Digital Archive, Invented Presidential Archive, fond 52, '
        f"file 499. {url}",
        full_text="Khrushchev: We have come to congratulate you on the tenth anniversary. Mao: Thank you. But your "
        "statement on the clash with India helped Nehru. Khrushchev: We could not support you on the border; it was "
        "not a question of principle.",
        language="Russian",
    )


def test_old_site_credit_heading_without_a_date_takes_the_citation_date(tmp_path: Path) -> None:
    page = tmp_path / "doc.txt"
    page.write_text(
        "Search in\nThis document was made possible with support from an invented foundation.\n\u2022 Citation\n"
        'get citation\n"Telegram from the Invented Embassy," March 3, 1953, History and Public Policy Program Digital '
        "Archive. https://digitalarchive.wilsoncenter.org/document/500998\n"
        "The embassy reports the reaction in the capital to the news of the death.\n"
        "\u2022 share document\nEnglish HTML\nTop secret.\n",
        encoding="utf-8",
    )
    (record,) = load_corpus([page]).records
    assert (record.title, record.date, record.summary, record.full_text, record.source) == (
        "Telegram from the Invented Embassy", "1953-03-03",
        "The embassy reports the reaction in the capital to the news of the death.", "Top secret.", f"{page}:5",
    )


def test_old_site_summary_above_the_citation_without_a_title_is_not_the_title(tmp_path: Path) -> None:
    page = tmp_path / "doc.txt"
    page.write_text(
        "March 3, 1953\nThe embassy reports the reaction in the capital to the news of the death.\n\u2022 Citation\n"
        'get citation\n"Telegram from the Invented Embassy," March 3, 1953, History and Public Policy Program Digital '
        "Archive. https://digitalarchive.wilsoncenter.org/document/500997\n\u2022 share document\nTop secret.\n",
        encoding="utf-8",
    )
    (record,) = load_corpus([page]).records
    assert (record.title, record.date, record.summary) == (
        "Telegram from the Invented Embassy", "1953-03-03",
        "The embassy reports the reaction in the capital to the news of the death.",
    )
