"""`archive-qa bench`: build, rebuild, load and query the system on SYNTHETIC collections of growing size.

Per size it measures index build throughput against the raw model throughput on the same texts,
incremental rebuilds (nothing changed, 1% changed), load time and resident memory in a fresh process,
warm `ask` and retrieve latency, the index's size on disk, and Recall@10 of the approximate index
against exact search. Sizes above --real-max are indexed with stand-in vectors (see
archive_qa.bench.synthetic.StandInEmbedder) and the report says which figures used them.

This module is imported by `archive-qa --help`: it imports nothing heavy at top level.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SIZES = "1k,10k,100k,1m"
QUICK_SIZES = "100,2k"
DEFAULT_OUT = Path("eval/reports/bench")
SEED = 1917
RECALL_K = 10
ASK_PARTS = ("encode_ms", "retrieve_ms", "compose_ms")

TARGETS = {
    "1m": {"retrieve_p95_ms": 50, "ask_p95_ms": 80, "recall_at_10": 0.95, "rss_mb": 4096, "load_s": 10},
    "100k": {"ask_p50_ms": 30},
}


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", help=f"comma-separated sizes, e.g. 1k,10k,100k,1m (default {DEFAULT_SIZES})")
    p.add_argument("--quick", action="store_true", help=f"a small run ({QUICK_SIZES}, fewer queries; under 2 minutes)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where reports go (default {DEFAULT_OUT})")
    p.add_argument("--work", type=Path, help="scratch folder for synthetic corpora and indexes (default OUT/work)")
    p.add_argument("--real-max", type=_size, help="largest size encoded with the real model (default 1k; quick 100)")
    p.add_argument("--sample", type=int, help="texts timed for the raw model rate at stand-in sizes (default 500)")
    p.add_argument("--queries", type=int, help="questions timed per size (default 200; quick 20)")
    p.add_argument("--threshold", type=_size, help="size above which the index is approximate (default: Config's)")
    p.add_argument("--seed", type=int, default=SEED, help=f"seed of the synthetic collection (default {SEED})")
    p.add_argument("--keep", action="store_true", help="keep the scratch corpora and indexes")
    p.add_argument("--report-only", action="store_true", help="remake the report from the per-size results in OUT")
    p.add_argument("--model", help="sentence-transformers model (default: all-MiniLM-L6-v2, bundled)")


def _size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    try:
        value = int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 300, 10k, 1m)") from None
    if value < 10:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be at least 10")
    return value


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# ---------------------------------------------------------------------------------------------- orchestration


def run_bench(args: argparse.Namespace) -> int:
    from qa.config import DEFAULT_MODEL, Config
    from qa.errors import ArchiveQAError as UserError

    try:
        sizes = [_size(s) for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)).split(",") if s]
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"--sizes: {exc}") from None
    out: Path = args.out
    work: Path = args.work or out / "work"
    if (work.resolve() / "qa").is_dir() or work.resolve().name == "corpus":
        raise UserError(f"--work {work}: choose a scratch folder, not the project or its corpus")
    out.mkdir(parents=True, exist_ok=True)
    results_dir = out / "sizes"
    results_dir.mkdir(exist_ok=True)
    default_threshold = Config().hnsw_threshold
    threshold = args.threshold or (1_000 if args.quick else default_threshold)
    common = {
        "seed": args.seed,
        "model": args.model or DEFAULT_MODEL,
        "real_max": args.real_max or (100 if args.quick else 1_000),
        "sample": args.sample or (50 if args.quick else 500),
        "queries": args.queries or (20 if args.quick else 200),
        "threshold": threshold,
        "cache": str((out / "cache").resolve()),
        "quick": bool(args.quick),
    }
    results = []
    for n in sizes:
        result_path = results_dir / f"{label(n)}.json"
        if not args.report_only:
            spec = {**common, "n": n, "work": str((work / label(n)).resolve()), "result": str(result_path.resolve())}
            started = time.perf_counter()
            print(f"bench: {label(n)} records …", file=sys.stderr, flush=True)
            _child("build", spec)
            print(f"bench: {label(n)} done in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
            if not args.keep:
                _remove(work / label(n))
        if result_path.exists():
            results.append(json.loads(result_path.read_text(encoding="utf-8")))
        else:
            print(f"bench: no result for {label(n)}", file=sys.stderr)
    if not args.keep and not args.report_only and work.exists() and not any(work.iterdir()):
        work.rmdir()
    if not results:
        raise UserError("no results to report")
    command = ("archive-qa bench " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["bench"] else sys.argv[1:])).strip()
    previous = out / "bench.json"
    if args.report_only and previous.exists():  # the figures are the earlier run's: so is its command
        command = json.loads(previous.read_text(encoding="utf-8")).get("command", command)
    report = {
        "command": command,
        "machine": _machine(),
        "settings": common,
        "targets": TARGETS,
        "sizes": results,
        "checks": checks(results),
    }
    (out / "bench.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (out / "bench.md").write_text(markdown(report), encoding="utf-8")
    plot(results, out / "bench.png")
    print(markdown(report))
    print(f"bench: wrote {out / 'bench.md'}, {out / 'bench.json'} and {out / 'bench.png'}", file=sys.stderr)
    return 0


def _child(role: str, spec: dict) -> dict:
    """Run one step in a fresh Python process (so memory and caches start clean); returns its JSON result."""
    from qa.errors import ArchiveQAError as UserError

    path = Path(spec["work"]) / f"{role}-spec.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, "-m", "archive_qa.bench.steps", role, str(path)], env=env, cwd=_repo_root())
    if done.returncode != 0:
        raise UserError(f"bench step {role!r} for {label(spec['n'])} failed (exit {done.returncode})")
    out = Path(spec["work"]) / f"{role}-result.json"
    return json.loads(out.read_text(encoding="utf-8"))


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_end": [round(x, 2) for x in load],
    }


def _log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- measuring


class TimedEmbedder:
    """Wraps an embedder (real or stand-in) and adds up the time spent encoding and the texts encoded."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seconds = 0.0
        self.texts = 0

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False):
        t = time.perf_counter()
        try:
            return self.inner.encode(texts, batch_size=batch_size, progress=progress)
        finally:
            self.seconds += time.perf_counter() - t
            self.texts += len(texts)

    def encode_query(self, text: str):
        return self.encode([text])[0]

    def reset(self) -> None:
        self.seconds, self.texts = 0.0, 0


