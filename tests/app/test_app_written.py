"""The chat app's "Written answer" toggle, run in-process (AppTest) on the model-free index of the shipped corpus,
against the fake model server (tests/fake_llm.py): shown only with a server configured; a written answer labelled
and checked, its quotations one click away, its kind saved; a failing server leaves the quoted answer and says why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.fake_llm import MODEL, FakeLLM, Reply, first_sentences

APP = str(Path(__file__).resolve().parents[2] / "app.py")
QUESTION = "What did Stalin and the CCP delegation discuss?"


@pytest.fixture(scope="module")
def fake():
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture
def env(hashing_config, tmp_path, monkeypatch):
    """The app on the model-free index; its conversations in a file of the test's own."""
    for name, value in (("CORPUS", hashing_config.corpus), ("INDEX", hashing_config.index_dir),
                        ("MODEL", hashing_config.model), ("CACHE", hashing_config.cache),
                        ("CONVERSATIONS", tmp_path / "conversations.sqlite3")):
        monkeypatch.setenv(f"ARCHIVE_QA_{name}", str(value))
    return tmp_path / "conversations.sqlite3"


def session():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def ask_written(at, question: str = QUESTION):
    at.toggle(key="written").set_value(True).run()
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception
    return at


def test_no_toggle_without_a_server(env, monkeypatch):
    monkeypatch.delenv("ARCHIVE_QA_LLM_URL", raising=False)
    at = session()
    assert "written" not in [t.key for t in at.toggle]


def test_a_written_answer_is_labelled_checked_and_saved_as_written(env, fake, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_LLM_URL", fake.url)
    fake.reply = first_sentences
    at = ask_written(session())
    assert "Written answer" in [t.label for t in at.toggle]
    turn = at.session_state["turns"][-1]
    assert turn["answer"].kind == "written"
    captions = [c.value for c in at.caption]
    assert any(f"Written by {MODEL.replace('-', chr(92) + '-')}" in c and "checked against the sources" in c
               for c in captions), captions
    markdown = [m.value for m in at.markdown]
    assert any("Stalin and the CCP delegation discuss the Soviet loan to China" in m and "**\\[1\\]**" in m
               for m in markdown)
    assert any(e.label == "Quotations the answer rests on" for e in at.expander)
    with sqlite3.connect(env) as db:
        (data,) = db.execute("SELECT data FROM turns").fetchone()
    assert json.loads(data)["kind"] == "written"


def test_a_failing_server_leaves_the_quoted_answer_and_says_why(env, fake, monkeypatch):
    monkeypatch.setenv("ARCHIVE_QA_LLM_URL", fake.url)
    fake.reply = Reply(status=500)
    at = ask_written(session())
    turn = at.session_state["turns"][-1]
    assert turn["answer"].kind == "quoted" and turn["answer"].written.fallback.startswith("the model server answered")
    assert any("Written answer not shown\\: the model server answered 500" in i.value for i in at.info)
    assert not any(e.label == "Quotations the answer rests on" for e in at.expander)

