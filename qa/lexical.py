"""Lexical matching: alias-aware, stemmed tokens and a BM25 index (bm25s) over records."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from embeddings.words import words
from qa.errors import AliasError

SHIPPED_ALIASES = Path(__file__).parent / "data" / "aliases.tsv"
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_QUESTION_WORDS = """
about above after again against all also am any anything are as be been before being between both but by can could
did do does doing done during each few for from further had has have having he her here hers him his how i if into
its itself just me might more most must my no nor not now of off once only or other our ours out over own same she
should so some something such tell than that their theirs them themselves then there these they this those through
too under until up very was we were what when where which while who whom whose why will with would you your
""".split()
_STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(_QUESTION_WORDS)
ANALYZER_VERSION = 2


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
    """Text to tokens: lower case, aliases to their canonical form, stop words out, Snowball stems."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        names = sorted(aliases, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])") if names else None
        )
        self._stemmer = Stemmer.Stemmer("english")
        key = repr((ANALYZER_VERSION, sorted(_STOPWORDS), sorted(aliases.items())))
        self.fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
        # Caches of this analyzer alone (questions and summaries repeat): no state shared between instances.
        self.tokens = lru_cache(maxsize=65536)(self._tokens)
        self._stem = lru_cache(maxsize=4096)(self._stem_words)

    @classmethod
    def from_files(cls, extra: Path | None = None) -> Analyzer:
        return cls(read_aliases([SHIPPED_ALIASES] + ([extra] if extra else [])))

    def canonical(self, text: str) -> str:
        """The text in lower case with every alias replaced by its canonical form."""
        text = text.lower().translate(_QUOTES)
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.aliases[m.group(1)], text)

    def _tokens(self, text: str) -> list[str]:
        """The text's stemmed content words, aliases resolved (cached per analyzer as `tokens`)."""
        content = [w for w in words(self.canonical(text)) if w not in _STOPWORDS and not (len(w) == 1 and w != "i")]
        return self._stem(tuple(content))

    def _stem_words(self, words: tuple[str, ...]) -> list[str]:
        return self._stemmer.stemWords(list(words))


class LexicalIndex:
    """BM25 over token lists; scores every record for a question through sparse matrices."""

    FOLDER = "bm25"

    def __init__(self, bm25: bm25s.BM25, count: int) -> None:
        self._bm25 = bm25
        self.count = count

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        bm25.index([t or [""] for t in token_lists], show_progress=False)
        return cls(bm25, len(token_lists))

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder / self.FOLDER))

    @classmethod
    def load(cls, folder: Path, count: int) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder / cls.FOLDER), mmap=True), count)

    def document_frequency(self, token: str) -> int:
        """How many records use a token."""
        token_id = self._bm25.vocab_dict.get(token)
        if token_id is None:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[token_id + 1] - indptr[token_id])

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and BM25 scores of the best k records that share a term with the question."""
        ids = self._bm25.get_tokens_ids(tokens)
        if not ids or self.count == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._bm25.get_scores(ids)
        # Only the records on the question's posting lists can score: rank those, not the whole collection.
        terms = sorted(set(ids))
        indptr, indices = self._bm25.scores["indptr"], self._bm25.scores["indices"]
        candidates = np.concatenate([np.asarray(indices[indptr[t] : indptr[t + 1]], dtype=np.int64) for t in terms])
        if allowed is not None:
            candidates = candidates[allowed[candidates]]
        candidates = candidates[scores[candidates] > 0]
        if not len(candidates):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # A record is listed once per question term it holds: the best k * terms listings hold the best k records.
        keep = min(len(candidates), k * len(terms))
        top = np.unique(candidates[np.argpartition(-scores[candidates], keep - 1)[:keep]])
        top = top[np.lexsort((top, -scores[top]))][:k]
        return top, scores[top].astype(np.float32)
