"""Passages: the full texts of records cut into paragraphs (long ones at sentences), searched and cited by paragraph.

A record with a full text (a document page's) gets one passage per paragraph (a line of its full
text), a paragraph longer than MAX_PASSAGE cut into runs of whole sentences. Each passage is embedded
and tokenised; a build keeps them in its `passages/` folder (where each passage is, its content key,
its vectors and its postings), and a new build keeps the vector of every passage whose text it had.
A build whose records have no full text has no `passages/` folder, and searching it is as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.model import text_key
from embeddings.vectors import SEGMENT_FILE, VectorIndex
from qa.index.lexical import Analyzer, LexicalIndex, Postings
from qa.records import Record
from qa.shared import split_sentences

PASSAGES = "passages"
WHERE = "where.npy"  # each passage's record position and paragraph number (1-based)
KEYS = "keys.npy"
INFO = "info.json"
WORDS = "words"
MAX_PASSAGE = 600  # characters: a longer paragraph is cut into runs of whole sentences about this long
KEY_DTYPE = np.dtype("S16")
LENT = (SEGMENT_FILE, *(f"{WORDS}/{name}" for name in Postings.FILES))  # what a build with the same passages links


def paragraphs_of(record: Record) -> list[tuple[int, str]]:
    """A record's passages: (paragraph number, text), a long paragraph in several runs of sentences."""
    out: list[tuple[int, str]] = []
    for number, paragraph in enumerate(record.full_text.split("\n"), start=1):
        if paragraph.strip():
            out.extend((number, piece) for piece in _pieces(paragraph.strip()))
    return out


def _pieces(paragraph: str) -> list[str]:
    """A paragraph, or runs of its whole sentences each at most MAX_PASSAGE long (a longer sentence alone)."""
    if len(paragraph) <= MAX_PASSAGE:
        return [paragraph]
    runs: list[str] = []
    for sentence in split_sentences(paragraph):
        if runs and len(runs[-1]) + 1 + len(sentence) <= MAX_PASSAGE:
            runs[-1] += " " + sentence
        else:
            runs.append(sentence)
    return runs


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage found for a question: its row, record position, paragraph number and text."""

    row: int
    position: int
    paragraph: int
    text: str


# ---------------------------------------------------------------------------------------------- building


@dataclass(slots=True)
class PassagePlan:
    """The passages a build will hold, and which of their vectors it must encode."""

    where: np.ndarray  # (n, 2): record position, paragraph number
    texts: list[str]
    keys: list[bytes]
    known: dict[bytes, np.ndarray]  # vectors of the previous build's passages by content key
    same_as: Path | None = None  # the previous build's passages folder, when it holds these very passages

    @property
    def missing(self) -> list[int]:
        """The rows whose text has no vector yet (each distinct text once)."""
        if self.same_as is not None:
            return []
        seen: set[bytes] = set()
        out = []
        for row, key in enumerate(self.keys):
            if key not in self.known and key not in seen:
                seen.add(key)
                out.append(row)
        return out

    def vectors(self, encode: Callable[[list[str]], np.ndarray], dim: int) -> np.ndarray:
        """Every passage's vector: kept from the previous build, else encoded (once per distinct text); none needed
        when the previous build's passages are these."""
        if self.same_as is not None:
            return np.zeros((0, dim), dtype=np.float32)
        missing = self.missing
        fresh = encode([self.texts[row] for row in missing]) if missing else np.zeros((0, dim), np.float32)
        found = dict(self.known)
        found.update({self.keys[row]: fresh[i] for i, row in enumerate(missing)})
        out = np.zeros((len(self.keys), dim), dtype=np.float32)
        for row, key in enumerate(self.keys):
            out[row] = found[key]
        return out


def plan_passages(
    records: Iterable[Record], model: str, previous: Path | None, settings: dict, kind_of: Callable[[int], str]
) -> PassagePlan:
    """The passages of these records (in record order), with the vectors a previous build has. `settings` are the
    build's vector `dim`, vector `dtype` and the analyzer's fingerprint (`aliases`), to which the vector index's
    `kind` for the passages' number (`kind_of`, as the records' kind is chosen) is added: a previous build whose
    passages are the same texts in the same order, made with the same settings, lends its vectors and postings."""
    where, texts = [], []
    for position, record in enumerate(records):
        if record.full_text:
            for number, text in paragraphs_of(record):
                where.append((position, number))
                texts.append(text)
    keys = [text_key(model, text) for text in texts]
    settings["kind"] = kind_of(len(keys))
    where_rows = np.asarray(where, dtype=np.int64).reshape(-1, 2)
    if previous is None or not keys:
        return PassagePlan(where_rows, texts, keys, {})
    if _same_passages(previous / PASSAGES, keys, settings):
        return PassagePlan(where_rows, texts, keys, {}, previous / PASSAGES)
    return PassagePlan(where_rows, texts, keys, _previous_vectors(previous, set(keys), settings["dim"]))


