"""Reading the corpus: listing pages, JSON Lines and CSV into records with stable ids, and what goes wrong."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
from pathlib import Path

import pytest

from qa.corpus import Corpus, Problem, corpus_files, load_corpus
from qa.records import Record, stable_id

SEED = Path(__file__).resolve().parents[2] / "corpus" / "sino-soviet-relations" / "listing-page-17_docs-161-170.txt"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def titles(corpus: Corpus) -> list[str]:
    return [r.title for r in corpus.records]


def by_title(corpus: Corpus) -> dict[str, Record]:
    return {r.title: r for r in corpus.records}


def clean(corpus: Corpus) -> Corpus:
    assert corpus.errors == [], messages(corpus.errors)
    assert corpus.warnings == [], messages(corpus.warnings)
    return corpus


# ------------------------------------------------------------------------------------------------ the seed page

# (line of the entry, ISO date, title, first words of the summary, last words of the summary)
SEED_EXPECTED = [
    (7, "1963-07-04", "Transcript of Meeting of the Political Bureau of the CC of Romanian Worker\u2019s Party",
     "The conversation focuses on whether", "tension between the two communist countries."),
    (13, "1977-03-02", "Informational Note from the Conference of Secretaries of Central Committees of Fraternal "
     "Parties in Sofia", "Secretaries CC CPSU Konstantin Katushev", "the new Chinese government may behave."),
    (20, None, "CC CPSU Information on Chinese Foreign Policy Issues",
     "Discusses the joint efforts by Chinese", "but their alliance should also not be ignored."),
    (24, "1949-02-06", "Memorandum of Conversation between Anastas Mikoyan and Mao Zedong",
     "Anastas Mikoyan and Mao Zedong discuss Outer Mongolia,", "February-March, and the youth movement."),
    (30, "1949-04-13", "Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]",
     "Kovalev reports to Filippov (Stalin) about", "the CCP and Guomindang representatives."),
    (36, "1949-05-17", "Ciphered Telegram No.54755 from Kovalev to Filippov [Stalin]",
     "Kovalev relays to Stalin a conversation", "Wang Ming's appraisal of his incorrect activity."),
    (42, "1949-05-23", "Cable, Kovalev to Stalin, Report on the 22 May 1949 CCP CC Politburo Discussion",
     "Kovalev reports to Stalin on the politburo meeting. the discussion", "ambassador John Leighton Stuart."),
    (48, "1949-05-26", "Cable, Stalin to Mao Zedong [via Kovalev]",
     "Stalin gives to Mao (via Kovalev) his, Stalin's, stance", "how best to use PLA forces."),
    (54, "1949-06-27", "Memorandum of Conversation between Stalin and CCP Delegation",
     "Stalin and the CCP delegation discuss the Soviet loan", "the occupation of Xinjiang, and the Chinese fleet."),
    (60, "1949-07-06", "Report, Kovalev to Stalin",
     "Kovalev relays several requests made by Liu Shaoqi,", "receive a Czechoslovak trade delegation."),
]


@pytest.fixture(scope="module")
def seed() -> Corpus:
    return load_corpus([SEED], root=SEED.parent.parent)  # the seed alone, whatever pages are added beside it


def test_seed_page_gives_exactly_ten_records_without_problems(seed: Corpus) -> None:
    clean(seed)
    assert len(seed.records) == 10
    assert seed.per_file == {str(SEED): 10}
    assert seed.date_span == ("1949-02-06", "1977-03-02")


@pytest.mark.parametrize(("index", "expected"), list(enumerate(SEED_EXPECTED)))
def test_seed_record(seed: Corpus, index: int, expected: tuple) -> None:
    line, date, title, first, last = expected
    record = seed.records[index]
    assert record.title == title
    assert record.date == date
    assert record.date_precision == ("day" if date else None)
    assert record.summary.startswith(first)
    assert record.summary.endswith(last)
    assert "\n" not in record.summary and "  " not in record.summary
    assert record.source == f"{SEED}:{line}"
    assert record.collection == "sino-soviet-relations"
    assert record.url is None
    assert record.id == stable_id("sino-soviet-relations", title, date)


def test_seed_full_summaries_with_quotes_brackets_and_parentheses(seed: Corpus) -> None:
    records = by_title(seed)
    assert records["Informational Note from the Conference of Secretaries of Central Committees of Fraternal "
                   "Parties in Sofia"].summary == (
        "Secretaries CC CPSU Konstantin Katushev and B. Ponomarov provide information on the situation in China "
        "that is discussed during a confidential meeting of CC secretaries. Addressed are issues related to the "
        'fact "that Maoism failed ideologically, caused great harm to the Chinese nation, and did an enormous '
        'devastation in the areas of economy, culture, science, and social life," and ways the new Chinese '
        "government may behave."
    )
    assert records["CC CPSU Information on Chinese Foreign Policy Issues"].summary == (
        "Discusses the joint efforts by Chinese and American leaders to promote a better relationship between "
        "these two countries, at the expense of the Soviet Union and of communism. The U.S. seems to be trying "
        "to capitalize on a growing \u201cinternal stability\u201d in China, and the U.S. is even now selling "
        "equipment to China. The Soviet Union does not believe that this alliance will prove powerful enough to "
        "significantly impair other Socialist countries, but their alliance should also not be ignored."
    )
    assert records["Cable, Stalin to Mao Zedong [via Kovalev]"].summary == (
        "Stalin gives to Mao (via Kovalev) his, Stalin's, stance on the economic situation in China, and how the "
        "Chinese are handling it (the creation of an administrative economic center in China). Stalin also "
        "discusses Sino-Soviet relations, and the state of the PLA and how best to use PLA forces."
    )


def test_seed_ids_are_pinned(seed: Corpus) -> None:
    # Ids are part of the index and of citations: they must not change between versions or machines.
    assert seed.records[0].id == "2d72aee7db1bb3a3"
    assert seed.records[2].id == "f16c061981cf476b"
    assert seed.records[9].id == "88795f794b555551"
    assert len({r.id for r in seed.records}) == 10


# ------------------------------------------------------------------------------------------------ listing text

PAGE = """Skip to content


