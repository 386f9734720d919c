"""Finding the corpus files under the files and folders given, and naming each file's collection."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qa.corpus.raw import Problem, display_path

FORMATS = (".txt", ".html", ".htm", ".jsonl", ".csv")
SETTINGS_FILE = "collection.toml"  # a collection's settings (qa.chat.collection.collection_settings), not records


@dataclass(slots=True)
class Scan:
    """What a search for corpus files found, and every path it looked at in order (to sort problems by)."""

    files: list[Path] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    order: dict[str, int] = field(default_factory=dict)

    def add(self, path: Path, why: str | None, *, warn: bool = False) -> None:
        self.order.setdefault(display_path(path), len(self.order))
        if why is None:
            self.files.append(path)
        else:
            (self.warnings if warn else self.errors).append(Problem(display_path(path), why))


def scan(paths: Iterable[Path]) -> Scan:
    """The readable corpus files under the given files or folders, the first of each file only."""
    found = Scan()
    for path in map(Path, paths):
        try:
            is_folder = path.is_dir()
        except OSError as exc:  # e.g. a name longer than the system allows
            found.add(path, f"cannot read ({exc.strerror or exc})")
            continue
        if is_folder:
            _scan_folder(path, found)
        else:
            _scan_file(path, found)
    unique = {os.path.abspath(p): p for p in reversed(found.files)}  # the first of each file wins
    found.files = [p for p in found.files if unique.pop(os.path.abspath(p), None) is not None]
    return found


def _scan_folder(folder: Path, found: Scan) -> None:
    """Every file below a folder, sorted; linked folders are followed, each real folder once (no loops)."""
    entries: list[Path] = []
    _walk(folder, entries, found, seen=set())
    for path in sorted(entries):
        if path.stem.lower() == "readme" or path.name == SETTINGS_FILE:
            continue
        if path.suffix.lower() not in FORMATS:
            found.add(path, f"not read: unknown format {path.suffix!r} (use {', '.join(FORMATS)})", warn=True)
        else:
            found.add(path, _unreadable(path))


def _walk(folder: Path, entries: list[Path], found: Scan, seen: set[tuple[int, int]]) -> None:
    try:
        info = folder.stat()
        with os.scandir(folder) as listing:
            children = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        found.add(folder, f"cannot read folder ({exc.strerror or exc})")
        return
    if (info.st_dev, info.st_ino) in seen:
        why = "not read again: this linked folder was already read (a link loop or a second link)"
        found.add(folder, why, warn=True)
        return
    seen.add((info.st_dev, info.st_ino))
    for entry in children:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        try:
            is_folder = entry.is_dir()  # follows links
        except OSError:
            is_folder = False
        if is_folder:
            _walk(path, entries, found, seen)
        else:
            entries.append(path)


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _scan_file(path: Path, found: Scan) -> None:
    if not path.exists() and not path.is_symlink():
        found.add(path, "no such file or folder")
    elif path.suffix.lower() not in FORMATS:
        found.add(path, f"unknown format {path.suffix!r} (use {', '.join(FORMATS)})")
    else:
        found.add(path, _unreadable(path))


def _unreadable(path: Path) -> str | None:
    """Why a corpus file cannot be read, found without opening it (a FIFO would block), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink() and isinstance(exc, FileNotFoundError):
            return f"cannot read file: broken link to {display_path(os.readlink(path))}"
        return f"cannot read file ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return "cannot read file: not a regular file"
    return None


def collection_name(path: Path, root: Path | None) -> str:
    """A file's collection: its folder below the corpus root, else the file's own name (as `display_path` shows it)."""
    if root is not None:
        rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root)))
        if len(rel.parts) > 1 and rel.parts[0] != "..":
            return display_path(rel.parts[0])
    return display_path(path.stem)


def root_of(path: Path, roots: list[Path], root: Path | str | None) -> Path | None:
    """The folder a file's collection is counted from: the corpus root when it lies under it, else a folder given."""
    here = os.path.abspath(path)
    folders = ([Path(root)] if root is not None else []) + [r for r in roots if _is_folder(r)]
    return next((r for r in folders if here.startswith(os.path.join(os.path.abspath(r), ""))), None)
