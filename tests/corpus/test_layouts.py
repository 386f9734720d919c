"""Listing pages saved as text, by layout: each synthetic fixture read entry by entry, field by field.

The fixtures (tests/fixtures/pages, all synthetic) follow the real archive's layouts; see their README.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.corpus import Corpus, load_corpus
from qa.corpus.layouts import recognise
from qa.corpus.lines import text_lines
from qa.records import Record, stable_id

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"

# (line, title, ISO date, precision, summary) per entry; every record also gets url None and its listed_under.
Entry = tuple[int, str, str | None, str | None, str]


def read(name: str) -> Corpus:
    """A fixture read on its own, with no problem and no warning."""
    corpus = load_corpus([PAGES / name])
    assert [str(p) for p in corpus.errors] == []
    assert [str(p) for p in corpus.warnings] == []
    return corpus


def assert_entries(name: str, expected: list[Entry], listed_under: str | None = None) -> None:
    corpus = read(name)
    path = PAGES / name
    assert [(int(r.source.rsplit(":", 1)[1]), r.title, r.date, r.date_precision, r.summary)
            for r in corpus.records] == expected
    for record in corpus.records:
        assert record.source.startswith(f"{path}:")
        assert (record.url, record.listed_under, record.collection) == (None, listed_under, path.stem)
        assert record.id == stable_id(path.stem, record.title, record.date)
        assert_no_details(record)
    assert corpus.per_file == {str(path): len(expected)}


def assert_no_details(record: Record) -> None:
    assert record.full_text == ""
    assert (record.record_type, record.language, record.archive, record.citation) == (None,) * 4
    assert (record.people, record.places, record.topics, record.archive_id) == ((), (), (), None)


def layout_of(name: str) -> str | None:
    layout = recognise(text_lines((PAGES / name).read_text(encoding="utf-8")))
    return layout.name if layout else None


@pytest.mark.parametrize(("name", "layout"), [
    ("new-search-results.txt", "new-site search results"),
    ("new-search-summary-edges.txt", "new-site search results"),
    ("new-topic-page.txt", "new-site topic, person, place or organisation page"),
    ("new-organisation-page.txt", "new-site topic, person, place or organisation page"),
    ("new-person-page.txt", "new-site topic, person, place or organisation page"),
    ("old-search-bullets.txt", "old-site search results"),
    ("old-search-dashes.txt", "old-site search results with separators"),
    ("old-collection-page.txt", "old-site collection page"),
    ("doc-new-site.txt", "new-site document page"),
    ("doc-new-site-compact.txt", "new-site document page"),
    ("doc-old-site.txt", "old-site document page"),
    ("doc-pdf-export.txt", "PDF export"),
    ("doc-old-site-funding.txt", "old-site document page"),
    ("doc-old-site-bare.txt", "old-site document page without its citation"),
    ("doc-prelaunch.txt", "new-site document page"),
    ("doc-pdf-flat.txt", "PDF export flattened into one paragraph"),
    ("prelaunch-topic-page.txt", "new-site topic page without its marks"),
    ("unrecognised-article.txt", None),
    ("unrecognised-titles-only.txt", None),
])
def test_each_fixture_is_recognised_as_its_layout(name: str, layout: str | None) -> None:
    assert layout_of(name) == layout


def test_the_shipped_page_is_new_site_search_results() -> None:
    seed = Path(__file__).resolve().parents[2] / "corpus" / "sino-soviet-relations" / "listing-page-17_docs-161-170.txt"
    assert recognise(text_lines(seed.read_text(encoding="utf-8"))).name == "new-site search results"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ new site


def test_new_site_search_results() -> None:
    assert_entries("new-search-results.txt", [
        (11, "Letter from the Hungarian Legation in Beijing on Agricultural Cooperatives", "1958-03-14", "day",
         "The Hungarian envoy describes visits to three cooperatives near Tianjin and doubts the reported grain "
         "yields."),
        (17, "Record of Conversation between Vice Premier Chen Yi and the Polish Ambassador", "1961-09", "month",
         "Chen Yi and the ambassador review the border talks with India and the Laotian question. The ambassador "
         "asks whether China will attend the Geneva conference."),
        (24, "Note on Soviet Specialists Leaving the Anshan Steel Works", None, None,  # undated: two blank lines above
         "Lists the specialists recalled in the summer, their departments and the projects left unfinished."),
        (28, "Draft Resolution of the Albanian Party of Labor on the Moscow Conference", "1962", "year", ""),
        (32, "Telegram from the Chinese Embassy in Moscow to the Foreign Ministry", "1959-10-03", "day",
         "The embassy reports on Khrushchev's remarks at the airport after his return from the United States."),
        (39, "Memorandum on Fishing Rights in the Yellow Sea", None, None, ""),  # undated and title-only
        (42, "Instructions to the Delegation for the Trade Talks in Ulaanbaatar", None, None,
         "The delegation is to accept the Mongolian price for wool if the railway tariffs are lowered."),
        (46, "Cable from Ambassador Liu Xiao on the Celebrations of the Tenth Anniversary", "1959-10-07", "day",
         "Liu Xiao notes which Soviet leaders attended the reception and what they said about the communes."),
    ])


def test_summaries_and_titles_as_real_pages_have_them() -> None:
    assert_entries("new-search-summary-edges.txt", [
        (9, "Cable from the Romanian Embassy in Beijing, January 21, 1980, 057026, Secret", "1980-01-21", "day",
         "The embassy reports the Chinese reaction to events in Afghanistan and the cancellation of the border "
         "talks"),  # no final full stop
        (15, "Memorandum on the Status of Overseas Chinese in Indonesia.", "1955-02-02", "day",  # title ends in "."
         "Zhou Enlai's instructions on dual nationality are summarised for the embassy staff, who are asked to "
         "report on local reactions."),  # broken over two lines, the second in lower case
        (22, "Report on the Preparations for the Bandung Conference, undated [1955]", "1955", "year",
         "An unsigned report on the delegations expected at Bandung and the seating of the Chinese delegation."),
        (28, "Minutes of the Plenum of the CC of the Czechoslovak Communist Party [Excerpts]", "1963-06", "month",
         "Excerpts on the dispute with the Chinese Communist Party and the open letter of the CPSU"),
        (35, "List of Chinese Students Expelled from Moscow University", None, None,  # after a summary without a stop
         "Names and faculties of the students, with the dates on which they were told to leave."),
        (39, "Speech by Enver Hoxha to the Politburo (excerpt)", "1966-08-12", "day",
         "Hoxha praises the \u201cGreat Proletarian Cultural Revolution\u201d and warns against "
         "\u2018revisionist\u2019 influences in the army."),
        (45, "Conversation between Nicolae Ceau\u0219escu and Zhou Enlai on the Sino-Soviet Border",
         "1971-04-05", "day",
         "Ceau\u0219escu offers Romania\u2019s help as an intermediary; Zhou Enlai says Beijing is \u201cnot opposed "
         "in principle\u201d"),
        (51, "Note by the Bulgarian Embassy in Beijing on the Ussuri Incidents", "1970-05-09", "day",
         "the ambassador's account begins in lower case, as the archive's text does, and names the frontier posts"),
        (57, "Information from the Soviet Foreign Ministry about the Clash on Zhenbao (Damanskii) Island.",
         "1969-03-03", "day", ""),
    ])


def test_topic_page_keeps_its_name_on_each_record() -> None:
    assert_entries("new-topic-page.txt", [
        (13, "Telegram from the Brazilian Embassy in Havana on the Withdrawal of the Missiles", "1962-10-28", "day",
         "The ambassador reports the reaction in Havana to the announcement that the missiles will be withdrawn."),
        (19, "Notes on a Conversation between Anastas Mikoyan and Fidel Castro", "1962-11", "month",
         "Mikoyan explains the Soviet decision and Castro objects to any inspection of Cuban territory"),
        (25, "Letter from Fidel Castro to Nikita Khrushchev", "1962-10-26", "day", ""),
    ], listed_under="Cuban Missile Crisis")


def test_organisation_page_with_a_full_stop_in_its_name() -> None:
    assert_entries("new-organisation-page.txt", [
        (13, "Telegram from Pyongyang to Bucharest, No. 76.219", "1969-06-24", "day",
         "The embassy relays a conversation with the Chinese charg\u00e9 d'affaires about the border incidents."),
        (19, "Telegram from Pyongyang to Bucharest on the Visit of a Chinese Delegation", "1971-03", "month", ""),
    ], listed_under="Romania. Embassy (Korea : North)")


def test_person_page() -> None:
    assert_entries("new-person-page.txt", [
        (13, "Record of a Meeting between Stalin and Kim Il Sung", "1949-03-07", "day",
         "Kim Il Sung asks for economic aid and for advice on the southern partisans."),
        (20, "Kim Il Sung's Notes for a Speech to Party Cadres, undated [1950]", None, None,
         "Handwritten notes on the tasks of the party after liberation."),
    ], listed_under="Kim Il Sung")


# ------------------------------------------------------------------------------------------------ old site


def test_old_site_search_results_with_bullets_and_indentation() -> None:
    assert_entries("old-search-bullets.txt", [
        (8, "Cable from Filippov [Stalin] to Mao Zedong on the Armistice Talks", "1951-06-07", "day",
         "Stalin advises Mao to let the Koreans lead the talks and to hold firm on the 38th parallel."),
        (12, "Telegram from Kim Il Sung to Stalin", "1951-06-13", "day",
         "Kim asks for more anti-aircraft guns and pilots before the talks begin"),
        (17, "Report of the Soviet Ambassador on the Kaesong Negotiations", "1951-08", "month", ""),
        (20, "Letter from Peng Dehuai to Mao Zedong, undated [1951]", None, None,
         "Peng reports on the supply of the front and the losses of the Fifth Offensive."),
        (23, "Conversation between Stalin and Zhou Enlai (excerpt)", "1952", "year",
         "Stalin and Zhou Enlai discuss the prisoners of war, the rubber agreement and the Chinese Changchun Railway."),
    ])


def test_old_site_bullets_without_indentation(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    text = "SEARCH RESULTS\n\u2022 June 07, 1951\nA Title\nIts summary\n\n\u2022 1952\nB Title\n"
    page.write_text(text, encoding="utf-8")
    corpus = load_corpus([page])
    assert [(r.title, r.date, r.summary) for r in corpus.records] == [
        ("A Title", "1951-06-07", "Its summary"), ("B Title", "1952", ""),
    ]


def test_old_site_text_outside_every_entry_is_a_warning(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_text("  \u2022 1951\n    A Title\n    Its summary.\nStray words under the list\n", encoding="utf-8")
    corpus = load_corpus([page])
    assert [(r.title, r.summary) for r in corpus.records] == [("A Title", "Its summary.")]
    assert [str(w) for w in corpus.warnings] == [
        f"{page}:4: line not read: it is outside every entry ('Stray words under the list')"
    ]


def test_old_site_results_separated_by_dashes() -> None:
    assert_entries("old-search-dashes.txt", [
        (3, "Memorandum of Conversation between Stalin and Kim Il Sung", "1950-05-16", "day",
         "Stalin agrees to the plan for reunification on condition that Mao Zedong consents"),
        (7, "Cable from Vyshinsky to Roshchin on Mao Zedong's Consent", "1950-05-14", "day",
         "Roshchin is to tell Mao that Stalin's agreement depends on the Chinese leadership."),
        (11, "Report on Korean Students in the Soviet Union", "1950", "year", ""),
        (14, "Note on the Return of Korean Workers from Manchuria", None, None,
         "Lists the workers by province and the trains arranged for them from Mukden and Harbin."),
    ])


def test_old_site_collection_page() -> None:
    assert_entries("old-collection-page.txt", [
        (4, "Directive of the Supreme Commander to the 25th Army", "1945-09-20", "day",
         "Instructions on the occupation of northern Korea and the treatment of local people's committees."),
        (8, "Report by Colonel-General Shtykov on the Elections in North Korea", "1946-12", "month",
         "Shtykov reports on the turnout and the candidates of the Democratic Front"),
        (12, "Letter from Syngman Rhee to a Friend in Washington, undated [1949]", None, None,
         "Rhee writes of his wish to march north and of the weakness of the army."),
    ], listed_under="Korean War Origins, 1945-1950")


def test_collection_page_whose_first_entry_is_undated(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    text = "A Collection\nIts description (NARA 1))\nUndated Title\nIts summary\n-\n1950\nDated\n"
    page.write_text(text, encoding="utf-8")
    corpus = load_corpus([page])
    assert [(r.title, r.date, r.summary, r.listed_under) for r in corpus.records] == [
        ("Undated Title", None, "Its summary", "A Collection"), ("Dated", "1950", "", "A Collection"),
    ]


def test_dashed_entry_with_a_date_and_no_title_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_text("SEARCH RESULTS\n1950\nA Title\n-\nMay 1951\n-\n", encoding="utf-8")
    corpus = load_corpus([page])
    assert [str(e) for e in corpus.errors] == [f"{page}:5: date 'May 1951' with no title after it"]
    assert [r.title for r in corpus.records] == ["A Title"]


# ------------------------------------------------------------------------------------------------ refused


@pytest.mark.parametrize("name", ["unrecognised-article.txt", "unrecognised-titles-only.txt"])
def test_a_page_of_no_known_layout_is_refused_with_one_problem(name: str) -> None:
    corpus = load_corpus([PAGES / name])
    assert corpus.records == []
    assert [str(e) for e in corpus.errors] == [
        f"{PAGES / name}:1: layout not recognised: not a listing or document page of the archive that this reader "
        "knows (see corpus/README.md); nothing read"
    ]
    assert corpus.warnings == []


def test_every_fixture_together_reads_without_problems_or_furniture() -> None:
    corpus = load_corpus([PAGES], root=PAGES.parent)
    assert {e.source.rsplit(":", 1)[0] for e in corpus.errors} == {
        str(PAGES / "unrecognised-article.txt"), str(PAGES / "unrecognised-titles-only.txt"),
    }
    assert [str(w) for w in corpus.warnings] == [
        f"{PAGES / 'relative-links.html'}:1: 2 record(s) without a URL: the page's links are relative and it does "
        "not say its own address (no <base>, canonical link or og:url)",
    ]
    titles = [r.title.casefold() for r in corpus.records]
    for junk in ("skip to content", "documents", "popular documents", "search results", "-", "cuban missile crisis"):
        assert junk not in titles
    assert all(r.collection == "pages" for r in corpus.records)


def test_undated_entries_told_apart_by_blank_lines_on_a_page_without_dates(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    text = ("Skip to content\n\nDocuments\n\n\nTitle A\n\nSummary A.\n\n\nTitle B\n\nSummary B without a stop\n\n\n"
            "Title C\n")
    page.write_text(text, encoding="utf-8")
    corpus = load_corpus([page])
    assert [(r.title, r.summary, r.source.rsplit(":", 1)[1]) for r in corpus.records] == [
        ("Title A", "Summary A.", "6"), ("Title B", "Summary B without a stop", "11"), ("Title C", "", "16"),
    ]


def test_summary_of_two_paragraphs_the_first_without_a_stop(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_text("1950\n\nA Title\n\nPart one without a stop\n\nPart Two ends here.\n\n1951\n\nB\n",
                    encoding="utf-8")
    corpus = load_corpus([page])
    assert [(r.title, r.summary) for r in corpus.records] == [
        ("A Title", "Part one without a stop Part Two ends here."), ("B", ""),
    ]


def test_prelaunch_topic_page_opening_with_an_image_caption_and_without_its_marks() -> None:
    assert_entries("prelaunch-topic-page.txt", [
        (7, "Letter from Zhou Enlai to Jawaharlal Nehru on the Boundary Question", "1959-09-08", "day",
         "Zhou sets out the Chinese position on the boundary and proposes talks."),
        (13, "Telegram from the Invented Embassy in New Delhi on Indian Public Opinion", "1959-11-07", "day",
         "The embassy reports growing hostility toward China in the Indian press."),
        (19, "Notes on the Border Conflict (excerpt)", "1962", "year",
         "An invented analyst summarises the fighting of October 1962."),
    ], listed_under="Sino-Indian Border Dispute")
