"""`archive-qa bench`: build, rebuild, load and query the system on SYNTHETIC collections of growing size.

Per size it measures index build throughput against the raw model throughput on the same texts,
incremental rebuilds (nothing changed, 1% changed), load time and resident memory in a fresh process,
warm `ask` and retrieve latency, the index's size on disk, and Recall@10 of the approximate index
against exact search; and, once per run, the reading rate of the build's reader (records/s from JSON
Lines and from listing text, archive_qa.bench.reading). Sizes above --real-max are indexed with stand-in
vectors (see archive_qa.bench.synthetic.StandInEmbedder) and the report says which figures used them.

This module holds the options and the run over sizes: each size is measured by archive_qa.bench.steps in
fresh processes (a `build` step, then a `probe` step), which exchange JSON files with it; the report is made
by archive_qa.bench.report. It is imported by `archive-qa --help`: it imports nothing heavy at top level.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qa.errors import ArchiveQAError

DEFAULT_SIZES = "1k,10k,100k,100k+text,1m"
TEXT_SUFFIX = "+text"
FULL_TEXT_SHARE = 0.1  # of the records of a `+text` size: each carries 5-20 paragraphs of made-up full text
QUICK_SIZES = "100,2k"
DEFAULT_OUT = Path("eval/reports/bench")
READING_FILE = "reading.json"
SEED = 1917
STEPS_MODULE = "archive_qa.bench.steps"
READING_MODULE = "archive_qa.bench.reading"
READING_SIZE, QUICK_READING_SIZE = 50_000, 20_000
REPO = Path(__file__).resolve().parents[2]


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", help=f"comma-separated sizes, e.g. 1k,10k,100k,1m; 100k{TEXT_SUFFIX}: 10%% of the "
                   f"records with full texts (default {DEFAULT_SIZES})")
    p.add_argument("--quick", action="store_true", help=f"a small run ({QUICK_SIZES}, fewer queries; under 2 minutes)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where reports go (default {DEFAULT_OUT})")
    p.add_argument("--work", type=Path, help="scratch folder for synthetic corpora and indexes (default OUT/work)")
    p.add_argument(
        "--real-max", type=parse_size, help="largest size encoded with the real model (default 1k; quick 100)"
    )
    p.add_argument("--sample", type=int, help="texts timed for the raw model rate at stand-in sizes (default 500)")
    p.add_argument("--queries", type=int, help="questions timed per size (default 200; quick 20)")
    p.add_argument("--threshold", type=parse_size, help="size above which the index is approximate (default: Config's)")
    p.add_argument("--index-kind", choices=("auto", "flat", "hnsw", "ivfpq"), default="auto", help="index kind (auto)")
    p.add_argument("--no-ray", action="store_true", help="skip the build on a local Ray cluster (real-model sizes)")
    p.add_argument(
        "--reading-size",
        type=parse_size,
        help="records read as JSON Lines and as listing text for the reading rate (default 50k; quick 20k)",
    )
    p.add_argument("--no-reading", action="store_true", help="skip the reading rate")
    p.add_argument("--seed", type=int, default=SEED, help=f"seed of the synthetic collection (default {SEED})")
    p.add_argument("--keep", action="store_true", help="keep the scratch corpora and indexes")
    p.add_argument("--report-only", action="store_true", help="remake the report from the per-size results in OUT")
    p.add_argument("--model", help="sentence-transformers model (default: all-MiniLM-L6-v2, bundled)")


def parse_size(text: str) -> int:
    """A collection size as typed: 300, 10k, 2.5k, 1m (at least 10)."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    try:
        value = int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 300, 10k, 1m)") from None
    if value < 10:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be at least 10")
    return value


