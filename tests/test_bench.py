"""The synthetic collection generator and `archive-qa bench --quick` end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval import synthetic
from qa.answer import split_sentences
from qa.corpus import load_corpus

REPO = Path(__file__).resolve().parent.parent


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


def test_bench_module_is_light_to_import():
    code = (
        "import sys; import qa.cli as c; c.build_parser(); "
        "heavy = [m for m in ('numpy', 'torch', 'faiss', 'bm25s', 'matplotlib') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_bench_quick_end_to_end(tmp_path):
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "qa", "bench", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,  # under 2 minutes on a quiet machine; CI machines may be shared
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("bench.md", "bench.json", "bench.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "work").exists()  # scratch corpora and indexes are removed
    report = json.loads((out / "bench.json").read_text())
    sizes = report["sizes"]
    assert [r["size"] for r in sizes] == [100, 2000]
    small, large = sizes
    assert small["vectors"] == "model" and large["vectors"] == "stand-in"
    assert small["kind"] == "flat" and large["kind"] != "flat"
    for r in sizes:
        assert r["build"]["rate"] > 0 and r["raw_model"]["rate"] > 0 and 0 < r["build"]["vs_raw"] < 2
        assert r["build"]["embedded"] == r["size"]
        assert r["unchanged"]["embedded"] == 0 and r["unchanged"]["up_to_date"]
        assert r["changed_1pct"]["embedded"] == r["changed_1pct"]["changed"] == round(r["size"] * 0.01)
        assert 0 < r["load_s"] < 60 and r["disk_mb"] > 0
        assert 0 < r["retrieve_ms"]["p50"] <= r["retrieve_ms"]["p95"]
        assert 0 < r["ask_ms"]["p50"] <= r["ask_ms"]["p95"] < 10_000
        assert 100 < r["rss_mb"]["after_queries"]["VmRSS"] < 8_000
        assert 0.5 <= r["index_only"]["flat"]["recall_at_10"] <= 1.0
    assert small["answer_in_top10"] >= 0.5  # real vectors and BM25 find most answer records
    assert 0.8 <= large["recall_at_10_real_queries"] <= 1.0
    markdown = (out / "bench.md").read_text()
    assert "| 100 | model |" in markdown and "| 2k | stand-in |" in markdown and "Stand-in vectors" in markdown
