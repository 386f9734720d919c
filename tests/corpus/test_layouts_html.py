"""Pages saved as HTML: the same layouts read from the page's text; each title's link is the record's URL and id."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.corpus import load_corpus
from qa.corpus.html import html_page
from qa.records import Record, stable_id

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
DOC = "https://digitalarchive.wilsoncenter.org/document/"


def rows(name: str, *, warnings: list[str] | None = None) -> list[tuple]:
    """(line, title, date, summary, url) per record; ids are their URLs when they have one."""
    corpus = load_corpus([PAGES / name])
    assert [str(e) for e in corpus.errors] == []
    assert [str(w) for w in corpus.warnings] == (warnings or [])
    for record in corpus.records:
        assert record.id == (record.url or stable_id(Path(name).stem, record.title, record.date))
    return [(int(r.source.rsplit(":", 1)[1]), r.title, r.date, r.summary, r.url) for r in corpus.records]


def test_new_site_search_results_leave_scripts_styles_navigation_and_footer_out() -> None:
    assert rows("new-search-results.html") == [
        (28, "Cable, Kovalev to Stalin, Report on the Politburo Discussion of 22 May", "1949-05-23",
         "Kovalev reports on the economic situation in Manchuria and the military situation in the south",
         f"{DOC}500301"),
        (34, "Note on the Soviet Loan, undated [1949]", None,  # an absolute link; its #fragment dropped
         "Sets out the terms of the loan and the goods to be delivered.", f"{DOC}500302"),
        (38, "Report on the Liu Shaoqi Delegation\u2019s Arrival in Moscow", "1949-06", "", f"{DOC}500303"),
        (42, "Report, Kovalev to Stalin, on Requests from Liu Shaoqi", "1949-07-06",
         "Liu Shaoqi asks for Soviet professors and advice on running a government. he also asks about a trade "
         "delegation from Czechoslovakia.", f"{DOC}500304"),
    ]


def test_topic_page_saved_as_html() -> None:
    corpus = load_corpus([PAGES / "new-topic-page.html"])
    assert [(r.title, r.date, r.summary, r.url, r.listed_under) for r in corpus.records] == [
        ("Note from the Soviet Embassy on the Recall of the Specialists", "1960-07-16",
         "The embassy informs the Chinese Foreign Ministry that the specialists will leave within a month.",
         f"{DOC}500401", "Sino-Soviet Split"),  # the tag link under the entry is not part of its summary
        ("Conversation between Deng Xiaoping and Yuri Andropov, undated [1963]", None,
         "Deng and Andropov argue over the open letters of the two parties", f"{DOC}500402", "Sino-Soviet Split"),
    ]
    assert corpus.warnings == [] and corpus.errors == []


def test_old_site_results_resolve_links_against_base_href() -> None:
    assert rows("old-search-results.html") == [
        (17, "Cable from Filippov [Stalin] to Mao Zedong on the Armistice Talks", "1951-06-07",
         "Stalin advises Mao to let the Koreans lead the talks.", f"{DOC}500501"),
        (20, "Telegram from Kim Il Sung to Stalin", "1951-06-13",
         "Kim asks for more anti-aircraft guns and pilots before the talks begin", f"{DOC}500502"),
        (23, "Report of the Soviet Ambassador on the Kaesong Negotiations", "1951-08", "", f"{DOC}500503"),
    ]


def test_address_from_the_saved_from_note() -> None:
    assert rows("saved-from-comment.html") == [
        (9, "Soviet Note on the Zhenbao Island Incident", "1969-03-02",
         "The note protests the attack on the border guards.", f"{DOC}500801"),
        (10, "Chinese Statement on the Zhenbao Island Incident", "1969-03", "", f"{DOC}500802"),
    ]


def test_relative_links_on_a_page_without_an_address_give_no_url_and_one_warning() -> None:
    page = PAGES / "relative-links.html"
    assert rows("relative-links.html", warnings=[
        f"{page}:1: 2 record(s) without a URL: the page's links are relative and it does not say its own address "
        "(no <base>, canonical link or og:url)",
    ]) == [
        (5, "Note on the Great Leap Forward", "1958", "Describes the backyard furnaces.", None),
        (6, "Note on the Lushan Plenum", "1959", "", None),
    ]


def test_page_declaring_another_character_set() -> None:
    assert rows("windows-1252.html") == [
        (3, "Reply of the Chinese Ambassador to Imre Horv\u00e1th", "1956-12-04",
         "The ambassador promises grain \u2013 through the Soviet Union \u2013 before the winter.", f"{DOC}500125"),
    ]


def test_new_site_document_page_saved_as_html() -> None:
    (record,) = load_corpus([PAGES / "doc-new-site.html"]).records
    url = f"{DOC}500611"
    assert record == Record(
        id=url, title="Memorandum of Conversation between Mao Zedong and Nikita Khrushchev", date="1959-10-02",
        date_precision="day",
        summary="Mao and Khrushchev quarrel over Taiwan, the border with India and the release of American prisoners.",
        url=url, collection="doc-new-site", source=f"{PAGES / 'doc-new-site.html'}:13",
        full_text="Khrushchev: We have come to congratulate you on the tenth anniversary.\n"
        "Mao Zedong: Thank you. Let us speak frankly about Taiwan and about India.",
        record_type="Memorandum of Conversation", language="Russian", archive="Invented Presidential Archive",
        citation="Invented Presidential Archive, fond 52, opis 1, delo 499.",
        people=("Mao, Zedong, 1893-1976", "Khrushchev, Nikita Sergeevich, 1894-1971"),
        places=("China", "Taiwan", "India"), topics=("Sino-Soviet Split",), archive_id="500611",
    )


def test_old_site_document_page_saved_as_htm() -> None:
    (record,) = load_corpus([PAGES / "doc-old-site.htm"]).records
    url = f"{DOC}500712"
    assert (record.id, record.url, record.archive_id, record.source) == (
        url, url, "500712", f"{PAGES / 'doc-old-site.htm'}:10",
    )
    assert (record.title, record.date, record.summary) == (
        "Speech by Mao Zedong at the Signing of the Treaty of Friendship", "1950-02-14",
        "Mao Zedong praises the treaty as a guarantee of peace in the Far East.",
    )
    assert record.full_text == (
        "Comrades and friends,\nThe treaty signed today binds the two great peoples in friendship."
    )
    assert record.citation.startswith('"Speech by Mao Zedong at the Signing') and record.citation.endswith(url)


def test_nothing_from_scripts_styles_forms_or_navigation_becomes_a_line() -> None:
    page = html_page((PAGES / "new-search-results.html").read_text(encoding="utf-8"))
    text = "\n".join(line.text for line in page.lines)
    for hidden in ("Tracking Script Entry", "dataLayer", "font-size", "Home", "Collections", "Topics", "Search in",
                   "One Woodrow Wilson Plaza", "About the Digital Archive"):
        assert hidden not in text
    assert page.url == "https://digitalarchive.wilsoncenter.org/search?keywords=kovalev&page=2"


@pytest.mark.parametrize("text", ["", "   ", "<html></html>", "<!-- only a comment -->", "<p>", "\x00<a href=x>"])
def test_empty_or_broken_html_reads_as_no_records(tmp_path: Path, text: str) -> None:
    page = tmp_path / "p.html"
    page.write_text(text, encoding="utf-8")
    corpus = load_corpus([page])
    assert corpus.records == []
    assert corpus.errors == [] or "layout not recognised" in corpus.errors[0].message


def test_html_page_of_no_known_layout_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>About us</h1><p>We collect documents.</p></body></html>", encoding="utf-8")
    corpus = load_corpus([page])
    assert [str(e) for e in corpus.errors] == [
        f"{page}:1: layout not recognised: not a listing or document page of the archive that this reader knows "
        "(see corpus/README.md); nothing read"
    ]


@pytest.mark.parametrize("depth", [1000, 5000])
def test_deeply_nested_html_is_read_or_refused_never_cut_silently(tmp_path: Path, depth: int) -> None:
    page = tmp_path / "p.html"
    body = "<div>" * depth + "<p>Results:</p><div>1950</div><h3><a href='https://e.org/document/1'>Deep</a></h3>"
    page.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    corpus = load_corpus([page])
    if depth < 2048:  # libxml2's limit
        assert [(r.title, r.url) for r in corpus.records] == [("Deep", "https://e.org/document/1")]
    else:
        assert corpus.records == []
        assert [str(e) for e in corpus.errors] == [f"{page}:1: page not read: Excessive depth in document: 2048"]
