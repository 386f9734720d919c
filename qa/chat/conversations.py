"""Conversations that last: the chat app's questions and answers kept in one SQLite file (standard library only).

- Each conversation has an id of 128 random bits (32 hex digits): a link to it cannot be guessed.
- Many sessions (browser tabs, threads) read and write at once: the file is in WAL mode, every call opens its own
  connection and writes in one short `BEGIN IMMEDIATE` transaction, waiting (up to `BUSY_TIMEOUT_S`) for another.
- A damaged file is never fatal: it is moved aside (`<name>.damaged-<time>`, with its -wal and -shm files), a new
  one is started and `problem` says so, in one line naming the file but not the server's folders; so is a
  folder, a device or a link to one put in its place, and a file removed or emptied while the app runs is
  started again. A file that cannot be written at all gives a store in memory (lasting until the server stops),
  again with `problem` saying why. A file another program holds past the busy timeout: reads give nothing, writes
  wait in order for the next call, and `problem` says so until it is free.
- Who may see which conversation (`Access`, `access`): on a loopback address every conversation is listed (one
  user); beyond it, a signed-in user's own conversations are listed, and with no sign-in none are: a link then
  opens only its own conversation.

A turn is stored as JSON: the answer (`Answer`, every field, records without their full text) with the filters,
the number of documents considered, the search mode, when it was asked and the kind of answer shown (quoted or
written). `decode_turn` reads back what an older
or newer version wrote, keeping the fields it knows.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import secrets
import sqlite3
import threading
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

from qa.errors import ArchiveQAError
from qa.records import Record
from qa.types import Answer, Filters

ID_BYTES = 16  # 128 random bits
BUSY_TIMEOUT_S = 10.0
LIST_LIMIT = 50
TITLE_CHARS = 80
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (conversation, position)
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated);
"""


def new_id() -> str:
    """A conversation id: 128 random bits from the operating system's generator, as 32 hex digits."""
    return secrets.token_hex(ID_BYTES)


def valid_id(text: object) -> bool:
    """Whether a text is shaped like a conversation id (anything else from a link is not even looked up)."""
    return isinstance(text, str) and len(text) == 2 * ID_BYTES and all(c in "0123456789abcdef" for c in text)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def title_of(question: str) -> str:
    """A conversation's first title: its first question on one line, cut at a word near TITLE_CHARS."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    cut = text.rfind(" ", 0, TITLE_CHARS)
    return text[: cut if cut > TITLE_CHARS // 2 else TITLE_CHARS].rstrip(" ,;:") + "…"


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation as the list shows it."""

    id: str
    title: str
    updated: str
    turns: int


