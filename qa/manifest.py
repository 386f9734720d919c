"""The index's on-disk format: the names of a build's files and its manifest, read, written and checked here only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from embeddings.files import file_digest
from embeddings.model import missing_folder, same_model
from embeddings.vectors import HNSW_FILE
from qa.corpus import corpus_files
from qa.errors import IndexProblem

FORMAT_VERSION = 2
CURRENT = "current"
BUILDS = "builds"
MARKER = ".archive-qa-index"  # in an index folder: the tool made it, so it may remove builds there
BUILD_MARKER = ".archive-qa-build"  # in a build folder: written first, so a killed build can be told apart
MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
OFFSETS = "record_offsets.npy"
VECTORS = "vectors.npy"
KEYS = "keys.npy"
DATES = "dates.npy"
LEXICAL = "bm25"
KINDS = ("flat", "hnsw")
VERIFY_LIMIT = 256 * 1024 * 1024  # files up to this size are checked by digest at load, larger ones by size
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
FORCE = "archive-qa index --force"


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def corpus_state(corpus: Path) -> dict[str, dict]:
    """Each corpus file (relative path) with its size, modification and change times, and content digest."""
    files, _ = corpus_files([corpus])
    return {str(p.relative_to(corpus)): {**_stamp(p), "sha256": file_digest(p)} for p in files}


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
        elif {k: old.get(k) for k in ("size", "mtime_ns", "ctime_ns")} != _stamp(path) and file_digest(path) != old.get(
            "sha256"
        ):
            changes.append(f"changed {name}")
    return changes


def describe_changes(changes: list[str]) -> str:
    """The one line that says the corpus changed since a build, naming the first changes."""
    more = "…" if len(changes) > 3 else ""
    return f"the corpus changed since the index was built ({', '.join(changes[:3])}{more})"


def list_names(folder: Path) -> list[str]:
    """The files of a build that its manifest lists: all but the manifest and the build marker."""
    return [
        str(p.relative_to(folder))
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, BUILD_MARKER)
    ]


def list_files(folder: Path) -> dict[str, dict]:
    """Every file of a build with its size and digest, for the manifest."""
    return {
        name: {"size": (folder / name).stat().st_size, "sha256": file_digest(folder / name)}
        for name in list_names(folder)
    }


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
    files: dict[str, dict] = field(default_factory=dict)
    build_seconds: float = 0.0
    format_version: int = FORMAT_VERSION

    def write(self, folder: Path) -> None:
        """Write manifest.json, listing every other file of the build with its size and digest."""
        self.files = list_files(folder)
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The build's manifest, well formed, or IndexProblem naming the fix."""
        path = folder / MANIFEST
        damaged = IndexProblem(f"{path} is missing or damaged", FORCE)
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise damaged
            raw = json.loads(path.read_text(encoding="utf-8"))
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

    def check(self, folder: Path, model: str) -> None:
        """Refuse a build of another model, or one with a file missing, truncated or changed since it was written."""
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
            if size != expected["size"] or (size <= VERIFY_LIMIT and file_digest(path) != expected["sha256"]):
                raise IndexProblem(f"index file {path} is truncated or damaged", FORCE)


def _whole(value: object, least: int | None = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (least is None or value >= least)


def _entry(value: object, timed: bool = False) -> bool:
    return (
        isinstance(value, dict)
        and _whole(value.get("size"))
        and isinstance(value.get("sha256"), str)
        and (not timed or _whole(value.get("mtime_ns"), None))
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
        and isinstance(raw.get("aliases"), str)
        and isinstance(files, dict)
        and isinstance(corpus, dict)
    ):
        return False
    needed = {RECORDS, OFFSETS, VECTORS, KEYS, DATES} | ({HNSW_FILE} if raw["kind"] == "hnsw" else set())
    return (
        needed <= files.keys()
        and any(name.startswith(f"{LEXICAL}/") for name in files)
        and all(_inside(name) and _entry(f) for name, f in files.items())
        and all(_entry(f, timed=True) for f in corpus.values())
    )
