"""Lexical matching: alias-aware, stemmed tokens, and a BM25 index over records kept in segments of postings."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from qa.errors import AliasError
from qa.index.romanise import Known, Romaniser
from qa.shared import words

SHIPPED_ALIASES = Path(__file__).parent.parent / "data" / "aliases.tsv"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_QUESTION_WORDS = """
about above after again against all also am any anything are as be been before being between both but by can could
did do does doing done during each few for from further had has have having he her here hers him his how i if into
its itself just me might more most must my no nor not now of off once only or other our ours out over own same she
should so some something such tell than that their theirs them themselves then there these they this those through
too under until up very was we were what when where which while who whom whose why will with would you your
""".split()
STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(_QUESTION_WORDS)
ANALYZER_VERSION = 4


def read_aliases(paths: list[Path]) -> dict[str, str]:
    """Each other name (lower case) mapped to its canonical form, from TSV alias files."""
    table: dict[str, str] = {}
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise AliasError(f"{path}: cannot read alias file ({exc})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            names = [" ".join(n.lower().translate(_QUOTES).split()) for n in line.split("\t") if n.strip()]
            if len(names) < 2:
                raise AliasError(f"{path}:{number}: an alias line needs a canonical form and at least one other name")
            for name in names[1:]:
                table[name] = names[0]
    return table


class Analyzer:
    """Text to tokens: lower case, romanised names as pinyin and usual Russian spellings (qa/index/romanise.py),
    aliases to their canonical form, stop words out, Snowball stems.

    A loaded index gives its analyzer the collection's vocabulary (`use_vocabulary`): questions are then read with
    it (an ambiguous romanisation takes the reading the collection uses)."""

    def __init__(self, aliases: dict[str, str], romaniser: Romaniser | None = None) -> None:
        self.aliases = aliases
        self.romaniser = romaniser or Romaniser()
        self.known: Known | None = None
        names = sorted(aliases, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])") if names else None
        )
        self._stemmer = Stemmer.Stemmer("english")
        key = repr((ANALYZER_VERSION, sorted(STOPWORDS), sorted(aliases.items()), self.romaniser.fingerprint))
        self.fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
        self._stem = lru_cache(maxsize=4096)(self._stem_words)
        self._caches()

    def _caches(self) -> None:
        """Caches of this analyzer alone (questions and summaries repeat): no state shared between instances."""
        self.tokens = lru_cache(maxsize=65536)(self._tokens)
        self._canonical = lru_cache(maxsize=16384)(self._canonical_text)

    def use_vocabulary(self, known: Known) -> None:
        """Read text with the collection's vocabulary from now on: `known` says whether it uses a (lower-case) word."""
        self.known = known
        self._caches()

    def stem(self, word: str) -> str:
        """A word's Snowball stem."""
        return self._stem((word,))[0]

    @classmethod
    def from_files(cls, extra: Path | None = None) -> Analyzer:
        return cls(read_aliases([SHIPPED_ALIASES] + ([extra] if extra else [])))

    def canonical(self, text: str) -> str:
        """The text in lower case with romanised names rewritten and every alias replaced by its canonical form."""
        return self._canonical(text)

    def _canonical_text(self, text: str) -> str:
        text = self.romaniser.canonical(text.lower().translate(_QUOTES), self.known, STOPWORDS)
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.aliases[m.group(1)], text)

    def _tokens(self, text: str) -> list[str]:
        """The text's stemmed content words, aliases resolved (cached per analyzer as `tokens`)."""
        content = [w for w in words(self.canonical(text)) if w not in STOPWORDS and not (len(w) == 1 and w != "i")]
        return self._stem(tuple(content))

    def _stem_words(self, words: tuple[str, ...]) -> list[str]:
        return self._stemmer.stemWords(list(words))


