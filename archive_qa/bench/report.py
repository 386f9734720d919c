"""The bench report: each target checked against the run's figures, bench.json, bench.md and bench.png."""

from __future__ import annotations

import json
from pathlib import Path

from archive_qa.evaluation.tables import fmt, markdown_table

ASK_PARTS = ("encode_ms", "retrieve_ms", "compose_ms")
DISK_LIMIT_MB = round(2.0e9 / 2**20)  # 2.0 GB
TARGETS = {
    "1m": {
        "retrieve_p95_ms": 30,
        "ask_p95_ms": 80,
        "recall_at_10": 0.95,
        "rss_mb": 4096,
        "load_s": 10,
        "disk_mb": DISK_LIMIT_MB,
        "changed_1pct_s": 60,
        "unchanged_s": 2,
    },
    "100k": {"ask_p50_ms": 30, "changed_1pct_s": 6},
    "2m": {"index_memory_mb": 512, "recall_at_10": 0.9, "retrieve_p95_ms": 50},
}
# Records read a second through the build's reader, wall clock, best of three (archive_qa.bench.reading).
READING_TARGETS = {"parse_jsonl_rps": 30_000, "parse_listing_rps": 30_000}
READING_FIGURES = {"parse_jsonl_rps": "jsonl", "parse_listing_rps": "listing"}
BUILD_VS_RAW = 1.5
RAY_VS_LOCAL = 0.8
UNCHANGED_SIZE, UNCHANGED_S = "10k", 2.0
FULL_TEXT_ASK = 1.3  # `ask` p50 of a size whose records carry full texts, against the same size without
HIGHER_IS_BETTER = frozenset({"recall_at_10", "build_vs_raw", "ray_vs_local", *READING_TARGETS})
FILES = ("bench.json", "bench.md", "bench.png")


def get(d: dict, *path, default=None):
    """A nested value (`get(r, "ask_ms", "p50")`), or `default` where the path stops."""
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def approximate(r: dict) -> tuple[str, dict] | None:
    """The approximate index timed alone (its kind and figures), if the size has one."""
    return next(((k, v) for k, v in r.get("index_only", {}).items() if isinstance(v, dict) and k != "flat"), None)


def approx_recall(r: dict) -> float | None:
    """Recall@10 of the approximate index: the served index when it is approximate, else the index-only one."""
    kind = r.get("kind")
    if kind and kind != "flat":
        values = [get(r, "index_only", kind, "recall_at_10"), r.get("recall_at_10_real_queries")]
        values = [v for v in values if v is not None]
        return min(values) if values else None
    found = approximate(r)
    return found[1].get("recall_at_10") if found else None


def index_memory(r: dict) -> float | None:
    """The memory the loaded index holds itself: anonymous memory after loading it, less before."""
    before, after = get(r, "rss_mb", "start", "RssAnon"), get(r, "rss_mb", "after_load", "RssAnon")
    return round(after - before, 1) if before is not None and after is not None else None


FIGURES = {
    "changed_1pct_s": lambda r: get(r, "changed_1pct", "seconds"),
    "unchanged_s": lambda r: get(r, "unchanged", "seconds"),
    "disk_mb": lambda r: r.get("disk_mb"),
    "index_memory_mb": index_memory,
    "retrieve_p95_ms": lambda r: get(r, "retrieve_ms", "p95"),
    "ask_p95_ms": lambda r: get(r, "ask_ms", "p95"),
    "ask_p50_ms": lambda r: get(r, "ask_ms", "p50"),
    "recall_at_10": approx_recall,
    "rss_mb": lambda r: get(r, "rss_mb", "after_queries", "VmRSS"),
    "load_s": lambda r: r.get("load_s"),
}


def _check(size: str, figure: str, value, target: float, ok: bool) -> dict:
    return {"size": size, "figure": figure, "value": value, "target": target, "ok": ok}


def _met(name: str, value, limit) -> bool:
    return value is not None and (value >= limit if name in HIGHER_IS_BETTER else value <= limit)


