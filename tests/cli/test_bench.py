"""The bench's pieces: the synthetic collection, the measuring helpers, the report and its checks on made-up
figures, the command's options; and one tiny run end to end with the model-free embedder (no timing asserted)."""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from archive_qa.bench import command, measure, reading, report, synthetic
from qa.corpus import load_corpus
from qa.errors import ArchiveQAError
from qa.shared import split_sentences

REPO = Path(__file__).resolve().parents[2]


def test_records_are_deterministic_from_the_seed():
    first = list(synthetic.records(50, seed=7))
    again = list(synthetic.records(50, seed=7))
    other = list(synthetic.records(50, seed=8))
    assert first == again
    assert first != other
    assert list(synthetic.records(10, seed=7)) == first[:10]  # a smaller collection is a prefix of a larger one
    assert synthetic.questions(50, seed=7, n=20) == synthetic.questions(50, seed=7, n=20)


def test_records_look_like_the_archive():
    for rec in synthetic.records(300, seed=1):
        year = int(rec.date[:4])
        assert 1917 <= year <= 1991
        assert re.match(r"^(Cable|Telegram|Memorandum|Report|Letter|Minutes|Record|Note) ", rec.title)
        assert rec.sender in rec.title and rec.recipient in rec.title
        assert 2 <= len(split_sentences(rec.summary)) <= 4


def test_written_corpus_is_valid_and_questions_point_at_records(tmp_path):
    path = synthetic.write_corpus(tmp_path / "synthetic", 400, seed=3)
    corpus = load_corpus([path.parent])
    assert not corpus.errors and not corpus.warnings
    assert len(corpus.records) == 400
    by_id = {r.id: r for r in corpus.records}
    qs = synthetic.questions(400, seed=3, n=60)
    assert len(qs) == 60 and len({q["question"] for q in qs}) > 50
    for q in qs:
        record = by_id[q["answer_id"]]
        made = synthetic.record(3, q["position"])
        assert record.summary == made.summary and made.id == record.id
        assert made.sender in q["question"] and made.sender in record.title


def test_a_share_of_the_records_carry_full_texts_and_the_rest_is_unchanged(tmp_path):
    plain = list(synthetic.records(2000, seed=5))
    texts = list(synthetic.records(2000, seed=5, full_texts=0.1))
    carrying = [r for r in texts if r.full_text]
    assert 0.07 * 2000 <= len(carrying) <= 0.13 * 2000
    assert all(5 <= len(r.full_text.split("\n")) <= 20 for r in carrying)
    assert [(r.id, r.title, r.summary) for r in texts] == [(r.id, r.title, r.summary) for r in plain]
    assert not any(r.full_text for r in plain)
    path = synthetic.write_corpus(tmp_path / "synthetic", 300, seed=5, full_texts=0.1)
    read = {r.id: r.full_text for r in load_corpus([path.parent]).records}
    assert read == {r.id: r.full_text for r in texts[:300]}


def test_changed_collection_keeps_ids_and_changes_one_percent(tmp_path):
    changed = synthetic.changed_positions(1000, 0.01, seed=3)
    assert len(changed) == 10
    before = list(synthetic.records(1000, seed=3))
    after = list(synthetic.records(1000, seed=3, changed=changed))
    assert [r.id for r in before] == [r.id for r in after]
    assert {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b} == changed


def test_synthetic_records_never_go_into_the_shipped_corpus():
    with pytest.raises(ValueError):
        synthetic.write_corpus(REPO / "corpus", 10)


def test_stand_in_embedder_gives_unit_vectors_deterministically():
    words = {w: np.eye(8, dtype=np.float32)[i % 8] for i, w in enumerate(synthetic.vocabulary()[:40])}
    embedder = synthetic.StandInEmbedder("stand-in", 8, words)
    texts = [synthetic.record(0, i).title for i in range(20)]
    a, b = embedder.encode(texts), embedder.encode(texts)
    assert a.shape == (20, 8) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)
    assert np.allclose(embedder.encode_query(texts[3]), a[3])
    assert embedder.encode([]).shape == (0, 8)


# ---------------------------------------------------------------------------------------------- measuring