class Postings:
    """One segment's postings: each term's rows with the term's frequency in them, and each row's length.

    Immutable once written: a build that keeps the segment links its files; deleted rows are masked by the
    build's row map, and the collection's statistics (document frequency, mean length) count live rows only.
    """

    FILES = ("terms.json", "indptr.npy", "rows.npy", "tfs.npy", "lengths.npy")

    def __init__(self, terms: list[str], indptr: np.ndarray, rows: np.ndarray, tfs: np.ndarray, lengths: np.ndarray):
        self.terms = terms
        self.vocab = {term: i for i, term in enumerate(terms)}
        self.indptr, self.rows, self.tfs, self.lengths = indptr, rows, tfs, lengths

    @property
    def count(self) -> int:
        return len(self.lengths)

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> Postings:
        """The postings of these token lists, one row each, in order."""
        vocab: dict[str, int] = {}
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for tokens in token_lists for t in tokens), np.int64)
        lengths = np.fromiter(map(len, token_lists), np.int32, len(token_lists))
        rows = np.repeat(np.arange(len(token_lists), dtype=np.int64), lengths)
        return cls._from_pairs(list(vocab), ids, rows, np.ones(len(ids), np.int64), lengths)

    @classmethod
    def _from_pairs(cls, terms: list[str], ids: np.ndarray, rows: np.ndarray, tfs: np.ndarray, lengths) -> Postings:
        """Postings from (term id, row, frequency) triples in any order, a pair possibly repeated (frequencies add)."""
        pairs, where = np.unique(ids * max(len(lengths), 1) + rows, return_inverse=True)
        freq = np.bincount(where.reshape(-1), weights=tfs, minlength=len(pairs))
        term_of = pairs // max(len(lengths), 1)
        used = np.bincount(term_of, minlength=len(terms)) > 0
        renumber = np.cumsum(used) - 1
        indptr = np.concatenate([[0], np.cumsum(np.bincount(renumber[term_of], minlength=int(used.sum())))])
        return cls(
            [t for t, u in zip(terms, used.tolist(), strict=True) if u],
            indptr.astype(np.int64),
            (pairs % max(len(lengths), 1)).astype(np.int32),
            np.minimum(freq, np.iinfo(np.uint16).max).astype(np.uint16),
            np.asarray(lengths, dtype=np.int32),
        )

    @classmethod
    def gather(cls, parts: list[tuple[Postings, np.ndarray, np.ndarray]], count: int) -> Postings:
        """A segment of `count` rows taken from others: each part's `old` rows become its `new` rows."""
        vocab: dict[str, int] = {}
        ids, rows, tfs = [], [], []
        lengths = np.zeros(count, dtype=np.int32)
        for postings, old, new in parts:
            local = np.fromiter((vocab.setdefault(t, len(vocab)) for t in postings.terms), np.int64)
            new_row = np.full(postings.count, -1, dtype=np.int64)
            new_row[old] = new
            row = new_row[np.asarray(postings.rows)]
            keep = row >= 0
            ids.append(np.repeat(local, np.diff(np.asarray(postings.indptr)))[keep])
            rows.append(row[keep])
            tfs.append(np.asarray(postings.tfs)[keep])
            lengths[new] = np.asarray(postings.lengths)[old]
        if not parts:
            return cls.build([[] for _ in range(count)])
        return cls._from_pairs(list(vocab), np.concatenate(ids), np.concatenate(rows), np.concatenate(tfs), lengths)

    def document_frequency(self, live: np.ndarray | None = None) -> np.ndarray:
        """Each term's number of rows, counting only the `live` ones (a boolean row mask) when given."""
        indptr = np.asarray(self.indptr)
        df = np.diff(indptr).astype(np.int64)
        if live is None:
            return df
        # Less the postings of the rows not live (few: an update's deletions), each found by its term's range.
        dead = np.flatnonzero(~np.asarray(live, dtype=bool)[np.asarray(self.rows)])
        terms = np.searchsorted(indptr, dead, side="right") - 1
        return df - np.bincount(terms, minlength=len(df)).astype(np.int64)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        for name, array in zip(self.FILES[1:], (self.indptr, self.rows, self.tfs, self.lengths), strict=True):
            np.save(folder / name, array)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        arrays = [np.load(folder / name, mmap_mode="r") for name in cls.FILES[1:]]
        if not isinstance(terms, list) or len(arrays[0]) != len(terms) + 1 or len(arrays[1]) != len(arrays[2]):
            raise ValueError(f"the postings in {folder} do not agree with each other")
        return cls(terms, *arrays)