def checks(results: list[dict], reading: dict | None = None) -> list[dict]:
    """Each target of the issue against the run's figures (only for the sizes that were run, and the reading
    rate when it was measured)."""
    by = {r["label"]: r for r in results}
    out = []
    for size, targets in TARGETS.items():
        if size not in by:
            continue
        for name, limit in targets.items():
            value = FIGURES[name](by[size])
            out.append(_check(size, name, value, limit, _met(name, value, limit)))
    for r in results:
        value = get(r, "build", "vs_raw")
        out.append(_check(r["label"], "build_vs_raw", value, BUILD_VS_RAW, _met("build_vs_raw", value, BUILD_VS_RAW)))
        ray = r.get("ray")
        if ray and "vs_local" in ray:
            same = ray["same_records"] and ray["max_vector_difference"] <= 1e-5
            out.append(
                _check(
                    r["label"], "ray_vs_local", ray["vs_local"], RAY_VS_LOCAL, same and ray["vs_local"] >= RAY_VS_LOCAL
                )
            )
    out += full_text_checks(results)
    if UNCHANGED_SIZE in by:
        u = by[UNCHANGED_SIZE]["unchanged"]
        ok = u["seconds"] < UNCHANGED_S and u["embedded"] == 0
        out.append(_check(UNCHANGED_SIZE, "unchanged_index_s", u["seconds"], UNCHANGED_S, ok))
    return out + reading_checks(reading)


def full_text_checks(results: list[dict]) -> list[dict]:
    """The `ask` p50 of each size with full texts (passages) against the same size's summary-only row."""
    plain = {r["size"]: r for r in results if not r.get("full_texts")}
    out = []
    for r in results:
        twin = plain.get(r["size"])
        if not r.get("full_texts") or twin is None:
            continue
        with_text, without = get(r, "ask_ms", "p50"), get(twin, "ask_ms", "p50")
        ratio = round(with_text / without, 3) if with_text and without else None
        out.append(_check(r["label"], "ask_p50_vs_summary_only", ratio, FULL_TEXT_ASK, _met("", ratio, FULL_TEXT_ASK)))
    return out


def reading_checks(reading: dict | None) -> list[dict]:
    """The reading rate of each format against its target; a read that did not give every record fails it."""
    if not reading:
        return []
    out = []
    for name, limit in READING_TARGETS.items():
        figures = reading.get(READING_FIGURES[name]) or {}
        value = figures.get("rate")
        whole = figures.get("records") == reading.get("size") and not figures.get("errors")
        out.append(_check(reading.get("label", "?"), name, value, limit, whole and _met(name, value, limit)))
    return out


# ---------------------------------------------------------------------------------------------- bench.md


BUILD_HEADER = (
    "size",
    "vectors",
    "index",
    "build s",
    "build rec/s",
    "raw model rec/s",
    "build ÷ raw",
    "unchanged s (encoded)",
    "1% changed s (encoded)",
    "disk MB",
)
SERVE_HEADER = (
    "size",
    "load s",
    "RSS after load MB",
    "index memory MB",
    "RSS after queries MB (anon + file)",
    "retrieve p50 / p95 ms",
    "ask p50 / p95 ms",
    "Recall@10 approx.",
    "flat search p50 / p95 ms",
    "approx. search p50 / p95 ms",
    "answer in top 10",
    "ask p50: encode / retrieve / compose ms",
    "expansion p50 / p95 ms (words)",
    "load avg",
)
ENCODING_HEADER = (
    "size",
    "texts",
    "torch rec/s",
    "onnx rec/s (× torch)",
    "onnx-int8 rec/s (× torch)",
    "nDCG@10 torch / onnx / onnx-int8 / onnx float16",
    "Ray rec/s (× local)",
    "Ray: same records, max |Δ vector|",
)


def markdown(report: dict) -> str:
    """bench.md: the build table, the serve table, the targets and the notes."""
    rows = report["sizes"]
    lines = ["### Build (records/s; `*` = projected for the real model, see notes)", ""]
    lines += markdown_table(BUILD_HEADER, [build_row(r) for r in rows])
    encoded = [r for r in rows if r.get("encoders")]
    if encoded:
        lines += [
            "",
            "### Encoding (the same texts, passes interleaved; quality: dense search, synthetic questions)",
            "",
        ]
        lines += markdown_table(ENCODING_HEADER, [encoding_row(r) for r in encoded])
    lines += ["", "### Serve (fresh process; ask uses the real model for the question)", ""]
    lines += markdown_table(SERVE_HEADER, [serve_row(r) for r in rows])
    reading = report.get("reading")
    if reading:
        lines += ["", "### Reading (records/s through the build's reader `qa.corpus.load_corpus`, best of 3)", ""]
        lines += markdown_table(READING_HEADER, reading_rows(reading))
    lines += ["", "### Targets", ""]
    lines += markdown_table(
        ("size", "figure", "value", "target", "met"),
        [
            [c["size"], c["figure"], fmt(c["value"], 3), str(c["target"]), "yes" if c["ok"] else "NO"]
            for c in report["checks"]
        ],
    )
    return "\n".join(lines + notes(report)) + "\n"


READING_HEADER = (
    "format",
    "records read (of)",
    "files",
    "MB",
    "best s",
    "records/s",
    "records/s of CPU time",
    "errors / warnings",
    "load avg",
)
READING_NAMES = {"jsonl": "JSON Lines (one export)", "listing": "listing text (search-result pages)"}


