"""qa.chat.conversations: the SQLite conversation store (sharing, damage, memory), the privacy rule, turns as JSON."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from qa.chat import conversations
from qa.chat.conversations import (
    ConversationStore,
    access,
    decode_turn,
    encode_turn,
    new_id,
    on_loopback,
    title_of,
    valid_id,
)
from qa.records import Record
from qa.types import Answer, AnswerSentence, AppliedFilter, AppliedPeople, Filters, Source


@pytest.fixture
def store(tmp_path):
    return ConversationStore(tmp_path / "data" / "conversations.sqlite3")


def record(rid="r1", full_text="") -> Record:
    return Record(
        id=rid, title="Cable, Stalin to Mao", date="1949-05-26", date_precision="day",
        summary="Stalin writes. Mao answers.", url=None, collection="sino-soviet", source="corpus/x.txt:3",
        full_text=full_text, people=("Stalin",),
    )


def answer() -> Answer:
    source = Source(1, record(full_text="The whole cable."), 0.03, 0.61, True, ("Stalin writes.",))
    answer = Answer("What did Stalin write?", "What did Stalin write?", "Stalin writes. [1]",
                    [AnswerSentence("Stalin writes.", 1, "r1", "In “Cable” (May 26, 1949):", "One document:")],
                    [source], [replace(source, n=2, cited=False, quoted=())])
    answer.applied_filter = AppliedFilter("showing documents from 1949", "question", "from 1949", 19490101,
                                          19491231, True, "in 1949")
    answer.people_filter = AppliedPeople("showing documents written by Stalin", "question", "written by Stalin",
                                         ("stalin",))
    answer.ranking, answer.timings = [("r1", 0.03)], {"total_ms": 12.5}
    return answer


def test_ids_are_128_random_bits():
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(valid_id(i) and len(i) == 32 for i in ids)
    for bad in ("", "0" * 31, "0" * 33, "G" * 32, "../../etc/passwd", None, 12):
        assert not valid_id(bad)


def test_create_add_list_rename_delete(store):
    cid = store.create("  What did Stalin   write?  ")
    assert store.exists(cid) and store.turns(cid) == []
    assert store.add_turn(cid, '{"n": 1}') and store.add_turn(cid, '{"n": 2}')
    assert store.turns(cid) == ['{"n": 1}', '{"n": 2}']
    store.replace_last_turn(cid, '{"n": 3}')
    assert store.turns(cid) == ['{"n": 1}', '{"n": 3}']
    other = store.create("Another", owner="ana@example.org")
    listed = store.conversations()
    assert [c.id for c in listed] == [other, cid]  # the most recent first
    assert (listed[1].title, listed[1].turns) == ("What did Stalin write?", 2)
    assert [c.id for c in store.conversations("ana@example.org")] == [other]
    store.rename(cid, "  Stalin's letters ")
    assert store.title(cid) == "Stalin's letters"
    store.rename(cid, "   ")  # an empty name is not taken
    assert store.title(cid) == "Stalin's letters"
    store.delete(cid)
    assert not store.exists(cid) and store.turns(cid) is None
    assert not store.add_turn(cid, "{}")  # a deleted conversation takes no more turns
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone() == (0,)  # its turns went with it


def test_a_deleted_conversation_is_restored_under_its_own_id(store):
    cid = store.create("First question", owner="ana@example.org")
    store.add_turn(cid, '{"n": 1}') and store.add_turn(cid, '{"n": 2}')
    title, owner, turns = store.title(cid), store.owner(cid), store.turns(cid)
    store.delete(cid)
    store.restore(cid, title, owner, turns)
    assert (store.title(cid), store.owner(cid), store.turns(cid)) == ("First question", "ana@example.org", turns)
    assert store.add_turn(cid, '{"n": 3}') and len(store.turns(cid)) == 3


def test_unknown_and_malformed_ids_open_nothing(store):
    assert store.turns(new_id()) is None
    assert store.turns("'; DROP TABLE conversations; --") is None
    assert not store.exists("")


def test_titles_are_one_line_and_short():
    assert title_of("a\nb") == "a b"
    long = title_of("word " * 40)
    assert long.endswith("…") and len(long) <= 81


def _write_many(path: str, tag: str, n: int) -> None:
    store = ConversationStore(path)
    cid = store.create(tag)
    for i in range(n):
        assert store.add_turn(cid, f'{{"tag": "{tag}", "i": {i}}}')


def test_many_writers_at_once_never_corrupt_the_file(tmp_path):
    """Threads and processes writing at once (two tabs, two servers): every turn kept, in order, file intact."""
    path = str(tmp_path / "c.sqlite3")
    ConversationStore(path)
    shared = ConversationStore(path)
    cid = shared.create("shared")
    threads = [threading.Thread(target=lambda t=t: [shared.add_turn(cid, f'"{t}-{i}"') for i in range(25)])
               for t in range(4)]
    processes = [multiprocessing.get_context("spawn").Process(target=_write_many, args=(path, f"p{i}", 25))
                 for i in range(2)]
    for worker in (*threads, *processes):
        worker.start()
    for worker in (*threads, *processes):
        worker.join()
    assert all(p.exitcode == 0 for p in processes)
    turns = shared.turns(cid)
    assert len(turns) == 100
    for t in range(4):
        assert [x for x in turns if x.startswith(f'"{t}-')] == [f'"{t}-{i}"' for i in range(25)]
    assert sorted(c.turns for c in shared.conversations()) == [25, 25, 100]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("content", [b"not a database at all " * 50, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_damaged_file_is_set_aside_and_a_new_one_started(tmp_path, content):
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(content)
    store = ConversationStore(path)
    assert store.problem and "set aside as conversations.sqlite3.damaged-" in store.problem
    aside = list(tmp_path.glob("conversations.sqlite3.damaged-*"))
    assert [p.read_bytes() for p in aside] == [content]
    cid = store.create("works again")
    assert store.add_turn(cid, "{}") and store.turns(cid) == ["{}"]


def test_a_file_damaged_while_in_use_is_set_aside_at_the_next_call(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    old = store.create("before the damage")
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(b"garbage " * 1000)
    assert store.conversations() == []  # read from the new file
    assert store.problem and "set aside" in store.problem
    assert store.turns(old) is None
    assert store.add_turn(store.create("after"), "{}")


def test_a_file_that_cannot_be_written_gives_a_store_in_memory(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    store = ConversationStore(blocker / "conversations.sqlite3")
    assert store.problem and "kept only until the server stops" in store.problem
    cid = store.create("in memory")
    assert store.add_turn(cid, "{}") and store.turns(cid) == ["{}"]
    assert [c.id for c in store.conversations()] == [cid]


@pytest.mark.parametrize(
    ("address", "expected"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("192.168.1.10", False), ("", False), (None, False), ("example.org", False)],
)
def test_loopback_addresses(address, expected):
    assert on_loopback(address) is expected


def test_the_privacy_rule():
    assert access("127.0.0.1", False, None) == access("127.0.0.1", True, "ana") == access("localhost", False, None)
    assert access("127.0.0.1", False, None).listed and access("127.0.0.1", False, None).owner is None  # everyone's
    beyond = access("0.0.0.0", False, None)
    assert not beyond.listed and not beyond.sign_in  # no sign-in configured: no list at all
    waiting = access(None, True, None)
    assert not waiting.listed and waiting.sign_in  # sign-in configured: offered, nothing listed before
    assert access("10.0.0.2", True, "ana@example.org") == access("10.0.0.2", True, "ana@example.org")
    assert access("10.0.0.2", True, "ana@example.org").owner == "ana@example.org"


def test_a_turn_reads_back_as_it_was_written():
    original = answer()
    filters = Filters("1949", "1950-06", include_undated=True, from_person="Stalin")
    turn = decode_turn(encode_turn(original, filters, 7, "bm25", "2024-05-01T12:00:00+00:00"),
                       lambda rid: "The whole cable." if rid == "r1" else "")
    assert turn["answer"] == original
    assert (turn["filters"], turn["k"], turn["mode"], turn["asked_at"]) == (filters, 7, "bm25",
                                                                            "2024-05-01T12:00:00+00:00")
    assert turn["answer"].sources[0].record.date_start == 19490526  # records are rebuilt, dates and all


def test_a_turn_records_which_kind_of_answer_it_was():
    from qa.types import Written, WrittenSentence

    quoted = answer()
    assert decode_turn(encode_turn(quoted, Filters(), 5, "hybrid"))["kind"] == "quoted"
    sentence = WrittenSentence("Stalin wrote to Mao in May 1949.", (1,), "Stalin writes")
    removed = ["“Molotov wrote.”: the name 'Molotov' is not in the documents it cites"]
    written = replace(quoted, text="Stalin wrote to Mao in May 1949. [1]",
                      written=Written("llama3.1:8b", [sentence], removed, "", 2, 812.5))
    turn = decode_turn(encode_turn(written, Filters(), 5, "hybrid"), lambda rid: "The whole cable.")
    assert turn["kind"] == "written" and turn["answer"] == written and turn["answer"].kind == "written"
    fell_back = replace(quoted, written=Written("llama3.1:8b", fallback="the model server answered 500", proposed=0))
    turn = decode_turn(encode_turn(fell_back, Filters(), 5, "hybrid"))
    assert turn["kind"] == "quoted" and turn["answer"].written.fallback == "the model server answered 500"
    old = json.loads(encode_turn(quoted, Filters(), 5, "hybrid"))
    del old["kind"], old["answer"]["written"]  # a turn saved before written answers existed
    assert decode_turn(json.dumps(old))["kind"] == "quoted"


def test_a_turn_keeps_no_full_text_and_reads_fields_it_does_not_know():
    import json

    data = json.loads(encode_turn(answer(), Filters(), 5, "hybrid"))
    assert "full_text" not in data["answer"]["sources"][0]["record"]
    data["answer"]["from_a_newer_version"] = 1
    data["answer"]["sources"][0]["record"]["new_field"] = "x"
    turn = decode_turn(json.dumps(data))
    assert turn["answer"].sources[0].record.full_text == ""  # none given back: no index to read it from
    assert turn["answer"].question == "What did Stalin write?"


# ------------------------------------------------------------------------------------------ the file changed under it


def _in_folder(path):
    """What a user may do to the file while the app runs."""
    def remove():
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def empty():
        remove()
        path.write_bytes(b"")

    def folder():
        remove()
        path.mkdir()

    def dev_null():
        remove()
        path.symlink_to("/dev/null")

    def garbage():
        remove()
        path.write_bytes(b"garbage " * 1000)

    return {"removed": remove, "emptied": empty, "a folder": folder, "a link to /dev/null": dev_null,
            "garbage": garbage}


@pytest.mark.parametrize("change", ["removed", "emptied", "a folder", "a link to /dev/null", "garbage"])
def test_a_file_removed_emptied_or_replaced_while_in_use_is_one_line_and_a_new_file(tmp_path, change):
    path = tmp_path / "data" / "conversations.sqlite3"
    store = ConversationStore(path)
    old = store.create("before")
    assert store.add_turn(old, "{}") and store.problem is None
    _in_folder(path)[change]()
    assert store.conversations() == []  # the next call works, on a new file
    assert store.problem and path.name in store.problem and str(tmp_path) not in store.problem
    assert "\n" not in store.problem
    cid = store.create("after")
    assert store.add_turn(cid, '"x"') and store.turns(cid) == ['"x"'] and path.is_file() and not path.is_symlink()
    if change in ("a folder", "a link to /dev/null", "garbage"):  # set aside, not removed
        assert len(list(path.parent.glob("conversations.sqlite3.damaged-*"))) == 1
    assert Path("/dev/null").exists() and not Path("/dev/null-wal").exists()


def test_a_file_another_program_holds_is_one_line_and_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(conversations, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    cid = store.create("held")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert store.add_turn(cid, '"1"') and store.add_turn(cid, '"2"')  # kept, not lost, no OperationalError
        assert store.problem and "held by another program" in store.problem and str(tmp_path) not in store.problem
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.add_turn(cid, '"3"') and store.turns(cid) == ['"1"', '"2"', '"3"'] and store.problem is None