def rss() -> dict[str, float]:
    """Resident memory of this process in MB, from /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile)."""
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        import resource

        out["VmHWM"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "mean": float("nan"), "n": 0}
    a = np.asarray(values)
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "mean": round(float(a.mean()), 2),
        "n": len(values),
    }


def exact_top(vectors, queries, k: int, chunk: int = 65_536):
    """Exact top-k rows by inner product for each query, by chunks over the (memory-mapped) vectors."""
    import numpy as np

    q = np.ascontiguousarray(queries, dtype=np.float32)
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        block = np.asarray(vectors[start : start + chunk], dtype=np.float32)
        scores = q @ block.T
        kk = min(k, scores.shape[1])
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        s = np.concatenate([best_s, np.take_along_axis(scores, part, axis=1)], axis=1)
        i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(s, order, axis=1), np.take_along_axis(i, order, axis=1)
    return best_i


def recall(found, truth) -> float:
    import numpy as np

    per = [len(set(map(int, f[f >= 0])) & set(map(int, t))) / max(1, len(t)) for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(per)), 4) if per else float("nan")


def _config(spec: dict):
    from qa.config import Config

    work = Path(spec["work"])
    return Config(
        corpus=work / "corpus",
        index=work / "index",
        model=spec["model"],
        hnsw_threshold=spec["threshold"],
        index_kind="auto",
        cache=Path(spec["cache"]),
    )