def test_percentiles_of_timings():
    assert measure.percentiles([4.0, 1.0, 3.0, 2.0]) == {"p50": 2.5, "p95": 3.85, "mean": 2.5, "n": 4}
    empty = measure.percentiles([])
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in ("p50", "p95", "mean"))


def test_exact_top_matches_a_full_sort_across_chunks():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((257, 8)).astype(np.float32)
    queries = rng.standard_normal((5, 8)).astype(np.float32)
    top = measure.exact_top(vectors, queries, 10, chunk=64)  # five chunks, the last a single row
    assert top.shape == (5, 10)
    assert np.array_equal(top, np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10])
    assert measure.exact_top(vectors[:3], queries, 10).shape == (5, 3)  # fewer rows than k


def test_recall_counts_true_rows_found_and_ignores_padding():
    truth = [np.array([1, 2, 3, 4]), np.array([5, 6, 7, 8])]
    found = [measure.padded(np.array([4, 3, 9]), 4), np.array([5, 6, 7, 8])]
    assert list(found[0]) == [4, 3, 9, -1]
    assert measure.recall(found, truth) == pytest.approx((2 / 4 + 1) / 2)
    assert math.isnan(measure.recall([], []))


def test_timed_embedder_adds_up_texts_and_time(hashing_embedder):
    timed = measure.TimedEmbedder(hashing_embedder)
    assert (timed.name, timed.dim) == (hashing_embedder.name, hashing_embedder.dim)
    vectors = timed.encode(["one text", "another"])
    assert np.array_equal(vectors, hashing_embedder.encode(["one text", "another"]))
    assert np.array_equal(timed.encode_query("one text"), vectors[0])
    assert timed.texts == 3 and timed.seconds > 0
    timed.reset()
    assert (timed.texts, timed.seconds) == (0, 0.0)


def test_clock_returns_the_result_and_a_duration():
    result, seconds = measure.clock(sorted, [3, 1, 2])
    assert result == [1, 2, 3] and seconds >= 0
    assert measure.clock_ms(len, "abc")[0] == 3


def test_memory_and_disk_figures(tmp_path):
    memory = measure.rss()
    assert memory and all(v > 0 for v in memory.values())
    (tmp_path / "a").write_bytes(b"x" * 2**20)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"x" * 2**19)
    assert measure.disk_mb(tmp_path) == 1.5


# ---------------------------------------------------------------------------------------------- the report


def _size(label: str, n: int, *, vectors: str = "model", kind: str = "flat", **figures) -> dict:
    """A made-up per-size result with every figure the report reads."""
    r = {
        "size": n,
        "label": label,
        "vectors": vectors,
        "kind": kind,
        "disk_mb": 2.2,
        "raw_model": {"texts": 1000, "seconds": 19.5, "rate": 51.4},
        "build": {"seconds": 22.9, "model_rate": 43.7, "vs_raw": 0.849, "projected_s": 160.0},
        "unchanged": {"seconds": 0.01, "embedded": 0},
        "changed_1pct": {"seconds": 0.58, "embedded": 10, "projected_s": 3.6},
        "load_s": 0.02,
        "rss_mb": {
            "start": {"VmRSS": 100.0, "RssAnon": 60.0},
            "after_load": {"VmRSS": 128.0, "RssAnon": 70.5},
            "after_queries": {"VmRSS": 841.0, "RssAnon": 546.0, "RssFile": 295.0},
        },
        "retrieve_ms": {"p50": 0.6, "p95": 1.0},
        "ask_ms": {"p50": 12.3, "p95": 15.1},
        "ask_parts_ms": {"encode_ms": {"p50": 8.4}, "retrieve_ms": {"p50": 2.3}, "compose_ms": {"p50": 1.1}},
        "index_only": {
            "queries": 200,
            "flat": {"search_ms": {"p50": 0.11, "p95": 0.15}, "recall_at_10": 1.0},
            "hnsw": {"search_ms": {"p50": 0.36, "p95": 0.44}, "recall_at_10": 0.99},
        },
        "answer_in_top10": 1.0,
        "load_average": [1.4, 1.0, 0.9],
    }
    r.update(figures)
    return r


