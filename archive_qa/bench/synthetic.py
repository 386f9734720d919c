"""A SYNTHETIC archive for benchmarks only: made-up records and questions, deterministic from a seed.

Nothing here is history. The records imitate the shape of the real collection (dated 1917-1991,
cables, memoranda and reports between named people, two-to-four sentence summaries) so that
`archive-qa bench` can measure the system at any size. They are never part of the shipped
collection: write them to a scratch folder, never into corpus/.

Record i depends only on (seed, i), so a smaller collection is a prefix of a larger one with the
same seed. Each question names the record that answers it (`answer_id`).

`StandInEmbedder` gives the same interface as embeddings.model.Embedder but computes a vector as
the normalised mean of per-word vectors (taken from the real model once, or random), so that
collections too large to encode here can still be indexed; figures that use it must say so.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COLLECTION = "synthetic-benchmark"
CENTRING = 0.7
FIRST_YEAR, LAST_YEAR = 1917, 1991

_FIRST = {
    "soviet": "Anatoly Boris Dmitri Fyodor Grigory Ivan Konstantin Leonid Mikhail Nikolai Oleg Pavel Sergei Vasily "
    "Viktor Yakov Yuri Andrei Alexei Gennady",
    "chinese": "Wei Ming Jian Hong Guo Liang Tao Bo Zhen Kang Lin Hua Qiang Jun Xiang Peng Rong Sheng Yong Zhi",
    "american": "Charles Dean Edward Frank George Harold James John Lewis Robert Thomas Walter William Henry Richard "
    "Arthur Chester Howard Paul Warren",
    "british": "Alan Archibald Cecil Clement Denis Duncan Geoffrey Hugh Malcolm Nigel Oliver Percy Reginald Rupert "
    "Selwyn Trevor Anthony Basil Humphrey Julian",
    "german": "Erich Friedrich Gerhard Hans Heinrich Horst Karl Kurt Manfred Otto Walter Werner Willi Wolfgang "
    "Gunther Helmut Dieter Rudolf Ernst Klaus",
    "other": "Antonin Bela Bogdan Dobri Enver Gheorghe Gustav Imre Janos Josip Kliment Ladislav Nicolae Todor Vaclav "
    "Wladyslaw Zoltan Stefan Edvard Petar",
}
_LAST = {
    "soviet": "Abramov Belov Chernov Dobrynin Egorov Fedorov Gromov Ignatov Kalinin Kuznetsov Lebedev Morozov "
    "Novikov Orlov Petrov Rudenko Sokolov Tarasov Ustinov Volkov Yakovlev Zaitsev Zorin Bogdanov Kiselev",
    "chinese": "Chen Deng Fang Gao Han Hu Jiang Kong Li Liu Luo Ma Pan Qian Shen Song Tang Wang Wu Xu Yang Zhang "
    "Zhao Zhou Zhu",
    "american": "Adams Baker Carter Davis Ellis Foster Garrett Harris Irving Johnson Keller Lawson Miller Nelson "
    "Owens Parker Quinn Russell Stevens Turner Vance Walker Young Bennett Coleman",
    "british": "Ashworth Blake Cartwright Dalton Everett Fairfax Gladwyn Hastings Ingram Jellicoe Kendall Lockhart "
    "Mallory Norwood Pemberton Radcliffe Sinclair Thornton Upton Waverley Whitaker Aldridge Bramley Cavendish",
    "german": "Albrecht Bauer Dietrich Eckert Fischer Graf Hoffmann Jung Keller Lange Meier Neumann Schmidt "
    "Schneider Vogel Wagner Weber Winkler Zimmermann Brandt Kessler Lorenz Richter Seidel",
    "other": "Andrasy Bodnar Cerny Dimitrov Erdei Hoxha Horvat Jaruzel Kadar Kovac Lukanov Markovic Novak Pauker "
    "Rakosi Stoica Tito Ulbricht Zhivkov Gomulka Husak Dubek Mladen Petran",
}
_ROLES = (
    "Ambassador",
    "Foreign Minister",
    "Deputy Foreign Minister",
    "Chargé d'Affaires",
    "First Secretary",
    "Counsellor",
    "Military Attaché",
    "General",
    "Premier",
    "Party Secretary",
    "Trade Representative",
    "Consul",
)
_PLACES = (
    "Moscow Beijing Washington London Berlin Paris Warsaw Prague Budapest Bucharest Sofia Belgrade Tirana Hanoi "
    "Pyongyang Havana Vienna Geneva Helsinki Ulaanbaatar Harbin Vladivostok Shanghai Tashkent Delhi Cairo Jakarta"
).split()
_TOPICS = (
    "grain shipments",
    "the border dispute on the Ussuri River",
    "the Berlin question",
    "nuclear testing",
    "the trade agreement",
    "railway construction in Xinjiang",
    "the fishing rights in the Sea of Okhotsk",
    "the exchange of students",
    "military aid to Vietnam",
    "the situation in Korea",
    "oil deliveries",
    "the Danube commission",
    "the disarmament talks",
    "the treatment of foreign journalists",
    "the repatriation of prisoners of war",
    "the five-year plan",
    "the purchase of machine tools",
    "the conference of communist parties",
    "the recognition of the new government",
    "the airline agreement",
    "the cotton harvest",
    "the construction of a hydroelectric dam",
    "the Suez crisis",
    "the Hungarian events",
    "the withdrawal of Soviet specialists",
    "the loan for industrial equipment",
    "the radio broadcasts",
    "the Olympic delegation",
    "the visit of the parliamentary delegation",
    "the spy trial",
    "the defection of a diplomat",
    "the Antarctic treaty",
    "the famine relief",
    "the printing of the party newspaper",
    "the Tibetan uprising",
    "the Taiwan Strait",
    "the Mongolian frontier",
    "the uranium mines",
    "the space programme",
    "the cultural revolution",
    "the wheat purchase",
    "the Helsinki accords",
    "the Afghan war",
    "the Solidarity movement",
    "the naval base at Lushun",
    "the steel quotas",
    "the embassy building",
    "the archive of the Comintern",
    "the refugees from the north",
    "the tariff on timber",
)
_COMMODITIES = (
    "tonnes of wheat|tonnes of steel|tractors|tonnes of rice|barrels of oil|rifles|lorries|tonnes of coal".split("|")
)
_KINDS = (
    ("Cable from {a} to {b}", "cable"),
    ("Telegram from {a} to {b}", "telegram"),
    ("Memorandum of Conversation between {a} and {b}", "memorandum"),
    ("Report by {a} to {b} on {topic}", "report"),
    ("Letter from {a} to {b}", "letter"),
    ("Minutes of Meeting between {a} and {b}", "minutes"),
    ("Record of Conversation between {a} and {b}", "record"),
    ("Note from {a} to {b} on {topic}", "note"),
)
_OPENERS = (
    "{a} informs {b} about {topic}.",
    "{a} and {b} discuss {topic} at length.",
    "{a} reports to {b} on {topic} and the position of {place}.",
    "In this {kind}, {a} raises {topic} with {b}.",
)
_MIDDLES = (
    "{a} proposes the delivery of {number} {commodity} before the end of {year}.",
    "{b} objects that the proposal on {topic} was never agreed in {place}.",
    "The {kind} mentions {c}, who is said to oppose any concession.",
    "{a} warns that {c} will travel to {place} unless the matter is settled.",
    "A delegation of {small} officials is to be received in {place}.",
    "{b} asks for instructions on {topic2}.",
)
_CLOSERS = (
    "The conversation ends without agreement.",
    "Both sides agree to meet again in {place}.",
    "{b} promises to reply within {small} days.",
    "A copy was sent to {c}.",
)
# The body of a record's made-up full text (a share of records carry one: `full_texts`), paragraphs of 1-4 of these.
_BODY = (
    "{a}: We cannot accept the proposal on {topic2} as it stands.",
    "{b}: Our side has already delivered {number} {commodity} to {place}.",
    "{a} said that {c} had been informed of the talks in {place}.",
    "{b} replied that the question of {topic} would be raised again in {year}.",
    "{c} is reported to have left {place} for consultations.",
    "The meeting was interrupted for {small} minutes.",
    "{a}: The situation in {place} requires an answer before the end of {year}.",
    "{b} asked whether {number} {commodity} could be sent through {place}.",
)
FULL_TEXT_PARAGRAPHS = (5, 20)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it no not of on or such that the their then there these they this "
    "to was will with who which what when any both".split()
)


def _people() -> list[tuple[str, str]]:
    """Every (name, nationality) the generator can use: first names x surnames per nationality."""
    out = []
    for nat, firsts in _FIRST.items():
        for first in firsts.split():
            for last in _LAST[nat].split():
                out.append((f"{first} {last}", nat))
    return out


PEOPLE = _people()


class _Draws:
    """Cheap deterministic choices for one record: 2-byte numbers read from a BLAKE2b digest of (seed, i)."""

    __slots__ = ("_data", "_at")

    def __init__(self, seed: int, i: int) -> None:
        self._data = hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=64).digest()
        self._at = 0

    def below(self, n: int) -> int:
        if self._at + 2 > len(self._data):
            self._data = hashlib.blake2b(self._data, digest_size=64).digest()
            self._at = 0
        value = int.from_bytes(self._data[self._at : self._at + 2], "little")
        self._at += 2
        return value % n

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def sample(self, seq, k: int) -> list:
        """k distinct items in draw order."""
        picked: list[int] = []
        while len(picked) < k:
            j = self.below(len(seq))
            while j in picked:
                j = (j + 1) % len(seq)
            picked.append(j)
        return [seq[j] for j in picked]


def _iso_date(draw: _Draws) -> str:
    year = FIRST_YEAR + draw.below(LAST_YEAR - FIRST_YEAR + 1)
    month = 1 + draw.below(12)
    roll = draw.below(100)
    if roll < 5:
        return f"{year:04d}"
    if roll < 20:
        return f"{year:04d}-{month:02d}"
    day = 1 + draw.below(calendar.monthrange(year, month)[1])
    return f"{year:04d}-{month:02d}-{day:02d}"


@dataclass(frozen=True, slots=True)
class SyntheticRecord:
    """One made-up record and the facts a question can ask about."""

    id: str
    title: str
    date: str
    summary: str
    sender: str
    recipient: str
    topic: str
    kind: str
    full_text: str = ""

    def to_json(self) -> dict:
        out = {"id": self.id, "title": self.title, "date": self.date, "summary": self.summary, "collection": COLLECTION}
        if self.full_text:
            out["full_text"] = self.full_text
        return out


def record(seed: int, i: int, revision: int = 0, full_texts: float = 0.0) -> SyntheticRecord:
    """Record number i of the collection made from `seed`; a later revision changes only its summary. With
    `full_texts`, that share of the records (drawn apart from the rest) carries a made-up full text."""
    draw = _Draws(seed, i)
    (a, _), (b, _), (c, _) = (draw.choice(PEOPLE) for _ in range(3))
    role_a, role_b = draw.choice(_ROLES), draw.choice(_ROLES)
    topic, topic2 = draw.sample(_TOPICS, 2)
    pattern, kind = draw.choice(_KINDS)
    date = _iso_date(draw)
    values = {
        "a": a,
        "b": b,
        "c": c,
        "topic": topic,
        "topic2": topic2,
        "kind": kind,
        "place": draw.choice(_PLACES),
        "number": f"{(2 + draw.below(899)) * 10:,}",
        "commodity": draw.choice(_COMMODITIES),
        "year": date[:4],
        "small": 2 + draw.below(29),
    }
    title = pattern.format(a=f"{role_a} {a}", b=f"{role_b} {b}", topic=topic)
    sentences = [draw.choice(_OPENERS)] + draw.sample(_MIDDLES, 1 + draw.below(2))
    if draw.below(2):
        sentences.append(draw.choice(_CLOSERS))
    summary = " ".join(s.format(**values) for s in sentences)
    summary = summary[0].upper() + summary[1:]
    if revision:
        summary += f" Revised copy {revision} was filed in {draw.choice(_PLACES)}."
    carries = full_texts and _Draws(seed ^ 0xF7, i).below(10_000) < full_texts * 10_000
    text = full_text(seed, i, values) if carries else ""
    return SyntheticRecord(f"syn-{seed}-{i:07d}", title, date, summary, a, b, topic, kind, text)


def full_text(seed: int, i: int, values: dict) -> str:
    """A record's made-up full text: 5 to 20 paragraphs of 1-4 body sentences about its people, places and topics."""
    draw = _Draws(seed ^ 0xF17, i)
    low, high = FULL_TEXT_PARAGRAPHS
    paragraphs = []
    for _ in range(low + draw.below(high - low + 1)):
        facts = {**values, "place": draw.choice(_PLACES), "number": f"{(2 + draw.below(899)) * 10:,}",
                 "commodity": draw.choice(_COMMODITIES), "small": 2 + draw.below(29)}
        paragraphs.append(" ".join(draw.choice(_BODY).format(**facts) for _ in range(1 + draw.below(4))))
    return "\n".join(paragraphs)


