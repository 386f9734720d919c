"""Romanisation as data: Wade-Giles and postal spellings of Chinese names read as pinyin, Russian variants as one.

The table is qa/data/romanisation.tsv (its sources are cited there). `Romaniser.canonical` rewrites lower-case
text: a postal place name becomes its pinyin name (Peking: beijing); a run of words that are all Wade-Giles
syllables becomes pinyin when it is marked as Wade-Giles (a hyphen between syllables, an apostrophe, or a spelling
pinyin never uses in a syllable: hs, ts, tz, ih, eh, ien, ssu, szu, uei, ü) — "chou en-lai": "zhou enlai"; a
Russian ending is read as its usual form (-skii: -sky, -chov: -chev).

With a vocabulary (the collection's words, at question time): an ambiguous syllable takes the reading the
collection uses (chi: qi in "shao-chi" when the records write Shaoqi); an unmarked run of two words or more (or one
word of three syllables or more) is read as pinyin when it holds a word the collection never uses and every such
word has a reading it does use ("kao kang": "gao gang"); a word the collection never uses may take a variant
Russian ending it does use. Without one (records at build time) the first reading is taken. Stop words and words
of other shapes are never touched.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Collection
from functools import lru_cache
from pathlib import Path

from qa.errors import AliasError

SHIPPED_TABLE = Path(__file__).parent.parent / "data" / "romanisation.tsv"
_WORD = re.compile(r"(?<![\w'-])[a-zü]+(?:['-][a-zü]+)*(?![\w'-])")
_MARKS = ("hs", "ts", "tz", "ih", "eh", "ien", "ssu", "szu", "uei", "ü", "'")
MIN_RUSSIAN = 6  # a Russian ending is read only in a word of at least this many letters
MAX_READINGS = 16  # readings tried per word (the product of its syllables' readings)
Known = Callable[[str], bool]


class Romaniser:
    """The romanisation table, and text rewritten with it (see the module's docstring)."""

    def __init__(self, path: Path = SHIPPED_TABLE) -> None:
        self.syllables: dict[str, list[str]] = {}
        self.postal: dict[str, str] = {}
        self.russian: list[tuple[str, str]] = []
        self.variants: list[tuple[str, str]] = []
        text = _read(path)
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.startswith("#"):
                self._add(line.split("\t"), f"{path}:{number}")
        self.russian.sort(key=lambda pair: -len(pair[0]))  # the longest ending first
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
        self._longest = max(map(len, self.syllables), default=0)
        self.pinyin = frozenset(p for readings in self.syllables.values() for p in readings)
        self.segment = lru_cache(maxsize=65536)(self._segment)
        self.classify = lru_cache(maxsize=262144)(self._classify)

    def _add(self, fields: list[str], where: str) -> None:
        if len(fields) != 3 or not all(f.strip() for f in fields):
            raise AliasError(f"{where}: a romanisation line is: system, spelling, reading (tab-separated)")
        system, spelling, reading = (f.strip() for f in fields)
        if system == "wg":
            self.syllables[spelling] = reading.split()
        elif system == "postal":
            self.postal[spelling] = reading
        elif system in ("russian", "russian-variant"):
            (self.russian if system == "russian" else self.variants).append((spelling, reading))
        else:
            raise AliasError(f"{where}: unknown system {system!r} (wg, postal, russian or russian-variant)")

    # ------------------------------------------------------------------------------------------ words

    def _segment(self, word: str) -> tuple[str, ...] | None:
        """A word's Wade-Giles syllables (hyphens split them; a part is split into the fewest syllables), or None."""
        out: list[str] = []
        for part in word.split("-"):
            found = self._split(part, self.syllables)
            if found is None:
                return None
            out += found
        return tuple(out)

    def _split(self, part: str, syllables: Collection[str]) -> list[str] | None:
        """One hyphen-free part as syllables (Wade-Giles, or pinyin), the fewest that spell it (None when none do)."""
        best: list[list[str] | None] = [[]] + [None] * len(part)
        for end in range(1, len(part) + 1):
            for start in range(max(0, end - self._longest), end):
                prefix = best[start]
                if prefix is not None and part[start:end] in syllables:
                    if best[end] is None or len(prefix) + 1 < len(best[end]):
                        best[end] = prefix + [part[start:end]]
        return best[len(part)]

    def pinyin_name(self, word: str) -> bool:
        """Whether a word reads as a Chinese name in pinyin: two syllables or more of the pinyin inventory (Nanjing,
        Zhenbao), where `_split` finds them."""
        return len(self._split(word, self.pinyin) or ()) >= 2

    def marked(self, word: str) -> bool:
        """Whether a word of Wade-Giles syllables shows Wade-Giles: two or three hyphen parts of one syllable and two
        letters or more each (a given name, "tse-tung"), or one syllable spelt as pinyin never does (hs, ts, eh…)."""
        parts = word.split("-")
        if len(parts) > 1:
            return len(parts) <= 3 and all(len(p) > 1 and len(self.segment(p) or ()) == 1 for p in parts)
        syllables = self.segment(word) or ()
        return len(syllables) == 1 and any(m in syllables[0] for m in _MARKS)

    def readings(self, word: str) -> list[str]:
        """A Wade-Giles word's pinyin readings, first reading first (at most MAX_READINGS)."""
        options = [self.syllables[s] for s in self.segment(word) or ()]
        return ["".join(p) for p in itertools.islice(itertools.product(*options), MAX_READINGS)] if options else []

    def russian_form(self, word: str) -> str:
        """A word with its Russian ending read as the usual one (unchanged when none applies)."""
        if len(word) >= MIN_RUSSIAN and word.isalpha():
            for ending, usual in self.russian:
                if word.endswith(ending):
                    return word[: -len(ending)] + usual
        return word

    def russian_variants(self, word: str) -> list[str]:
        """The other endings a Russian name may be written with."""
        if len(word) < MIN_RUSSIAN or not word.isalpha():
            return []
        return [word[: -len(a)] + b for a, b in self.variants if word.endswith(a)]

    # ------------------------------------------------------------------------------------------ text

    def canonical(self, text: str, known: Known | None = None, stop: frozenset[str] = frozenset()) -> str:
        """Lower-case text with its romanised names rewritten (see the module's docstring); `known` says whether the
        collection uses a word; stop words are never part of a name."""
        if known is None and not any(self.classify(w, stop)[1:] != (None, False) for w in set(_WORD.findall(text))):
            return text  # nothing to read without a vocabulary (most text): no run to follow
        matches = list(_WORD.finditer(text))
        replaced: dict[int, str] = {}
        run: list[tuple[int, str]] = []
        for i, m in enumerate(matches):
            word = m.group()
            syllables, fixed, _ = self.classify(word, stop)
            if not syllables:
                self._run(run, known, replaced)
                run = []
                self._single(i, word, fixed, known, replaced)
                continue
            if run and not text[matches[run[-1][0]].end() : m.start()].isspace():
                self._run(run, known, replaced)
                run = []
            run.append((i, word))
        self._run(run, known, replaced)
        return self._rewrite(text, matches, replaced) if replaced else text

    def _classify(self, word: str, stop: frozenset[str]) -> tuple[bool, str | None, bool]:
        """Whether a word may be part of a Wade-Giles name (not a stop word nor a postal name), what it is read as
        alone (its postal name, or its usual Russian ending; None: itself), and whether it is marked Wade-Giles."""
        if word in self.postal:
            return False, self.postal[word], False
        if word in stop or not self.segment(word):
            form = self.russian_form(word)
            return False, form if form != word else None, False
        return True, None, self.marked(word)

    def _single(self, i: int, word: str, fixed: str | None, known: Known | None, replaced: dict[int, str]) -> None:
        """A word outside any Wade-Giles run: a postal name, a Russian ending, or (with a vocabulary) an unknown word
        with a variant Russian ending the collection uses."""
        form = fixed or word
        if known is not None and fixed is None and len(word) >= MIN_RUSSIAN and not known(word):
            form = next((v for v in self.russian_variants(word) if known(v)), word)
        if form != word:
            replaced[i] = form

    def _run(self, run: list[tuple[int, str]], known: Known | None, replaced: dict[int, str]) -> None:
        """A run of Wade-Giles words read as pinyin when marked, or (with a vocabulary) when that finds its unknown
        words."""
        if not run:
            return
        words = [w for _, w in run]
        marked = any(self.marked(w) for w in words)
        alone = len(words) == 1 and len(self.segment(words[0]) or ()) < 3  # one short word: too often English
        if not marked and (known is None or alone or all(known(w) for w in words)):
            return
        chosen = [self._reading(w, known) for w in words]
        if not marked and any(c is None for c in chosen):
            return
        for (i, word), reading in zip(run, chosen, strict=True):
            reading = reading or (word if known is not None and known(word) else self.readings(word)[0])
            if reading != word:
                replaced[i] = reading

    def _reading(self, word: str, known: Known | None) -> str | None:
        """The reading of a word the collection uses (None: none is; the first reading without a vocabulary)."""
        readings = self.readings(word)
        if known is None:
            return readings[0]
        return next((r for r in readings if known(r)), None)

    @staticmethod
    def _rewrite(text: str, matches: list[re.Match], replaced: dict[int, str]) -> str:
        parts, at = [], 0
        for i, m in enumerate(matches):
            if i in replaced:
                parts += [text[at : m.start()], replaced[i]]
                at = m.end()
        return "".join(parts) + text[at:]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AliasError(f"{path}: cannot read the romanisation table ({exc})") from None