class ConversationStore:
    """The conversations in one SQLite file (see the module's notes on sharing, damage and memory)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lasting: str | None = None  # what keeps the file from being used as it was (set aside, memory only)
        self._busy: str | None = None  # while another program holds the file: writes wait here, in order
        self._pending: list[Callable[[sqlite3.Connection], object]] = []
        self._guard = threading.Lock()  # held while writing, and while recovering the file
        self._generation = 0  # recoveries so far
        self._memory: sqlite3.Connection | None = None  # keeps an in-memory store alive
        try:
            self._open()
        except (sqlite3.Error, OSError) as exc:
            self._recover(exc)

    @property
    def problem(self) -> str | None:
        """One line for the page when the conversations are not kept as they should be (no server path in it)."""
        return self._busy or self._lasting

    # ------------------------------------------------------------------------------------------ the file

    def _open(self) -> None:
        """Create or check the file: WAL mode, the schema, and a quick integrity check."""
        if self._memory is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            if self._memory is None:
                db.execute("PRAGMA journal_mode=WAL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _damaged(check)
            db.executescript(SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self._memory is not None:
            target, uri = f"file:archive-qa-{id(self)}?mode=memory&cache=shared", True
        else:
            if self.path.exists() and not self.path.is_file():  # a folder, a device (a link to /dev/null), a FIFO
                raise _damaged("not a regular file")
            target, uri = str(self.path), False
        db = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=uri, check_same_thread=False)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    def _recover(self, exc: Exception) -> None:
        """After the file failed: a damaged file (or what stands in its place) is set aside, a missing or emptied
        one started again, and a file that cannot be written at all gives a store in memory; `problem` says so."""
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(exc, sqlite3.DatabaseError) and (code in _DAMAGED or code == sqlite3.SQLITE_CANTOPEN):
            self._set_aside(exc)
        elif isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc):
            self._start_again()
        else:
            self._in_memory(exc)

    def _start_again(self) -> None:
        """The file was removed or emptied while in use: a new one is started."""
        try:
            self._open()
        except (OSError, sqlite3.Error) as again:
            self._in_memory(again)
            return
        self._lasting = (
            f"The saved conversations file {self.path.name} was removed or emptied while the app ran: "
            "a new one was started."
        )

    def _set_aside(self, exc: Exception) -> None:
        """Move a damaged file (and its -wal, -shm) aside and start a new one; say so in `problem`."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{datetime.now():%Y%m%d-%H%M%S}")
        try:
            for suffix in ("", "-wal", "-shm"):
                part = self.path.with_name(self.path.name + suffix)
                if part.exists() or part.is_symlink():
                    part.replace(aside.with_name(aside.name + suffix))
            self._open()
        except (OSError, sqlite3.Error) as again:
            self._in_memory(again)
            return
        self._lasting = (
            f"The saved conversations in {self.path.name} could not be read ({_reason(exc)}); the file was set "
            f"aside as {aside.name} and a new one started."
        )

    def _in_memory(self, exc: Exception) -> None:
        """Keep conversations in memory only (until the server stops), saying why in `problem`."""
        uri = f"file:archive-qa-{id(self)}?mode=memory&cache=shared"
        self._memory = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._open()
        self._lasting = (
            f"Conversations cannot be saved in {self.path.name} ({_reason(exc)}); they are kept only until the "
            "server stops."
        )

    def _run(self, work: Callable[[sqlite3.Connection], object], *, write: bool = False, busy: object = None):
        """Run `work` on a connection (a write in one short immediate transaction, after any writes left waiting).
        A file found damaged, removed or replaced is recovered (`_recover`, then memory) and the work done again;
        a file another program holds past the busy timeout gives `busy` (a write waits, in order, for the next
        write), and `problem` says so until it is free."""
        for attempt in range(3):
            generation = self._generation
            try:
                result = self._write(work) if write else self._once(work, False)
                if not self._pending:
                    self._busy = None
                return result
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) in _BUSY or "locked" in str(exc):
                    return self._wait(work, write, busy)
                self._after_failure(exc, generation, attempt)
            except (sqlite3.Error, OSError) as exc:
                self._after_failure(exc, generation, attempt)
        raise AssertionError("unreachable")

    def _after_failure(self, exc: Exception, generation: int, attempt: int) -> None:
        """Recover from a failed call, once for all the threads that saw it fail; the third failure is raised."""
        with self._guard:
            if self._generation != generation:  # another call recovered meanwhile: try again
                return
            if attempt == 0:
                self._recover(exc)
            elif self._memory is None:
                self._in_memory(exc)
            else:
                raise exc
            self._generation += 1

    def _write(self, work: Callable[[sqlite3.Connection], object]):
        with self._guard:
            self._flush()
            return self._once(work, True)

    def _once(self, work: Callable[[sqlite3.Connection], object], write: bool):
        with self._connection() as db:
            if not write:
                return work(db)
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    def _flush(self) -> None:
        """Do the writes left waiting while the file was busy, in order (the caller holds the guard)."""
        while self._pending:
            self._once(self._pending[0], True)
            self._pending.pop(0)

    def _wait(self, work: Callable[[sqlite3.Connection], object], write: bool, busy: object):
        """The file is held by another program: keep a write for later, and say so."""
        with self._guard:
            if write:
                self._pending.append(work)
        self._busy = (
            f"The saved conversations file {self.path.name} is held by another program: what you ask is kept "
            "and saved when it is free."
        )
        return busy

    # ------------------------------------------------------------------------------------------ conversations

    def create(self, title: str, owner: str = "") -> str:
        """A new, empty conversation; its id."""
        cid, stamp = new_id(), now()
        sql = "INSERT INTO conversations (id, title, owner, created, updated) VALUES (?, ?, ?, ?, ?)"
        self._run(lambda db: db.execute(sql, (cid, title_of(title) or "Conversation", owner, stamp, stamp)), write=True)
        return cid

    def exists(self, cid: str) -> bool:
        if not valid_id(cid):
            return False
        found = self._run(lambda db: db.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone())
        return found is not None

    def title(self, cid: str) -> str | None:
        row = self._run(lambda db: db.execute("SELECT title FROM conversations WHERE id = ?", (cid,)).fetchone())
        return row[0] if row else None

    def add_turn(self, cid: str, data: str) -> bool:
        """Append a turn (its JSON, `encode_turn`) to a conversation; False when there is no such conversation
        (deleted meanwhile, or lost with a damaged file)."""

        def add(db: sqlite3.Connection) -> bool:
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO turns (conversation, position, data) SELECT ?, COALESCE(MAX(position) + 1, 0), ? "
                "FROM turns WHERE conversation = ?",
                (cid, data, cid),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now(), cid))
            return True

        return bool(self._run(add, write=True, busy=True))

    def replace_last_turn(self, cid: str, data: str) -> None:
        """Put a turn in the place of the conversation's last one (a question asked again)."""
        sql = (
            "UPDATE turns SET data = ? WHERE conversation = ? "
            "AND position = (SELECT MAX(position) FROM turns WHERE conversation = ?)"
        )
        self._run(lambda db: db.execute(sql, (data, cid, cid)), write=True)

    def turns(self, cid: str) -> list[str] | None:
        """The conversation's turns (JSON, in order), or None when there is no such conversation."""
        if not self.exists(cid):
            return None
        sql = "SELECT data FROM turns WHERE conversation = ? ORDER BY position"
        return [row[0] for row in self._run(lambda db: db.execute(sql, (cid,)).fetchall(), busy=[])]

    def conversations(self, owner: str | None = None, limit: int = LIST_LIMIT) -> list[Conversation]:
        """The most recently used conversations first: everyone's (`owner` None) or one owner's."""
        where, args = ("", ()) if owner is None else ("WHERE owner = ?", (owner,))
        sql = (
            "SELECT id, title, updated, (SELECT COUNT(*) FROM turns WHERE conversation = id) "
            f"FROM conversations {where} ORDER BY updated DESC, rowid DESC LIMIT ?"
        )
        rows = self._run(lambda db: db.execute(sql, (*args, limit)).fetchall(), busy=[])
        return [Conversation(*row) for row in rows]

    def rename(self, cid: str, title: str) -> None:
        title = " ".join(title.split())[:200]
        sql = "UPDATE conversations SET title = ? WHERE id = ?"
        if title:
            self._run(lambda db: db.execute(sql, (title, cid)), write=True)

    def restore(self, cid: str, title: str, owner: str, turns: list[str]) -> None:
        """Put a deleted conversation back under its own id (its link works again), with its turns in order."""

        def put(db: sqlite3.Connection) -> None:
            stamp = now()
            db.execute("INSERT OR IGNORE INTO conversations (id, title, owner, created, updated) "
                       "VALUES (?, ?, ?, ?, ?)", (cid, title, owner, stamp, stamp))
            db.executemany("INSERT OR IGNORE INTO turns (conversation, position, data) VALUES (?, ?, ?)",
                           [(cid, n, data) for n, data in enumerate(turns)])

        if valid_id(cid):
            self._run(put, write=True)

    def owner(self, cid: str) -> str:
        row = self._run(lambda db: db.execute("SELECT owner FROM conversations WHERE id = ?", (cid,)).fetchone())
        return row[0] if row else ""

    def delete(self, cid: str) -> None:
        self._run(lambda db: db.execute("DELETE FROM conversations WHERE id = ?", (cid,)), write=True)