def reading_rows(reading: dict) -> list[list[str]]:
    rows = []
    for key, name in READING_NAMES.items():
        f = reading.get(key)
        if not f:
            continue
        rows.append(
            [
                name,
                f"{fmt(f.get('records'))} ({fmt(reading.get('size'))})",
                str(f.get("files")),
                fmt(f.get("mb"), 1),
                fmt(f.get("seconds"), 3),
                fmt(f.get("rate"), 0),
                fmt(f.get("cpu_rate"), 0),
                f"{f.get('errors')} / {f.get('warnings')}",
                fmt((reading.get("load_average") or [None])[0], 1),
            ]
        )
    return rows


def build_row(r: dict) -> list[str]:
    b, u, c, raw = r["build"], r["unchanged"], r["changed_1pct"], r["raw_model"]
    star = "" if r["vectors"] == "model" else "*"
    build_s = fmt(b["seconds"], 1) + (f" (stand-in); {fmt(b['projected_s'], 1)}*" if star else "")
    changed_s = fmt(c["seconds"], 2) + (f"; {fmt(c['projected_s'], 1)}*" if star else "")
    return [
        r["label"],
        r["vectors"],
        f"{r['kind']} ({r.get('vector_dtype', 'float32')}, {len(r.get('segments', [])) or 1} segment(s))",
        build_s,
        f"{fmt(b['model_rate'], 1)}{star}",
        f"{fmt(raw['rate'], 1)} ({raw['texts']} texts)",
        f"{fmt(b['vs_raw'], 3)}{star}",
        f"{fmt(u['seconds'], 2)} ({u['embedded']})",
        f"{changed_s} ({c['embedded']})",
        fmt(r["disk_mb"], 1),
    ]


def encoding_row(r: dict) -> list[str]:
    rates, quality, ray = r.get("encoders", {}), r.get("retrieval_quality", {}), r.get("ray") or {}

    def rate(name: str) -> str:
        figure = rates.get(name, {})
        return f"{fmt(figure.get('rate'), 1)} ({fmt(figure.get('vs_torch'), 2)}×)"

    names = ("torch", "onnx", "onnx-int8", "onnx, stored float16")
    ndcg = " / ".join(fmt(get(quality, name, "ndcg_at_10"), 3) for name in names) if quality else "—"
    ray_s = f"{fmt(ray.get('rate'), 1)} ({fmt(ray.get('vs_local'), 2)}×)" if "rate" in ray else ray.get("error", "—")
    same = (
        f"{'yes' if ray.get('same_records') else 'NO'}, {ray.get('max_vector_difference', 0):.1e}"
        if "rate" in ray
        else "—"
    )
    return [
        r["label"],
        str(get(rates, "torch", "texts", default="—")),
        fmt(get(rates, "torch", "rate"), 1),
        rate("onnx"),
        rate("onnx-int8"),
        ndcg,
        ray_s,
        same,
    ]


def _pair(r: dict, *path, digits: int = 1) -> str:
    """A figure's p50 / p95."""
    return f"{fmt(get(r, *path, 'p50'), digits)} / {fmt(get(r, *path, 'p95'), digits)}"


def serve_row(r: dict) -> list[str]:
    memory = get(r, "rss_mb", "after_queries", default={})
    approx = approximate(r)
    return [
        r["label"],
        fmt(r.get("load_s"), 2),
        fmt(get(r, "rss_mb", "after_load", "VmRSS"), 0),
        fmt(index_memory(r), 0),
        f"{fmt(memory.get('VmRSS'), 0)} ({fmt(memory.get('RssAnon'), 0)} + {fmt(memory.get('RssFile'), 0)})",
        _pair(r, "retrieve_ms"),
        _pair(r, "ask_ms"),
        fmt(approx_recall(r), 3),
        _pair(r, "index_only", "flat", "search_ms", digits=2),
        _pair(approx[1] if approx else {}, "search_ms", digits=2),
        fmt(r.get("answer_in_top10"), 2),
        " / ".join(fmt(get(r, "ask_parts_ms", p, "p50"), 1) for p in ASK_PARTS),
        f"{_pair(r, 'expansion_ms', digits=2)} ({fmt(r.get('vocabulary_words'))})",
        fmt((r.get("load_average") or [None])[0], 1),
    ]


