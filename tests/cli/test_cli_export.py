"""`archive-qa export`: a saved conversation's cited sources as RIS, CSL-JSON and BibTeX, or all of it as Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive_qa.cli import main
from qa.chat.conversations import ConversationStore, encode_turn
from qa.records import Record
from qa.types import Answer, AnswerSentence, Filters, Source

REPO = Path(__file__).resolve().parents[2]
LINK = "https://digitalarchive.wilsoncenter.org/document/119999"


def answer(question: str, *records: Record) -> Answer:
    sentences = [AnswerSentence(r.summary, n, r.id, f"In “{r.title}”:") for n, r in enumerate(records, start=1)]
    found = Answer(question, question, " ".join(r.summary for r in records), sentences)
    found.sources = [Source(n, r, 0.03, 0.5, True) for n, r in enumerate(records, start=1)]
    return found


def synthetic(rid: str, title: str, date: str, url: str | None = None, archive_id: str | None = None) -> Record:
    return Record(id=rid, title=title, date=date, date_precision="day", summary=f"{title} summary.", url=url,
                  collection="sino-soviet-relations", source="synthetic:1", archive_id=archive_id)


@pytest.fixture
def saved(tmp_path, monkeypatch) -> str:
    """A conversation of two turns citing three synthetic records (one of them twice), saved in a temporary file."""
    path = tmp_path / "conversations.sqlite3"
    monkeypatch.setenv("ARCHIVE_QA_CONVERSATIONS", str(path))
    monkeypatch.setenv("ARCHIVE_QA_CORPUS", str(REPO / "corpus"))
    a = synthetic("a", "Cable, Kovalev to Stalin", "1949-05-17", url=LINK)
    b = synthetic("b", "Letter from Mao Zedong to Stalin", "1949-07-01", archive_id="500001")
    c = synthetic("c", "Memo on {rice} & 50% quotas", "1950-03-01")
    store = ConversationStore(path)
    cid = store.create("What did Kovalev report?")
    for turn in (answer("What did Kovalev report?", a, b), answer("And then?", b, c)):
        store.add_turn(cid, encode_turn(turn, Filters(), 5, "hybrid"))
    return cid


def test_export_every_cited_source_once_in_each_format(saved, capsys):
    rispy = pytest.importorskip("rispy")
    bibtexparser = pytest.importorskip("bibtexparser")
    assert main(["export", saved, "--format", "ris"]) == 0
    entries = rispy.loads(capsys.readouterr().out)
    assert [e["id"] for e in entries] == ["a", "b", "c"]
    assert {e["name_of_database"] for e in entries} == {"Wilson Center Digital Archive"}  # collection.toml
    assert entries[0]["urls"] == [LINK] and entries[1]["urls"] == [
        "https://digitalarchive.wilsoncenter.org/document/500001"  # the collection's base URL and the record id
    ]
    assert main(["export", saved, "--format", "csl"]) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == ["a", "b", "c"]
    assert main(["export", saved, "--format", "bibtex"]) == 0
    library = bibtexparser.parse_string(capsys.readouterr().out)
    assert not library.failed_blocks and len(library.entries) == 3
    assert main(["export", saved]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# What did Kovalev report?") and f"<{LINK}>" in markdown
    assert "Memo on {rice} & 50% quotas" not in markdown and "Memo on {rice} \\& 50% quotas" in markdown


def test_every_format_of_the_app_is_offered():
    from archive_qa.cli import EXPORT_FORMATS
    from qa.chat.text import CONVERSATION_FORMATS

    assert set(EXPORT_FORMATS) == set(CONVERSATION_FORMATS)


def test_export_of_an_unknown_conversation_is_one_line(saved, capsys):
    assert main(["export", "0" * 32, "--format", "ris"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no conversation '00000000000000000000000000000000'" in err
