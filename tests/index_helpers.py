"""Helpers shared by the index tests (test_build, test_index, test_manifest): reading a build, running commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

from archive_qa.cli import main
from qa.config import Config
from qa.index.manifest import BUILDS, CURRENT, MANIFEST, SEGMENTS
from qa.index.search import ArchiveIndex


class Factory:
    """An embedder factory that hands out the given embedder and records each model it is asked to load."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.loads: list[str] = []

    def __call__(self, config: Config):
        self.loads.append(config.model)
        return self.embedder


def never(config: Config):
    """An embedder factory for builds that must encode nothing."""
    raise AssertionError(f"model {config.model!r} loaded although nothing needed encoding")


def builds(config: Config) -> list[Path]:
    return sorted((config.index_dir / BUILDS).iterdir())


def manifest_path(config: Config) -> Path:
    return config.index_dir / CURRENT / MANIFEST


def read_manifest(config: Config) -> dict:
    return json.loads(manifest_path(config).read_text(encoding="utf-8"))


def edit_manifest(config: Config, **changes) -> None:
    """Change (or, for None, remove) fields of the current build's manifest."""
    manifest = read_manifest(config)
    for key, value in changes.items():
        if value is None:
            del manifest[key]
        else:
            manifest[key] = value
    manifest_path(config).write_text(json.dumps(manifest), encoding="utf-8")


def listing(config: Config) -> Path:
    """The shipped corpus's one listing page."""
    return next(config.corpus.rglob("*.txt"))


def run(capfd, *argv: str) -> tuple[int, str, str]:
    """Run `archive-qa` with these arguments: status, standard output and standard error."""
    status = main(list(argv))
    out, err = capfd.readouterr()
    return status, out, err


def where(config: Config) -> list[str]:
    """The flags that point a command at this configuration's corpus, index and model."""
    return ["--corpus", str(config.corpus), "--index", str(config.index_dir), "--model", config.model]


def assert_one_line(status: int, out: str, err: str, *parts: str) -> None:
    """A user's error: exit status 2, nothing on standard output, one line on standard error holding each part
    (after the progress bar, when the error came while encoding)."""
    assert status == 2 and out == "", (status, out, err)
    *before, line, end = err.split("\n")
    assert end == "" and line.startswith("archive-qa: ") and "Traceback" not in err, err
    assert all("embedding" in b for b in before), err
    for part in parts:
        assert part in line, err


def current(config: Config) -> Path:
    """The current build's folder."""
    return (config.index_dir / CURRENT).resolve()


def touch(path: Path) -> None:
    """A new modification time, the same bytes."""
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))


def truncate(path: Path) -> None:
    """Cut a file to half its size."""
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def search(index: ArchiveIndex, text: str, embedder=None, k: int = 10, mode: str = "hybrid", date_filter=None):
    """The index's hits for a question in one call."""
    return index.search(index.query(text, embedder, mode), k, mode, date_filter)


def segment_path(config: Config, file: str, which: int = 0) -> Path:
    """A file of one of the current build's segments (the main one by default)."""
    name = read_manifest(config)["segments"][which]["name"]
    return config.index_dir / CURRENT / SEGMENTS / name / file
