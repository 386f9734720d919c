"""Who wrote to whom, read from the archive's title conventions.

The rules, tried in order on a title (the first that fits wins):

- `Memorandum of Conversation between A and B[, C]` / `Conversation between A and B` / `Meeting between …`
  → participants A, B (and C);
- `… from A to B` (`Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]`, `Letter from A to B`,
  `Telegram from Beijing to Moscow`) → author A, recipient B;
- `Kind, A to B` (`Cable, Stalin to Mao Zedong [via Kovalev]`, `Report, Kovalev to Stalin, Report on …`)
  → author A, recipient B, and C as intermediary when B ends in `[via C]`.

A name followed by another in brackets (`Filippov [Stalin]`) is the code name of the bracketed person, who
is the one recorded. Lists of names split on commas and "and". Nothing else is guessed: a title that fits
no rule has no correspondents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[^,\[\]]+?(?:\s*\[[^\]]+\])?"
_LIST_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
_BETWEEN = re.compile(r"\b(?:conversation|meeting|talks?|discussion)s?\s+between\s+(.+?)\s*(?:\(|$)", re.I)
_FROM_TO = re.compile(rf"\bfrom\s+({_NAME})\s+to\s+({_NAME}(?:\s*\[via\s+[^\]]+\])?)(?:\s*,|\s*\(|\s*$)", re.I)
_KIND_A_TO_B = re.compile(rf"^[^,]{{1,60}},\s+({_NAME})\s+to\s+({_NAME}(?:\s*\[via\s+[^\]]+\])?)(?:\s*,|\s*$)", re.I)
_VIA = re.compile(r"\s*\[via\s+([^\]]+)\]\s*$", re.I)
_CODE_NAME = re.compile(r"^(.+?)\s*\[([^\]]+)\]$")
_TRAILING = re.compile(r"[\s.;:]+$")


@dataclass(frozen=True, slots=True)
class Correspondents:
    """The people (or places and bodies) a document's title names as its authors, recipients and others."""

    authors: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    intermediaries: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()

    @property
    def everyone(self) -> tuple[str, ...]:
        return self.authors + self.recipients + self.intermediaries + self.participants

    def __bool__(self) -> bool:
        return bool(self.everyone)


def read_title(title: str) -> Correspondents:
    """The correspondents a title names, by the rules above (empty when no rule fits)."""
    text = " ".join(title.split())
    if m := _BETWEEN.search(text):
        return Correspondents(participants=_names(m.group(1)))
    m = _FROM_TO.search(text) or _KIND_A_TO_B.match(text)
    if not m:
        return Correspondents()
    recipient, via = _split_via(m.group(2))
    return Correspondents(authors=_names(m.group(1)), recipients=_names(recipient), intermediaries=_names(via))


def _split_via(text: str) -> tuple[str, str]:
    m = _VIA.search(text)
    return (text[: m.start()], m.group(1)) if m else (text, "")


def _names(text: str) -> tuple[str, ...]:
    """The names of a list ("A and B", "A, B and C"), each as the person it stands for."""
    out = []
    for part in _LIST_SPLIT.split(text.strip()):
        name = _person(_TRAILING.sub("", part.strip()))
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _person(name: str) -> str:
    """`Filippov [Stalin]` is Stalin: a bracketed name is the person behind a code name."""
    m = _CODE_NAME.match(name)
    return m.group(2).strip() if m else name
