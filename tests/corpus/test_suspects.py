"""`corpus check` warns about records that look read wrong, one line each (synthetic pages)."""

from __future__ import annotations

import json
from pathlib import Path

from qa.corpus import load_corpus


def warnings_of(tmp_path: Path, text: str, name: str = "page.txt") -> list[str]:
    page = tmp_path / name
    page.write_text(text, encoding="utf-8")
    corpus = load_corpus([page])
    assert corpus.errors == []
    return [str(w).replace(f"{page}:", "LINE ") for w in corpus.warnings]


def jsonl(*records: tuple[str, str, str]) -> str:
    return "".join(json.dumps({"title": t, "date": d, "summary": s}) + "\n" for t, d, s in records)


def test_a_title_that_is_a_credit_rights_or_attendance_line(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, jsonl(
        ("This document was made possible with support from an invented foundation", "1963", "Grain."),
        ("A.I. MIKOYAN with Fidel CASTRO, Osvaldo DORTICOS and Ernesto GUEVARA", "", "Speaks of the missiles."),
        ("The Digital Archive is made available for research and teaching purposes only", "1964", "More."),
        ("Memorandum of Conversation between Mao Zedong and the Soviet Ambassador", "1964", "The talks."),
    ), "export.jsonl") == [
        "LINE 1: title 'This document was made possible with support from an invented foundation' is a credit line, "
        "not a document's title",
        "LINE 2: title 'A.I. MIKOYAN with Fidel CASTRO, Osvaldo DORTICOS and Ernesto GUEVARA' is a list of who took "
        "part, not a document's title",
        "LINE 3: title 'The Digital Archive is made available for research and teaching purposes only' is a rights "
        "line, not a document's title",
    ]


def test_a_summary_that_is_a_label_and_a_title_that_is_a_sentence_of_another_summary(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, (
        "Skip to content\n\nJuly 4, 1963\n\nCable from Kovalev to Stalin\n\nAuthor(s):\n\n\n"
        "July 5, 1963\n\nReport on the Talks\n\nThe talks failed. Both sides blamed the other.\n\n\n"
        "July 6, 1963\n\nBoth sides blamed the other.\n\nMore follows.\n"
    )) == [
        "LINE 3: summary 'Author(s):' is a field label, not a summary",
        "LINE 17: title 'Both sides blamed the other.' is a sentence of the summary of the record at LINE 10",
    ]


def test_a_document_page_without_a_summary(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, (
        "1962\nDraft Letter on the Cuban Events\nDocument Information\nRecord ID\n500999\nLanguage\nKorean\n"
    )) == ["LINE 1: document page read without a summary"]


def test_a_page_with_a_document_pages_lines_read_as_several_records(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, (
        "1962\n\nFirst Title\n\nA summary.\n\n\n1963\n\nSecond Title\n\nAnother summary.\n\n\n1964\n\nThird Title\n\n"
        "A.I. MIKOYAN with Fidel CASTRO, Osvaldo DORTICOS and Ernesto GUEVARA\n"
    )) == [
        "LINE 1: read as a listing of 3 records (new-site search results), but the page has lines only a document "
        "page has (a credit, a list of who took part, `English HTML`)",
    ]


def test_the_shipped_page_and_every_fixture_page_raise_none(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    for folder in (root / "corpus", root / "tests" / "fixtures" / "pages"):
        corpus = load_corpus([folder])
        assert [str(w) for w in corpus.warnings if "relative" not in str(w)] == []
