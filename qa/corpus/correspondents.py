"""Who wrote to whom, read from the archive's title conventions.

The rules, tried in order on a title (the first that fits wins):

- `Memorandum of Conversation between A and B[, C]`, `Record of a Meeting between …`, `Conversation between …`,
  `Talks between …` → participants A, B (and C); `Conversation with A` → participant A;
- `… from A to B` (`Ciphered Telegram No. 53517 from Kovalev to Filippov [Stalin]`, `Letter from A to B`,
  `Telegram from Beijing to Moscow`) → author A, recipient B; `Cable from A on …` (no "to") → author A;
- `Kind, A to B` (`Cable, Stalin to Mao Zedong [via Kovalev]`, `Report, Kovalev to Stalin, Report on …`)
  → author A, recipient B;
- `Kind by A [to B]` (`Speech by Enver Hoxha to the Politburo`, `Note by the Bulgarian Embassy …`) and
  `Reply|Report|Letter|Message|Statement of A to B` → author A (recipient B);
- `A's Kind` (`Kim Il Sung's Notes for a Speech`) → author A.

`[via C]` (or a final `via C`) after the recipient makes C the intermediary. A name followed by another in
brackets (`Filippov [Stalin]`) is the code name of the bracketed person, who is the one recorded. A name ends
before what the title says about the document: ` on …`, ` about …`, ` at …`, ` regarding …`, a comma, an
opening parenthesis, a date or `undated`. Lists of names split on commas and "and". Nothing else is guessed: a
title that fits no rule has no correspondents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = (
    r"(?:ciphered\s+)?(?:telegram|cable|letter|report|note|notes|message|memorandum|speech|statement|reply|"
    r"information|instructions?|directive|address|appeal|request|answer|record)"
)
_MEETING = r"\b(?:conversations?|meetings?|talks?|discussions?)"
_BETWEEN = re.compile(_MEETING + r"\s+between\s+", re.I)
_WITH = re.compile(_MEETING + r"\s+with\s+", re.I)
_FROM = re.compile(r"\bfrom\s+", re.I)
_KIND_COMMA = re.compile(r"^[^,]{1,60},\s+")
_KIND_BY = re.compile(rf"\b{KINDS}\s+(?:by|of)\s+", re.I)
_KIND_FROM = re.compile(rf"^[^,]{{0,40}}?\b{KINDS}\s+from\s+", re.I)
_POSSESSIVE = re.compile(rf"['’]s\s+{KINDS}\b", re.I)
_TO = re.compile(r"\s+to\s+", re.I)
# Where a name ends: what the title says about the document begins, or a comma, a parenthesis, a bracketed
# year or note (`[1950]`, `[Excerpts]`; a code name or `[via …]` stays); in a list of names, not at a comma that
# starts another name.
_ABOUT = r"\s+(?:on|about|at|regarding|concerning|re|undated)\b"
_STOP = re.compile(rf"\s*,|\s*\(|\s*\[(?=\d|excerpt|extract|undated)|{_ABOUT}", re.I)
_LIST_STOP = re.compile(rf"\s*,\s*(?:undated\b|no\.|\d|[A-Z][a-z]+\.?\s+\d)|\s*\(|\s*\[|{_ABOUT}", re.I)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*")
_VIA = re.compile(r"\s*\[via\s+([^\]]+)\]\s*$|\s+via\s+(.+)$", re.I)
_CODE_NAME = re.compile(r"^(.+?)\s*\[([^\]]+)\]$")
_NOT_A_NAME = re.compile(rf"(?:(?:a|an|the)\s+)?(?:{_MEETING[2:]}|{KINDS})", re.I)


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
    low = text.lower()
    for rule in (_between, _from_to, _kind_comma, _kind_by, _kind_from, _possessive):
        found = rule(text, low)
        if found is not None:
            return found
    return Correspondents()


def _cut(text: str, stop: re.Pattern[str] = _STOP) -> str:
    """A name (or list of names) from the start of the text up to where it ends."""
    m = stop.search(text)
    return text[: m.start()] if m else text


def _between(text: str, low: str) -> Correspondents | None:
    """`… Conversation between A and B`, `… Meeting with A`: participants."""
    for pattern, word in ((_BETWEEN, " between "), (_WITH, " with ")):
        if word in low and (m := pattern.search(text)):
            return Correspondents(participants=_names(_cut(text[m.end() :], _LIST_STOP)))
    return None


def _to(author: str, rest: str) -> Correspondents | None:
    """Author, and the recipient after " to " when the rest starts with it; None when the author runs on."""
    if not author or _STOP.search(author):
        return None
    m = _TO.match(rest)
    return _sent(author, _cut(rest[m.end() :]) if m else "")


def _from_to(text: str, low: str) -> Correspondents | None:
    """`… from A to B`: author and recipient."""
    if " from " not in low or " to " not in low:
        return None
    m = _FROM.search(text)
    rest = text[m.end() :]
    to = _TO.search(rest)
    return _to(rest[: to.start()], rest[to.start() :]) if to else None


def _kind_comma(text: str, low: str) -> Correspondents | None:
    """`Kind, A to B[, …]`: author and recipient."""
    m = _KIND_COMMA.match(text) if ", " in low and " to " in low else None
    if not m:
        return None
    rest = text[m.end() :]
    to = _TO.search(rest)
    return _to(rest[: to.start()], rest[to.start() :]) if to else None


def _kind_by(text: str, low: str) -> Correspondents | None:
    """`Kind by|of A [to B]`: author (and recipient)."""
    m = _KIND_BY.search(text) if " by " in low or " of " in low else None
    if not m:
        return None
    rest = text[m.end() :]
    to = _TO.search(rest)
    if to and not _STOP.search(rest[: to.start()]):
        return _to(rest[: to.start()], rest[to.start() :])
    return _to(_cut(rest), "")


def _kind_from(text: str, low: str) -> Correspondents | None:
    """`Kind from A on …` (no recipient): author."""
    m = _KIND_FROM.match(text) if " from " in low else None
    return _to(_cut(text[m.end() :]), "") if m else None


def _possessive(text: str, low: str) -> Correspondents | None:
    """`A's Kind …`: author."""
    m = _POSSESSIVE.search(text) if "'s " in low or "’s " in low else None
    return _to(text[: m.start()], "") if m else None


def _sent(author: str, recipient: str) -> Correspondents:
    """Author, recipient and intermediary of a sent document (a `[via C]` after the recipient)."""
    recipient, via = _split_via(recipient)
    return Correspondents(authors=_names(author), recipients=_names(recipient), intermediaries=_names(via))


def _split_via(text: str) -> tuple[str, str]:
    m = _VIA.search(text)
    return (text[: m.start()], m.group(1) or m.group(2)) if m else (text, "")


def _names(text: str) -> tuple[str, ...]:
    """The names of a list ("A and B", "A, B and C"), each as the person it stands for."""
    text = text.strip()
    parts = _LIST_SPLIT.split(text) if "," in text or " and " in text or "&" in text else [text]
    out = []
    for part in parts:
        name = _person(part.strip().rstrip(" .;:"))
        if name and _is_name(name) and name not in out:
            out.append(name)
    return tuple(out)


def _is_name(name: str) -> bool:
    """Not an article alone, a number, "undated", "No. …", nor a kind of document or meeting ("a Conversation")."""
    low = name.lower()
    if _NOT_A_NAME.fullmatch(low):
        return False
    return low not in ("the", "a", "an") and not name[0].isdigit() and not low.startswith(("undated", "no."))


def _person(name: str) -> str:
    """`Filippov [Stalin]` is Stalin: a bracketed name is the person behind a code name."""
    m = _CODE_NAME.match(name) if name.endswith("]") else None
    return m.group(2).strip() if m else name


def code_names(title: str) -> list[tuple[str, str]]:
    """The (code name, person) pairs a title gives in the `Filippov [Stalin]` form."""
    pairs = []
    for m in re.finditer(r"([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)\s*\[([^\]]+)\]", title):
        if not m.group(2).lower().startswith("via "):
            pairs.append((m.group(1), m.group(2).strip()))
    return pairs