def records(
    count: int, seed: int = 0, *, changed: set[int] | frozenset[int] = frozenset(), full_texts: float = 0.0
) -> Iterator[SyntheticRecord]:
    """The first `count` records; those whose number is in `changed` have a revised summary."""
    for i in range(count):
        yield record(seed, i, 1 if i in changed else 0, full_texts)


def changed_positions(count: int, fraction: float, seed: int = 0) -> set[int]:
    """Which records a benchmark revises to simulate `fraction` of the collection changing."""
    rng = random.Random(seed ^ 0x5EED)
    return set(rng.sample(range(count), max(1, round(count * fraction)))) if count else set()


def write_corpus(
    folder: Path, count: int, seed: int = 0, *, changed: set[int] | frozenset[int] = frozenset(),
    full_texts: float = 0.0,
) -> Path:
    """Write the collection as one JSON Lines file in `folder` (a scratch folder, never corpus/); returns it."""
    resolved = folder.resolve()
    if resolved.name == "corpus" and (resolved.parent / "qa").is_dir():
        raise ValueError(f"{folder}: synthetic records never go into the shipped corpus folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "synthetic.jsonl"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        batch: list[str] = []
        for rec in records(count, seed, changed=changed, full_texts=full_texts):
            batch.append(json.dumps(rec.to_json(), ensure_ascii=False))
            if len(batch) >= 10_000:
                f.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            f.write("\n".join(batch) + "\n")
    tmp.replace(path)
    return path


_MONTH_NAMES = list(calendar.month_name)


def _when(date: str) -> str:
    parts = date.split("-")
    return f"{_MONTH_NAMES[int(parts[1])]} {parts[0]}" if len(parts) > 1 else parts[0]


_QUESTIONS = (
    ("What did {a} tell {b} about {topic}?", False),
    ("What did {a} report on {topic} in {when}?", True),
    ("Which {kind} did {a} send {b} about {topic}?", False),
    ("What was discussed between {a} and {b} in {year}?", True),
    ("What did {b} hear from {a} about {topic}?", False),
)


def questions(count: int, seed: int = 0, n: int = 300) -> list[dict]:
    """Up to `n` questions about the first `count` records, each with the id of the record that answers it."""
    rng = random.Random(seed ^ 0xA5C)
    positions = sorted(rng.sample(range(count), min(n, count)))
    out = []
    for q, i in enumerate(positions):
        rec = record(seed, i)
        pattern, dated = _QUESTIONS[q % len(_QUESTIONS)]
        text = pattern.format(
            a=rec.sender, b=rec.recipient, topic=rec.topic, kind=rec.kind, when=_when(rec.date), year=rec.date[:4]
        )
        out.append({"id": f"q{q:04d}", "question": text, "answer_id": rec.id, "dated": dated, "position": i})
    return out


def write_questions(path: Path, count: int, seed: int = 0, n: int = 300) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(q) + "\n" for q in questions(count, seed, n)), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- stand-in vectors


