"""Hostile corpus input: a result or one clear `file:line` problem, never a traceback, in linear time."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from fuzz_helpers import assert_linear, hang_guard

import qa.corpus.reader
from qa.corpus import load_corpus
from qa.corpus.furniture import is_furniture
from qa.corpus.raw import MAX_EXPORT_BYTES, MAX_FIELD, MAX_FULL_TEXT, MAX_PAGE_BYTES, MAX_SUMMARY, MAX_TITLE


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def messages(problems: list) -> list[str]:
    return [str(p) for p in problems]


def printable(corpus: qa.corpus.Corpus) -> None:
    """Everything `corpus check` and `index` write can be written as UTF-8."""
    for problem in corpus.errors + corpus.warnings:
        str(problem).encode("utf-8")
    for record in corpus.records:
        json.dumps(record.to_dict(), ensure_ascii=False).encode("utf-8")


def test_json_nested_too_deeply_is_a_problem_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", "[" * 100_000 + "]" * 100_000 + "\n" + '{"title": "Fine"}\n')
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [f"{path}:1: not read: JSON nested too deeply"]
    assert [r.title for r in corpus.records] == ["Fine"]


def test_integer_of_thousands_of_digits_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", '{"title": "A", "id": ' + "9" * 5000 + "}\n")
    corpus = load_corpus([path])
    assert [e.source for e in corpus.errors] == [f"{path}:1"]
    assert corpus.errors[0].message.startswith("not valid JSON: Exceeds the limit (4300 digits)")


@pytest.mark.parametrize("field", ["title", "summary", "url", "people"])
def test_lone_surrogate_in_a_field_is_a_problem_not_a_crash_later(tmp_path: Path, field: str) -> None:
    value = '["a", "b\\ud800"]' if field == "people" else '"bad \\ud800 text"'
    path = write(tmp_path / "e.jsonl", f'{{"title": "T", "{field}": {value}}}\n{{"title": "Fine"}}\n')
    corpus = load_corpus([path])
    assert [e.source for e in corpus.errors] == [f"{path}:1"]
    assert "half of a character pair" in corpus.errors[0].message
    assert [r.title for r in corpus.records] == ["Fine"]
    printable(corpus)


def test_file_names_with_undecodable_bytes_and_newlines(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path / "c")
    os.makedirs(folder)
    with open(folder + b"/caf\xe9.txt", "wb") as f:
        f.write(b"1950\nA Title\n")
    with open(folder + b"/two\nlines.txt", "wb") as f:
        f.write(b"1950\nB Title\n1951\n")
    corpus = load_corpus([tmp_path])
    assert [(r.title, r.source) for r in corpus.records] == [
        ("A Title", f"{tmp_path}/c/caf\\xe9.txt:1"), ("B Title", f"{tmp_path}/c/two\\nlines.txt:1"),
    ]
    assert messages(corpus.errors) == [f"{tmp_path}/c/two\\nlines.txt:3: date '1951' with no title after it"]
    printable(corpus)
    alone = load_corpus([os.fsdecode(folder + b"/caf\xe9.txt")])
    assert alone.records[0].collection == "caf\\xe9"
    printable(alone)


def test_long_line_starting_like_furniture_is_checked_in_linear_time(tmp_path: Path) -> None:
    line = "Results " + "1 - " * 12_500
    assert not is_furniture(line)
    path = write(tmp_path / "p.txt", f"Skip to content\n1950\nA Title\n{line}\n")
    with hang_guard(10):  # 64 s before; milliseconds now (a hang detector, not a timing)
        corpus = load_corpus([path])
    assert [r.title for r in corpus.records] == ["A Title"]  # the long line is prose: the summary
    assert corpus.records[0].summary == line.strip()


def _same_title_and_date(tmp_path: Path, n: int) -> Path:
    rows = "".join(json.dumps({"title": "Memorandum of Conversation", "date": "1950", "summary": f"Talk {i}."}) + "\n"
                   for i in range(n))
    return write(tmp_path / f"e{n}.jsonl", rows)


def test_records_sharing_title_and_date_are_settled_in_linear_work(tmp_path: Path) -> None:
    """20,000 such records took 17.5 s (10,000: 3.6 s): the work is now counted, and grows as the records do."""
    assert_linear(lambda n: (lambda: load_corpus([_same_title_and_date(tmp_path, n)])), 300)
    with hang_guard(60):
        corpus = load_corpus([_same_title_and_date(tmp_path, 20_000)])
    assert len(corpus.records) == len({r.id for r in corpus.records}) == 20_000


@pytest.mark.parametrize("line", ["0000", "0000-05", "0000-05-01", "May 0000"])
def test_year_zero_is_a_bad_date(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "p.txt", f"{line}\nA Title\n")
    corpus = load_corpus([path])
    assert corpus.records == []
    assert [e.source for e in corpus.errors] == [f"{path}:1"]
    assert "bad date" in corpus.errors[0].message


def test_a_long_number_alone_on_a_line_is_a_bad_date_not_a_title(tmp_path: Path) -> None:
    path = write(tmp_path / "p.txt", "1950\nA Title\n99999\nOdd Entry\n")
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [
        f"{path}:3: bad date '99999' (use e.g. July 4, 1963; September 1944; 1962; or ISO YYYY-MM-DD)"
    ]
    assert [r.title for r in corpus.records] == ["A Title"]


def test_linked_collection_folder_is_followed_once_with_loop_protection(tmp_path: Path) -> None:
    data = tmp_path / "data" / "coll"
    write(data / "p.txt", "1950\nLinked Title\n")
    (data / "sub").mkdir()
    (data / "sub" / "loop").symlink_to(data)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "coll").symlink_to(data)
    corpus = load_corpus([tmp_path / "corpus"])
    assert [(r.title, r.collection, r.source) for r in corpus.records] == [
        ("Linked Title", "coll", f"{tmp_path}/corpus/coll/p.txt:1")
    ]
    assert messages(corpus.warnings) == [
        f"{tmp_path}/corpus/coll/sub/loop: not read again: this linked folder was already read (a link loop or a "
        "second link)"
    ]
    assert corpus.errors == []


def test_record_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    rows = [{"title": "x" * (MAX_TITLE + 1)}, {"title": "Long", "summary": "y" * (MAX_SUMMARY + 1)}, {"title": "Fine"}]
    path = write(tmp_path / "e.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [
        f"{path}:1: record refused: its title is 2,001 characters long (the limit is 2,000)",
        f"{path}:2: record refused: its summary is 100,001 characters long (the limit is 100,000)",
    ]
    assert [r.title for r in corpus.records] == ["Fine"]


def test_any_failure_inside_a_reader_is_a_problem_on_the_line_reached(tmp_path: Path, monkeypatch) -> None:
    def broken(text, sink):
        yield qa.corpus.reader.Raw(title="First", line=1)
        raise IndexError("list index out of range")

    monkeypatch.setitem(qa.corpus.reader._PARSERS, ".txt", broken)
    path = write(tmp_path / "p.txt", "anything\n")
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [f"{path}:1: not read past here: IndexError: list index out of range"]
    assert [r.title for r in corpus.records] == ["First"]


def test_random_pages_give_records_or_problems_never_furniture_or_a_traceback(tmp_path: Path) -> None:
    rng = random.Random(1962)
    pieces = ["Skip to content", "Results:", "1 - 10 of 10", "Documents", "Popular Documents", "SEARCH RESULTS",
              "-", "  \u2022 June 07, 1951", "    A Title", "July 4, 1963", "Document Information", "Record ID",
              "\u2022 Citation", "get citation", "Citation:", "Summary:", "Contents:", "Title Words", "A summary.",
              "", "", "<p>", "<a href='/document/1'>Linked</a>", "\ud7ff", "99999", "0000", "#", "###"]
    for i in range(300):
        ext = (".txt", ".html")[i % 2]
        write(tmp_path / f"f{i}{ext}", "\n".join(rng.choice(pieces) for _ in range(rng.randrange(25))))
    corpus = load_corpus([tmp_path])
    furniture = {w.source for w in corpus.warnings if "looks like page furniture" in w.message}
    assert all(r.title for r in corpus.records)
    assert not furniture
    printable(corpus)


# ---------------------------------------------------------------------------------------------- size limits


@pytest.mark.parametrize(("name", "limit"), [("page.txt", MAX_PAGE_BYTES), ("page.html", MAX_PAGE_BYTES),
                                             ("export.jsonl", MAX_EXPORT_BYTES), ("export.csv", MAX_EXPORT_BYTES)])
def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, name: str, limit: int) -> None:
    big = tmp_path / "c" / name
    big.parent.mkdir()
    with big.open("wb") as f:  # a sparse file: no disk used, and none of it is read
        f.truncate(limit + 1)
    write(tmp_path / "c" / "fine.jsonl", '{"title": "Fine"}\n')
    corpus = load_corpus([tmp_path / "c"])
    assert messages(corpus.errors) == [
        f"{big}: file refused: it is {limit + 1:,} bytes long (the limit for a {big.suffix} file is {limit:,}): "
        "split it into smaller files"
    ]
    assert [r.title for r in corpus.records] == ["Fine"]


def test_a_file_at_the_size_limit_is_read(tmp_path: Path, monkeypatch) -> None:
    text = "1950\nA Title\n"
    monkeypatch.setattr(qa.corpus.reader, "MAX_PAGE_BYTES", len(text))
    path = write(tmp_path / "p.txt", text)
    assert [r.title for r in load_corpus([path]).records] == ["A Title"]
    write(tmp_path / "p.txt", text + " ")
    assert [e.message.split(":")[0] for e in load_corpus([path]).errors] == ["file refused"]


@pytest.mark.parametrize("field", ["url", "citation", "people"])
def test_any_other_field_over_its_limit_is_refused(tmp_path: Path, field: str) -> None:
    value = ["x" * (MAX_FIELD // 2 + 1)] * 2 if field == "people" else "y" * (MAX_FIELD + 1)
    path = write(tmp_path / "e.jsonl", json.dumps({"title": "Big", field: value}) + '\n{"title": "Fine"}\n')
    corpus = load_corpus([path])
    name = field.replace("_", " ")
    assert messages(corpus.errors) == [
        f"{path}:1: record refused: its {name} is {MAX_FIELD + 1 + (field == 'people'):,} characters long "
        f"(the limit is {MAX_FIELD:,})"
    ]
    assert [r.title for r in corpus.records] == ["Fine"]


def test_a_full_text_over_its_limit_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", json.dumps({"title": "Big", "full_text": "z" * (MAX_FULL_TEXT + 1)}) + "\n")
    assert messages(load_corpus([path]).errors) == [
        f"{path}:1: record refused: its full text is {MAX_FULL_TEXT + 1:,} characters long "
        f"(the limit is {MAX_FULL_TEXT:,})"
    ]


# ---------------------------------------------------------------------------------------------- found by the fuzzer


def test_a_saved_page_whose_address_is_not_one_is_read(tmp_path: Path) -> None:
    """Found by tests/test_fuzz_corpus.py: `http://[bad` made urlsplit raise ValueError (Invalid IPv6 URL)."""
    page = ('<html><head><meta property="og:url" content="http://[bad"></head><body>\n'
            '<div><p>July 4, 1963</p><p><a href="http://[::1">A Title</a></p><p>A summary.</p></div>\n'
            '<div><p>1964</p><p><a href="/document/2">Another</a></p></div></body></html>\n')
    path = write(tmp_path / "p.html", page)
    corpus = load_corpus([path])
    assert corpus.errors == []
    assert [(r.title, r.url) for r in corpus.records] == [("A Title", None), ("Another", None)]


def test_line_numbers_of_a_saved_page_with_carriage_returns_alone(tmp_path: Path) -> None:
    """Found by tests/test_fuzz_corpus.py: libxml2 counts lines at \\n only, so a page saved with \\r line ends
    had every problem and record on line 1."""
    page = (Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "new-search-results.html").read_bytes()
    with_cr = page.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    lf, cr = write(tmp_path / "lf.html", page), write(tmp_path / "cr.html", with_cr)
    lines = [[r.source.rsplit(":", 1)[1] for r in load_corpus([p]).records] for p in (lf, cr)]
    assert lines[0] == lines[1] and len(set(lines[0])) > 1


def test_a_csv_header_naming_a_column_twice_is_a_problem(tmp_path: Path) -> None:
    """Found by tests/test_fuzz_corpus.py: with `id,id,title`, a row's first value was lost without a word."""
    path = write(tmp_path / "e.csv", "id,id,title\nfirst\n1,2,A Title\n")
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [f"{path}:1: CSV header names 'id' more than once: each column once, please"]
    assert corpus.records == []


