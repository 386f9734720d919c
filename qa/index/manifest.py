"""The index's on-disk format: the names of a build's files and its manifest, read, written and checked here only."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from embeddings.model import missing_folder, same_model
from embeddings.vectors import DTYPES, KINDS, SEGMENT_FILE, segment_kind
from qa.corpus import corpus_files
from qa.errors import IndexProblem
from qa.index.lexical import Postings
from qa.shared import file_digest

FORMAT_VERSION = 3
CURRENT = "current"
BUILDS = "builds"
MARKER = ".archive-qa-index"  # in an index folder: the tool made it, so it may remove builds there
BUILD_MARKER = ".archive-qa-build"  # in a build folder: written first, so a killed build can be told apart
MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
OFFSETS = "record_offsets.npy"
KEYS = "keys.npy"
DATES = "dates.npy"
READ_FILES = "read.json"  # each corpus file's records as read: its range in READ_INDEX (qa/index/reuse.py)
READ_INDEX = "read.npy"
READ_EXTRA = "read.jsonl"
READ_LINES = "read_lines.npy"  # the line digest of each record of READ_INDEX read from a JSON Lines file
SEGMENTS = "segments"
_SEGMENT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
VERIFY_LIMIT = 256 * 1024 * 1024  # files up to this size are checked by digest at load, larger ones by size
BLOCK = 1024 * 1024  # a larger file's manifest entry has the digest of each block of this size: checked as read
BLOCK_DIGEST = 16  # hex digits of a block's sha256 kept
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
FORCE = "archive-qa index --force"


def segment_files(name: str) -> list[str]:
    """The files of one segment, which a build that keeps the segment links rather than writes again."""
    return [f"{SEGMENTS}/{name}/{SEGMENT_FILE}"] + [f"{SEGMENTS}/{name}/{file}" for file in Postings.FILES]


def positions_file(name: str) -> str:
    """A segment's row map in one build: each row's record position, -1 for a deleted row."""
    return f"{SEGMENTS}/{name}.positions.npy"


def df_file(name: str) -> str:
    """A segment's terms' document frequencies over the build's live rows."""
    return f"{SEGMENTS}/{name}.df.npy"


_STAMP = ("size", "mtime_ns", "ctime_ns")


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def same_stamp(entry: dict | None, stamp: dict) -> bool:
    """Whether a recorded file's size, modification and change times are these (the file taken as unchanged)."""
    return entry is not None and all(entry.get(k) == stamp[k] for k in _STAMP)


def corpus_state(corpus: Path, recorded: dict[str, dict] | None = None) -> dict[str, dict]:
    """Each corpus file (relative path) with its size, modification and change times, and content digest.

    A file whose times and size are as `recorded` (an earlier state) keeps the digest recorded then; any other
    is read and digested.
    """
    recorded = recorded or {}
    state = {}
    for path in corpus_files([corpus])[0]:
        name, stamp = str(path.relative_to(corpus)), _stamp(path)
        old = recorded.get(name)
        state[name] = {**stamp, "sha256": old["sha256"] if same_stamp(old, stamp) else file_digest(path)}
    return state


def same_state(recorded: dict[str, dict], state: dict[str, dict]) -> bool:
    """Whether two corpus states name the same files with the same times, sizes and digests."""
    keys = (*_STAMP, "sha256")
    return recorded.keys() == state.keys() and all(
        {k: recorded[n].get(k) for k in keys} == {k: state[n][k] for k in keys} for n in state
    )


def corpus_changes(corpus: Path, recorded: dict[str, dict]) -> list[str]:
    """Files added, removed or changed since the state was recorded.

    A file whose size, modification time and change time are all as recorded is taken as unchanged (`touch -r`
    can restore a modification time, not a change time); any other is compared by digest.
    """
    files, _ = corpus_files([corpus])
    now = {str(p.relative_to(corpus)): p for p in files}
    changes = [f"removed {name}" for name in recorded if name not in now]
    for name, path in now.items():
        old = recorded.get(name)
        if old is None:
            changes.append(f"added {name}")
        elif not same_stamp(old, _stamp(path)) and file_digest(path) != old.get("sha256"):
            changes.append(f"changed {name}")
    return changes