def _report(sizes: list[dict]) -> dict:
    machine = {"cpus": 2, "load_average_at_end": [1.0, 1.0, 1.0]}
    return {"command": "archive-qa bench", "machine": machine, "sizes": sizes, "checks": report.checks(sizes)}


def test_ask_with_full_texts_is_held_to_the_summary_only_row_of_its_size():
    plain, texts, other = _size("100k", 100_000), _size("100k+text", 100_000), _size("10k+text", 10_000)
    plain["ask_ms"], texts["ask_ms"], other["ask_ms"] = {"p50": 20.0}, {"p50": 25.0}, {"p50": 99.0}
    texts["full_texts"] = other["full_texts"] = 0.1
    assert report.full_text_checks([plain, texts, other]) == [
        {"size": "100k+text", "figure": "ask_p50_vs_summary_only", "value": 1.25, "target": 1.3, "ok": True}
    ]
    texts["ask_ms"] = {"p50": 27.0}
    assert not report.full_text_checks([plain, texts])[0]["ok"]


def test_checks_hold_each_target_against_its_figure():
    served = {"recall_at_10_real_queries": 0.96, "retrieve_ms": {"p50": 18.0, "p95": 26.7}, "disk_mb": 1900.0}
    ray = {"rate": 50.0, "vs_local": 0.85, "same_records": True, "max_vector_difference": 2e-7}
    sizes = [
        _size("1k", 1000, ray=ray, build={"seconds": 10.0, "vs_raw": 1.6}),
        _size("10k", 10_000, vectors="stand-in", unchanged={"seconds": 0.03, "embedded": 0}),
        _size("100k", 100_000, vectors="stand-in", ask_ms={"p50": 35.6, "p95": 41.5}),
        _size("1m", 1_000_000, vectors="stand-in", kind="hnsw", **served),
        _size("2m", 2_000_000, vectors="stand-in", kind="ivfpq", recall_at_10_real_queries=0.92),
    ]
    by = {(c["size"], c["figure"]): c for c in report.checks(sizes)}
    assert by[("1m", "retrieve_p95_ms")] == {
        "size": "1m",
        "figure": "retrieve_p95_ms",
        "value": 26.7,
        "target": 30,
        "ok": True,
    }
    assert by[("1m", "recall_at_10")]["value"] == 0.96  # the lower of the served index's two recalls
    assert by[("1m", "rss_mb")]["ok"] and by[("1m", "load_s")]["ok"] and by[("1m", "disk_mb")]["ok"]
    assert by[("1m", "changed_1pct_s")]["ok"] and by[("1m", "unchanged_s")]["ok"]
    assert not by[("100k", "ask_p50_ms")]["ok"]  # 35.6 ms against 30
    assert by[("2m", "index_memory_mb")]["value"] == 10.5 and by[("2m", "index_memory_mb")]["ok"]
    assert by[("2m", "recall_at_10")]["value"] == 0.92 and by[("2m", "recall_at_10")]["ok"]
    assert not by[("10k", "build_vs_raw")]["ok"] and by[("10k", "unchanged_index_s")]["ok"]
    assert by[("1k", "build_vs_raw")]["ok"] and by[("1k", "ray_vs_local")]["ok"]
    assert {size for size, _ in by} == {"1k", "10k", "100k", "1m", "2m"}
    assert [c["figure"] for c in report.checks([_size("2k", 2000)])] == ["build_vs_raw"]  # no target for 2k
    slow_ray = report.checks([_size("1k", 1000, ray={**ray, "max_vector_difference": 1e-3})])
    assert not next(c for c in slow_ray if c["figure"] == "ray_vs_local")["ok"]  # fast, but not the same vectors


def test_approximate_recall_is_the_served_index_when_approximate():
    assert report.approx_recall(_size("1k", 1000)) == 0.99  # flat served: the index-only HNSW figure
    assert report.approx_recall(_size("1m", 10**6, kind="hnsw", recall_at_10_real_queries=0.95)) == 0.95
    assert report.approx_recall(_size("1k", 1000, index_only={"flat": {}})) is None


