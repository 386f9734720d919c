"""The bench's two steps, each run by archive_qa.bench.command in a fresh process (memory and caches start clean):

    python -m archive_qa.bench.steps build|probe SPEC.json

`build` writes the synthetic corpus and its questions, builds the index and times it against the raw model
rate on the same texts, rebuilds it unchanged and with 1% of the records changed, and times vector search
alone (exact and approximate). Sizes above the spec's `real_max` are indexed with stand-in vectors
(archive_qa.bench.synthetic.StandInEmbedder). `probe` loads the index and the model as the app does and
answers the questions: load time, memory, `ask` and retrieve latency, Recall@10. Each step writes its
figures to ROLE-result.json beside the spec.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from archive_qa.bench import encoding, synthetic
from archive_qa.bench.measure import (
    TimedEmbedder,
    clock,
    clock_ms,
    disk_mb,
    exact_top,
    padded,
    percentiles,
    recall,
    rss,
)
from archive_qa.evaluation.jsonl import read_rows
from embeddings.hashing import is_hashing
from embeddings.vectors import SEGMENT_FILE, VectorIndex, choose_kind
from qa.answer import Assistant
from qa.answer.dates import find_date_range
from qa.config import Config
from qa.index import CANDIDATES, ArchiveIndex, DateFilter, Query, current_build, default_embedder, embedded_text
from qa.index.build import build_index
from qa.index.manifest import SEGMENTS, Manifest
from qa.index.passages import PASSAGES
from qa.records import Record, parse_date

RECALL_K = 10
RAY_TEXTS = 4000  # texts the Ray engine's throughput is measured on (its start-up amortised as in a large build)
EF_SWEEP = (64, 128, 256, 512, 768)
WARM_UP_QUESTIONS = 5
QUESTIONS_FILE = "questions.jsonl"


def bench_config(spec: dict) -> Config:
    """The configuration of one size: its scratch corpus and index, the spec's model and HNSW threshold."""
    work = Path(spec["work"])
    return Config(
        corpus=work / "corpus",
        index=work / "index",
        model=spec["model"],
        hnsw_threshold=spec["threshold"],
        index_kind=spec.get("index_kind", "auto"),
        cache=Path(spec["cache"]),
    )


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def read_questions(spec: dict) -> list[dict]:
    return [row for _, row in read_rows(Path(spec["work"]) / QUESTIONS_FILE, ValueError, "the bench questions")]


# ---------------------------------------------------------------------------------------------- build


def build_step(spec: dict) -> dict:
    """Write the corpus, build, rebuild unchanged and 1% changed; then time vector search alone. With the real
    model, also compare the encoders' retrieval quality and build the same corpus on a local Ray cluster."""
    config = bench_config(spec)
    shutil.rmtree(config.index_dir, ignore_errors=True)
    result: dict = {"size": spec["n"], "label": spec["label"], "threshold": spec["threshold"],
                    "full_texts": spec.get("full_texts", 0.0)}
    _, seconds = clock(generate, spec, config)
    result["generate_s"] = round(seconds, 2)
    log(f"generated {spec['n']} records in {result['generate_s']}s")
    model, seconds = clock(default_embedder, config)
    result["model_load_s"] = round(seconds, 2)
    builds = Builds(spec, config, model)
    result["vectors"] = "model" if builds.real else "stand-in"
    result["raw_model"] = builds.raw_figures()
    result["encoders"] = builds.rates
    result["build"] = builds.first()
    result.update(index_files(config))
    if builds.real and builds.vectors:
        ids = [r.id for r in records_at(spec["seed"], range(spec["n"]))]
        result["retrieval_quality"] = encoding.retrieval_quality(config, builds.vectors, ids, read_questions(spec))
    if builds.real and spec.get("ray", True):
        texts = [embedded_text(r) for r in records_at(spec["seed"], range(spec.get("ray_texts", RAY_TEXTS)))]
        result["ray"] = encoding.ray_build(config, Path(spec["work"]), result["build"]["seconds"], texts)
    result["unchanged"] = builds.build("unchanged rebuild")
    result["changed_1pct"] = builds.changed()
    result["index_only"] = index_only(spec, config, builds.inner, result["kind"])
    return result


def generate(spec: dict, config: Config) -> None:
    """The synthetic corpus in the scratch folder, and questions about it (at least 50)."""
    synthetic.write_corpus(config.corpus, spec["n"], spec["seed"], full_texts=spec.get("full_texts", 0.0))
    synthetic.write_questions(Path(spec["work"]) / QUESTIONS_FILE, spec["n"], spec["seed"], n=max(spec["queries"], 50))


