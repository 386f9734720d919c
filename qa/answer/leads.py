"""Lead lines: the one line an answer opens with, made only from its cited records' fields and the alias table.

Every word of a lead line is a count, one of the connectives in `CONNECTIVES`, a date (or part of one) of a
cited record, a name read from a cited record's title, or a name of the alias table:

- documents: "Four documents from 1949, written by Kovalev, all to Stalin:"; "One undated document:";
  "Three documents from 1949 to 1977, by year:", "Two documents from May to July 1949, by month:" (change over
  time);
- who-is: "Filippov is another name for Stalin." (alias table), then "Stalin: author of one document,
  recipient of four, participant in one:" (titles), or "Wang Ming is named in two documents:" (summaries).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Sequence

from qa.index.people import ROLE_NAMES, ROLES, title_correspondents
from qa.index.search import ArchiveIndex
from qa.records import Record

_KIND = re.compile(r"^(.+?)(?=\s+(?:of|from|between|on|to|No\.?|by|with|about|in|for)\b|,|$)")
CLOSEST_LEAD = "No document says this directly; the closest are:"
_NUMBERS = "one two three four five six seven eight nine ten eleven twelve".split()
CONNECTIVES = frozenset(
    """document documents from to and by written all both sent is another name for named in of author authors
    recipient recipients intermediary intermediaries participant participants undated dated by year month them
    more kind correspondents yes no says this directly the closest are collection never mentions""".split()
    + _NUMBERS
)


def number(n: int) -> str:
    """A count in words up to twelve, else in digits."""
    return _NUMBERS[n - 1] if 1 <= n <= len(_NUMBERS) else str(n)


def count(n: int, noun: str = "document", *, capital: bool = True) -> str:
    """ "One document", "Four documents", "13 documents"."""
    phrase = f"{number(n)} {noun}{'' if n == 1 else 's'}"
    return phrase[:1].upper() + phrase[1:] if capital else phrase


def span(records: Sequence[Record]) -> str:
    """The dates the records cover, as their own dates write them: "from May 1949", "from 1949 to 1977"."""
    starts = sorted(r.date for r in records if r.date)
    if not starts:
        return ""
    first, last = starts[0], starts[-1]
    if first[:7] == last[:7] and len(first) >= 7:
        return f"from {_month(first)} {first[:4]}"
    if first[:4] == last[:4]:
        if len(first) >= 7 and len(last) >= 7:
            return f"from {_month(first)} to {_month(last)} {first[:4]}"
        return f"from {first[:4]}"
    return f"from {first[:4]} to {last[:4]}"


def _month(iso: str) -> str:
    return calendar.month_name[int(iso[5:7])]


def period_name(iso: str, unit: str) -> str:
    """A date's period as a heading writes it: "1949" (year), "May 1949" (month)."""
    return f"{_month(iso)} {iso[:4]}" if unit == "month" else iso[:4]


def documents_lead(records: Sequence[Record], index: ArchiveIndex, *, by: str = "") -> str:
    """ "Four documents from 1949, written by Kovalev, all to Stalin:" — from the records' dates and titles."""
    n = len(records)
    undated = sum(1 for r in records if not r.date)
    head = count(n)
    if undated == n:
        head = count(n).replace(" ", " undated ", 1)
    when = span(records)
    line = f"{head} {when}".strip()
    if undated and undated < n:
        line += f" ({count(undated, capital=False)} undated)"
    author, recipient = _shared(records, "authors", index), _shared(records, "recipients", index)
    if author:
        line += f", written by {author}"
    if recipient:
        joint = ", all to" if n > 2 else ", both to" if n == 2 else " to" if author else ", sent to"
        line += f"{joint} {recipient}"
    return line + (f", by {by}:" if by else ":")


def _shared(records: Sequence[Record], role: str, index: ArchiveIndex) -> str:
    """The one person every record has in this role, as the first record's title writes the name ("" if none)."""
    names = [getattr(title_correspondents(r.title), role) for r in records]
    if not names or not all(len(found) == 1 for found in names):
        return ""
    keys = {index.person_key(found[0]) for found in names}
    return names[0][0] if len(keys) == 1 else ""


def alias_lead(asked: str, person: str) -> str:
    """ "Filippov is another name for Stalin." (from the alias table, or a title's `Filippov [Stalin]`)."""
    return f"{asked} is another name for {person}."


def roles_lead(name: str, key: str, records: Sequence[Record], index: ArchiveIndex) -> str:
    """ "Stalin: author of one document, recipient of four, participant in one, named in one more:" — the roles
    counted from the titles, then the documents that only name the person."""
    counts = {role: 0 for role in ROLES}
    unnamed = 0
    for record in records:
        roles = index.roles_in(record, key)
        unnamed += not roles
        for role in roles:
            counts[role] += 1
    parts = []
    for role in ROLES:
        if counts[role]:
            amount = count(counts[role], capital=False) if not parts else number(counts[role])
            parts.append(f"{ROLE_NAMES[role]} {'in' if role == 'participants' else 'of'} {amount}")
    if not parts:
        return named_lead(name, len(records))
    more = f", named in {number(unnamed)} more" if unnamed else ""
    return f"{name}: {', '.join(parts)}{more}:"


def named_lead(name: str, n: int) -> str:
    """ "Wang Ming is named in two documents:"."""
    return f"{name} is named in {count(n, capital=False)}:"


def overview_lines(records: Sequence[Record], index: ArchiveIndex) -> list[str]:
    """An overview's counts: by year, by kind (a title's opening words) and by correspondent (titles)."""
    years = Counter(r.date[:4] if r.date else "" for r in records)
    by_year = ", ".join(f"{number(n)} {f'from {y}' if y else 'undated'}" for y, n in sorted(years.items(), key=_last))
    kinds = Counter(title_kind(r.title) for r in records if r.title)
    people: Counter[str] = Counter()
    names: dict[str, str] = {}
    for record in records:
        for name in dict.fromkeys(title_correspondents(record.title).everyone):
            key = index.person_key(name)
            names.setdefault(key, name)
            people[key] += 1
    lines = [f"By year: {by_year}."]
    if kinds:
        lines.append("By kind: " + ", ".join(f"{k} {number(n)}" for k, n in kinds.most_common()) + ".")
    if people:
        lines.append("Correspondents: " + ", ".join(f"{names[k]} {number(n)}" for k, n in people.most_common()) + ".")
    return lines


def _last(item: tuple[str, int]) -> tuple[bool, str]:
    return (not item[0], item[0])


def title_kind(title: str) -> str:
    """The kind of document a title opens with ("Ciphered Telegram", "Memorandum", "Cable")."""
    m = _KIND.match(" ".join(title.split()))
    return " ".join(m.group(1).split()[:4]) if m else title
