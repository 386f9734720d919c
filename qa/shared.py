"""Small helpers every layer shares: what a word is, a summary's sentences, a file's digest, a flush to disk,
lock files, and processes that end with their parent."""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

WORD = re.compile(r"[^\W_]+")
_ABBREVIATIONS = frozenset(
    "no nos mr mrs ms dr st vs etc e.g i.e gen col lt sgt capt adm gov sen rep jr sr co corp inc ltd dept vol".split()
)
_BOUNDARY = re.compile(r"([.!?][\"'”’)\]]*)\s+(?=\S)")


def words(text: str) -> list[str]:
    """The words of a text, in order, as written: runs of letters or digits, in any script."""
    return WORD.findall(text)


@lru_cache(maxsize=16384)
def split_sentences(summary: str) -> tuple[str, ...]:
    """A summary's sentences, verbatim; a full stop after an abbreviation or an initial does not end one."""
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(summary):
        # The word before the boundary, found by looking back from it (not by re-splitting the sentence so far,
        # which made a summary of many initials quadratic).
        word_start = max(summary.rfind(" ", start, m.start()), summary.rfind("\n", start, m.start()), start - 1)
        last = summary[word_start + 1 : m.start()].strip().lower().rstrip(".")
        if m.group(1) == "." and (last in _ABBREVIATIONS or len(last) == 1 or re.fullmatch(r"(\w\.)+\w?", last)):
            continue
        sentences.append(summary[start : m.end(1)].strip())
        start = m.end()
    tail = summary[start:].strip()
    if tail:
        sentences.append(tail)
    return tuple(sentences)


def file_digest(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush one file or folder to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------- locks and processes

_HELD_LOCKS: set[int] = set()  # lock files this process holds: closed in every process forked from it


def _drop_locks() -> None:
    """In a forked child: close the parent's lock files, so a lock is held by the process that took it alone."""
    for fd in _HELD_LOCKS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_locks)


def open_lock(path: Path) -> int:
    """A lock file opened for `fcntl.flock`: created if absent, never truncated, never through a link (OSError
    ELOOP), a regular file only (OSError otherwise); not inherited by forked or started processes."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    fd = os.open(path, flags, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    _HELD_LOCKS.add(fd)
    return fd


def close_lock(fd: int) -> None:
    """Close a lock file opened by `open_lock` (which releases its lock)."""
    _HELD_LOCKS.discard(fd)
    os.close(fd)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Make this forked process end when its parent `parent` does: by the kernel on Linux (PR_SET_PDEATHSIG),
    elsewhere by a thread watching the parent."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the signal was asked for
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def forked_pool(workers: int, initializer: Callable[..., None] | None = None, args: tuple = ()) -> ProcessPoolExecutor:
    """A pool of forked worker processes that end when this process ends, however it ends (kill -9 included),
    and hold none of its lock files."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(workers, context, _start_pooled, (os.getpid(), initializer, args))


def _start_pooled(parent: int, initializer: Callable[..., None] | None, args: tuple) -> None:
    die_with_parent(parent)
    if initializer is not None:
        initializer(*args)
