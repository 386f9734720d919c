"""`archive-qa ask --write` and `archive-qa eval --write` against the fake model server (tests/fake_llm.py), on the
model-free index of the shipped corpus."""

from __future__ import annotations

import json

import pytest

from archive_qa.cli import main
from tests.fake_llm import MODEL, FakeLLM, Reply, first_sentences

QUESTION = "What did Stalin and the CCP delegation discuss?"


@pytest.fixture(scope="module")
def fake():
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture
def args(hashing_config, fake, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_LLM_URL", fake.url)
    fake.reply = first_sentences
    config = hashing_config
    return ["--corpus", str(config.corpus), "--index", str(config.index_dir), "--model", config.model, "--mode", "bm25"]


def test_ask_write_prints_the_checked_written_answer(args, fake, capsys):
    assert main(["ask", QUESTION, *args, "--write"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Written by {MODEL}, checked against the sources:\n\n")
    assert "Stalin and the CCP delegation discuss the Soviet loan to China" in out and "[1]" in out
    assert "\nSources:\n  [1] " in out


def test_ask_write_json_says_which_kind(args, capsys):
    assert main(["ask", QUESTION, *args, "--write", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["kind"] == "written" and answer["written"]["model"] == MODEL
    assert answer["written"]["fallback"] == "" and answer["written"]["sentences"][0]["cited"] == [1]
    assert answer["sentences"]  # the quotations, kept


def test_ask_write_with_a_failing_server_prints_the_quoted_answer_and_why(args, fake, capsys):
    fake.reply = Reply(status=503)
    assert main(["ask", QUESTION, *args, "--write"]) == 0
    out = capsys.readouterr().out
    first, rest = out.split("\n", 1)
    assert first.startswith("Written answer not shown: the model server answered 503")
    assert first.endswith("The quoted answer is shown instead.")
    assert main(["ask", QUESTION, *args]) == 0
    assert rest.lstrip("\n") == capsys.readouterr().out  # the quoted answer, as without --write


def test_ask_write_without_a_server_is_one_line(args, monkeypatch, capsys):
    monkeypatch.delenv("ARCHIVE_QA_LLM_URL")
    assert main(["ask", QUESTION, *args, "--write"]) == 2
    err = capsys.readouterr().err
    needs = "--write needs a model server: set ARCHIVE_QA_LLM_URL or --llm-url (see docs/written-answers.md)"
    assert err == f"archive-qa: {needs}\n"


def some_questions(path) -> str:
    """A few questions of the shipped set, of every category (the first two of each, follow-ups left out)."""
    from archive_qa.evaluation.questions import DEFAULT_QUESTIONS

    chosen: dict[str, list[str]] = {}
    for line in DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if not q.get("follows") and len(chosen.setdefault(q["category"], [])) < 2:
            chosen[q["category"]].append(line)
    path.write_text("\n".join(line for lines in chosen.values() for line in lines) + "\n", encoding="utf-8")
    return str(path)


def test_eval_write_reports_sentences_kept_fallbacks_and_latency_per_kind(args, fake, tmp_path, capsys):
    def reply(message: dict) -> Reply:
        return Reply(status=500) if "Kovalev" in message["question"] else first_sentences(message)

    fake.reply = reply
    out = tmp_path / "out"
    questions = some_questions(tmp_path / "questions.jsonl")
    assert main(["eval", *args, "--write", "--questions", questions, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Written answers (--write):" in printed and "sentences_kept" in printed
    report = json.loads((out / "report.json").read_text())
    written = report["modes"]["bm25"]["written"]
    outcomes = report["outcomes"]["bm25"]
    sent = [o for o in outcomes if not o["abstained"]]
    assert written["all"]["answers"] == len(sent) and [o["written"]["sent"] for o in outcomes] == [
        not o["abstained"] for o in outcomes
    ]
    fell_back = [o for o in sent if o["written"]["kind"] == "quoted"]
    assert written["all"]["fallbacks"] == len(fell_back) > 0
    assert written["all"]["fallback_reasons"]["the model server answered N"] == sum(
        "answered 500" in o["written"]["fallback"] for o in outcomes
    )
    assert written["all"]["sentences_kept"] == 1 and written["all"]["latency_p50_ms"] > 0  # verbatim: all kept
    assert set(written) - {"all"} <= {"lookup", "list", "period", "change", "who"}
    assert "## Written answers" in (out / "report.md").read_text()
    written_texts = [o["text"] for o in outcomes if o["written"]["kind"] == "written"]
    assert written_texts and all("[1]" in t for t in written_texts)  # the figures score the written text


def test_eval_write_refuses_what_it_does_not_apply_to(args, capsys):
    assert main(["eval", *args, "--write", "--calibrate"]) == 2
    assert "--write evaluates the answers to a question set" in capsys.readouterr().err