def label(n: int, full_texts: float = 0.0) -> str:
    """A size as the report names it: 100, 2k, 1m; `100k+text` when a share of its records carry full texts."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        name = f"{n // 1_000_000}m"
    elif n >= 1_000 and n % 1_000 == 0:
        name = f"{n // 1_000}k"
    else:
        name = str(n)
    return f"{name}{TEXT_SUFFIX}" if full_texts else name


def parse_item(text: str) -> tuple[int, float]:
    """One item of --sizes: a size, with `+text` for one whose records carry full texts in FULL_TEXT_SHARE."""
    text = text.strip().lower()
    if text.endswith(TEXT_SUFFIX):
        return parse_size(text.removesuffix(TEXT_SUFFIX)), FULL_TEXT_SHARE
    return parse_size(text), 0.0


# ---------------------------------------------------------------------------------------------- the run


def run_bench(args: argparse.Namespace) -> int:
    """Measure each size (unless --report-only), then write and print the report."""
    sizes = _sizes(args)
    out: Path = args.out
    work: Path = args.work or out / "work"
    if (work.resolve() / "qa").is_dir() or work.resolve().name == "corpus":
        raise ArchiveQAError(f"--work {work}: choose a scratch folder, not the project or its corpus")
    (out / "sizes").mkdir(parents=True, exist_ok=True)
    settings = _settings(args, out)
    if not args.report_only:
        if args.no_reading:
            (out / READING_FILE).unlink(missing_ok=True)  # the report is this run's: no reading rate from before
        else:
            measure_reading(settings, work, out / READING_FILE, keep=args.keep)
        for n, texts in sizes:
            measure_size(n, settings, work, out / "sizes" / f"{label(n, texts)}.json", keep=args.keep, full_texts=texts)
        if not args.keep and work.exists() and not any(work.iterdir()):
            work.rmdir()
    results = _results(sizes, out / "sizes")
    _write_report(args, out, settings, results, _reading(out / READING_FILE))
    return 0


def _sizes(args: argparse.Namespace) -> list[tuple[int, float]]:
    try:
        return [parse_item(s) for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)).split(",") if s]
    except argparse.ArgumentTypeError as exc:
        raise ArchiveQAError(f"--sizes: {exc}") from None


def _settings(args: argparse.Namespace, out: Path) -> dict:
    """What every size is run with (the report's "settings"): flags, else the quick or the full defaults."""
    from qa.config import DEFAULT_MODEL, Config

    return {
        "seed": args.seed,
        "model": args.model or DEFAULT_MODEL,
        "real_max": args.real_max or (100 if args.quick else 1_000),
        "sample": args.sample or (50 if args.quick else 500),
        "queries": args.queries or (20 if args.quick else 200),
        "threshold": args.threshold or (1_000 if args.quick else Config().hnsw_threshold),
        "cache": str((out / "cache").resolve()),
        "quick": bool(args.quick),
        "index_kind": args.index_kind,
        "ray": not args.no_ray,
        "reading_size": None if args.no_reading else _reading_size(args),
    }


def _reading_size(args: argparse.Namespace) -> int:
    return args.reading_size or (QUICK_READING_SIZE if args.quick else READING_SIZE)


def measure_size(
    n: int, settings: dict, work: Path, result_path: Path, *, keep: bool, full_texts: float = 0.0
) -> dict:
    """One size: the build step, then the probe step in another fresh process; their figures in one file."""
    name = label(n, full_texts)
    folder = work / name
    spec = {**settings, "n": n, "label": name, "work": str(folder.resolve()), "full_texts": full_texts}
    started = time.perf_counter()
    print(f"bench: {name} records …", file=sys.stderr, flush=True)
    result = {**run_step("build", spec), **run_step("probe", spec)}
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"bench: {name} done in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def measure_reading(settings: dict, work: Path, result_path: Path, *, keep: bool) -> dict:
    """The reading rate (archive_qa.bench.reading) in a fresh process; its figures in one file."""
    n = settings["reading_size"]
    folder = work / "reading"
    spec = {"n": n, "label": label(n), "seed": settings["seed"], "work": str(folder.resolve())}
    print(f"bench: reading {label(n)} records as JSON Lines and as listing text …", file=sys.stderr, flush=True)
    result = run_step("reading", spec, module=READING_MODULE)
    result_path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def run_step(role: str, spec: dict, *, module: str = STEPS_MODULE) -> dict:
    """Run one step in a fresh Python process (so memory and caches start clean); returns its JSON result.

    The protocol: the spec goes to WORK/ROLE-spec.json, the step writes WORK/ROLE-result.json. A step of
    archive_qa.bench.steps is named by its role; another module is given the two paths.
    """
    from qa.runtime import OFFLINE

    work = Path(spec["work"])
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{role}-spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    if module == STEPS_MODULE:
        command = [sys.executable, "-m", module, role, str(path)]
    else:
        command = [sys.executable, "-m", module, str(path), str(work / f"{role}-result.json")]
    done = subprocess.run(command, env={**os.environ, **OFFLINE}, cwd=REPO)
    if done.returncode != 0:
        raise ArchiveQAError(f"bench step {role!r} for {spec['label']} failed (exit {done.returncode})")
    return json.loads((work / f"{role}-result.json").read_text(encoding="utf-8"))


def _reading(path: Path) -> dict | None:
    """The reading rate measured by this run (or, with --report-only, the earlier run), if it was."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _results(sizes: list[tuple[int, float]], folder: Path) -> list[dict]:
    results = []
    for n, texts in sizes:
        path = folder / f"{label(n, texts)}.json"
        if path.exists():
            results.append(json.loads(path.read_text(encoding="utf-8")))
        else:
            print(f"bench: no result for {label(n, texts)}", file=sys.stderr)
    if not results:
        raise ArchiveQAError("no results to report")
    return results


def _command_line(args: argparse.Namespace, out: Path) -> str:
    """The command as typed; with --report-only, the earlier run's (the figures are its)."""
    command = ("archive-qa bench " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["bench"] else sys.argv[1:])).strip()
    previous = out / "bench.json"
    if args.report_only and previous.exists():
        command = json.loads(previous.read_text(encoding="utf-8")).get("command", command)
    return command


def _write_report(
    args: argparse.Namespace, out: Path, settings: dict, results: list[dict], reading: dict | None = None
) -> None:
    from archive_qa.bench import report

    figures = {
        "command": _command_line(args, out),
        "machine": _machine(),
        "settings": settings,
        "targets": {**report.TARGETS, "reading": report.READING_TARGETS},
        "sizes": results,
        "reading": reading,
        "checks": report.checks(results, reading),
    }
    paths = report.write(figures, out)
    print(report.markdown(figures))
    print(f"bench: wrote {paths[1]}, {paths[0]} and {paths[2]}", file=sys.stderr)


def _machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_end": [round(x, 2) for x in load],
    }
