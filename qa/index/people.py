"""The people index: who wrote, received, passed on or took part in each document, by record position.

Read from the titles (qa/corpus/correspondents.py) when a build is written and saved beside it: each person under one
key, the canonical form of the name through the alias table (`Filippov [Stalin]`, `Joseph Stalin` and `Stalin`
are one person), with the name as the titles write it most and, per role, the positions of the records.
`people.json` holds the keys, names, how often each name was written for each person, and the code names titles give
(`Filippov [Stalin]`); `people_positions.npy`
the record positions of every person and role, one run after another, and `people_offsets.npy` where each run
starts (person i, role r: `offsets[4 * i + r]` to `offsets[4 * i + r + 1]`). `People.mask` turns names and roles
into a boolean mask over the records, which `ArchiveIndex.search` takes like a date filter.

A build that reuses most records of the previous one updates its people (`People.update`) rather than reading every
title again: the records it keeps are renumbered, the titles of the records gone are read to take their names out,
and only the new records' titles are read; the result is the same as `People.build` on the new records.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.corpus.correspondents import Correspondents, code_names, read_title
from qa.index.lexical import Analyzer
from qa.shared import words

PEOPLE_FILE = "people.json"
POSITIONS_FILE = "people_positions.npy"
OFFSETS_FILE = "people_offsets.npy"
FORMAT = 3  # 3: with the count of each name as written (`shown`), so a build can be updated
ROLES = ("authors", "recipients", "intermediaries", "participants")
ROLE_NAMES = dict(zip(ROLES, ("author", "recipient", "intermediary", "participant"), strict=True))
_ARTICLES = frozenset({"the", "a", "an"})
# Words of a title (`Ambassador Yudin`, `Vice Premier Chen Yi`) that alone do not name a person.
_RANKS = frozenset(
    "ambassador premier vice chairman comrade general colonel marshal minister secretary president consul "
    "delegation embassy legation party committee ministry foreign soviet chinese".split()
)
_PERSON_WORD = re.compile(r"^[A-Z][a-zà-ÿ'’-]+$")
_PLACE = re.compile(r"\s+in\s+((?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)$")


@lru_cache(maxsize=65536)
def title_correspondents(title: str) -> Correspondents:
    """`read_title`, cached (listings repeat titles such as "Memorandum of Conversation")."""
    return read_title(title)


def person_key(name: str, analyzer: Analyzer) -> str:
    """The canonical words of a name, aliases resolved, without a leading article: one key per person."""
    parts = words(analyzer.canonical(name))
    while parts and parts[0] in _ARTICLES:
        parts = parts[1:]
    return " ".join(parts)


def handles(key: str, name: str, analyzer: Analyzer) -> set[str]:
    """How a question may name a person: the whole key, each surname-like word of a personal name, and the place
    that ends the name of a body (`the Conference of … in Sofia`: Sofia; `the Chinese Embassy in Moscow`: Moscow),
    so that "reports from Sofia" finds the Conference's note as "reports from Kovalev" finds Kovalev's."""
    found = {key}
    if all(_PERSON_WORD.match(w) for w in name.split()):
        found |= {w for w in key.split() if len(w) >= 3 and w not in _RANKS}
    elif place := _PLACE.search(name):
        found.add(person_key(place.group(1), analyzer))
    return found


@dataclass(frozen=True, slots=True)
class Name:
    """A person as the words of texts name them: the tokens of the whole name, and the token sets of the handles
    that name this person and no one else of the titles (`Mao` for Mao Zedong when the titles know one Mao)."""

    tokens: frozenset[str]
    handles: tuple[frozenset[str], ...]

    def held_by(self, tokens: frozenset[str] | set[str]) -> bool:
        return any(handle <= tokens for handle in self.handles)


def with_names(tokens: Iterable[str], names: Sequence[Name]) -> set[str]:
    """A text's tokens, with the whole name of every person it names by a handle of theirs alone: a summary that
    says "Mao" holds "Mao Zedong" (the surname rule)."""
    held = set(tokens)
    for name in names:
        if name.held_by(held):
            held |= name.tokens
    return held


class People:
    """Every person the titles name, over a collection of `count` records."""

    def __init__(
        self,
        keys: list[str],
        names: list[str],
        positions: np.ndarray,
        offsets: np.ndarray,
        count: int,
        analyzer: Analyzer,
        codes: dict[str, str] | None = None,
        shown: list[dict[str, int]] | None = None,
    ) -> None:
        self.keys, self.names_shown, self.positions_, self.offsets = keys, names, positions, offsets
        self.shown = shown  # per key: each name as the titles write it, with its number of mentions
        self.count = count
        self.analyzer = analyzer
        self.number = {key: i for i, key in enumerate(keys)}
        self.codes = {c: k for c, k in (codes or {}).items() if k in self.number and c != k}  # code name -> person
        self._handles: tuple[dict[str, set[str]], frozenset[str], dict[str, list[str]]] | None = None

    # ------------------------------------------------------------------------------------------ build, save, load

    @classmethod
    def build(cls, records: Iterable, analyzer: Analyzer) -> People:
        """The people of the records' titles, resolved through the analyzer's alias table."""
        runs: dict[str, list[list[int]]] = defaultdict(lambda: [[] for _ in ROLES])
        shown: dict[str, dict[str, int]] = defaultdict(dict)
        keys: dict[str, str] = {}
        count = 0
        titles = []
        for position, record in enumerate(records):
            count += 1
            titles.append(record.title)
            for key, r, name in _mentions(record.title, analyzer, keys):
                runs[key][r].append(position)
                shown[key][name] = shown[key].get(name, 0) + 1
        ordered = sorted(runs)
        flat = [runs[key][r] for key in ordered for r in range(len(ROLES))]
        offsets = np.cumsum([0] + [len(run) for run in flat], dtype=np.int64)
        positions = np.asarray([p for run in flat for p in run], dtype=np.int64)
        counts = [shown[key] for key in ordered]
        return cls(ordered, _most_shown(counts), positions, offsets, count, analyzer, _codes(titles, analyzer), counts)

    @classmethod
    def update(cls, previous: People, titles: Sequence[str], origin: np.ndarray, old_title: Callable[[int], str],
               analyzer: Analyzer) -> People:
        """The people of records of which those with `origin[i] >= 0` are the previous build's record at that
        position, title unchanged (the others are read); `old_title(p)` gives a previous record's title. The same
        as `People.build` on the records; ValueError when `previous` cannot be updated (then build afresh)."""
        if previous.shown is None or previous.analyzer.fingerprint != analyzer.fingerprint:
            raise ValueError("the previous people cannot be updated")
        origin = np.asarray(origin, dtype=np.int64)
        new_of_old = np.full(previous.count, -1, dtype=np.int64)
        kept = np.flatnonzero(origin >= 0)
        new_of_old[origin[kept]] = kept
        shown = dict(zip(previous.keys, previous.shown, strict=True))
        touched: dict[str, dict[str, int]] = {}
        names: dict[str, str] = {}

        def counts_of(key: str) -> dict[str, int]:
            if key not in touched:
                touched[key] = dict(shown.get(key, {}))
                shown[key] = touched[key]
            return touched[key]

        for position in np.flatnonzero(new_of_old < 0).tolist():  # the records gone: their names out
            for key, _, name in _mentions(old_title(position), analyzer, names):
                counts = counts_of(key)
                left = counts.get(name, 0) - 1
                if left < 0:
                    raise ValueError("the previous people do not hold a record's names")
                if left:
                    counts[name] = left
                else:
                    del counts[name]
        fresh_keys, fresh_roles, fresh_positions = [], [], []
        for position in np.flatnonzero(origin < 0).tolist():  # the new records: their names in
            for key, r, name in _mentions(titles[position], analyzer, names):
                counts = counts_of(key)
                counts[name] = counts.get(name, 0) + 1
                fresh_keys.append(key)
                fresh_roles.append(r)
                fresh_positions.append(position)
        ordered = sorted(key for key, counts in shown.items() if counts)
        number = {key: i for i, key in enumerate(ordered)}
        # The kept mentions, renumbered: each old slot (person, role) to its new one, each old position to its new.
        old_key_number = np.asarray([number.get(key, -1) for key in previous.keys], dtype=np.int64)
        slots = len(previous.offsets) - 1
        old_slot = np.repeat(np.arange(slots, dtype=np.int64), np.diff(np.asarray(previous.offsets)))
        new_position = new_of_old[np.asarray(previous.positions_, dtype=np.int64)]
        live = new_position >= 0
        new_slot = old_key_number[old_slot // len(ROLES)] * len(ROLES) + old_slot % len(ROLES)
        if (new_slot[live] < 0).any():
            raise ValueError("the previous people do not hold a record's names")
        fresh_slot = np.asarray([number[k] for k in fresh_keys], dtype=np.int64) * len(ROLES)
        all_slots = np.concatenate([new_slot[live], fresh_slot + np.asarray(fresh_roles, dtype=np.int64)])
        all_positions = np.concatenate([new_position[live], np.asarray(fresh_positions, dtype=np.int64)])
        order = np.lexsort((all_positions, all_slots))
        sizes = np.bincount(all_slots, minlength=len(ROLES) * len(ordered))
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        before = dict(zip(previous.keys, previous.names_shown, strict=True))
        counts = [shown[key] for key in ordered]
        shown_names = [
            _most_shown([c])[0] if key in touched else before[key] for key, c in zip(ordered, counts, strict=True)
        ]
        positions = all_positions[order].astype(np.int64)
        return cls(ordered, shown_names, positions, offsets, len(titles), analyzer, _codes(titles, analyzer), counts)

    def save(self, folder: Path) -> None:
        """Write the people files into a build folder."""
        data = {"format": FORMAT, "count": self.count, "keys": self.keys, "names": self.names_shown}
        data["codes"] = self.codes
        data["shown"] = self.shown
        (folder / PEOPLE_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        np.save(folder / POSITIONS_FILE, self.positions_)
        np.save(folder / OFFSETS_FILE, self.offsets)

    @classmethod
    def load(cls, folder: Path, records, analyzer: Analyzer) -> People:
        """The build's people files; a build made before they existed has its records' titles read instead."""
        return cls.read(folder, analyzer) or cls.build(records, analyzer)

    @classmethod
    def read(cls, folder: Path, analyzer: Analyzer) -> People | None:
        """The build's people files, or None when it has none of this format."""
        path = folder / PEOPLE_FILE
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if data.get("format") not in (2, FORMAT):  # 2: without the counts, so not updated but built afresh
            return None
        positions = np.load(folder / POSITIONS_FILE, mmap_mode="r")
        offsets = np.load(folder / OFFSETS_FILE, mmap_mode="r")
        return cls(data["keys"], data["names"], positions, offsets, int(data["count"]), analyzer, data["codes"],
                   data.get("shown"))

    # ------------------------------------------------------------------------------------------ look-ups

    def __contains__(self, key: str) -> bool:
        return key in self.number

    def positions(self, key: str, roles: Sequence[str] = ROLES) -> np.ndarray:
        """The positions of the records where the person has one of these roles, sorted."""
        i = self.number.get(key)
        if i is None:
            return np.zeros(0, dtype=np.int64)
        slots = [4 * i + ROLES.index(r) for r in roles]
        runs = [self.positions_[self.offsets[s] : self.offsets[s + 1]] for s in slots]
        return np.unique(np.concatenate(runs)) if runs else np.zeros(0, dtype=np.int64)

    def find(self, name: str) -> list[str]:
        """The keys a name stands for: its own key (or the person a title's code name stands for), else the people
        whose key holds all its words."""
        key = person_key(name, self.analyzer)
        key = self.codes.get(key, key)
        if not key:
            return []
        if key in self.number:
            return [key]
        wanted = set(key.split())
        return sorted(k for k in self.keys if wanted <= set(k.split()))

    def keys_for_handle(self, handle: str) -> set[str]:
        """The people a question's words (canonical, space-separated) name."""
        return self._handle_table()[0].get(handle, set())

    def starts_a_handle(self, word: str) -> bool:
        """Whether some person's handle starts with this word (a question's other words need no look-up)."""
        return word in self._handle_table()[1]

    def named(self, key: str) -> Name:
        """The person as texts name them: the tokens of the key, and of each handle that names no one else (a title
        naming "Mao" and another "Mao Zedong" give two keys of one person: "Mao" names no one else)."""
        table, words_of = self._handle_table()[0], set(key.split())
        own = [h for h in self._handle_table()[2].get(key, ()) if all(set(k.split()) <= words_of for k in table[h])]
        tokens = self.analyzer.tokens
        return Name(frozenset(tokens(key)), tuple(frozenset(tokens(h)) for h in own if tokens(h)))

    def _handle_table(self) -> tuple[dict[str, set[str]], frozenset[str], dict[str, list[str]]]:
        """Handles to keys, the first words of handles, and each key's handles; made on first use (every thread
        makes the same)."""
        if self._handles is None:
            table: dict[str, set[str]] = defaultdict(set)
            own: dict[str, list[str]] = defaultdict(list)
            pairs = [(h, key) for key, name in zip(self.keys, self.names_shown, strict=True)
                     for h in handles(key, name, self.analyzer)]
            for h, key in pairs + [(code, key) for code, key in self.codes.items()]:
                table[h].add(key)
                own[key].append(h)
            self._handles = (dict(table), frozenset(h.split(" ", 1)[0] for h in table), dict(own))
        return self._handles

    @property
    def longest_handle(self) -> int:
        """The most words a person's key has (how far a question is scanned for one)."""
        return max((k.count(" ") + 1 for k in self.keys), default=0)

    def mask(self, keys: Iterable[str], roles: Sequence[str] = ROLES) -> np.ndarray:
        """Records where any of these people has one of these roles."""
        mask = np.zeros(self.count, dtype=bool)
        for key in keys:
            mask[self.positions(key, roles)] = True
        return mask

    def names(self) -> list[tuple[str, int]]:
        """Each person's name as the titles write it, with their number of documents, most documents first."""
        counts = [len(self.positions(key)) for key in self.keys]
        return sorted(zip(self.names_shown, counts, strict=True), key=lambda x: (-x[1], x[0].lower()))

    def name_of(self, key: str) -> str:
        i = self.number.get(key)
        return self.names_shown[i] if i is not None else key

    def roles_in(self, record, key: str) -> list[str]:
        """The roles a person has in one record, read from its title."""
        found = title_correspondents(record.title)
        return [r for r in ROLES if any(person_key(n, self.analyzer) == key for n in getattr(found, r))]


def _mentions(title: str, analyzer: Analyzer, keys: dict[str, str]) -> Iterator[tuple[str, int, str]]:
    """(person key, role number, name as written) of each person a title names; `keys` caches names' keys."""
    found = title_correspondents(title)
    for r, role in enumerate(ROLES):
        for name in getattr(found, role):
            key = keys.get(name)
            if key is None:
                key = keys[name] = person_key(name, analyzer)
            if key:
                yield key, r, name


def _most_shown(counts: Iterable[dict[str, int]]) -> list[str]:
    """Each person's name as the titles write it most (ties: the last in sort order)."""
    return [max(c.items(), key=lambda item: (item[1], item[0]))[0] for c in counts]


def _codes(titles: Iterable[str], analyzer: Analyzer) -> dict[str, str]:
    """The code names titles give (`Filippov [Stalin]`), each key to its person's key; a later title wins."""
    codes: dict[str, str] = {}
    for title in titles:
        if "[" in title:
            codes.update((person_key(c, analyzer), person_key(p, analyzer)) for c, p in code_names(title))
    return codes
