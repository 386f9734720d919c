"""Fuzzing what the chat keeps and exports: any text in a question or a record leaves the exported Markdown file's
structure (its headings, rules, lists, quotes, code blocks) as the export made it.

Profiles in tests/fuzz_helpers.py (`ci` in make test, `deep` with make fuzz).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fuzz_helpers import ODD_TEXT, examples
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from qa.chat.text import conversation_markdown
from qa.records import Record
from qa.types import Answer, AnswerSentence, Filters, Source

# What starts a Markdown block at the start of a line, or underlines the line before it.
BLOCK_MARKUP = ["---", "===", "***", "___", "- ", "+ ", "* ", "1. ", "2) ", "# ", "## Question 9", "> ", "    code",
                "```", "~~~", "| a | b |", "|---|---|", "<div>", "<!--", "[x]: http://e.org", "- [ ] task", "\t"]


def lines_of_markup() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(BLOCK_MARKUP + ODD_TEXT), st.sampled_from(["coal", "Question 9", "forged"]),
                      st.text(max_size=6))
    line = st.lists(piece, min_size=1, max_size=3).map("".join)
    return st.lists(line, min_size=1, max_size=6).map("\n".join)


def _export(question: str, title: str, summary: str) -> str:
    record = Record(id="r", title=title, date="1949-05-26", date_precision="day", summary=summary, url=None,
                    collection="c", source="c.txt:1")
    answer = Answer(question, question, sentences=[AnswerSentence(summary, 1, "r", f"In “{title}”:")])
    answer.sources = [Source(1, record, 0.03, 0.5, True)]
    turn = {"answer": answer, "filters": Filters(), "k": 5, "mode": "hybrid"}
    return conversation_markdown([turn, turn], exported_at=datetime(2024, 5, 1, tzinfo=UTC))


def _blocks(markdown: str) -> list[str]:
    """The file's structure as a Markdown reader sees it: its headings (with their text), rules, lists, quotes,
    code blocks, HTML blocks and tables, in order (a blank line in a text may split a paragraph: not structure)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    kept = [t for t in tokens if t.block and t.type not in ("paragraph_open", "paragraph_close", "inline")]
    headings = [t.content for t in tokens if t.type == "inline" and tokens[tokens.index(t) - 1].type == "heading_open"]
    return [f"{t.type}/{t.tag}/{t.level}" for t in kept] + headings


STRUCTURE = _blocks(_export("coal", "A title", "A summary."))


@examples(40)
@given(question=lines_of_markup(), title=lines_of_markup(), summary=lines_of_markup())
def test_no_text_in_a_question_or_record_changes_the_exported_structure(question: str, title: str, summary: str):
    assert _blocks(_export(question, title, summary)) == STRUCTURE


def test_a_multi_line_question_forges_no_heading_rule_or_list() -> None:
    """The reproduction: `coal\\n\\nQuestion 9\\n---\\nforged` made a heading and a rule in the export."""
    markdown = _export("coal\n\nQuestion 9\n---\nforged\n===\n- a\n1. b\n+ c", "A title", "A summary.")
    assert _blocks(markdown) == STRUCTURE