def describe_changes(changes: list[str]) -> str:
    """The one line that says the corpus changed since a build, naming the first changes."""
    more = "…" if len(changes) > 3 else ""
    return f"the corpus changed since the index was built ({', '.join(changes[:3])}{more})"


def list_names(folder: Path) -> list[str]:
    """The files of a build that its manifest lists: all but the manifest and the build marker."""
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name not in (MANIFEST, BUILD_MARKER)
    )


def file_entry(path: Path) -> dict:
    """A file's manifest entry: its size and sha256, and for a file larger than VERIFY_LIMIT each BLOCK's digest
    (what reading it checks, block by block: qa/index/store.py)."""
    whole, blocks, size = hashlib.sha256(), [], 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            whole.update(block)
            blocks.append(block_digest(block))
            size += len(block)
    entry = {"size": size, "sha256": whole.hexdigest()}
    return {**entry, "blocks": blocks} if size > VERIFY_LIMIT else entry


def block_digest(block: bytes) -> str:
    """The digest of one BLOCK of a large file, as its manifest entry lists it."""
    return hashlib.sha256(block).hexdigest()[:BLOCK_DIGEST]


def list_files(folder: Path, known: dict[str, dict] | None = None) -> dict[str, dict]:
    """Every file of a build with its size and digest, for the manifest; a file in `known` (one linked from
    a checked build, or digested by the process that wrote it) keeps its entry there when its size is the same."""
    known = known or {}
    files = {}
    for name in list_names(folder):
        size = (folder / name).stat().st_size
        entry = known.get(name)
        files[name] = entry if entry and entry["size"] == size else file_entry(folder / name)
    return files


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes, up to `limit` (OSError for anything else: a device, a FIFO, a folder, a larger
    file); never blocks on a FIFO, never reads a device without end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = b""
        while len(data) <= limit and (chunk := os.read(fd, limit + 1 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data


@dataclass(slots=True)
class Manifest:
    """What a build holds and how it was made; its files are checked against it before any is used."""

    model: str
    dim: int
    count: int
    kind: str
    aliases: str
    corpus: str
    corpus_files: dict[str, dict]
    built_at: str
    segments: list[dict] = field(default_factory=list)  # name, kind and rows of each segment, the main one first
    vector_dtype: str = "float32"
    vectors: str = ""  # what made the vectors: the model, and its int8 recipe when quantised (vector_model)
    files: dict[str, dict] = field(default_factory=dict)
    build_seconds: float = 0.0
    format_version: int = FORMAT_VERSION

    def write(self, folder: Path, known: dict[str, dict] | None = None) -> None:
        """Write manifest.json, listing every other file of the build with its size and digest (see list_files)."""
        self.files = list_files(folder, known)
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The build's manifest, well formed, or IndexProblem naming the fix."""
        path = folder / MANIFEST
        damaged = IndexProblem(f"{path} is missing or damaged", FORCE)
        try:
            raw = json.loads(read_bounded(path, MAX_MANIFEST_BYTES).decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            raise damaged from None
        if not isinstance(raw, dict):
            raise damaged
        version = raw.get("format_version")
        if not _whole(version):
            raise IndexProblem(f"{path} is damaged (its format_version {_short(version)} is not a whole number)", FORCE)
        if version != FORMAT_VERSION:
            raise IndexProblem(f"{path} has format {version}; this version reads format {FORMAT_VERSION}", FORCE)
        if not _well_formed(raw):
            raise damaged
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})

    def check(self, folder: Path, model: str, *, whole: bool = False) -> None:
        """Refuse a build of another model, or one with a file missing, truncated or changed since it was written:
        files up to VERIFY_LIMIT by digest, larger ones by size (their blocks are checked as they are read), or
        every file by digest when `whole` (a build, which repairs what a reader refused)."""
        if not same_model(self.model, model):
            if missing_folder(model):  # rebuilding with it cannot work: say which model can
                raise IndexProblem(
                    f"the index was built with model {self.model!r}; the configured model {model!r} is a folder "
                    f"that does not exist: choose {self.model!r} (--model or ARCHIVE_QA_MODEL) or an existing folder"
                )
            raise IndexProblem(
                f"the index was built with model {self.model!r}, not {model!r} (choose that model, or rebuild)",
                f"archive-qa index --model {model}",
            )
        unlisted = sorted(set(list_names(folder)) - set(self.files))
        if unlisted:
            raise IndexProblem(f"index file {folder / unlisted[0]} is not in the build's manifest", FORCE)
        for name, expected in self.files.items():
            path = folder / name
            size = path.stat().st_size if path.is_file() else -1
            digest = (size <= VERIFY_LIMIT or whole) and size == expected["size"]
            if size != expected["size"] or (digest and file_digest(path) != expected["sha256"]):
                raise IndexProblem(f"index file {path} is truncated or damaged", FORCE)


def _whole(value: object, least: int | None = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (least is None or value >= least)


def _entry(value: object, timed: bool = False) -> bool:
    return (
        isinstance(value, dict)
        and _whole(value.get("size"))
        and isinstance(value.get("sha256"), str)
        and (not timed or _whole(value.get("mtime_ns"), None))
        and (timed or _blocks(value.get("blocks"), value["size"]))
    )


def _blocks(blocks: object, size: int) -> bool:
    """Whether a file entry's block digests, if it has them (a build made by an older version has none), are
    one a block."""
    return blocks is None or (
        isinstance(blocks, list)
        and len(blocks) == -(-size // BLOCK)
        and all(isinstance(b, str) and len(b) == BLOCK_DIGEST for b in blocks)
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _inside(name: str) -> bool:
    """Whether a listed file name stays inside its build folder."""
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _well_formed(raw: dict) -> bool:
    """Whether a manifest has every field, of its type, and lists every file that loading reads."""
    files, corpus = raw.get("files"), raw.get("corpus_files")
    if not (
        _whole(raw.get("count"))
        and _whole(raw.get("dim"), 1)
        and raw.get("kind") in KINDS
        and isinstance(raw.get("model"), str)
        and isinstance(raw.get("vectors", ""), str)
        and isinstance(raw.get("aliases"), str)
        and isinstance(raw.get("corpus"), str)
        and isinstance(raw.get("built_at"), str)
        and isinstance(files, dict)
        and isinstance(corpus, dict)
    ):
        return False
    segments = raw.get("segments")
    if not (isinstance(segments, list) and raw.get("vector_dtype") in DTYPES and all(map(_segment, segments))):
        return False
    if segments and segments[0]["kind"] != segment_kind(raw["kind"], segments[0]["rows"]):
        return False
    needed = {RECORDS, OFFSETS, KEYS, DATES, READ_FILES, READ_INDEX, READ_EXTRA}
    for segment in segments:
        needed |= {*segment_files(segment["name"]), positions_file(segment["name"]), df_file(segment["name"])}
    return (
        needed <= files.keys()
        and len({s["name"] for s in segments}) == len(segments)
        and all(_inside(name) and _entry(f) for name, f in files.items())
        and all(_entry(f, timed=True) for f in corpus.values())
    )


def _segment(entry: object) -> bool:
    """Whether a manifest's segment entry is well formed: a plain name, a kind and a whole number of rows."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and bool(_SEGMENT_NAME.fullmatch(entry["name"]))
        and entry.get("kind") in KINDS
        and _whole(entry.get("rows"))
    )