def records_at(seed: int, positions) -> list[Record]:
    """Records as the index holds them (the embedded text is made from them), straight from the generator."""
    out = []
    for i in positions:
        s = synthetic.record(seed, i)
        date, precision = parse_date(s.date)
        out.append(
            Record(
                id=s.id,
                title=s.title,
                date=date,
                date_precision=precision,
                summary=s.summary,
                url=None,
                collection=synthetic.COLLECTION,
                source="",
            )
        )
    return out


class Builds:
    """The builds of one size, timed against the bare model's rate on the same texts.

    With the real model every record's text is timed; at stand-in sizes an even sample of them. The bare
    `SentenceTransformer.encode` ("torch", the raw rate), the build's encoder and the others are timed on the
    same texts, passes interleaved (encoding.encoder_rates). At stand-in sizes a build is projected: its
    measured time less the stand-in encoding, plus its texts at the build encoder's measured rate.
    """

    def __init__(self, spec: dict, config: Config, model) -> None:
        self.config = config
        self.n, self.seed, self.spec = spec["n"], spec["seed"], spec
        self.real = self.n <= spec["real_max"]
        step = 1 if self.real else max(1, self.n // spec["sample"])
        texts = [embedded_text(r) for r in records_at(self.seed, range(0, self.n, step))]
        self.sample = texts[: self.n if self.real else spec["sample"]]
        self.vectors: dict[str, np.ndarray] = {}
        if is_hashing(model.name):  # the model-free embedder: one rate, its own
            _, seconds = clock(model.encode, self.sample)
            rate = {
                "texts": len(self.sample),
                "seconds": round(seconds, 3),
                "rate": round(len(self.sample) / seconds, 1),
            }
            self.rates = {"torch": rate, config.encoder: rate}
        else:
            self.rates, self.vectors = encoding.encoder_rates(config, self.sample)
        self.raw_rate = self.rates["torch"]["rate"]
        self.encoder_rate = self.rates[config.encoder]["rate"]
        self.inner = model if self.real else synthetic.StandInEmbedder.from_model(model, Path(spec["cache"]))
        self.timed = TimedEmbedder(self.inner)

    def raw_figures(self) -> dict:
        return dict(self.rates["torch"])

    def build(self, name: str) -> dict:
        """One `build_index`: its time, split into encoding and the rest, and what it encoded and reused."""
        self.timed.reset()
        report, seconds = clock(build_index, self.config, embedder=self.timed)
        step = {
            "seconds": round(seconds, 3),
            "embedded": report.embedded,
            "reused": report.reused,
            "encode_s": round(self.timed.seconds, 3),
            "other_s": round(seconds - self.timed.seconds, 3),
            "up_to_date": report.up_to_date,
        }
        if not self.real:  # the same build if the build's encoder had encoded the texts it encoded
            step["projected_s"] = round(step["other_s"] + self.timed.texts / self.encoder_rate, 1)
        log(f"{name}: {step}")
        return step

    def first(self) -> dict:
        """The first build, with its rates: records a second, and against the bare model's rate."""
        first = self.build("build")
        measured = first["seconds"] if self.real else first["projected_s"]
        first["rate"] = round(self.n / first["seconds"], 1)
        first["model_rate"] = round(self.n / measured, 1)
        first["vs_raw"] = round(self.n / measured / self.raw_rate, 3)
        return first

    def changed(self) -> dict:
        """A rebuild after 1% of the records changed (same ids, revised text)."""
        changed = synthetic.changed_positions(self.n, 0.01, self.seed)
        time.sleep(0.01)
        synthetic.write_corpus(self.config.corpus, self.n, self.seed, changed=changed,
                               full_texts=self.spec.get("full_texts", 0.0))
        step = self.build("1% changed rebuild")
        step["changed"] = len(changed)
        return step


def index_files(config: Config) -> dict:
    """The built index's kind, vector type and segments, and its size on disk (all files, and the vectors alone)."""
    folder = current_build(config.index_dir)
    manifest = Manifest.read(folder)
    vectors = sum((folder / SEGMENTS / s["name"] / SEGMENT_FILE).stat().st_size for s in manifest.segments)
    return {
        "kind": manifest.kind,
        "vector_dtype": manifest.vector_dtype,
        "segments": manifest.segments,
        "disk_mb": disk_mb(folder),
        "vectors_mb": round(vectors / 2**20, 1),
        "passages": len(np.load(folder / PASSAGES / "where.npy")) if (folder / PASSAGES).is_dir() else 0,
    }


def index_only(spec: dict, config: Config, embedder, kind: str) -> dict:
    """Vector search alone on the stored vectors: exact (flat) and approximate, latency and Recall@10."""
    served = ArchiveIndex.load(config, check_stale=False)
    queries = embedder.encode([q["question"] for q in read_questions(spec)][: spec["queries"]])
    truth = exact_top(served.vectors, queries, RECALL_K)
    out: dict = {"queries": len(queries), "query_vectors": "same embedder as the index"}
    for name in ("flat", kind if kind != "flat" else choose_kind("auto", 2, 1)):
        if name == kind and kind != "flat":  # the served approximate index, as built (its segments)
            index, built = served.vector_index, 0.0
        else:
            index, built = clock(VectorIndex.build, np.asarray(served.vectors), name)
        out[name] = search_alone(index, built, queries, truth)
        log(f"index only, {name}: {out[name]}")
    return out


def search_alone(index, built_s: float, queries, truth) -> dict:
    """One vector index's build (or load) time, search latency and Recall@10 (and an efSearch sweep for HNSW)."""
    times, found = timed_searches(lambda q: index.search(q, RECALL_K)[0], queries)
    out = {
        "build_s": round(built_s, 2),
        "search_ms": percentiles(times),
        "recall_at_10": recall(np.asarray(found), truth),
    }
    if index.kind == "hnsw":
        out["ef_search"] = int(index.index.hnsw.efSearch)
        out["ef_sweep"] = ef_sweep(index, queries, truth)
    return out


def _graphs(index) -> list:
    """The HNSW graphs of an index: a segment's own, or those of each segment of a served index."""
    parts = [segment for segment, _ in index.parts] if hasattr(index, "parts") else [index]
    return [segment.index.hnsw for segment in parts if segment.kind == "hnsw"]


def timed_searches(search: Callable, queries) -> tuple[list[float], list[np.ndarray]]:
    """Each query searched once: the milliseconds each took, and the positions found (padded to RECALL_K)."""
    times, found = [], []
    for q in queries:
        positions, ms = clock_ms(search, q)
        times.append(ms)
        found.append(padded(positions, RECALL_K))
    return times, found


def ef_sweep(index, queries, truth) -> dict:
    """Recall@10 and latency of an HNSW index at other efSearch values (for tuning; the served value is kept)."""
    graphs = _graphs(index)
    served = int(graphs[0].efSearch)
    out = {}
    try:
        for ef in EF_SWEEP:
            for graph in graphs:
                graph.efSearch = ef
            times, found = timed_searches(lambda q: index.search(q, RECALL_K)[0], queries)
            out[str(ef)] = {"recall_at_10": recall(np.asarray(found), truth), "p95_ms": percentiles(times)["p95"]}
    finally:
        for graph in graphs:
            graph.efSearch = served
    return out


# ---------------------------------------------------------------------------------------------- probe


def probe_step(spec: dict) -> dict:
    """As the app would, in a fresh process: load the index and the model, answer questions; time and weigh it."""
    config = bench_config(spec)
    questions = read_questions(spec)[: spec["queries"]]
    before = rss()
    index, load_s = clock(ArchiveIndex.load, config)
    after_load = rss()
    embedder, model_s = clock(default_embedder, config)
    asked = ask_times(Assistant(config, index=index, embedder=embedder), questions)
    vectors = embedder.encode([q["question"] for q in questions])
    retrieval, filtered = retrieve_times(index, questions, vectors)
    expansion = expansion_times(index, vectors)
    # Memory as the app has it after its questions: before the checks below read stored vectors at large.
    after_queries = rss()
    result = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "load_s": round(load_s, 3),
        "model_load_s_probe": round(model_s, 2),
        "rss_mb": {"start": before, "after_load": after_load, "after_queries": after_queries},
        **asked,
        **retrieval,
        **expansion,
        **filtered_recall(index, filtered),
        "query_vectors": "real model",
        **served_recall(index, vectors),
    }
    log(f"probe: load {load_s:.2f}s ask {result['ask_ms']} retrieve {result['retrieve_ms']} rss {after_queries}")
    return result