ENCODERS = {
    "torch": {"texts": 1000, "rate": 51.4, "vs_torch": 1.0},
    "onnx": {"texts": 1000, "rate": 90.0, "vs_torch": 1.75},
    "onnx-int8": {"texts": 1000, "rate": 120.0, "vs_torch": 2.33},
}
QUALITY = {
    name: {"ndcg_at_10": value}
    for name, value in (("torch", 0.8), ("onnx", 0.8), ("onnx-int8", 0.79), ("onnx, stored float16", 0.8))
}
RAY = {"rate": 25.0, "vs_local": 0.92, "same_records": True, "max_vector_difference": 2e-7}


def test_markdown_tables_of_a_made_up_run():
    real = _size("1k", 1000, encoders=ENCODERS, retrieval_quality=QUALITY, ray=RAY)
    sizes = [real, _size("10k", 10_000, vectors="stand-in", load_average=None)]
    text = report.markdown(_report(sizes))
    lines = text.splitlines()
    assert text.endswith("\n") and "| --- " * 10 + "|" in lines and "| --- " * 14 + "|" in lines
    flat = "flat (float32, 1 segment(s))"
    assert f"| 1k | model | {flat} | 22.9 | 43.7 | 51.4 (1000 texts) | 0.849 | 0.01 (0) | 0.58 (10) | 2.2 |" in text
    assert f"| 10k | stand-in | {flat} | 22.9 (stand-in); 160.0* | 43.7* | 51.4 (1000 texts) | 0.849* " in text
    assert "| 0.58; 3.6* (10) |" in text
    assert (
        "| 1k | 0.02 | 128 | 10 | 841 (546 + 295) | 0.6 / 1.0 | 12.3 / 15.1 | 0.990 | 0.11 / 0.15 | 0.36 / 0.44 "
        "| 1.00 | 8.4 / 2.3 / 1.1 | — / — (—) | 1.4 |" in text
    )
    missing_load_average = "| 0.990 | 0.11 / 0.15 | 0.36 / 0.44 | 1.00 | 8.4 / 2.3 / 1.1 | — / — (—) | — |"
    assert "| 10k | 0.02 | 128 | 10 | 841 (546 + 295) | 0.6 / 1.0 | 12.3 / 15.1 " + missing_load_average in text
    assert "| 1k | build_vs_raw | 0.849 | 1.5 | NO |" in text
    assert "### Encoding" in text
    assert "| 1k | 1000 | 51.4 | 90.0 (1.75×) | 120.0 (2.33×) | 0.800 / 0.800 / 0.790 / 0.800 " in text
    assert "| 25.0 (0.92×) | yes, 2.0e-07 |" in text
    assert "Encoded with the real model: 1k." in text and "StandInEmbedder): 10k." in text


def test_report_files_and_plot(tmp_path):
    sizes = [_size("1k", 1000), _size("1m", 10**6, kind="hnsw")]
    paths = report.write(_report(sizes), tmp_path)
    assert [p.name for p in paths] == ["bench.json", "bench.md", "bench.png"]
    assert json.loads(paths[0].read_text())["sizes"][1]["label"] == "1m"
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    series = report.latency_series(sorted(sizes, key=lambda r: r["size"]))
    assert series["hnsw search p95 (index only)"] == [0.44, 0.44]


# ---------------------------------------------------------------------------------------------- reading


def test_reading_step_reads_both_forms_of_a_small_collection(tmp_path):
    """The step writes the collection as JSON Lines and as listing text and reads each through the build's reader:
    every record comes back, and the figures are there (their values are the bench's to judge, not a test's)."""
    result = reading.reading_step({"n": 250, "label": "250", "seed": 5, "work": str(tmp_path), "repeats": 2})
    assert (result["size"], result["label"]) == (250, "250") and len(result["load_average"]) == 3
    assert len(list((tmp_path / "listing").glob("*.txt"))) == 3  # a hundred entries a page
    for name in reading.FORMATS:
        figures = result[name]
        assert (figures["records"], figures["errors"], figures["warnings"], figures["repeats"]) == (250, 0, 0, 2)
        assert figures["seconds"] > 0 and figures["rate"] > 0 and figures["cpu_rate"] > 0
    made = list(synthetic.records(250, seed=5))
    pages = load_corpus([tmp_path / "listing"]).records
    assert [(r.title, r.date, r.summary) for r in pages] == [(m.title, m.date, m.summary) for m in made]