def _disk_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def _build_step(spec: dict) -> dict:
    """In a fresh process: write the corpus, build, rebuild unchanged and 1% changed; then run the probe."""
    import numpy as np

    from archive_qa.bench import synthetic
    from qa.build import default_embedder, embedded_text
    from qa.index import ArchiveIndex, current_build
    from qa.manifest import VECTORS

    n, seed = spec["n"], spec["seed"]
    config = _config(spec)
    work = Path(spec["work"])
    _remove(work / "index")
    result: dict = {"size": n, "label": label(n), "threshold": spec["threshold"]}

    t = time.perf_counter()
    synthetic.write_corpus(config.corpus, n, seed)
    qs = synthetic.questions(n, seed, n=max(spec["queries"], 50))
    (work / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qs), encoding="utf-8")
    result["generate_s"] = round(time.perf_counter() - t, 2)
    _log(f"generated {n} records in {result['generate_s']}s")

    t = time.perf_counter()
    model = default_embedder(config)
    result["model_load_s"] = round(time.perf_counter() - t, 2)
    real = n <= spec["real_max"]
    result["vectors"] = "model" if real else "stand-in"
    step = 1 if real else max(1, n // spec["sample"])
    sample = [embedded_text(r) for r in _records_for(spec, range(0, n, step))][: n if real else spec["sample"]]
    model.encode(sample[:32])  # warm-up

    def raw_pass() -> float:
        """A bare SentenceTransformer.encode over the texts; the faster pass counts (the ratio is not flattered)."""
        t = time.perf_counter()
        model._model.encode(sample, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        seconds = time.perf_counter() - t
        _log(f"raw model: {len(sample)} texts in {seconds:.1f}s = {len(sample) / seconds:.1f}/s")
        return seconds

    raw_s = raw_pass() if real else min(raw_pass(), raw_pass())
    raw_rate = len(sample) / raw_s
    result["raw_model"] = {"texts": len(sample), "seconds": round(raw_s, 2), "rate": round(raw_rate, 1)}

    inner = model if real else synthetic.StandInEmbedder.from_model(model, Path(spec["cache"]))
    timed = TimedEmbedder(inner)

    def build(name: str) -> dict:
        timed.reset()
        t = time.perf_counter()
        report = ArchiveIndex.build(config, embedder=timed)
        seconds = time.perf_counter() - t
        step = {
            "seconds": round(seconds, 3),
            "embedded": report.embedded,
            "reused": report.reused,
            "encode_s": round(timed.seconds, 3),
            "other_s": round(seconds - timed.seconds, 3),
            "up_to_date": report.up_to_date,
        }
        if not real:  # the same build if the real model had encoded the texts it encoded
            step["projected_s"] = round(step["other_s"] + report.embedded / raw_rate, 1)
        _log(f"{name}: {step}")
        return step

    first = build("build")
    result["build"] = first
    if real:  # a second raw pass after the build: the faster of the two is the reference
        raw_s = min(raw_s, raw_pass())
        raw_rate = len(sample) / raw_s
        result["raw_model"] = {"texts": len(sample), "seconds": round(raw_s, 2), "rate": round(raw_rate, 1)}
    measured = first["seconds"] if real else first["projected_s"]
    first["rate"] = round(n / first["seconds"], 1)
    first["model_rate"] = round(n / measured, 1)
    first["vs_raw"] = round(n / measured / raw_rate, 3)
    folder = current_build(config.index_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    result["kind"] = manifest["kind"]
    result["disk_mb"] = _disk_mb(folder)
    result["vectors_mb"] = round((folder / VECTORS).stat().st_size / 2**20, 1)

    result["unchanged"] = build("unchanged rebuild")
    changed = synthetic.changed_positions(n, 0.01, seed)
    time.sleep(0.01)
    synthetic.write_corpus(config.corpus, n, seed, changed=changed)
    result["changed_1pct"] = build("1% changed rebuild")
    result["changed_1pct"]["changed"] = len(changed)

    vectors = np.load(current_build(config.index_dir) / VECTORS, mmap_mode="r")
    result["index_only"] = _index_only(
        vectors, [q["question"] for q in qs], inner, result["kind"], spec, current_build(config.index_dir)
    )
    del vectors
    Path(spec["work"], "build-result.json").write_text(json.dumps(result), encoding="utf-8")
    del inner
    probe = _child("probe", spec)
    result.update(probe)
    Path(spec["result"]).parent.mkdir(parents=True, exist_ok=True)
    Path(spec["result"]).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def _records_for(spec: dict, positions) -> list:
    """Records as the index holds them (the embedded text is made from them), straight from the generator."""
    from archive_qa.bench import synthetic
    from qa.records import Record, parse_date

    out = []
    for i in positions:
        s = synthetic.record(spec["seed"], i)
        date, precision = parse_date(s.date)
        out.append(Record(s.id, s.title, date, precision, s.summary, None, synthetic.COLLECTION, ""))
    return out


def _index_only(vectors, questions: list[str], embedder, kind: str, spec: dict, folder: Path) -> dict:
    """Vector search alone on the stored vectors: exact (flat) and approximate, latency and Recall@10."""
    import numpy as np

    from embeddings.vectors import VectorIndex

    queries = embedder.encode(questions[: spec["queries"]])
    truth = exact_top(vectors, queries, RECALL_K)
    out: dict = {"queries": len(queries), "query_vectors": "same embedder as the index"}
    approx_kind = kind if kind != "flat" else _approx_kind()
    for name in ("flat", approx_kind):
        t = time.perf_counter()
        if name == kind and kind != "flat":  # the served approximate index, as built
            index = VectorIndex.load(folder, kind, vectors)
        else:
            index = VectorIndex.build(np.asarray(vectors), name)
        built = time.perf_counter() - t
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            positions, _ = index.search(q, RECALL_K)
            times.append((time.perf_counter() - t) * 1000)
            found.append(np.pad(positions, (0, RECALL_K - len(positions)), constant_values=-1))
        out[name] = {
            "build_s": round(built, 2),
            "search_ms": percentiles(times),
            "recall_at_10": recall(np.asarray(found), truth),
        }
        if name == "hnsw":
            out[name]["ef_search"] = int(index.index.hnsw.efSearch)
            out[name]["ef_sweep"] = _ef_sweep(index, queries, truth)
        _log(f"index only, {name}: {out[name]}")
        del index
    return out


def _ef_sweep(index, queries, truth) -> dict:
    """Recall@10 and latency of an HNSW index at other efSearch values (for tuning; the served value is kept)."""
    import numpy as np

    served = int(index.index.hnsw.efSearch)
    out = {}
    try:
        for ef in (64, 128, 256, 512, 768):
            index.index.hnsw.efSearch = ef
            times, found = [], []
            for q in queries:
                t = time.perf_counter()
                _, positions = index.index.search(q.reshape(1, -1), RECALL_K)
                times.append((time.perf_counter() - t) * 1000)
                found.append(positions[0])
            out[str(ef)] = {"recall_at_10": recall(np.asarray(found), truth), "p95_ms": percentiles(times)["p95"]}
    finally:
        index.index.hnsw.efSearch = served
    return out


def _approx_kind() -> str:
    from embeddings.vectors import choose_kind

    return choose_kind("auto", 2, 1)


def _probe_step(spec: dict) -> dict:
    """In a fresh process, as the app would: load the index and the model, answer questions; time and weigh it."""
    import numpy as np

    from qa.assistant import Assistant
    from qa.build import default_embedder
    from qa.dates import find_date_range
    from qa.index import CANDIDATES, ArchiveIndex, DateFilter, Query

    config = _config(spec)
    work = Path(spec["work"])
    qs = [json.loads(line) for line in (work / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    qs = qs[: spec["queries"]]
    before = rss()
    t = time.perf_counter()
    index = ArchiveIndex.load(config)
    load_s = time.perf_counter() - t
    after_load = rss()
    t = time.perf_counter()
    embedder = default_embedder(config)
    model_s = time.perf_counter() - t
    assistant = Assistant(config, index=index, embedder=embedder)
    for q in qs[:5]:
        assistant.ask(q["question"])

    ask_ms, found_ask, parts = [], 0, {}
    for q in qs:
        t = time.perf_counter()
        answer = assistant.ask(q["question"])
        ask_ms.append((time.perf_counter() - t) * 1000)
        for name, value in (getattr(answer, "timings", None) or {}).items():
            parts.setdefault(name, []).append(value)
        ids = {s.record.id for s in answer.sources + answer.related}
        found_ask += q["answer_id"] in ids

    vectors = embedder.encode([q["question"] for q in qs])
    retrieve_ms, dense_ms, bm25_ms, found = [], [], [], 0
    filtered_found, filtered_truth, checks = [], [], []
    for q, vector in zip(qs, vectors, strict=True):
        tokens = index.analyzer.tokens(q["question"])
        rng = find_date_range(q["question"])
        date_filter = DateFilter(rng.start, rng.end, True) if rng else None
        t = time.perf_counter()
        hits = index.search(Query(q["question"], vector, tokens), RECALL_K, "hybrid", date_filter)
        retrieve_ms.append((time.perf_counter() - t) * 1000)
        found += any(h.id == q["answer_id"] for h in hits)
        allowed = date_filter.mask(index.dates) if date_filter else None
        t = time.perf_counter()
        positions, _ = index.vector_index.search(vector, CANDIDATES, allowed)
        dense_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        index.lexical.search(tokens, CANDIDATES, allowed)
        bm25_ms.append((time.perf_counter() - t) * 1000)
        if allowed is not None and allowed.any():
            checks.append((vector, allowed, positions[:RECALL_K]))
    # Memory as the app has it after its questions: before the checks below read stored vectors at large.
    after_queries = rss()
    for vector, allowed, positions in checks:
        rows = np.flatnonzero(allowed)
        filtered_truth.append(rows[exact_top(index.vectors[rows], vector[None], RECALL_K)[0]])
        filtered_found.append(np.pad(positions, (0, RECALL_K - len(positions)), constant_values=-1))

    result: dict = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "load_s": round(load_s, 3),
        "model_load_s_probe": round(model_s, 2),
        "rss_mb": {"start": before, "after_load": after_load, "after_queries": after_queries},
        "ask_ms": percentiles(ask_ms),
        "ask_parts_ms": {name: percentiles(values) for name, values in parts.items()},
        "retrieve_ms": percentiles(retrieve_ms),
        "answer_in_sources": round(found_ask / max(1, len(qs)), 3),
        "answer_in_top10": round(found / max(1, len(qs)), 3),
        "dense_ms": percentiles(dense_ms),
        "bm25_ms": percentiles(bm25_ms),
        "filtered_recall_at_10": recall(filtered_found, filtered_truth) if filtered_truth else None,
        "filtered_queries": len(filtered_truth),
        "query_vectors": "real model",
    }
    kind = index.vector_index.kind
    if kind != "flat":  # Recall@10 of the approximate index against exact search, on real-model question vectors
        truth = exact_top(index.vectors, vectors, RECALL_K)
        got = []
        for v in vectors:
            positions, _ = index.vector_index.search(v, RECALL_K)
            got.append(np.pad(positions, (0, RECALL_K - len(positions)), constant_values=-1))
        result["recall_at_10_real_queries"] = recall(np.asarray(got), truth)
    _log(f"probe: load {load_s:.2f}s ask {result['ask_ms']} retrieve {result['retrieve_ms']} rss {after_queries}")
    Path(spec["work"], "probe-result.json").write_text(json.dumps(result), encoding="utf-8")
    return result


# ---------------------------------------------------------------------------------------------- reporting


def _get(d: dict, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def approx_recall(r: dict) -> float | None:
    """Recall@10 of the approximate index: the served index when it is approximate, else the index-only one."""
    kind = r.get("kind")
    if kind and kind != "flat":
        values = [_get(r, "index_only", kind, "recall_at_10"), r.get("recall_at_10_real_queries")]
        values = [v for v in values if v is not None]
        return min(values) if values else None
    for name, value in r.get("index_only", {}).items():
        if isinstance(value, dict) and name != "flat":
            return value.get("recall_at_10")
    return None


def checks(results: list[dict]) -> list[dict]:
    """Each target of the issue against the run's figures."""
    out = []
    by = {r["label"]: r for r in results}
    figures = {
        "retrieve_p95_ms": lambda r: _get(r, "retrieve_ms", "p95"),
        "ask_p95_ms": lambda r: _get(r, "ask_ms", "p95"),
        "ask_p50_ms": lambda r: _get(r, "ask_ms", "p50"),
        "recall_at_10": approx_recall,
        "rss_mb": lambda r: _get(r, "rss_mb", "after_queries", "VmRSS"),
        "load_s": lambda r: r.get("load_s"),
    }
    for size, targets in TARGETS.items():
        if size not in by:
            continue
        for name, limit in targets.items():
            value = figures[name](by[size])
            ok = value is not None and (value >= limit if name == "recall_at_10" else value <= limit)
            out.append({"size": size, "figure": name, "value": value, "target": limit, "ok": ok})
    for r in results:
        value = _get(r, "build", "vs_raw")
        out.append(
            {"size": r["label"], "figure": "build_vs_raw", "value": value, "target": 0.9, "ok": (value or 0) >= 0.9}
        )
    unchanged = by.get("10k")
    if unchanged:
        u = unchanged["unchanged"]
        out.append(
            {
                "size": "10k",
                "figure": "unchanged_index_s",
                "value": u["seconds"],
                "target": 2.0,
                "ok": u["seconds"] < 2.0 and u["embedded"] == 0,
            }
        )
    return out


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(report: dict) -> str:
    rows = report["sizes"]
    lines = [
        "### Build (records/s; `*` = projected for the real model, see notes)",
        "",
        "| size | vectors | index | build s | build rec/s | raw model rec/s | build ÷ raw | unchanged s (encoded) "
        "| 1% changed s (encoded) | disk MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        b, u, c = r["build"], r["unchanged"], r["changed_1pct"]
        star = "" if r["vectors"] == "model" else "*"
        build_s = _fmt(b["seconds"]) if not star else f"{_fmt(b['seconds'])} (stand-in); {_fmt(b['projected_s'])}*"
        changed_s = _fmt(c["seconds"], 2) + (f"; {_fmt(c['projected_s'])}*" if star else "")
        lines.append(
            f"| {r['label']} | {r['vectors']} | {r['kind']} | {build_s} | {_fmt(b['model_rate'])}{star} "
            f"| {_fmt(r['raw_model']['rate'])} ({r['raw_model']['texts']} texts) | {_fmt(b['vs_raw'], 3)}{star} "
            f"| {_fmt(u['seconds'], 2)} ({u['embedded']}) | {changed_s} ({c['embedded']}) | {_fmt(r['disk_mb'])} |"
        )
    lines += [
        "",
        "### Serve (fresh process; ask uses the real model for the question)",
        "",
        "| size | load s | RSS after load MB | RSS after queries MB (anon + file) "
        "| retrieve p50 / p95 ms | ask p50 / p95 ms "
        "| Recall@10 approx. | flat search p50 / p95 ms | approx. search p50 / p95 ms | answer in top 10 "
        "| ask p50: encode / retrieve / compose ms | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        io = r.get("index_only", {})
        approx = next((v for k, v in io.items() if isinstance(v, dict) and k != "flat"), None)
        flat = io.get("flat")
        lines.append(
            f"| {r['label']} | {_fmt(r.get('load_s'), 2)} | {_fmt(_get(r, 'rss_mb', 'after_load', 'VmRSS'), 0)} "
            f"| {_fmt(_get(r, 'rss_mb', 'after_queries', 'VmRSS'), 0)} "
            f"({_fmt(_get(r, 'rss_mb', 'after_queries', 'RssAnon'), 0)} + "
            f"{_fmt(_get(r, 'rss_mb', 'after_queries', 'RssFile'), 0)}) "
            f"| {_fmt(_get(r, 'retrieve_ms', 'p50'))} / {_fmt(_get(r, 'retrieve_ms', 'p95'))} "
            f"| {_fmt(_get(r, 'ask_ms', 'p50'))} / {_fmt(_get(r, 'ask_ms', 'p95'))} "
            f"| {_fmt(approx_recall(r), 3)} "
            f"| {_fmt(_get(flat or {}, 'search_ms', 'p50'), 2)} / {_fmt(_get(flat or {}, 'search_ms', 'p95'), 2)} "
            f"| {_fmt(_get(approx or {}, 'search_ms', 'p50'), 2)} / {_fmt(_get(approx or {}, 'search_ms', 'p95'), 2)} "
            f"| {_fmt(r.get('answer_in_top10'), 2)} "
            f"| {' / '.join(_fmt(_get(r, 'ask_parts_ms', p, 'p50')) for p in ASK_PARTS)} "
            f"| {_fmt((r.get('load_average') or [None])[0], 1)} |"
        )
    lines += ["", "### Targets", "", "| size | figure | value | target | met |", "| --- | --- | --- | --- | --- |"]
    for c in report["checks"]:
        lines.append(
            f"| {c['size']} | {c['figure']} | {_fmt(c['value'], 3)} | {c['target']} | {'yes' if c['ok'] else 'NO'} |"
        )
    stand_in = [r["label"] for r in rows if r["vectors"] != "model"]
    real = [r["label"] for r in rows if r["vectors"] == "model"]
    m = report["machine"]
    lines += [
        "",
        "Notes:",
        f"- Command: `{report['command']}`; {m['cpus']} CPUs, load average at the end {m['load_average_at_end']}.",
        f"- Encoded with the real model: {', '.join(real) or 'none'}. "
        f"Stand-in vectors (mean of the model's word vectors, archive_qa.bench.synthetic.StandInEmbedder): "
        f"{', '.join(stand_in) or 'none'}.",
        "- At stand-in sizes, the raw model rate is measured on an even sample of the same texts; `*` figures are "
        "projected: the build's measured non-encoding time plus the texts it encoded at that raw rate.",
        "- Serve figures come from a fresh process that loads the index and the real model as the app does; "
        "ask and retrieve encode the question with the real model (retrieve latency excludes that encoding). "
        "At stand-in sizes the records' vectors are stand-ins, so 'answer in top 10' is only a sanity figure.",
        "- Recall@10: approximate vs exact top 10 over the same stored vectors, for the question set (index-only "
        "figures use question vectors from the index's embedder; the served approximate index is also checked "
        "with real-model question vectors, and the lower is shown).",
        "- Collections are SYNTHETIC (archive_qa.bench.synthetic), written to a scratch folder, never to corpus/.",
    ]
    return "\n".join(lines) + "\n"


def plot(results: list[dict], path: Path) -> None:
    """Latency and memory against size on log axes (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(results, key=lambda r: r["size"])
    sizes = [r["size"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = {
        "ask p50": [_get(r, "ask_ms", "p50") for r in rows],
        "ask p95": [_get(r, "ask_ms", "p95") for r in rows],
        "retrieve p50": [_get(r, "retrieve_ms", "p50") for r in rows],
        "retrieve p95": [_get(r, "retrieve_ms", "p95") for r in rows],
        "flat search p95 (index only)": [_get(r, "index_only", "flat", "search_ms", "p95") for r in rows],
    }
    for r in rows:
        for name, value in r.get("index_only", {}).items():
            if isinstance(value, dict) and name != "flat":
                series.setdefault(f"{name} search p95 (index only)", [None] * len(rows))
    for i, r in enumerate(rows):
        for name, value in r.get("index_only", {}).items():
            if isinstance(value, dict) and name != "flat":
                series[f"{name} search p95 (index only)"][i] = _get(value, "search_ms", "p95")
    _panel(left, sizes, series, "milliseconds", "Latency")
    memory = {
        "RSS after queries": [_get(r, "rss_mb", "after_queries", "VmRSS") for r in rows],
        "RSS after load": [_get(r, "rss_mb", "after_load", "VmRSS") for r in rows],
        "index on disk": [r.get("disk_mb") for r in rows],
    }
    _panel(right, sizes, memory, "MB", "Memory and disk")
    fig.suptitle("archive-qa bench (synthetic collections)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _main(argv: list[str]) -> int:
    role, spec_path = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    if role == "build":
        _build_step(spec)
    elif role == "probe":
        _probe_step(spec)
    else:
        raise SystemExit(f"unknown bench step {role!r}")
    return 0


if __name__ == "__main__":
    from qa import runtime

    runtime.start()
    sys.exit(_main(sys.argv[1:]))


def _panel(ax, sizes: list, series: dict, unit: str, title: str) -> None:
    """One log-log panel of the plot: a line per series, points only where measured."""
    for name, values in series.items():
        pts = [(s, v) for s, v in zip(sizes, values, strict=True) if v]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="records", ylabel=unit, title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
