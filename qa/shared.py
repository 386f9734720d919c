"""Small helpers every layer shares: what a word is, a summary's sentences, a file's digest, a flush to disk."""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

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