def test_reading_figures_in_the_report_and_their_targets():
    fast = {
        "records": 50_000,
        "files": 1,
        "mb": 19.7,
        "errors": 0,
        "warnings": 0,
        "seconds": 1.0,
        "rate": 50_000,
        "cpu_seconds": 0.8,
        "cpu_rate": 62_500,
    }
    slow = {**fast, "files": 500, "seconds": 2.5, "rate": 20_000, "cpu_rate": 25_000}
    figures = {"size": 50_000, "label": "50k", "jsonl": fast, "listing": slow, "load_average": [2.5, 2.0, 1.5]}
    by = {c["figure"]: c for c in report.checks([], figures)}
    assert by["parse_jsonl_rps"] == {
        "size": "50k",
        "figure": "parse_jsonl_rps",
        "value": 50_000,
        "target": 30_000,
        "ok": True,
    }
    assert not by["parse_listing_rps"]["ok"]
    partial = report.checks([], {**figures, "jsonl": {**fast, "records": 49_999}})  # fast, but not every record
    assert not next(c for c in partial if c["figure"] == "parse_jsonl_rps")["ok"]
    assert report.checks([]) == report.checks([], None) == []  # not measured: no reading targets
    sizes = [_size("1k", 1000)]
    text = report.markdown({**_report(sizes), "reading": figures, "checks": report.checks(sizes, figures)})
    assert "### Reading" in text and "records/s of CPU time" in text
    assert "| JSON Lines (one export) | 50,000 (50,000) | 1 | 19.7 | 1.000 | 50,000 | 62,500 | 0 / 0 | 2.5 |" in text
    assert "| 50k | parse_listing_rps | 20,000 | 30000 | NO |" in text
    assert "### Reading" not in report.markdown(_report([_size("1k", 1000)]))


# ---------------------------------------------------------------------------------------------- the command


def test_sizes_and_labels():
    assert [command.parse_size(s) for s in ("300", "10k", "2.5k", "1m", "1_000")] == [300, 10_000, 2_500, 10**6, 1000]
    assert [command.label(n) for n in (100, 2000, 2500, 10**6)] == ["100", "2k", "2500", "1m"]
    assert command.parse_item("100k+text") == (100_000, command.FULL_TEXT_SHARE) and command.parse_item("2k") == (
        2000, 0.0
    )
    assert command.label(100_000, command.FULL_TEXT_SHARE) == "100k+text"
    for bad in ("lots", "5"):
        with pytest.raises(argparse.ArgumentTypeError):
            command.parse_size(bad)


