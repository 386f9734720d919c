"""The bench's reading step: how many records a second the build's reader takes from JSON Lines and listing text.

A SYNTHETIC collection (archive_qa.bench.synthetic) is written to the scratch folder twice: as one JSON Lines
export, and as listing pages saved as text (the new site's search results: date, title and summary under a
results count, a hundred entries a page). Each is read through `qa.corpus.load_corpus`, the entry point the
build reads the corpus with, best of three; the date caches are emptied before each read, so every read is a
first one. The figures: records/s of wall-clock time (what the targets check) and of the process's CPU time
(the same work, less what other processes on the machine took), with the load average.

Run by `archive-qa bench` in a fresh process: `python -m archive_qa.bench.reading SPEC RESULT` (JSON files).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from archive_qa.bench import synthetic
from qa.corpus import load_corpus
from qa.records import date_bounds, human_date, parse_date

FORMATS = ("jsonl", "listing")
REPEATS = 3
PER_PAGE = 100


def write_jsonl(folder: Path, count: int, seed: int) -> Path:
    """The collection as one JSON Lines export in `folder` (a scratch folder)."""
    return synthetic.write_corpus(folder, count, seed).parent


def write_listing(folder: Path, count: int, seed: int, per_page: int = PER_PAGE) -> Path:
    """The collection as new-site search-result pages saved as text, `per_page` entries a page, in `folder`."""
    resolved = folder.resolve()
    if resolved.name == "corpus" and (resolved.parent / "qa").is_dir():
        raise ValueError(f"{folder}: synthetic records never go into the shipped corpus folder")
    folder.mkdir(parents=True, exist_ok=True)
    records = synthetic.records(count, seed)
    for first in range(0, count, per_page):
        last = min(first + per_page, count)
        lines = ["Skip to content", "", "", f"{first + 1} - {last} of {count}", "", ""]
        for _ in range(first, last):
            record = next(records)
            lines += [human_date(record.date), "", record.title, "", record.summary, ""]
        (folder / f"page-{first // per_page:05d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def timed_read(folder: Path, repeats: int = REPEATS) -> dict:
    """Read a folder through `load_corpus` `repeats` times: the best wall-clock and CPU seconds, and what was read."""
    best_wall = best_cpu = float("inf")
    corpus = None
    for _ in range(max(1, repeats)):
        parse_date.cache_clear()  # every read a first read: the dates are parsed again
        date_bounds.cache_clear()
        corpus = None  # the previous read's records are freed before the clock starts
        wall, cpu = time.perf_counter(), time.process_time()
        corpus = load_corpus([folder])
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    assert corpus is not None
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    count = len(corpus.records)
    return {
        "records": count,
        "files": len(files),
        "mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        "errors": len(corpus.errors),
        "warnings": len(corpus.warnings),
        "seconds": round(best_wall, 4),
        "rate": round(count / best_wall) if best_wall > 0 else None,
        "cpu_seconds": round(best_cpu, 4),
        "cpu_rate": round(count / best_cpu) if best_cpu > 0 else None,
        "repeats": repeats,
    }


def reading_step(spec: dict) -> dict:
    """Write both forms of the collection under spec["work"], read each; the figures by format."""
    work, count, seed = Path(spec["work"]), int(spec["n"]), int(spec.get("seed", 0))
    repeats = int(spec.get("repeats", REPEATS))
    folders = {
        "jsonl": write_jsonl(work / "jsonl", count, seed),
        "listing": write_listing(work / "listing", count, seed),
    }
    result: dict = {"size": count, "label": spec.get("label", str(count)), "seed": seed}
    for name in FORMATS:
        result[name] = timed_read(folders[name], repeats)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    result["load_average"] = [round(x, 2) for x in load]
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m archive_qa.bench.reading SPEC.json RESULT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = reading_step(spec)
    Path(argv[1]).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