def vocabulary() -> list[str]:
    """Every word the generator writes (lower case), numbers aside: the stand-in embedder's word table."""
    parts: list[str] = []
    parts += [name for name, _ in PEOPLE] + list(_ROLES) + _PLACES + list(_TOPICS) + _COMMODITIES
    parts += [k for k, _ in _KINDS] + [k for _, k in _KINDS] + list(_OPENERS + _MIDDLES + _CLOSERS + _BODY)
    parts += [q for q, _ in _QUESTIONS] + list(calendar.month_name[1:]) + ["Revised copy filed"]
    words = {w for p in parts for w in _WORD.findall(p.lower())}
    return sorted(w for w in words if not w.isdigit())


def _hashed_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


class StandInEmbedder:
    """A stand-in for embeddings.model.Embedder (same `name`, `dim`, `encode`, `encode_query`).

    A text's vector is the normalised mean of its words' vectors: words of the generator's
    vocabulary get the real model's vector for the word (when `word_vectors` is given) and any
    other word (numbers, unknown words) a fixed pseudo-random vector. Thousands of texts a second;
    NOT the model's vectors, so figures computed with it are labelled as stand-in figures.
    """

    def __init__(self, name: str, dim: int, word_vectors: dict[str, np.ndarray] | None = None) -> None:
        self.name = name
        self.dim = dim
        words = list(word_vectors or {})
        self._ids = {w: i for i, w in enumerate(words)}
        table = [np.asarray(word_vectors[w], dtype=np.float32) for w in words] if word_vectors else []
        self._table = np.vstack(table) if table else np.zeros((0, dim), dtype=np.float32)
        self._extra: dict[str, int] = {}
        self._extra_rows: list[np.ndarray] = []
        self.texts_encoded = 0

    @classmethod
    def from_model(cls, embedder, cache: Path | None = None) -> StandInEmbedder:
        """Word vectors from a real embedder (encodes ~2,000 words once; cached in `cache` as .npz)."""
        words = vocabulary()
        key = hashlib.sha256(("\n".join(words) + embedder.name).encode()).hexdigest()[:12]
        path = cache / f"word-vectors-{key}.npz" if cache else None
        if path is not None and path.exists():
            table = np.load(path)["vectors"]
        else:
            table = embedder.encode(words, batch_size=256)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(path, vectors=table)
        # Less most of the words' common direction: texts then spread as the model's do (mean cosine ~0.35).
        table = table - CENTRING * table.mean(axis=0)
        return cls(embedder.name, embedder.dim, dict(zip(words, table, strict=True)))

    def _row(self, word: str) -> int:
        i = self._ids.get(word)
        if i is not None:
            return i
        j = self._extra.get(word)
        if j is None:
            j = self._extra[word] = len(self._extra_rows)
            self._extra_rows.append(_hashed_vector(word, self.dim))
        return len(self._ids) + j

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors, one row a text (batch_size and progress are accepted and ignored)."""
        from scipy import sparse

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        indptr = [0]
        indices: list[int] = []
        for text in texts:
            indices.extend(self._row(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS)
            indptr.append(len(indices))
        rows = self._table
        if self._extra_rows:
            rows = np.vstack([self._table, np.vstack(self._extra_rows)])
        counts = sparse.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
            shape=(len(texts), len(rows)),
        )
        vectors = np.asarray(counts @ rows, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.texts_encoded += len(texts)
        return np.ascontiguousarray(vectors / norms, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