_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _reason(exc: Exception) -> str:
    """Why a file failed, in words without its path."""
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc).split(":")[0] or type(exc).__name__


def _damaged(detail: str) -> sqlite3.DatabaseError:
    exc = sqlite3.DatabaseError(f"integrity check: {detail}")
    exc.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
    return exc


# ---------------------------------------------------------------------------------------------- who sees what


@dataclass(frozen=True, slots=True)
class Access:
    """What the conversation list shows: every conversation (`owner` None), one owner's, or nothing at all."""

    listed: bool
    owner: str | None = None
    sign_in: bool = False  # offer to sign in (Streamlit's authentication is configured, no one signed in)


def on_loopback(address: str | None) -> bool:
    """Whether a server address is on this machine only (127.0.0.0/8, ::1, localhost); no address means every
    interface, so not."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def access(address: str | None, auth_configured: bool, user: str | None) -> Access:
    """The privacy rule: on loopback the list shows every conversation (one user); beyond it, only the signed-in
    user's where sign-in is configured, and otherwise no list at all (a link opens only its own conversation)."""
    if on_loopback(address):
        return Access(listed=True)
    if auth_configured and user:
        return Access(listed=True, owner=user)
    return Access(listed=False, sign_in=auth_configured)


# ---------------------------------------------------------------------------------------------- turns as JSON


