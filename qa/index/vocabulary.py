"""The collection's vocabulary: its common words embedded once per build, and a question's words read in them.

A build keeps, in its `vocabulary/` folder, the words of the records' titles and summaries (lower case, letters
only, not stop words), which of them are names (written with a capital in most of their uses inside sentences), and
their vectors from the index's model; a new build encodes only the words the previous one lacked. At
question time a content word the collection never uses is read as the nearest of these words in meaning, when it
is near enough ("teachers" as "professors"); a name is never read as anything else, and no word is read as a name.
The words grow far slower than the records, and the look-up is one product with the vectors of at most SEARCHED of
them (the most used), whatever the number of records.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.model import text_key
from qa.index.lexical import STOPWORDS
from qa.index.store import KEY_DTYPE, KEYS, read_keys
from qa.records import Record

VOCABULARY = "vocabulary"
WORDS = "words.json"
VECTORS = "vectors.npy"
MIN_LETTERS = 3
SEARCHED = 10_000  # the most used common words searched (one product with their vectors, about 1 ms); not the rest
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SENTENCE_END = re.compile(r"[.!?:;\"“”(\[]\s*$")


@dataclass(frozen=True, slots=True)
class Reading:
    """A question word read in the collection's vocabulary: the word, the collection's word and their similarity."""

    word: str
    read_as: str
    similarity: float

    def __str__(self) -> str:
        return f"{self.word} → {self.read_as}"


def collection_words(records: Iterable[Record]) -> tuple[list[str], list[bool]]:
    """The words of the records' titles and summaries, most used first, and which are names (see the module's
    docstring): a name keeps its vector (a change of records may make it a common word again), but is never read."""
    uses: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    for record in records:
        for text in (record.title, record.summary):
            for m in _WORD.finditer(text):
                word = m.group()
                low = word.lower()
                uses[low] += 1
                inside = m.start() > 0 and not _SENTENCE_END.search(text[max(0, m.start() - 3) : m.start()])
                if inside and word[0].isupper():
                    capitalised[low] += 1
    words = [w for w, _ in uses.most_common() if len(w) >= MIN_LETTERS and w not in STOPWORDS and w.isalpha()]
    return words, [capitalised[w] * 2 >= uses[w] for w in words]


def unknown_words(question: str, analyzer) -> list[str]:
    """A question's candidate words to read in the vocabulary: its content words as the analyzer reads them (lower
    case, romanised names rewritten), of letters only, none a name: written with a capital inside the question, a
    Chinese name in pinyin (a historian may write nanjing in lower case), or what an alias or a romanisation made."""
    names = {m.group().lower() for m in _WORD.finditer(question) if m.start() > 0 and m.group()[0].isupper()}
    as_written = {w.lower() for w in _WORD.findall(question)}
    out = []
    for word in _WORD.findall(analyzer.canonical(question)):
        name = word in names or word not in as_written or analyzer.romaniser.pinyin_name(word)
        if len(word) >= MIN_LETTERS and word.isalpha() and word not in STOPWORDS and not name:
            out.append(word)
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------- building


@dataclass(slots=True)
class VocabularyPlan:
    """The words a build will hold (and which are names), and the vectors of those a previous build had."""

    words: list[str]
    names: list[bool]
    keys: list[bytes]
    known: dict[bytes, np.ndarray]

    @property
    def missing(self) -> list[int]:
        return [i for i, key in enumerate(self.keys) if key not in self.known]

    def vectors(self, encode: Callable[[list[str]], np.ndarray], dim: int) -> np.ndarray:
        """Every word's vector: kept from the previous build, else encoded."""
        missing = self.missing
        fresh = encode([self.words[i] for i in missing]) if missing else np.zeros((0, dim), np.float32)
        out = np.zeros((len(self.words), dim), dtype=np.float32)
        for row, key in enumerate(self.keys):
            if key in self.known:
                out[row] = self.known[key]
        if missing:
            out[missing] = fresh
        return out


def plan_vocabulary(records: Iterable[Record], model: str, previous: Path | None, dim: int) -> VocabularyPlan:
    """The vocabulary of these records, with the vectors (of `dim` numbers) a previous build has for its words."""
    words, names = collection_words(records)
    keys = [text_key(model, w) for w in words]
    known = _previous_vectors(previous, set(keys), dim) if previous is not None and keys else {}
    return VocabularyPlan(words, names, keys, known)


def _previous_vectors(build: Path, wanted: set[bytes], dim: int) -> dict[bytes, np.ndarray]:
    """The vectors of a previous build's words whose key is wanted ({} when it has none or they do not read)."""
    folder = build / VOCABULARY
    try:
        vectors = np.load(folder / VECTORS)
        keys = read_keys(folder, len(vectors))
    except (OSError, ValueError):
        return {}
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        return {}
    return {k: np.array(vectors[row], dtype=np.float32) for row, k in enumerate(keys) if k in wanted}


def write_vocabulary(folder: Path, plan: VocabularyPlan, vectors: np.ndarray) -> None:
    """A build's vocabulary folder (none when the records have no common word)."""
    if not plan.words:
        return
    out = folder / VOCABULARY
    out.mkdir(parents=True, exist_ok=True)
    (out / WORDS).write_text(json.dumps({"words": plan.words, "names": plan.names}, ensure_ascii=False), "utf-8")
    np.save(out / KEYS, np.asarray(plan.keys, dtype=KEY_DTYPE))  # read back whole by store.read_keys
    np.save(out / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))


# ---------------------------------------------------------------------------------------------- reading


class Vocabulary:
    """A build's common words (its names apart), searched by meaning."""

    def __init__(self, words: list[str], vectors: np.ndarray) -> None:
        if len(words) != len(vectors):
            raise ValueError("the vocabulary's words and vectors do not agree")
        self.words = words[:SEARCHED]
        self.vectors = np.ascontiguousarray(vectors[:SEARCHED], dtype=np.float32)

    @classmethod
    def load(cls, build: Path) -> Vocabulary | None:
        """A build's vocabulary less its names, or None when it has none."""
        folder = build / VOCABULARY
        if not (folder / WORDS).is_file():
            return None
        stored = json.loads((folder / WORDS).read_text(encoding="utf-8"))
        vectors = np.load(folder / VECTORS)
        common = [i for i, name in enumerate(stored["names"]) if not name]
        return cls([stored["words"][i] for i in common], vectors[common])

    @property
    def count(self) -> int:
        return len(self.words)

    def nearest(self, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """For each vector (a row), its k nearest words with their similarity, nearest first: one product with the
        words' vectors, row by row (einsum: BLAS's threads, woken for one product on a loaded machine, took 5x as
        long)."""
        out = []
        for query in np.asarray(vectors, dtype=np.float32).reshape(-1, self.vectors.shape[1]):
            products = np.einsum("ij,j->i", self.vectors, query)
            top = np.argpartition(-products, min(k, len(products)) - 1)[:k] if len(products) else products[:0]
            top = top[np.argsort(-products[top])]
            out.append([(self.words[r], float(products[r])) for r in top.tolist()])
        return out