def test_a_csv_row_with_values_only_in_unnamed_columns_is_not_skipped_silently(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "title,,\n,,stray value\nA Title,,\n")
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [f"{path}:2: record has no title"]
    assert [r.title for r in corpus.records] == ["A Title"]


@pytest.mark.parametrize("name", ["p.txt", "e.jsonl", "e.csv"])
def test_byte_order_marks_twice_over_or_inside_a_joined_file_are_ignored(tmp_path: Path, name: str) -> None:
    """Found by tests/test_fuzz_corpus.py: a file saved with two byte-order marks (or two files joined with
    `cat`) had an invisible U+FEFF before its first line, so `July 4, 1963` was no date and the page no layout."""
    texts = {"p.txt": ["July 4, 1963\n\nA Title\n\nA summary.\n", "1964\n\nAnother\n"],
             "e.jsonl": ['{"title": "A Title", "date": "1963-07-04"}\n', '{"title": "Another", "date": "1964"}\n'],
             "e.csv": ["title,date\nA Title,1963-07-04\n", "Another,1964\n"]}[name]
    bom = "\ufeff"
    path = write(tmp_path / name, bom + bom + texts[0] + bom + texts[1])
    corpus = load_corpus([path])
    assert corpus.errors == []
    assert [(r.title, r.date) for r in corpus.records] == [("A Title", "1963-07-04"), ("Another", "1964")]


@pytest.mark.parametrize("rule", ["--", "———", "____", "=====", "- -"])
def test_a_line_drawn_with_dashes_is_furniture_never_a_title(tmp_path: Path, rule: str) -> None:
    """Found by tests/test_fuzz_corpus.py: `August 12, 1966` then `--` made a record titled `--`."""
    path = write(tmp_path / "p.txt", f"August 12, 1966\n{rule}\n\n1967\nA Title\n{rule}\nA summary.\n")
    corpus = load_corpus([path])
    assert messages(corpus.errors) == [f"{path}:1: date 'August 12, 1966' with no title after it"]
    assert [(r.title, r.summary) for r in corpus.records] == [("A Title", "A summary.")]
    assert corpus.warnings == []