def encode_turn(answer: Answer, filters: Filters, k: int, mode: str, asked_at: str | None = None) -> str:
    """A turn as JSON; records are kept without their full text (read back from the index when shown)."""
    data = dataclasses.asdict(answer)
    for source in (*data["sources"], *data["related"]):
        source["record"].pop("full_text", None)
        for name in ("date_start", "date_end"):
            source["record"].pop(name, None)
    turn = {"answer": data, "filters": dataclasses.asdict(filters), "k": k, "mode": mode, "asked_at": asked_at or now()}
    turn["kind"] = answer.kind  # "quoted" or "written" (qa/answer/written.py): the kind of answer shown
    return json.dumps(turn, ensure_ascii=False)


def decode_turn(text: str, full_text: Callable[[str], str] | None = None) -> dict:
    """A turn from `encode_turn`: {"answer", "filters", "k", "mode", "asked_at"}. `full_text(record_id)` gives a
    record's full text back (from the index), when there is one."""
    data = json.loads(text)
    answer = _build(Answer, data["answer"])
    if full_text:
        for group in (answer.sources, answer.related):
            group[:] = [dataclasses.replace(s, record=_with_text(s.record, full_text)) for s in group]
    return {
        "answer": answer,
        "filters": _build(Filters, data.get("filters") or {}),
        "k": int(data.get("k", 5)),
        "mode": str(data.get("mode", answer.mode)),
        "asked_at": data.get("asked_at"),
        "kind": str(data.get("kind", "quoted")),
    }


def readable_turns(texts: list[str], full_text: Callable[[str], str] | None = None) -> list[dict]:
    """The turns (`decode_turn`) of a saved conversation, leaving out any written by a version that differs too much."""
    turns = []
    for text in texts:
        try:
            turns.append(decode_turn(text, full_text))
        except (ValueError, KeyError, TypeError, ArchiveQAError):
            continue
    return turns


def _with_text(record: Record, full_text: Callable[[str], str]) -> Record:
    text = full_text(record.id)
    return dataclasses.replace(record, full_text=text) if text else record


def _build(cls: type, data: dict):
    """An instance of a dataclass from its `asdict` form: unknown keys left out, nested dataclasses, lists of
    them, tuples and records (`Record.from_dict`) rebuilt from their types."""
    if cls is Record:
        return Record.from_dict(data)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.init}
    return cls(**{name: _value(hints[name], value) for name, value in data.items() if name in known})


def _value(hint, value):
    """A JSON value as the type hint wants it."""
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _value(inner[0], value) if len(inner) == 1 else value
    if is_dataclass(hint) and isinstance(value, dict):
        return _build(hint, value)
    if origin is list and args and isinstance(value, list):
        return [_value(args[0], v) for v in value]
    if origin is tuple and isinstance(value, list):
        return tuple(_value(args[0], v) for v in value) if args else tuple(value)
    return value