class _Part:
    """A segment's postings as searched: its rows' positions, its terms' live document frequencies, each row's
    BM25 length norm k1 (1 - b + b len / mean len) for the collection's mean length, and, for a segment of up
    to WEIGHTS_IN_MEMORY postings, each posting's term-frequency weight tf / (tf + norm), computed once per
    load (4 bytes a posting in memory; a question then adds slices of it). A larger segment's weights are
    computed as questions need them, from its memory-mapped postings."""

    CHUNK = 1 << 22
    WEIGHTS_IN_MEMORY = 120_000_000

    def __init__(self, postings: Postings, positions: np.ndarray, df: np.ndarray, norms: np.ndarray) -> None:
        self.postings, self.positions, self.df, self.norms = postings, positions, df, norms
        self.weights = self._weights(0, len(postings.rows)) if len(postings.rows) <= self.WEIGHTS_IN_MEMORY else None
        live = positions >= 0
        # A row whose position is its own number (a segment merged in position order) needs no look-up.
        self.same_numbers = bool(np.array_equal(positions[live], np.flatnonzero(live)))
        self.live = None if live.all() else live

    def _weights(self, start: int, end: int) -> np.ndarray:
        """The term-frequency weights of postings start to end (in chunks: no large temporary arrays)."""
        out = np.empty(end - start, dtype=np.float32)
        for at in range(start, end, self.CHUNK):
            stop = min(end, at + self.CHUNK)
            tf = np.asarray(self.postings.tfs[at:stop], dtype=np.float32)
            out[at - start : stop - start] = tf / (tf + self.norms[np.asarray(self.postings.rows[at:stop])])
        return out

    def weights_of(self, start: int, end: int) -> np.ndarray:
        """One term's postings' weights."""
        return self.weights[start:end] if self.weights is not None else self._weights(start, end)

    def found(self, rows: np.ndarray, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The positions of these rows, and which of them count (None: all): live, and allowed if asked."""
        if self.same_numbers:
            found, keep = rows, (self.live[rows] if self.live is not None else None)
        else:
            found = self.positions[rows]
            keep = found >= 0
        if allowed is not None:  # a row that is not live may have any number: clipped, then masked
            ok = allowed[np.clip(found, 0, len(allowed) - 1)]
            keep = ok if keep is None else keep & ok
        return found, keep


class LexicalIndex:
    """BM25 (Lucene's variant, as bm25s computes it) over segments of postings, ranked by record position.

    Each part is a segment's postings with its rows' positions (-1: deleted) and its terms' live document
    frequencies; scores use the statistics of the live records of all parts, so an index updated by
    segments ranks exactly as one built afresh.
    """

    K1 = 1.2  # chosen with the fusion's weights on SciFact's training split (eval/README.md)
    B = 0.75

    def __init__(self, parts: list[tuple[Postings, np.ndarray, np.ndarray]], count: int) -> None:
        self.count = count
        total = sum(int(np.asarray(p.lengths)[positions >= 0].sum()) for p, positions, _ in parts)
        mean = total / count if count else 1.0
        self.parts = [
            _Part(p, positions, df, (self.K1 * (1 - self.B + self.B * np.asarray(p.lengths) / mean)).astype(np.float32))
            for p, positions, df in parts
        ]

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> LexicalIndex:
        """One segment over these token lists, rows in order."""
        postings = Postings.build(token_lists)
        return cls([(postings, np.arange(postings.count), postings.document_frequency())], postings.count)

    def document_frequency(self, token: str) -> int:
        """How many (live) records use a token."""
        total = 0
        for part in self.parts:
            term = part.postings.vocab.get(token)
            if term is not None:
                total += int(part.df[term])
        return total

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.count - df + 0.5) / (df + 0.5))

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and BM25 scores of the best k records that share a term with the question (a term asked
        twice counts twice)."""
        if not tokens or self.count == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = np.zeros(self.count, dtype=np.float32)
        for token, times in Counter(tokens).items():
            df = self.document_frequency(token)
            if df:
                for part in self.parts:
                    self._score(token, np.float32(times * self._idf(df)), part, scores, allowed)
        if allowed is not None and np.count_nonzero(allowed) < len(allowed) // 4:  # ranked among the allowed only
            within = np.flatnonzero(allowed)
            top = within[_best(scores[within], k)]
        else:
            top = _best(scores, k)
        return top, scores[top]

    @staticmethod
    def _score(token: str, weight: np.float32, part: _Part, scores: np.ndarray, allowed) -> None:
        """Add one term's scores from one segment into `scores` (positions scored once per term and segment)."""
        term = part.postings.vocab.get(token)
        if term is None:
            return
        start, end = int(part.postings.indptr[term]), int(part.postings.indptr[term + 1])
        found, keep = part.found(np.asarray(part.postings.rows[start:end]), allowed)
        added = weight * part.weights_of(start, end)
        if keep is None:
            np.add.at(scores, found, added)
        else:
            np.add.at(scores, found[keep], added[keep])


def _best(scores: np.ndarray, k: int, buckets: int = 1 << 16) -> np.ndarray:
    """The positions of the k highest positive scores, best first (ties by position).

    Every idf is positive, so a record that shares a term with the question scores above 0. The k-th score is
    found through a histogram of the scores (numpy's selection slows down badly on the many ties of a common
    term), then only the records at or above its bucket are sorted.
    """
    top = float(scores.max()) if len(scores) else 0.0
    if k <= 0 or top <= 0:
        return np.zeros(0, dtype=np.int64)
    bucket = np.ceil(scores * np.float32(buckets / top)).astype(np.int32)  # 0 for 0, else 1..buckets
    at_least = np.cumsum(np.bincount(bucket, minlength=buckets + 1)[::-1])[::-1]
    full = np.flatnonzero(at_least[1:] >= k)
    edge = int(full.max()) + 1 if len(full) else 1  # the bucket of the k-th score (1: fewer than k found)
    higher = np.flatnonzero(bucket > edge)
    tied = np.flatnonzero(bucket == edge)
    need = k - len(higher)
    if len(tied) > need:  # often thousands of equal scores: the first positions among the best of them
        values = scores[tied]
        tied = tied[:need] if values.min() == values.max() else tied[np.lexsort((tied, -values))][:need]
    candidates = np.concatenate([higher, tied])
    return candidates[np.lexsort((candidates, -scores[candidates]))][:k]