def ask_times(assistant: Assistant, questions: list[dict]) -> dict:
    """Warm `ask` latency, in total and by part, and how often the answer's records hold the answering one."""
    for q in questions[:WARM_UP_QUESTIONS]:
        assistant.ask(q["question"])
    total, parts, found = [], {}, 0
    for q in questions:
        answer, ms = clock_ms(assistant.ask, q["question"])
        total.append(ms)
        for name, value in (answer.timings or {}).items():
            parts.setdefault(name, []).append(value)
        found += q["answer_id"] in {s.record.id for s in answer.sources + answer.related}
    return {
        "ask_ms": percentiles(total),
        "ask_parts_ms": {name: percentiles(values) for name, values in parts.items()},
        "answer_in_sources": round(found / max(1, len(questions)), 3),
    }


def retrieve_times(index: ArchiveIndex, questions: list[dict], vectors) -> tuple[dict, list]:
    """Hybrid retrieval latency (the question already encoded) and its parts, dense and BM25 alone; and the
    date-filtered searches, kept for `filtered_recall`."""
    times: dict[str, list[float]] = {"retrieve_ms": [], "dense_ms": [], "bm25_ms": []}
    found, filtered = 0, []
    for q, vector in zip(questions, vectors, strict=True):
        query = Query(q["question"], vector, index.analyzer.tokens(q["question"]))
        date_filter = _date_filter(q["question"])
        hits, ms = clock_ms(index.search, query, RECALL_K, "hybrid", date_filter)
        times["retrieve_ms"].append(ms)
        found += any(h.id == q["answer_id"] for h in hits)
        positions, allowed = search_parts(index, query, date_filter, times)
        if allowed is not None and allowed.any():
            filtered.append((vector, allowed, positions[:RECALL_K]))
    figures = {name: percentiles(values) for name, values in times.items()}
    return {**figures, "answer_in_top10": round(found / max(1, len(questions)), 3)}, filtered