def _same_passages(folder: Path, keys: list[bytes], settings: dict) -> bool:
    """Whether a passages folder holds these passages (by content key, in order), made with these settings."""
    try:
        info = json.loads((folder / INFO).read_text(encoding="utf-8"))
        stored = np.load(folder / KEYS)
    except (OSError, ValueError):
        return False
    same = isinstance(info, dict) and all(info.get(name) == value for name, value in settings.items())
    return same and np.array_equal(stored, np.asarray(keys, dtype=KEY_DTYPE))


def _previous_vectors(build: Path, wanted: set[bytes], dim: int) -> dict[bytes, np.ndarray]:
    """The vectors of a previous build's passages whose key is wanted ({} when it has none or they do not read)."""
    folder = build / PASSAGES
    try:
        info = json.loads((folder / INFO).read_text(encoding="utf-8"))
        keys = np.load(folder / KEYS)
        stored = VectorIndex.load(folder / SEGMENT_FILE, info["kind"], info["dtype"])
    except (OSError, ValueError, KeyError, RuntimeError):
        return {}
    matrix = stored.matrix  # a view of the index's memory: read while `stored` lives, each row copied out
    if len(keys) != len(matrix) or matrix.shape[1] != dim:
        return {}
    return {bytes(k): np.array(matrix[row], dtype=np.float32) for row, k in enumerate(keys) if bytes(k) in wanted}


def write_passages(
    folder: Path, plan: PassagePlan, vectors: np.ndarray, analyzer: Analyzer, settings: dict,
    link: Callable[[Path, Path], None],
) -> None:
    """A build's passages folder (none when no record has a full text); the vectors and postings of the previous
    build's, when its passages are these, linked (`link(source, target)`) rather than made again."""
    if not plan.keys:
        return
    out = folder / PASSAGES
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / WHERE, plan.where)
    np.save(out / KEYS, np.asarray(plan.keys, dtype=KEY_DTYPE))
    if plan.same_as is not None:
        for name in LENT:
            link(plan.same_as / name, out / name)
    else:
        VectorIndex.build(vectors, settings["kind"], settings["dtype"]).save(out / SEGMENT_FILE)
        Postings.build([analyzer.tokens(text) for text in plan.texts]).save(out / WORDS)
    info = {"count": len(plan.keys), **settings}
    (out / INFO).write_text(json.dumps(info), encoding="utf-8")


# ---------------------------------------------------------------------------------------------- searching


class Passages:
    """A build's passages, searched by meaning and by words; each found passage stands for its record."""

    def __init__(self, folder: Path) -> None:
        info = json.loads((folder / INFO).read_text(encoding="utf-8"))
        self.where = np.load(folder / WHERE)
        self.vectors = VectorIndex.load(folder / SEGMENT_FILE, info["kind"], info["dtype"])
        postings = Postings.load(folder / WORDS)
        self.lexical = LexicalIndex([(postings, np.arange(postings.count), postings.document_frequency())],
                                    postings.count)
        if not len(self.where) == self.vectors.count == postings.count == info["count"]:
            raise ValueError(f"the passages in {folder} do not agree with each other")

    @classmethod
    def load(cls, build: Path) -> Passages | None:
        """A build's passages, or None when it has none."""
        folder = build / PASSAGES
        return cls(folder) if (folder / INFO).is_file() else None

    def allowed(self, records: np.ndarray | None) -> np.ndarray | None:
        """A passage mask from a record mask."""
        return None if records is None else np.asarray(records)[self.where[:, 0]]

    def dense(self, vector: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the passages nearest in meaning."""
        return self.vectors.search(vector, k, self.allowed(allowed))

    def words(self, tokens: list[str], k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and BM25 scores of the passages that match the words best."""
        return self.lexical.search(tokens, k, self.allowed(allowed))

    def passage(self, row: int, record: Record) -> Passage:
        """A passage of a record by its row, its text cut from the record's full text as it was when built."""
        position, number = (int(v) for v in self.where[row])
        first = int(np.searchsorted(self.where[:, 0], position))
        text = paragraphs_of(record)[row - first][1]
        return Passage(row, position, number, text)


def merged(records: tuple[np.ndarray, np.ndarray], passages: tuple[np.ndarray, np.ndarray], where: np.ndarray,
           depth: int) -> tuple[tuple[np.ndarray, np.ndarray], dict[int, int]]:
    """One ranking of records (positions and scores) from a search of records and one of passages: each record
    scored by the better of itself and its best passage; with, for each record ranked by a passage, that passage's
    row."""
    best: dict[int, float] = {}
    by_passage: dict[int, int] = {}
    for position, score in zip(records[0].tolist(), records[1].tolist(), strict=True):
        best[position] = max(best.get(position, -np.inf), score)
    for row, score in zip(passages[0].tolist(), passages[1].tolist(), strict=True):
        position = int(where[row, 0])
        if position not in by_passage:
            by_passage[position] = row
        if score > best.get(position, -np.inf):
            best[position] = score
    order = sorted(best, key=lambda p: (-best[p], p))[:depth]
    return (np.asarray(order, dtype=np.int64), np.asarray([best[p] for p in order], dtype=np.float32)), by_passage
