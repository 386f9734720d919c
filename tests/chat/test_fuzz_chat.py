"""Fuzzing what the chat keeps and exports: any text in a question or a record leaves the exported Markdown file's
structure (its headings, rules, lists, quotes, code blocks) as the export made it; any change to the
conversations file while the app runs (removed, emptied, replaced, damaged, held by another program) leaves
every call working with one line saying what happened.

Profiles in tests/fuzz_helpers.py (`ci` in make test, `deep` with make fuzz).
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fuzz_helpers import ODD_TEXT, examples, hang_guard
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from qa.chat import conversations
from qa.chat.conversations import ConversationStore
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


# ---------------------------------------------------------------------------------------------- the conversation store

CHANGES = ["remove", "empty", "folder", "dev_null", "garbage", "truncate", "wal_garbage", "hold"]
CALLS = ["create", "add", "turns", "list", "rename", "delete"]


def _change(path: Path, change: str) -> None:
    """Do to the conversations file what a user or another program may do while the app runs."""
    parts = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
    if change in ("remove", "empty", "folder", "dev_null", "garbage"):
        for part in parts:
            if part.is_dir() and not part.is_symlink():
                part.rmdir()
            else:
                part.unlink(missing_ok=True)
        {"empty": lambda: path.write_bytes(b""), "folder": path.mkdir, "dev_null": lambda: path.symlink_to("/dev/null"),
         "garbage": lambda: path.write_bytes(b"SQLite format 3\x00" + b"\xee" * 5000), "remove": lambda: None}[change]()
    elif change == "truncate" and path.is_file():
        with path.open("r+b") as f:
            f.truncate(path.stat().st_size // 2)
    elif change == "wal_garbage":
        parts[1].write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 4000)


@examples(25)
@given(steps=st.lists(st.one_of(st.sampled_from(CALLS), st.sampled_from(CHANGES)), min_size=1, max_size=12))
def test_the_conversation_store_survives_any_change_to_its_file(steps: list[str]) -> None:
    """Any call, after any change to the file, gives its answer with at most one line in `problem` (no path of
    the server's in it), and a new conversation is kept at the end."""
    with tempfile.TemporaryDirectory() as tmp, hang_guard(60), pytest.MonkeyPatch.context() as patch:
        patch.setattr(conversations, "BUSY_TIMEOUT_S", 0.1)  # another program's hold outlasts the wait at once
        path = Path(tmp) / "data" / "conversations.sqlite3"
        store = ConversationStore(path)
        cid = store.create("first")
        for step in steps:
            if step in CHANGES:
                held = _hold(path) if step == "hold" else None
                _change(path, step)
                if held:
                    _call(store, "add", cid)
                    held.execute("ROLLBACK")
                    held.close()
            else:
                cid = _call(store, step, cid) or cid
            assert store.problem is None or (tmp not in store.problem and "\n" not in store.problem)
        fresh = store.create("last")
        assert store.add_turn(fresh, '"x"') and store.turns(fresh) == ['"x"']


def _hold(path: Path):
    """Another program holding the file in an exclusive transaction, if it is a database it can open."""
    try:
        held = sqlite3.connect(path, isolation_level=None, timeout=0.1)
        held.execute("BEGIN EXCLUSIVE")
        return held
    except sqlite3.Error:
        return None


def _call(store: ConversationStore, call: str, cid: str) -> str | None:
    if call == "create":
        return store.create("a question")
    if call == "add":
        store.add_turn(cid, '"turn"')
    elif call == "turns":
        store.turns(cid)
    elif call == "list":
        store.conversations()
    elif call == "rename":
        store.rename(cid, "renamed")
    else:
        store.delete(cid)
    return None