def expansion_times(index: ArchiveIndex, vectors) -> dict:
    """The expansion step's look-up alone (a word's vector given: the model's call for it is timed in encode_ms), one
    per question: the nearest word of the collection's vocabulary, whose size grows far slower than the records."""
    if index.vocabulary is None:
        return {"vocabulary_words": 0}
    times = [clock_ms(index.vocabulary.nearest, vector, 1)[1] for vector in vectors]
    return {"expansion_ms": percentiles(times), "vocabulary_words": index.vocabulary.count}


def _date_filter(question: str) -> DateFilter | None:
    found = find_date_range(question)
    return DateFilter(found.start, found.end, True) if found else None


def search_parts(index: ArchiveIndex, query: Query, date_filter: DateFilter | None, times: dict) -> tuple:
    """Dense and BM25 search alone, as hybrid runs them, timed into `times`; the dense positions and the mask."""
    allowed = date_filter.mask(index.dates) if date_filter else None
    (positions, _), ms = clock_ms(index.vector_index.search, query.vector, CANDIDATES, allowed)
    times["dense_ms"].append(ms)
    _, ms = clock_ms(index.lexical.search, query.tokens, CANDIDATES, allowed)
    times["bm25_ms"].append(ms)
    return positions, allowed


def filtered_recall(index: ArchiveIndex, filtered: list) -> dict:
    """Recall@10 of the date-filtered dense searches against exact search over the allowed rows."""
    truth, found = [], []
    for vector, allowed, positions in filtered:
        rows = np.flatnonzero(allowed)
        truth.append(rows[exact_top(index.vectors[rows], vector[None], RECALL_K)[0]])
        found.append(padded(positions, RECALL_K))
    return {"filtered_recall_at_10": recall(found, truth) if truth else None, "filtered_queries": len(truth)}


def served_recall(index: ArchiveIndex, vectors) -> dict:
    """Recall@10 of the served approximate index against exact search, on the real model's question vectors."""
    if index.vector_index.kind == "flat":
        return {}
    truth = exact_top(index.vectors, vectors, RECALL_K)
    found = [padded(index.vector_index.search(v, RECALL_K)[0], RECALL_K) for v in vectors]
    return {"recall_at_10_real_queries": recall(np.asarray(found), truth)}


# ---------------------------------------------------------------------------------------------- the process

STEPS = {"build": build_step, "probe": probe_step}


def main(argv: list[str]) -> int:
    role, spec_path = argv
    if role not in STEPS:
        raise SystemExit(f"unknown bench step {role!r}")
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = STEPS[role](spec)
    Path(spec["work"], f"{role}-result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    from qa import runtime

    runtime.start()
    sys.exit(main(sys.argv[1:]))
