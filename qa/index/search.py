"""The index: one object for the whole cycle — build or update, load (checked), and search in every mode.

`qa.index.build.build_index(config)` writes a build, `ArchiveIndex.load(config)` opens the current
one after checking it against its manifest (qa/index/manifest.py), and `search` ranks its records for a question
by meaning (dense), by words (bm25) or both (hybrid, fused by reciprocal rank), within a date range.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from embeddings.model import same_model
from embeddings.vectors import Segments, VectorView, same_threads
from qa.config import MODES, Config
from qa.errors import AliasError, IndexProblem
from qa.index.encoding import lexical_text
from qa.index.lexical import Analyzer, LexicalIndex
from qa.index.manifest import CURRENT, DATES, FORCE, RECORDS, Manifest, corpus_changes, describe_changes
from qa.index.passages import Passage, Passages, merged
from qa.index.people import Name, People, person_key, with_names
from qa.index.store import RecordStore, load_segments
from qa.index.vocabulary import Reading, Vocabulary, unknown_words
from qa.records import Record

FUSION_DENSE = 0.6  # the dense search's weight in hybrid mode (the lexical one's: 1 - this); eval/README.md
READ_AS_SIMILARITY = 0.6  # a question word is read as a word of the collection at least this similar
MAX_READ_AS = 3  # question words read in the vocabulary at most (each is one call of the model)
WORD_VECTORS_KEPT = 16384
CANDIDATES = 50
# Under a date range, an undated record may be from any time: it is kept, but ranked after dated matches.
UNDATED_WEIGHT = 0.5
LOAD_ATTEMPTS = 3
SPELLED_FROM = 6  # words this long or longer are read as the collection's word one letter apart
_SEARCH_THREADS: list[ThreadPoolExecutor] = []  # dense searches of hybrid questions, beside the lexical one
_SEARCH_THREADS_LOCK = threading.Lock()


def _search_threads() -> ThreadPoolExecutor:
    """The threads dense searches run on (one a core, shared by every index and question), made on first use with
    the FAISS thread count of the thread that made them."""
    with _SEARCH_THREADS_LOCK:
        if not _SEARCH_THREADS:
            threads = ThreadPoolExecutor(os.cpu_count() or 1, "dense-search", initializer=same_threads())
            _SEARCH_THREADS.append(threads)
    return _SEARCH_THREADS[0]


@dataclass(frozen=True, slots=True)
class DateFilter:
    """Records whose date overlaps [start, end] (YYYYMMDD integers, either open); undated kept or not."""

    start: int | None = None
    end: int | None = None
    keep_undated: bool = True

    def mask(self, dates: np.ndarray | DateColumns) -> np.ndarray:
        """A boolean mask over records from their (start, end) date rows (or those as columns); 0 is undated."""
        columns = dates if isinstance(dates, DateColumns) else DateColumns(dates)
        ok = ~columns.undated
        if self.start is not None:
            ok &= columns.ends >= self.start
        if self.end is not None:
            ok &= columns.starts <= self.end
        return ok | columns.undated if self.keep_undated else ok


class DateColumns:
    """Records' first and last days as two arrays in memory, and which are undated: a date filter over a million
    records in 2 ms (on the stored rows, twice that)."""

    def __init__(self, dates: np.ndarray) -> None:
        self.starts = np.ascontiguousarray(dates[:, 0])
        self.ends = np.ascontiguousarray(dates[:, 1])
        self.undated = self.starts == 0


@dataclass(frozen=True, slots=True)
class Query:
    """A question as the index searches it: its text, its vector (None in bm25 mode), its lexical tokens, and its
    words read in the collection's vocabulary (their tokens are among `tokens`)."""

    text: str
    vector: np.ndarray | None
    tokens: list[str]
    read_as: tuple[Reading, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved record: its id and position, fused score, similarity to the question and word coverage."""

    id: str
    position: int
    score: float
    similarity: float
    coverage: float
    passage: int = -1  # the row of the record's passage that ranked it, when one did (qa/index/passages.py)


class ArchiveIndex:
    """A loaded index: the collection's records with their vectors, dense and lexical search."""

    def __init__(self, folder: Path, manifest: Manifest, analyzer: Analyzer, config: Config) -> None:
        count = manifest.count
        self.folder = folder
        self.manifest = manifest
        self.analyzer = analyzer
        self.config = config
        self.records = RecordStore(folder, count, manifest.files[RECORDS].get("blocks"))
        self.dates = np.load(folder / DATES, mmap_mode="r")
        self._date_columns = DateColumns(self.dates)
        self.segments = load_segments(folder, manifest)
        self.vector_index = Segments([(s.vectors, s.positions) for s in self.segments], count, manifest.dim)
        self.vectors = VectorView(self.vector_index)
        self.lexical = LexicalIndex([(s.postings, s.positions, s.df) for s in self.segments], count)
        analyzer.use_vocabulary(lambda word: self.lexical.document_frequency(analyzer.stem(word)) > 0)
        self.people = People.load(folder, self.records, analyzer)  # correspondents by record
        self.passages = Passages.load(folder)  # None when no record has a full text
        self.vocabulary = Vocabulary.load(folder)  # None in a build without one
        self.record_tokens: Callable[[int], list[str]] = lru_cache(maxsize=8192)(self._record_tokens)
        self._idf: dict[str, float] = {}
        self._word_vectors: dict[str, np.ndarray] = {}
        if (
            self.dates.shape != (count, 2)
            or self.records.offsets.shape != (count + 1,)
            or any(s.vectors.dim != manifest.dim for s in self.segments)
        ):
            raise IndexProblem(f"index files in {folder} do not agree with its manifest", FORCE)

    # ------------------------------------------------------------------------------------------ the cycle

    @classmethod
    def load(cls, config: Config, *, check_stale: bool = True) -> ArchiveIndex:
        """Load and check the index for this configuration; IndexProblem says what to run when it can't.

        Should a build be swapped in (and the old one removed) while this one is being read, the
        new current build is read instead.
        """
        for attempt in range(LOAD_ATTEMPTS):
            folder = current_build(config.index_dir)
            try:
                return cls._load_build(folder, config, check_stale)
            except (IndexProblem, FileNotFoundError) as exc:
                if attempt + 1 < LOAD_ATTEMPTS and _swapped(config.index_dir, folder):
                    continue
                if isinstance(exc, FileNotFoundError):
                    raise IndexProblem(f"index file {exc.filename} is missing", FORCE) from None
                raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_build(cls, folder: Path, config: Config, check_stale: bool) -> ArchiveIndex:
        manifest = Manifest.read(folder)
        manifest.check(folder, config.model)
        try:
            analyzer = Analyzer.from_files(config.aliases)
        except AliasError as exc:
            raise IndexProblem(str(exc)) from None
        if manifest.aliases != analyzer.fingerprint:
            changed = "the alias files or the romanisation table changed since the index was built"
            raise IndexProblem(changed, "archive-qa index")
        if check_stale and (changes := corpus_changes(config.corpus, manifest.corpus_files)):
            raise IndexProblem(describe_changes(changes), "archive-qa index")
        try:
            return cls(folder, manifest, analyzer, config)
        except (IndexProblem, FileNotFoundError):
            raise
        except Exception as exc:  # numpy, faiss and bm25s raise many kinds on damaged files
            raise IndexProblem(f"index files in {folder} are damaged ({type(exc).__name__})", FORCE) from None

    def stale_problem(self) -> str | None:
        """The one line saying the corpus changed since this build (and what to run), or None."""
        changes = corpus_changes(self.config.corpus, self.manifest.corpus_files)
        return str(IndexProblem(describe_changes(changes), "archive-qa index")) if changes else None

    # ------------------------------------------------------------------------------------------ facts

    @property
    def count(self) -> int:
        return self.manifest.count

    @property
    def dim(self) -> int:
        """The length of the index's vectors: that of its model's embeddings."""
        return self.manifest.dim

    @property
    def model(self) -> str:
        """The name or path of the model the index was built with."""
        return self.manifest.model

    def check_embedder(self, embedder) -> None:
        """Refuse a model other than the index's, by name or by the length of its vectors."""
        if not same_model(embedder.name, self.model):
            raise IndexProblem(
                f"the index was built with model {self.model!r}, not {embedder.name!r}",
                f"archive-qa index --model {embedder.name}",
            )
        if embedder.dim != self.dim:
            raise IndexProblem(
                f"model {embedder.name!r} gives {embedder.dim}-dimensional vectors, the index holds {self.dim}", FORCE
            )

    def _record_tokens(self, position: int) -> list[str]:
        """The lexical tokens of a record (its text as searched by words)."""
        return self.analyzer.tokens(lexical_text(self.records[position]))

    # ------------------------------------------------------------------------------------------ search

    def query(self, text: str, embedder=None, mode: str = "hybrid", *, expand: bool = True) -> Query:
        """A question made ready to search: embedded (unless bm25) with the index's model, tokenised, and (unless
        `expand` is off or there is no embedder) its words the collection never uses read in its vocabulary."""
        vector = None
        if mode != "bm25":
            if embedder is None:
                raise ValueError("a search by meaning needs the index's embedder")
            self.check_embedder(embedder)
            vector = np.asarray(embedder.encode_query(text), dtype=np.float32).reshape(-1)
        tokens = self.analyzer.tokens(text)
        read_as = self.read_in_vocabulary(text, embedder) if expand and embedder is not None else ()
        return Query(text, vector, tokens + [self.analyzer.stem(r.read_as) for r in read_as], read_as)

    def read_in_vocabulary(self, text: str, embedder) -> tuple[Reading, ...]:
        """The question's content words that the collection never uses, each read as the nearest word of its
        vocabulary when near enough (never a name: a word capitalised in the question is left as it is)."""
        if self.vocabulary is None:
            return ()
        unknown = [w for w in unknown_words(text, self.analyzer) if not self._used(w)][:MAX_READ_AS]
        if not unknown:
            return ()
        self.check_embedder(embedder)
        vectors = np.stack([self._word_vector(embedder, w) for w in unknown])
        out = []
        for word, near in zip(unknown, self.vocabulary.nearest(vectors, 1), strict=True):
            if near and near[0][1] >= READ_AS_SIMILARITY and self._used(near[0][0]):
                out.append(Reading(word, near[0][0], near[0][1]))
        return tuple(out)

    def _word_vector(self, embedder, word: str) -> np.ndarray:
        """A word's vector from the index's model, kept for the next question that has it."""
        vector = self._word_vectors.get(word)
        if vector is None:
            vector = np.asarray(embedder.encode_query(word), dtype=np.float32).reshape(-1)
            if len(self._word_vectors) < WORD_VECTORS_KEPT:
                self._word_vectors[word] = vector
        return vector

    def _used(self, word: str) -> bool:
        """Whether the collection uses a word (its stem)."""
        return self.lexical.document_frequency(self.analyzer.stem(word)) > 0

    def search(
        self, query: Query, k: int, mode: str = "hybrid", date_filter: DateFilter | None = None, mask=None
    ) -> list[Hit]:
        """The best k records, best first: each search's scores divided by its best one, dense and lexical weighted
        FUSION_DENSE and 1 - FUSION_DENSE (a record one search did not rank takes that search's lowest score)."""
        if mode not in MODES:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        allowed = self.within(date_filter, mask)
        if allowed is not None and not allowed.any():
            return []
        by_passage: dict[int, int] = {}
        ranked = self._rankings(query, max(CANDIDATES, k), mode, allowed, by_passage)
        fused = fuse(ranked, (FUSION_DENSE, 1 - FUSION_DENSE) if len(ranked) == 2 else (1.0,))
        if date_filter is not None and date_filter.keep_undated:
            for position in fused:
                if self.dates[position, 0] == 0:
                    fused[position] *= UNDATED_WEIGHT
        best = sorted(fused, key=lambda p: (-fused[p], p))[:k]
        return self._hits(best, fused, query, by_passage)

    def _rankings(
        self, query: Query, depth: int, mode: str, allowed: np.ndarray | None, by_passage: dict[int, int]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The positions each search of the mode ranks best, with their scores, dense first. In hybrid mode the
        dense search runs on another thread while this one ranks by words (FAISS releases the GIL): a question
        waits for the slower of the two, not for both. With passages, each search also ranks them, and a record
        ranks by the better of itself and its best passage (`by_passage` is told which passage ranked each
        record)."""
        dense = mode in ("dense", "hybrid") and query.vector is not None
        words = mode in ("bm25", "hybrid")
        if self.passages is not None:
            return self._with_passages(query, depth, dense, words, allowed, by_passage)
        if dense and words:
            future = _search_threads().submit(self.vector_index.search, query.vector, depth, allowed)
            lexical = self.lexical.search(query.tokens, depth, allowed)
            return [future.result(), lexical]
        if dense:
            return [self.vector_index.search(query.vector, depth, allowed)]
        return [self.lexical.search(query.tokens, depth, allowed)] if words else []

    def _with_passages(
        self, query: Query, depth: int, dense: bool, words: bool, allowed: np.ndarray | None, by_passage: dict[int, int]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The rankings of records and passages together (qa/index/passages.py: `merged`), dense first."""
        passages, threads, out = self.passages, _search_threads(), []
        assert passages is not None
        if dense:
            records = threads.submit(self.vector_index.search, query.vector, depth, allowed)
            found = threads.submit(passages.dense, query.vector, depth, allowed)
        if words:
            lexical = merged(
                self.lexical.search(query.tokens, depth, allowed),
                passages.words(query.tokens, depth, allowed),
                passages.where,
                depth,
            )
        if dense:
            ranking, rows = merged(records.result(), found.result(), passages.where, depth)
            out.append(ranking)
            by_passage.update(rows)
        if words:
            out.append(lexical[0])
            for position, row in lexical[1].items():
                by_passage.setdefault(position, row)
        return out

    def passage(self, hit: Hit) -> Passage | None:
        """The passage that ranked a hit's record, if one did."""
        if self.passages is None or hit.passage < 0:
            return None
        return self.passages.passage(hit.passage, self.records[hit.position])

    def _hits(self, best: list[int], fused: dict[int, float], query: Query, by_passage: dict[int, int]) -> list[Hit]:
        if not best:
            return []
        rows = np.asarray(best)
        similarity = (
            np.asarray(self.vectors[rows], dtype=np.float32) @ query.vector
            if query.vector is not None
            else np.zeros(len(best), dtype=np.float32)
        )
        hits = [
            Hit(self.records[p].id, p, fused[p], float(s), self.coverage(query.tokens, self.record_tokens(p)))
            for p, s in zip(best, similarity, strict=True)
        ]
        return [self._passage_hit(h, query, by_passage[h.position]) if h.position in by_passage else h for h in hits]

    def _passage_hit(self, hit: Hit, query: Query, row: int) -> Hit:
        """A hit ranked by one of its record's passages: its similarity and word coverage the better of the
        record's and the passage's (its words with the record's)."""
        assert self.passages is not None
        text = self.passages.passage(row, self.records[hit.position]).text
        similarity = hit.similarity
        if query.vector is not None:
            vector = np.asarray(self.passages.vectors.matrix[row], dtype=np.float32)
            similarity = max(similarity, float(vector @ query.vector))
        words = set(self.record_tokens(hit.position)) | set(self.analyzer.tokens(text))
        return Hit(
            hit.id, hit.position, hit.score, similarity, max(hit.coverage, self.coverage(query.tokens, words)), row
        )

    # ------------------------------------------------------------------------------------------ words and people

    def tokens(self, text: str) -> list[str]:
        """A text's lexical tokens, as the index's analyzer makes them (aliases read, stemmed, stop words out)."""
        return self.analyzer.tokens(text)

    def canonical(self, text: str) -> str:
        """A text lower-cased with the alias table's names replaced by the names they stand for."""
        return self.analyzer.canonical(text)

    def uses(self, token: str) -> bool:
        """Whether any record of the collection holds this token (in its embedded text, or its full text)."""
        if self.lexical.document_frequency(token) > 0:
            return True
        return self.passages is not None and self.passages.lexical.document_frequency(token) > 0

    def spelled(self, word: str) -> str | None:
        """The collection's token for a word it never uses but writes with one letter more or less or two
        neighbours swapped, never another letter ("recieving": receiv, "telegarm": telegram, "governmnet": govern;
        "advise" is not "advice"), the most used if several; the token itself that near the word's own, or the
        word's beginning ("proceed" is not "prove"). None for a word under SPELLED_FROM letters or none near."""
        word = word.lower()
        if len(word) < SPELLED_FROM or not word.isalpha():
            return None
        letters = "abcdefghijklmnopqrstuvwxyz"
        near = {word[:i] + word[i + 1 :] for i in range(len(word))}
        near |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
        near |= {word[:i] + c + word[i:] for i in range(1, len(word) + 1) for c in letters}
        own = self.tokens(word)
        if len(own) != 1:
            return None
        tokens = {t for w in near for t in self.tokens(w)[:1] if len(self.tokens(w)) == 1}
        near_enough = lambda t: _one_apart(own[0], t) or (word.startswith(t) and len(t) >= len(own[0]) - 4)  # noqa: E731
        found = [t for t in tokens if self.uses(t) and near_enough(t)]
        return max(found, key=lambda t: (self.lexical.document_frequency(t), t)) if found else None

    def matching(self, tokens: Sequence[str], depth: int | None = None, allowed: np.ndarray | None = None):
        """The positions of the records (within `allowed`) that hold any of the tokens, best match first."""
        return self.lexical.search(list(tokens), self.count if depth is None else depth, allowed)[0]

    def holding(self, tokens: Sequence[str], allowed: np.ndarray | None = None) -> np.ndarray:
        """The records (a mask, within `allowed`) whose words include every one of these tokens."""
        mask = np.ones(self.count, dtype=bool) if allowed is None else np.array(allowed, dtype=bool)
        for token in dict.fromkeys(tokens):
            found = np.zeros(self.count, dtype=bool)
            found[self.matching([token], self.count, mask)] = True
            mask &= found
        return mask

    def dated(self, position: int) -> bool:
        """Whether a record has a date."""
        return bool(self.dates[position, 0])

    def undated(self) -> np.ndarray:
        """The undated records, as a mask (a copy: the caller may change it)."""
        return self._date_columns.undated.copy()

    def within(self, date_filter: DateFilter | None, mask: np.ndarray | None = None) -> np.ndarray | None:
        """The records within a date filter and a record mask (None when neither narrows)."""
        allowed = date_filter.mask(self._date_columns) if date_filter else None
        if mask is not None:
            allowed = mask if allowed is None else allowed & mask
        return allowed

    def person_keys(self, name: str) -> list[str]:
        """The people of the titles a name stands for (keys; empty when it names no one)."""
        return self.people.find(name)

    def person_name(self, key: str) -> str:
        """A person's name as the titles write it most often."""
        return self.people.name_of(key)

    def people_names(self) -> list[tuple[str, int]]:
        """The people of the titles with their number of documents, most first."""
        return self.people.names()

    def with_people(self, keys: Sequence[str], roles: Sequence[str] | None = None) -> np.ndarray:
        """The records (a mask) in which any of these people has any of these roles (any role when None)."""
        return self.people.mask(keys, roles) if roles else self.people.mask(keys)

    def person_key(self, name: str) -> str:
        """The key a name of the titles is known by (one person's names share it)."""
        return person_key(name, self.analyzer)

    def is_code_name(self, name: str) -> bool:
        """Whether a title gives this name as another's ("Filippov [Stalin]")."""
        return self.person_key(name) in self.people.codes

    def named(self, key: str) -> Name:
        """A person as a text may name them: their whole name, or a handle that names no one else of the titles."""
        return self.people.named(key)

    def roles_in(self, record: Record, key: str) -> list[str]:
        """The roles a person has in a record's title (authors, recipients, ...; empty when it only names them)."""
        return self.people.roles_in(record, key)

    def closest_in_content(self, position: int, k: int, allowed: np.ndarray | None = None) -> list[int]:
        """The k records (within `allowed`, the record itself apart) whose vectors are closest to this record's."""
        vector = np.asarray(self.vectors[position], dtype=np.float32).reshape(-1)
        found = self.vector_index.search(vector, k + 1, allowed)[0]
        return [int(p) for p in found if int(p) != position][:k]

    def first_days(self, positions: np.ndarray) -> np.ndarray:
        """The records' first days (YYYYMMDD; 0 for an undated record)."""
        return np.asarray(self.dates[positions, 0], dtype=np.int64)

    def holds_words(self, position: int, tokens: Sequence[str], names: Sequence[Name] = ()) -> float:
        """The share of the tokens' weight a record's words carry, a person named by a handle of theirs counting as
        named in full (qa/index/people.py: the surname rule)."""
        return self.coverage(list(tokens), with_names(self.record_tokens(position), names))

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token in the collection; highest for a word it never uses."""
        cached = self._idf.get(token)
        if cached is None:
            df = self.lexical.document_frequency(token)
            n = max(self.count, 1)
            cached = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
            if len(self._idf) < 100_000:
                self._idf[token] = cached
        return cached

    def coverage(self, question: list[str], text: list[str] | frozenset[str]) -> float:
        """The share of the question's IDF weight that a text's tokens carry (0 to 1)."""
        weights = {t: self.idf(t) for t in set(question)}
        total = sum(weights.values())
        if total == 0:
            return 0.0
        present = set(text)
        return sum(w for t, w in weights.items() if t in present) / total


def _one_apart(a: str, b: str) -> bool:
    """Whether two tokens differ by one letter added or removed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def fuse(ranked: list[tuple[np.ndarray, np.ndarray]], weights: tuple[float, ...]) -> dict[int, float]:
    """Each ranked position's fused score: the weighted sum of its scores divided by their search's best one; a
    position a search did not rank takes that search's lowest (its scores are cut at the search's depth)."""
    lists = []
    for (positions, scores), weight in zip(ranked, weights, strict=True):
        scores = np.asarray(scores, dtype=np.float64)
        top = float(scores.max()) if len(scores) else 0.0
        share = weight * (scores / top if top > 0 else np.ones_like(scores))
        floor = float(share.min()) if len(share) else 0.0
        lists.append((dict(zip(np.asarray(positions).tolist(), share.tolist(), strict=True)), floor))
    every = {position for found, _ in lists for position in found}
    return {position: sum(found.get(position, floor) for found, floor in lists) for position in every}


def current_build(index_dir: Path) -> Path:
    """The folder of the current build, or IndexProblem saying to build one."""
    link = index_dir / CURRENT
    if not link.exists():
        raise IndexProblem(f"no index in {index_dir}", "archive-qa index")
    return link.resolve()


def _swapped(index_dir: Path, folder: Path) -> bool:
    """Whether another build has become current since `folder` was."""
    try:
        return current_build(index_dir) != folder
    except IndexProblem:
        return False