Results:

1 - 4 of 4

Documents

July 4, 1963

First Entry, with Comma [Bracketed] No. 53517

One sentence. Another "quoted" one (with parentheses) [and brackets]; a third? Yes!

September 1944

Second Entry Title Only
1962

Third Entry

Summary of the third.

Fourth Entry Undated

Summary of the fourth, "ending in a quote."
"""


def test_listing_reads_furniture_dates_and_entries(tmp_path: Path) -> None:
    page = write(tmp_path / "c" / "page.txt", PAGE)
    corpus = clean(load_corpus([tmp_path]))
    assert titles(corpus) == [
        "First Entry, with Comma [Bracketed] No. 53517",
        "Second Entry Title Only",
        "Third Entry",
        "Fourth Entry Undated",
    ]
    first, second, third, fourth = corpus.records
    assert (first.date, first.date_precision, first.source) == ("1963-07-04", "day", f"{page}:10")
    assert first.summary == 'One sentence. Another "quoted" one (with parentheses) [and brackets]; a third? Yes!'
    assert (second.date, second.date_precision, second.summary, second.source) == ("1944-09", "month", "", f"{page}:16")
    assert (second.date_start, second.date_end) == (19440901, 19440930)
    assert (third.date, third.date_precision, third.summary) == ("1962", "year", "Summary of the third.")
    assert (third.date_start, third.date_end) == (19620101, 19621231)
    assert (fourth.date, fourth.date_precision, fourth.source) == (None, None, f"{page}:25")
    assert fourth.summary == 'Summary of the fourth, "ending in a quote."'
    assert corpus.per_file == {str(page): 4}
    assert corpus.date_span == ("1944-09", "1963-07-04")


@pytest.mark.parametrize(
    "date_line, iso, precision",
    [
        ("July 4, 1963", "1963-07-04", "day"),
        ("Sept. 9, 1949", "1949-09-09", "day"),
        ("4 July 1963", "1963-07-04", "day"),
        ("September 1944", "1944-09", "month"),
        ("1962", "1962", "year"),
        ("1949-02-06", "1949-02-06", "day"),
        ("1949-02", "1949-02", "month"),
    ],
)
def test_listing_date_formats(tmp_path: Path, date_line: str, iso: str, precision: str) -> None:
    write(tmp_path / "p.txt", f"{date_line}\n\nA Title\n\nA summary.\n")
    (record,) = clean(load_corpus([tmp_path / "p.txt"])).records
    assert (record.title, record.date, record.date_precision) == ("A Title", iso, precision)
    assert record.summary == "A summary."


def test_listing_title_only_entries_followed_directly_by_others(tmp_path: Path) -> None:
    text = "\n".join([
        "May 1, 1950", "Title Only Dated",            # followed directly by a dated entry
        "May 2, 1950", "Title Only Then Undated",     # followed directly by an undated entry
        "Undated Title Only",                         # followed directly by an undated entry with a summary
        "Undated With Summary", "Its summary.",
        "Last Title Only",                            # at the end of the file
    ])
    corpus = clean(load_corpus([write(tmp_path / "p.txt", text)]))
    assert [(r.title, r.date, r.summary) for r in corpus.records] == [
        ("Title Only Dated", "1950-05-01", ""),
        ("Title Only Then Undated", "1950-05-02", ""),
        ("Undated Title Only", None, ""),
        ("Undated With Summary", None, "Its summary."),
        ("Last Title Only", None, ""),
    ]
    assert [r.source.rsplit(":", 1)[1] for r in corpus.records] == ["1", "3", "5", "6", "8"]


def test_listing_summary_over_several_lines_is_joined(tmp_path: Path) -> None:
    text = "1950\nA Title\nFirst paragraph (one).\n\nSecond paragraph \u201cquoted.\u201d\n1951\nNext Title\n"
    corpus = clean(load_corpus([write(tmp_path / "p.txt", text)]))
    assert [(r.title, r.summary) for r in corpus.records] == [
        ("A Title", "First paragraph (one). Second paragraph \u201cquoted.\u201d"),
        ("Next Title", ""),
    ]


def test_listing_long_summary_without_final_stop_is_still_a_summary(tmp_path: Path) -> None:
    summary = "word " * 60 + "and no full stop"
    corpus = clean(load_corpus([write(tmp_path / "p.txt", f"1950\nA Title\n{summary}\n")]))
    assert [(r.title, r.summary) for r in corpus.records] == [("A Title", " ".join(summary.split()))]


def test_listing_summary_ending_in_ellipsis_or_bracket(tmp_path: Path) -> None:
    text = "1950\nA\nCut short\u2026\n1951\nB\nEnds in a bracket [sic.]\n1952\nC\n(Ends in a parenthesis.)\n"
    corpus = clean(load_corpus([write(tmp_path / "p.txt", text)]))
    assert [(r.title, r.summary) for r in corpus.records] == [
        ("A", "Cut short\u2026"), ("B", "Ends in a bracket [sic.]"), ("C", "(Ends in a parenthesis.)"),
    ]


@pytest.mark.parametrize(
    "furniture",
    ["Skip to content", "Skip to main content", "Results:", "Results: 173", "Results: 161 - 170 of 173",
     "161 - 170 of 173", "161-170 of 173", "161 \u2013 170 of 173", "Documents", "DOCUMENTS"],
)
def test_listing_furniture_is_skipped(tmp_path: Path, furniture: str) -> None:
    corpus = clean(load_corpus([write(tmp_path / "p.txt", f"{furniture}\n\n1950\nA Title\nA summary.\n")]))
    assert [(r.title, r.date, r.summary) for r in corpus.records] == [("A Title", "1950", "A summary.")]


def test_listing_folds_whitespace_and_reads_crlf_cr_and_bom(tmp_path: Path) -> None:
    lf = "Skip to content\n\nJuly 4, 1963\n\n  A   Title\twith tabs \n\nA  summary\u00a0here.\n\n1964\nB\n"
    plain = clean(load_corpus([write(tmp_path / "lf.txt", lf)]))
    for name, text in [("crlf.txt", lf.replace("\n", "\r\n")), ("cr.txt", lf.replace("\n", "\r"))]:
        other = clean(load_corpus([write(tmp_path / name, "\ufeff" + text)]))
        assert [(r.title, r.date, r.summary, r.source.rsplit(":", 1)[1]) for r in other.records] == [
            (r.title, r.date, r.summary, r.source.rsplit(":", 1)[1]) for r in plain.records
        ]
    assert [(r.title, r.summary, r.source.rsplit(":", 1)[1]) for r in plain.records] == [
        ("A Title with tabs", "A summary here.", "3"),
        ("B", "", "9"),
    ]


def test_listing_bad_date_is_an_error_on_its_line_and_the_rest_is_read(tmp_path: Path) -> None:
    text = "1950\nGood One\nFine.\n\nFebruary 30, 1949\nBad Day\nIts summary.\n1951\nGood Two\n"
    page = write(tmp_path / "p.txt", text)
    corpus = load_corpus([page])
    assert messages(corpus.errors) == [f"{page}:5: bad date: 'February 30, 1949' is not a real day"]
    assert titles(corpus) == ["Good One", "Good Two"]


@pytest.mark.parametrize("date_line", ["1962-1963", "circa 1962", "1960s", "1949-13", "1963-7-4"])
def test_listing_date_we_cannot_read_is_an_error_not_a_title(tmp_path: Path, date_line: str) -> None:
    page = write(tmp_path / "p.txt", f"1950\nGood One\n{date_line}\nOdd One\nIts summary.\n")
    corpus = load_corpus([page])
    assert [str(e).split(": ")[0] for e in corpus.errors] == [f"{page}:3"]
    assert "bad date" in corpus.errors[0].message
    assert titles(corpus) == ["Good One"]


def test_listing_date_without_title(tmp_path: Path) -> None:
    page = write(tmp_path / "p.txt", "1950\n1951\nA Title\nJuly 4, 1963\n")
    corpus = load_corpus([page])
    assert messages(corpus.errors) == [
        f"{page}:1: date '1950' with no title after it",
        f"{page}:4: date 'July 4, 1963' with no title after it",
    ]
    assert [(r.title, r.date) for r in corpus.records] == [("A Title", "1951")]


def test_listing_saved_as_html_is_an_error(tmp_path: Path) -> None:
    page = write(tmp_path / "p.txt", "<!DOCTYPE html>\n<html><body><p>July 4, 1963</p></body></html>\n")
    corpus = load_corpus([page])
    assert [str(e).split(": ")[0] for e in corpus.errors] == [f"{page}:1"]
    assert "HTML" in corpus.errors[0].message
    assert corpus.records == []


def test_empty_or_furniture_only_file_is_a_warning(tmp_path: Path) -> None:
    empty = write(tmp_path / "c" / "empty.txt", "")
    bare = write(tmp_path / "c" / "bare.txt", "Skip to content\nDocuments\n")
    corpus = load_corpus([tmp_path])
    assert corpus.errors == []
    assert messages(corpus.warnings) == [f"{bare}: no records in this file", f"{empty}: no records in this file"]
    assert corpus.per_file == {str(bare): 0, str(empty): 0}
    assert corpus.date_span is None


# ------------------------------------------------------------------------------------------------ JSON Lines


def jsonl(*rows: object) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def test_jsonl_reads_every_field(tmp_path: Path) -> None:
    path = write(tmp_path / "exp" / "export.jsonl", jsonl(
        {"id": "doc-1", "title": "Full", "date": "1949-02-06", "summary": "S.", "url": "https://e.org/1",
         "collection": "other"},
        {"title": "Minimal"},
        "",
        {"title": "Archive Style Date", "date": "July 4, 1963", "summary": "Line one\nline two."},
        {"Title": "Year As Number", " DATE": 1962, "id": 17, "summary": None, "url": ""},
    ))
    corpus = clean(load_corpus([tmp_path]))
    full, minimal, archive, number = corpus.records
    assert full == Record(
        id="doc-1", title="Full", date="1949-02-06", date_precision="day", summary="S.", url="https://e.org/1",
        collection="other", source=f"{path}:1",
    )
    assert (minimal.date, minimal.summary, minimal.url, minimal.collection) == (None, "", None, "exp")
    assert minimal.id == stable_id("exp", "Minimal", None)
    assert (archive.date, archive.summary, archive.source) == ("1963-07-04", "Line one line two.", f"{path}:4")
    assert (number.id, number.date, number.date_precision) == ("17", "1962", "year")
    assert (number.summary, number.url) == ("", None)


def test_jsonl_line_separator_inside_a_string_does_not_split_the_line(tmp_path: Path) -> None:
    row = '{"title": "A\u2028B", "summary": "x\u2029y\u0085z."}\n{"title": "Second"}\n'
    path = write(tmp_path / "e.jsonl", row)
    corpus = clean(load_corpus([path]))
    assert [(r.title, r.summary, r.source) for r in corpus.records] == [
        ("A B", "x y z.", f"{path}:1"), ("Second", "", f"{path}:2"),
    ]


def test_jsonl_rows_read_the_same_however_they_are_written(tmp_path: Path) -> None:
    """A row of plain texts is read on a quick path; rows the field-by-field reading
    takes (names in other case, a number, the line padded) give the same record."""
    row = {"title": " A  Title ", "date": "1950", "summary": "S.\u00a0x", "people": ["X", " Y ", ""],
           "full_text": "p1 \n\n p2", "date_precision": "year", "source": "elsewhere", "archive_id": "7"}
    lines = [
        json.dumps(row),
        "  " + json.dumps(row) + " \t",
        json.dumps({key.upper() + " ": value for key, value in row.items()}),
        json.dumps({**row, "people": "X; Y ;", "archive_id": 7}),
    ]
    for i, line in enumerate(lines):  # each in a collection of its own, not to be read as one document
        write(tmp_path / f"c{i}" / "e.jsonl", line + "\n")
    records = clean(load_corpus([tmp_path])).records
    assert [r.collection for r in records] == ["c0", "c1", "c2", "c3"]
    fields = [{k: v for k, v in r.to_dict().items() if k not in ("source", "id", "collection")} for r in records]
    read = {"title": "A Title", "summary": "S. x", "people": ["X", "Y"], "full_text": "p1\np2"}
    assert fields[0] == {**fields[0], **read}
    assert fields[1:] == [fields[0]] * 3


def test_lines_split_at_each_line_break_as_editors_count_them() -> None:
    """split_lines replaces a regular expression: it splits as `\\r\\n|\\r|\\n` does."""
    import re

    from qa.corpus.lines import split_lines

    breaks = re.compile(r"\r\n|\r|\n")
    assert split_lines("a\r\r\nb\n\rc\r") == ["a", "", "b", "", "c", ""]
    assert split_lines("x\u2028y\x0bz\x85") == ["x\u2028y\x0bz\x85"]  # other breaks stay inside a line
    rng = random.Random(16)
    for _ in range(3000):
        text = "".join(rng.choice(["\r", "\n", "\r\n", "a", " ", "\u2028"]) for _ in range(rng.randrange(12)))
        assert split_lines(text) == breaks.split(text), repr(text)


def test_jsonl_of_exported_records_reads_back_the_same(tmp_path: Path, seed: Corpus) -> None:
    path = write(tmp_path / "sino-soviet-relations.jsonl", jsonl(*(r.to_dict() for r in seed.records)))
    again = clean(load_corpus([path]))
    assert [(r.id, r.title, r.date, r.date_precision, r.summary, r.collection) for r in again.records] == [
        (r.id, r.title, r.date, r.date_precision, r.summary, r.collection) for r in seed.records
    ]


def test_jsonl_unknown_fields_are_ignored_with_one_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", jsonl({"title": "A", "tags": ["x"]}, {"title": "B", "tags": [], "lang": "ru"}))
    corpus = load_corpus([path])
    assert corpus.errors == []
    assert messages(corpus.warnings) == [
        f"{path}:1: field(s) 'tags' ignored (fields are id, title, date, summary, url, collection)",
        f"{path}:2: field(s) 'lang' ignored (fields are id, title, date, summary, url, collection)",
    ]
    assert titles(corpus) == ["A", "B"]


def test_jsonl_problems_name_their_line_and_the_rest_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", jsonl(
        {"title": "Good"},
        '{"title": "Broken", ',
        {"summary": "No title here."},
        {"title": "   ", "date": "1950"},
        {"title": "Bad Date", "date": "February 30, 1949"},
        {"title": "Odd Date", "date": "sometime"},
        '["not", "an", "object"]',
        {"title": ["not", "text"]},
        {"title": "Bool", "date": True},
        {"title": "Good Too"},
    ))
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [
        f"{path}:2: not valid JSON at column 21: Expecting property name enclosed in double quotes",
        f"{path}:3: record has no title",
        f"{path}:4: record has no title",
        f"{path}:5: bad date: 'February 30, 1949' is not a real day",
        f"{path}:6: bad date 'sometime' (use e.g. July 4, 1963; September 1944; 1962; or ISO YYYY-MM-DD)",
        f"{path}:7: each line must be a JSON object ({{...}})",
        f"{path}:8: field 'title' must be text, not [\"not\", \"text\"]",
        f"{path}:9: field 'date' must be text, not true",
    ]
    assert titles(corpus) == ["Good", "Good Too"]
    assert corpus.per_file == {str(path): 2}


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_reads_quoted_commas_multiline_fields_and_any_column_order(tmp_path: Path) -> None:
    text = (
        "Summary, TITLE ,date,url\r\n"
        '"Kovalev reports (to Stalin), in ""quotes"".","Cable, Kovalev to Stalin [No. 5]",1949-05-23,\r\n'
        '"First line,\r\nsecond line.\r\n\r\nthird line.","Multiline",May 1949,https://e.org/2\r\n'
        "\r\n"
        ",Title Only,,\r\n"
    )
    path = write(tmp_path / "c" / "export.csv", "\ufeff" + text)
    corpus = clean(load_corpus([tmp_path]))
    assert [(r.title, r.date, r.summary, r.url, r.source) for r in corpus.records] == [
        ("Cable, Kovalev to Stalin [No. 5]", "1949-05-23", 'Kovalev reports (to Stalin), in "quotes".', None,
         f"{path}:2"),
        ("Multiline", "1949-05", "First line, second line. third line.", "https://e.org/2", f"{path}:3"),
        ("Title Only", None, "", None, f"{path}:8"),
    ]
    assert corpus.records[1].id == "https://e.org/2"
    assert corpus.records[0].collection == "c"


def test_csv_collection_and_id_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "c" / "e.csv", "id,title,collection\nA-1,First,\n,Second,elsewhere\n")
    corpus = clean(load_corpus([tmp_path]))
    assert [(r.id, r.collection) for r in corpus.records] == [
        ("A-1", "c"), (stable_id("elsewhere", "Second", None), "elsewhere"),
    ]
    assert corpus.per_file == {str(path): 2}


def test_csv_problems_name_the_line_each_row_starts_on(tmp_path: Path) -> None:
    text = (
        "title,date,summary,notes\n"        # 1 (notes: unknown, ignored)
        'Good,1950,"two\nlines"\n'           # 2-3
        '"Bad"quote,1950,x\n'                # 4
        "\n"                                 # 5
        "Too,many,values,here,extra\n"       # 6
        ",1950,no title\n"                   # 7
        "Bad Date,February 30 1949,\n"       # 8
        "Good Too,,\n"                       # 9
    )
    path = write(tmp_path / "e.csv", text)
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [
        f"{path}:4: CSV error: ',' expected after '\"'",
        f"{path}:6: more values than header columns (quote values that contain commas)",
        f"{path}:7: record has no title",
        f"{path}:8: bad date: 'February 30 1949' is not a real day",
    ]
    assert messages(corpus.warnings) == [
        f"{path}:2: field(s) 'notes' ignored (fields are id, title, date, summary, url, collection)"
    ]
    assert [(r.title, r.source) for r in corpus.records] == [("Good", f"{path}:2"), ("Good Too", f"{path}:9")]


def test_csv_unterminated_quote_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", 'title,summary\nGood,ok\nBad,"never closed\nmore text\n')
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [f"{path}:3: CSV error: unexpected end of data"]
    assert titles(corpus) == ["Good"]


@pytest.mark.parametrize("text", ["", "name;summary\nA;b\n", "summary,date\nx,1950\n"])
def test_csv_without_title_column_is_an_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "e.csv", text)
    corpus = load_corpus([path])
    assert [str(e).split(": ")[0] for e in corpus.errors] == [f"{path}:1"]
    assert "'title' column" in corpus.errors[0].message
    assert corpus.records == []


# ------------------------------------------------------------------------------------------------ ids


def make_pages(root: Path) -> None:
    write(root / "coll" / "page-1.txt", "May 1, 1950\nShared Title\nShared summary.\n\n1951\nOnly On Page One\n")
    write(root / "coll" / "page-2.txt", "1952\nOnly On Page Two\nText.\nMay 1, 1950\nShared Title\nShared summary.\n")
    row = {"title": "Shared Title", "date": "1950-05-01", "summary": "Shared summary."}
    write(root / "other" / "e.jsonl", jsonl(row))


def ids_by_title(corpus: Corpus) -> dict[tuple[str, str], str]:
    return {(r.collection, r.title): r.id for r in corpus.records}


def test_ids_are_the_same_across_loads_file_orders_and_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_pages(tmp_path / "a")
    first = ids_by_title(load_corpus([tmp_path / "a"]))
    assert ids_by_title(load_corpus([tmp_path / "a"])) == first
    assert first[("coll", "Shared Title")] == stable_id("coll", "Shared Title", "1950-05-01")
    reverse = [tmp_path / "a" / "other", tmp_path / "a" / "coll" / "page-2.txt", tmp_path / "a" / "coll" / "page-1.txt"]
    assert ids_by_title(load_corpus(reverse, root=tmp_path / "a")) == first
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "b")  # another machine, another folder
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert ids_by_title(load_corpus([Path("b")])) == first
    assert len(set(first.values())) == len(first) == 4


def test_explicit_id_then_url_then_hash(tmp_path: Path) -> None:
    write(tmp_path / "e.jsonl", jsonl(
        {"id": "wilson-112345", "url": "https://e.org/112345", "title": "Both"},
        {"url": "https://e.org/2", "title": "Url Only"},
        {"title": "Neither", "date": "1950"},
    ))
    records = clean(load_corpus([tmp_path])).records
    assert [r.id for r in records] == ["wilson-112345", "https://e.org/2", stable_id("e", "Neither", "1950")]
    assert records[0].url == "https://e.org/112345"


def test_overlapping_pages_read_a_document_once_with_a_warning(tmp_path: Path) -> None:
    make_pages(tmp_path)
    corpus = load_corpus([tmp_path])
    page1, page2 = tmp_path / "coll" / "page-1.txt", tmp_path / "coll" / "page-2.txt"
    assert corpus.errors == []
    assert messages(corpus.warnings) == [f"{page2}:4: same document as {page1}:1 (listed twice): read once"]
    assert [(r.collection, r.title) for r in corpus.records] == [
        ("coll", "Shared Title"), ("coll", "Only On Page One"), ("coll", "Only On Page Two"), ("other", "Shared Title"),
    ]
    assert corpus.per_file == {str(page1): 2, str(page2): 1, str(tmp_path / "other" / "e.jsonl"): 1}


def test_duplicate_listing_keeps_the_one_with_a_summary(tmp_path: Path) -> None:
    short = write(tmp_path / "c" / "a.txt", "1950\nThe Title\n1951\nOther\n")
    full = write(tmp_path / "c" / "b.txt", "1950\nTHE  title\nThe summary.\n")
    corpus = load_corpus([tmp_path])
    assert messages(corpus.warnings) == [f"{short}:1: same document as {full}:1 (listed twice): read once"]
    (record,) = [r for r in corpus.records if r.date == "1950"]
    assert (record.summary, record.source) == ("The summary.", f"{full}:1")
    assert record.id == stable_id("c", "The Title", "1950")


def test_different_documents_with_the_same_title_and_date_get_different_ids(tmp_path: Path) -> None:
    a = write(tmp_path / "c" / "a.txt", "1950\nMemorandum of Conversation\nMao and Stalin meet.\n")
    b = write(tmp_path / "c" / "b.txt", "1950\nMemorandum of Conversation\nZhou and Molotov meet.\n")
    corpus = load_corpus([tmp_path])
    assert corpus.errors == []
    assert messages(corpus.warnings) == [
        f"{b}:1: same title and date as {a}:1 but a different summary: read as a different document"
    ]
    ids = {r.summary: r.id for r in corpus.records}
    assert len(corpus.records) == 2 and len(set(ids.values())) == 2
    swapped = load_corpus([b, a], root=tmp_path)
    assert {r.summary: r.id for r in swapped.records} == ids


def test_same_title_and_date_in_different_collections_are_different_documents(tmp_path: Path) -> None:
    write(tmp_path / "one" / "p.txt", "1950\nReport\nSame words.\n")
    write(tmp_path / "two" / "p.txt", "1950\nReport\nSame words.\n")
    corpus = clean(load_corpus([tmp_path]))
    assert len({r.id for r in corpus.records}) == 2


def test_explicit_id_listed_twice(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", jsonl({"id": "X1", "title": "Report", "summary": "S."}))
    b = write(tmp_path / "b.csv", "id,title,summary\nX1,report,\nX1,Another Document,Other.\n")
    corpus = load_corpus([tmp_path])
    assert messages(corpus.warnings) == [f"{b}:2: same document as {a}:1 (listed twice): read once"]
    assert messages(corpus.errors) == [f"{b}:3: id 'X1' is already used by a different record at {a}:1"]
    assert [(r.id, r.title) for r in corpus.records] == [("X1", "Report")]


def test_a_page_and_an_export_of_it_read_each_document_once(tmp_path: Path) -> None:
    """The export's ids are the page's hashes: records that share an id are told apart as given or hashed
    (settle_ids looks only at the ids that records share)."""
    page = write(tmp_path / "c" / "p.txt", "1950\nReport\nThe summary.\n1951\nOther\n")
    exported = [r.to_dict() for r in clean(load_corpus([tmp_path])).records]
    export = write(tmp_path / "c" / "q.jsonl", jsonl(*exported, {"id": exported[1]["id"], "title": "Not Other"}))
    corpus = load_corpus([tmp_path])
    assert messages(corpus.warnings) == [f"{export}:1: same document as {page}:1 (listed twice): read once",
                                         f"{export}:2: same document as {page}:4 (listed twice): read once"]
    assert [(r.id, r.title, r.source) for r in corpus.records] == [
        (exported[0]["id"], "Report", f"{page}:1"), (exported[1]["id"], "Other", f"{page}:4"),
        (exported[1]["id"], "Not Other", f"{export}:3"),  # a given id, not the hash of its title: its own group
    ]


def test_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    page = write(tmp_path / "c" / "p.txt", "1950\nA\n")
    corpus = clean(load_corpus([tmp_path, page, Path(os.path.relpath(page))]))
    assert titles(corpus) == ["A"]


# ------------------------------------------------------------------------------------------------ collections


def test_collection_is_the_folder_below_the_root_else_the_file_name(tmp_path: Path) -> None:
    write(tmp_path / "sino" / "deep" / "p.txt", "1950\nDeep\n")
    write(tmp_path / "sino" / "p.txt", "1950\nShallow\n")
    write(tmp_path / "top-level.txt", "1950\nTop\n")
    write(tmp_path / "sino" / "override.jsonl", jsonl({"title": "Override", "collection": "  cold   war "}))
    corpus = clean(load_corpus([tmp_path]))
    assert {r.title: r.collection for r in corpus.records} == {
        "Deep": "sino", "Shallow": "sino", "Top": "top-level", "Override": "cold war",
    }


def test_collection_of_a_file_named_alone_uses_root_when_given(tmp_path: Path) -> None:
    page = write(tmp_path / "sino" / "p.txt", "1950\nA\n")
    assert load_corpus([page]).records[0].collection == "p"
    assert load_corpus([page], root=tmp_path).records[0].collection == "sino"
    assert load_corpus([page], root=str(tmp_path)).records[0].id == stable_id("sino", "A", "1950")


def test_folder_search_skips_hidden_and_readme_files_and_warns_about_other_formats(tmp_path: Path) -> None:
    write(tmp_path / "c" / "p.txt", "1950\nA\n")
    write(tmp_path / "c" / ".hidden.txt", "1950\nHidden\n")
    write(tmp_path / ".git" / "x.txt", "1950\nGit\n")
    write(tmp_path / "README.txt", "Read me\n")
    write(tmp_path / "README.md", "# Read me\n")
    pdf = write(tmp_path / "c" / "page.pdf", "%PDF-1.4")
    corpus = load_corpus([tmp_path])
    assert titles(corpus) == ["A"]
    assert corpus.errors == []
    assert messages(corpus.warnings) == [
        f"{pdf}: not read: unknown format '.pdf' (use .txt, .html, .htm, .jsonl, .csv)"
    ]


# ------------------------------------------------------------------------------------------------ unreadable files


def test_broken_link_in_a_folder_and_named_alone(tmp_path: Path) -> None:
    write(tmp_path / "c" / "good.txt", "1950\nGood\n")
    broken = tmp_path / "c" / "gone.txt"
    broken.symlink_to(tmp_path / "nowhere.txt")
    for paths in ([tmp_path], [broken, tmp_path / "c" / "good.txt"]):
        corpus = load_corpus(paths)
        assert messages(corpus.errors) == [f"{broken}: cannot read file: broken link to {tmp_path / 'nowhere.txt'}"]
        assert titles(corpus) == ["Good"]


def test_link_loop_fifo_and_socket_are_errors_not_hangs(tmp_path: Path) -> None:
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        corpus = load_corpus([tmp_path])
    assert messages(corpus.errors) == [
        f"{fifo}: cannot read file: not a regular file",
        f"{loop}: cannot read file (Too many levels of symbolic links)",
        f"{sock_path}: cannot read file: not a regular file",
    ]
    assert corpus.records == []
    assert corpus_files([tmp_path]) == ([], corpus.errors)


def test_folder_named_like_a_file_is_searched_as_a_folder(tmp_path: Path) -> None:
    write(tmp_path / "x.txt" / "inside.jsonl", jsonl({"title": "Inside"}))
    corpus = clean(load_corpus([tmp_path / "x.txt"]))
    assert titles(corpus) == ["Inside"]


def test_file_that_fails_to_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root, chmod 000 does not stop reading; make the read itself fail as it does for other users.
    bad = write(tmp_path / "c" / "locked.txt", "1950\nLocked\n")
    write(tmp_path / "c" / "open.txt", "1950\nOpen\n")
    real = Path.open

    def open_(self: Path, *args, **kwargs):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    corpus = load_corpus([tmp_path])
    assert messages(corpus.errors) == [f"{bad}: cannot read file (Permission denied)"]
    assert titles(corpus) == ["Open"]
    assert corpus.per_file == {str(tmp_path / "c" / "open.txt"): 1}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(tmp_path: Path) -> None:
    bad = write(tmp_path / "locked.txt", "1950\nLocked\n")
    bad.chmod(0)
    try:
        assert messages(load_corpus([bad]).errors) == [f"{bad}: cannot read file (Permission denied)"]
    finally:
        bad.chmod(0o644)


def test_missing_path_and_unknown_format_named_explicitly(tmp_path: Path) -> None:
    doc = write(tmp_path / "notes.docx", b"PK\x03\x04")
    missing = tmp_path / "missing.txt"
    corpus = load_corpus([doc, missing])
    assert messages(corpus.errors) == [  # in the order they were named
        f"{doc}: unknown format '.docx' (use .txt, .html, .htm, .jsonl, .csv)",
        f"{missing}: no such file or folder",
    ]
    assert corpus.records == [] and corpus.per_file == {}


@pytest.mark.parametrize("name", ["p.txt", "p.jsonl", "p.csv"])
def test_non_utf8_byte_is_reported_on_its_line(tmp_path: Path, name: str) -> None:
    lines = {"p.txt": [b"1950", b"Title", b"Caf\xe9 summary."],
             "p.jsonl": [b'{"title": "A"}', b"", b'{"title": "Caf\xe9"}'],
             "p.csv": [b"title,summary", b'A,"two', b'lines \xe9."']}[name]
    path = write(tmp_path / name, b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    write(tmp_path / "ok.txt", "1950\nFine\n")
    corpus = load_corpus([tmp_path])
    assert messages(corpus.errors) == [f"{path}:3: byte 0xe9 is not UTF-8 (save the file as UTF-8); file not read"]
    assert titles(corpus) == ["Fine"]
    assert str(path) not in corpus.per_file


def test_many_non_utf8_lines_are_summed_up(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.txt", "\n".join(f"Entr\u00e9e {i}." for i in range(1, 9)).encode("latin-1"))
    corpus = load_corpus([path])
    assert [e.source for e in corpus.errors] == [f"{path}:{n}" for n in (1, 2, 3, 4, 5, 6)]
    assert corpus.errors[-1].message == "and 3 more lines like it"


def test_bad_input_never_raises(tmp_path: Path) -> None:
    rng = random.Random(1949)
    alphabet = ['"', ",", "{", "}", "\n", "\r", "\u2028", "1962", "July 4, 1963", "title", "[", "x", " ", ":", "\x00"]
    for i in range(300):
        ext = (".txt", ".jsonl", ".csv")[i % 3]
        if i % 5 == 0:
            content: str | bytes = bytes(rng.randrange(256) for _ in range(rng.randrange(60)))
        else:
            content = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
            if ext == ".csv" and i % 2:
                content = "title,date,summary\n" + content
        write(tmp_path / f"f{i}{ext}", content)
    corpus = load_corpus([tmp_path])
    assert isinstance(corpus, Corpus)
    assert all(r.title for r in corpus.records)


def test_corpus_files_lists_readable_files_sorted(tmp_path: Path) -> None:
    b = write(tmp_path / "b" / "p.txt", "x")
    a = write(tmp_path / "a" / "z.csv", "title\nx\n")
    a2 = write(tmp_path / "a" / "sub" / "p.jsonl", "{}")
    files, problems = corpus_files([tmp_path])
    assert files == [a2, a, b] and problems == []