def _args(out: Path, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_options(parser)
    return parser.parse_args(["--out", str(out), *argv])


def test_bench_refuses_bad_sizes_and_the_project_as_scratch_folder(tmp_path):
    with pytest.raises(ArchiveQAError, match="--sizes"):
        command.run_bench(_args(tmp_path, "--sizes", "1k,zillions"))
    with pytest.raises(ArchiveQAError, match="scratch folder"):
        command.run_bench(_args(tmp_path, "--work", str(REPO)))
    with pytest.raises(ArchiveQAError, match="no results"):
        command.run_bench(_args(tmp_path, "--report-only"))


def test_report_only_remakes_the_report_with_the_earlier_command(tmp_path, capsys):
    (tmp_path / "sizes").mkdir()
    (tmp_path / "sizes" / "1k.json").write_text(json.dumps(_size("1k", 1000)))
    (tmp_path / "bench.json").write_text(json.dumps({"command": "archive-qa bench --sizes 1k"}))
    assert command.run_bench(_args(tmp_path, "--sizes", "1k,10k", "--report-only")) == 0
    written = json.loads((tmp_path / "bench.json").read_text())
    assert written["command"] == "archive-qa bench --sizes 1k" and [r["label"] for r in written["sizes"]] == ["1k"]
    assert "no result for 10k" in capsys.readouterr().err
    assert (tmp_path / "bench.md").read_text().startswith("### Build")
    assert written["reading"] is None and not any(c["figure"].startswith("parse_") for c in written["checks"])
    rates = {"records": 10, "errors": 0, "warnings": 0, "rate": 40_000, "cpu_rate": 50_000}
    (tmp_path / "reading.json").write_text(json.dumps({"size": 10, "label": "10", "jsonl": rates, "listing": rates}))
    assert command.run_bench(_args(tmp_path, "--sizes", "1k", "--report-only")) == 0  # the earlier reading rate too
    written = json.loads((tmp_path / "bench.json").read_text())
    assert written["reading"]["jsonl"]["rate"] == 40_000
    assert [c["ok"] for c in written["checks"] if c["figure"].startswith("parse_")] == [True, True]
    assert "### Reading" in (tmp_path / "bench.md").read_text()


def test_bench_options_need_nothing_heavy():
    code = (
        "import sys; import archive_qa.cli as c; c.build_parser(); "
        "heavy = [m for m in ('numpy', 'torch', 'faiss', 'bm25s', 'matplotlib') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # a whole bench run in a subprocess
def test_a_tiny_run_end_to_end_writes_the_report(tmp_path):
    """Two sizes with the model-free embedder, each measured in fresh processes: the figures are there and
    consistent (what was built, reused and changed); none of them is a time to meet."""
    out = tmp_path / "bench"
    argv = ["--sizes", "40,1200,1200+text", "--real-max", "40", "--threshold", "1k", "--queries", "8", "--sample", "20"]
    argv.append("--no-ray")  # the engine has tests of its own (tests/test_ray.py)
    argv += ["--reading-size", "300"]
    done = subprocess.run(
        [sys.executable, "-m", "archive_qa", "bench", *argv, "--model", "hashing:64", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("bench.md", "bench.json", "bench.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert not (out / "work").exists()  # scratch corpora and indexes are removed
    figures = json.loads((out / "bench.json").read_text())
    assert figures["settings"]["model"] == "hashing:64" and figures["checks"]
    small, large, texts = figures["sizes"]
    assert (small["label"], small["vectors"], small["kind"]) == ("40", "model", "flat")
    assert (large["label"], large["vectors"], large["kind"]) == ("1200", "stand-in", "hnsw")
    assert (texts["label"], texts["full_texts"], large["passages"]) == ("1200+text", 0.1, 0)
    assert 5 * 0.07 * 1200 <= texts["passages"] <= 20 * 0.13 * 1200 and texts["disk_mb"] > large["disk_mb"]
    assert "ask_p50_vs_summary_only" in {c["figure"] for c in figures["checks"]}
    for r in (small, large, texts):
        assert r["build"]["embedded"] == r["size"] and r["build"]["reused"] == 0
        assert r["unchanged"]["embedded"] == 0 and r["unchanged"]["up_to_date"]
        assert r["changed_1pct"]["embedded"] == r["changed_1pct"]["changed"] == max(1, round(r["size"] * 0.01))
        assert r["ask_ms"]["n"] == r["retrieve_ms"]["n"] == 8
        assert set(r["ask_parts_ms"]) >= {"encode_ms", "retrieve_ms", "compose_ms"}
        assert r["index_only"]["flat"]["recall_at_10"] == 1.0  # exact search against exact search
    assert "recall_at_10_real_queries" in large and "ef_sweep" in large["index_only"]["hnsw"]
    text = (out / "bench.md").read_text()
    assert "| 40 | model | flat (float32, 1 segment(s)) |" in text
    assert "| 1200 | stand-in | hnsw (float16, 1 segment(s)) |" in text
    read = figures["reading"]
    assert read["size"] == 300 and figures["settings"]["reading_size"] == 300
    assert all(read[name]["records"] == 300 and read[name]["rate"] for name in ("jsonl", "listing"))
    assert {"parse_jsonl_rps", "parse_listing_rps"} <= {c["figure"] for c in figures["checks"]}
    assert figures["targets"]["reading"] == {"parse_jsonl_rps": 30_000, "parse_listing_rps": 30_000}
    assert "### Reading" in text and (out / "reading.json").is_file()
