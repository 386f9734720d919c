"""`archive-qa chat` (a conversation through standard input, run as a process) and `ask --history FILE`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive_qa.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def flags(hashing_config) -> list[str]:
    config = hashing_config
    return ["--corpus", str(config.corpus), "--index", str(config.index_dir), "--model", config.model, "--mode", "bm25"]


def chat(flags: list[str], typed: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive_qa", "chat", *flags], input=typed, cwd=REPO,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_chat_keeps_the_conversation_starts_afresh_on_new_and_ends_on_quit(flags):
    typed = "Who was Filippov?\nAnd Mikoyan?\n/new\nAnd Mikoyan?\n/quit\nWhat happened in 1963?\n"
    done = chat(flags, typed)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.split("(a new conversation)")
    assert "Filippov is another name for Stalin" in before
    assert "Anastas Mikoyan: participant in one document:" in before  # "And Mikoyan?" read as "Who was Mikoyan"
    assert "Anastas Mikoyan: participant" not in after and "February 6, 1949" in after  # afresh: a plain look-up
    assert "1963" not in done.stdout  # nothing is asked after /quit


def test_chat_ends_at_the_end_of_input_and_says_how_to_leave(flags):
    done = chat(flags, "Who was Filippov?\n")
    assert done.returncode == 0, done.stderr
    assert "/new" in done.stdout.splitlines()[0] and "/quit" in done.stdout.splitlines()[0]
    assert "Filippov is another name for Stalin" in done.stdout


def test_ask_with_history_reads_a_follow_up_against_the_earlier_questions(flags, tmp_path, capsys):
    history = tmp_path / "history.json"
    history.write_text(json.dumps(["What did Kovalev report in May 1949?"]), encoding="utf-8")
    assert main(["ask", "What about July 1949?", *flags, "--history", str(history), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    resolved = answer["resolved_question"]
    assert resolved.startswith("What did Kovalev report") and "July 1949" in resolved
    assert [s["date"] for s in answer["sources"]] == ["1949-07-06"]


def test_ask_with_history_takes_earlier_answers_as_printed_by_ask_json(flags, tmp_path, capsys):
    assert main(["ask", "What did Kovalev report in May 1949?", *flags, "--json"]) == 0
    history = tmp_path / "history.json"
    history.write_text(json.dumps([json.loads(capsys.readouterr().out)]), encoding="utf-8")
    assert main(["ask", "And July 1949?", *flags, "--history", str(history), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resolved_question"].startswith("What did Kovalev report")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"question": "x"}', "must be a JSON list"),
        ("[1]", "turn 1 is neither a question nor an answer"),
        ("[", "not JSON"),
    ],
)
def test_a_bad_history_file_is_one_line_naming_it(flags, tmp_path, capsys, content, says):
    history = tmp_path / "history.json"
    history.write_text(content, encoding="utf-8")
    assert main(["ask", "Who was Filippov?", *flags, "--history", str(history)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(history) in err and says in err
    assert main(["ask", "Who was Filippov?", *flags, "--history", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err