def notes(report: dict) -> list[str]:
    rows, m = report["sizes"], report["machine"]
    stand_in = [r["label"] for r in rows if r["vectors"] != "model"]
    real = [r["label"] for r in rows if r["vectors"] == "model"]
    return [
        "",
        "Notes:",
        f"- Command: `{report['command']}`; {m['cpus']} CPUs, load average at the end {m['load_average_at_end']}.",
        f"- Encoded with the real model: {', '.join(real) or 'none'}. "
        f"Stand-in vectors (mean of the model's word vectors, archive_qa.bench.synthetic.StandInEmbedder): "
        f"{', '.join(stand_in) or 'none'}.",
        "- Raw model rate: the bare `SentenceTransformer.encode` (PyTorch, batches of 64) on the same texts in the "
        "same run, passes interleaved with the build's encoder (ONNX, each text alone, on worker processes, one "
        "a core). At stand-in sizes both are measured on an even sample of the texts; `*` figures are projected: "
        "the build's measured "
        "non-encoding time plus the texts it encoded at the build encoder's measured rate.",
        "- Index memory: anonymous memory of the serving process after loading the index, less before (vectors "
        "and postings are memory-mapped files: they count in RSS only as pages are read, and can be dropped).",
        "- Ray: `--engine ray` on a local cluster of this machine's CPUs (started before the timing; its start in "
        "bench.json): the cluster's encoding rate against the local path's on the same texts (`ray.texts`), and "
        "the size's corpus built on it, its records and vectors compared with the local build's.",
        "- Serve figures come from a fresh process that loads the index and the real model as the app does; "
        "ask and retrieve encode the question with the real model (retrieve latency excludes that encoding). "
        "At stand-in sizes the records' vectors are stand-ins, so 'answer in top 10' is only a sanity figure.",
        "- Recall@10: approximate vs exact top 10 over the same stored vectors, for the question set (index-only "
        "figures use question vectors from the index's embedder; the served approximate index is also checked "
        "with real-model question vectors, and the lower is shown).",
        "- Collections are SYNTHETIC (archive_qa.bench.synthetic), written to a scratch folder, never to corpus/.",
    ] + reading_notes(report)


def reading_notes(report: dict) -> list[str]:
    if not report.get("reading"):
        return []
    return [
        "- Reading: the same synthetic records written as one JSON Lines export and as listing pages saved as text "
        "(a hundred entries a page), each read through `qa.corpus.load_corpus` (the build's reader) three times "
        "with the date caches emptied before each read; the best wall-clock time is checked against the target "
        "(records/s of CPU time: the same reads less what other processes took of the machine).",
    ]


# ---------------------------------------------------------------------------------------------- bench.png


def plot(results: list[dict], path: Path) -> None:
    """Latency and memory against size on log axes (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(results, key=lambda r: r["size"])
    sizes = [r["size"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    try:
        _panel(left, sizes, latency_series(rows), "milliseconds", "Latency")
        _panel(right, sizes, memory_series(rows), "MB", "Memory and disk")
        fig.suptitle("archive-qa bench (synthetic collections)")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def latency_series(rows: list[dict]) -> dict[str, list]:
    """Served latencies, and each index's search latency timed alone, per size (None where not measured)."""
    series = {
        "ask p50": [get(r, "ask_ms", "p50") for r in rows],
        "ask p95": [get(r, "ask_ms", "p95") for r in rows],
        "retrieve p50": [get(r, "retrieve_ms", "p50") for r in rows],
        "retrieve p95": [get(r, "retrieve_ms", "p95") for r in rows],
        "flat search p95 (index only)": [get(r, "index_only", "flat", "search_ms", "p95") for r in rows],
    }
    for kind in dict.fromkeys(found[0] for found in map(approximate, rows) if found):
        series[f"{kind} search p95 (index only)"] = [get(r, "index_only", kind, "search_ms", "p95") for r in rows]
    return series


def memory_series(rows: list[dict]) -> dict[str, list]:
    return {
        "RSS after queries": [get(r, "rss_mb", "after_queries", "VmRSS") for r in rows],
        "RSS after load": [get(r, "rss_mb", "after_load", "VmRSS") for r in rows],
        "index on disk": [r.get("disk_mb") for r in rows],
    }


def _panel(ax, sizes: list, series: dict, unit: str, title: str) -> None:
    """One log-log panel of the plot: a line per series, points only where measured."""
    for name, values in series.items():
        pts = [(s, v) for s, v in zip(sizes, values, strict=True) if v]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="records", ylabel=unit, title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


# ---------------------------------------------------------------------------------------------- files


def write(report: dict, out: Path) -> list[Path]:
    """bench.json, bench.md and bench.png in `out`; returns their paths."""
    paths = [out / name for name in FILES]
    paths[0].write_text(json.dumps(report, indent=1), encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    plot(report["sizes"], paths[2])
    return paths
