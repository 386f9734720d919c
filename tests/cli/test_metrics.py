"""The evaluation metrics: hand-computed tiny cases, and agreement with trec_eval (pytrec_eval) on a BEIR dataset."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from archive_qa.evaluation import metrics
from archive_qa.evaluation.beir import DatasetError, load_beir, read_qrels, write_corpus

# ---------------------------------------------------------------------------------------------- by hand


def test_recall_counts_relevant_records_in_the_first_k():
    ranking = ["a", "b", "c", "d"]
    assert metrics.recall_at_k(ranking, {"b", "d"}, 1) == 0.0
    assert metrics.recall_at_k(ranking, {"b", "d"}, 3) == 0.5
    assert metrics.recall_at_k(ranking, {"b", "d"}, 5) == 1.0
    assert metrics.recall_at_k(ranking, {"b", "z"}, 10) == 0.5  # a relevant record never retrieved
    assert metrics.recall_at_k(ranking, set(), 5) == 0.0


def test_grade_zero_is_not_relevant():
    qrels = {"a": 0, "b": 1}
    assert metrics.recall_at_k(["a", "b"], qrels, 1) == 0.0
    assert metrics.reciprocal_rank(["a", "b"], qrels) == 0.5
    assert metrics.ndcg_at_k(["a"], {"a": 0}) == 0.0


def test_reciprocal_rank_is_cut_at_k_and_ignores_repeats():
    assert metrics.reciprocal_rank(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(["a", "a", "b"], {"b"}) == 0.5
    assert metrics.reciprocal_rank([str(i) for i in range(20)], {"12"}, k=10) == 0.0
    assert metrics.reciprocal_rank([str(i) for i in range(20)], {"9"}, k=10) == pytest.approx(0.1)
    assert metrics.first_relevant_rank(["a", "b"], {"b"}) == 2
    assert metrics.first_relevant_rank(["a"], {"b"}) is None


def test_ndcg_binary_by_hand():
    # DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    value = metrics.ndcg_at_k(["a", "b", "c", "d"], {"b", "d"}, 10)
    assert value == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert value == pytest.approx(0.650921, abs=1e-6)
    assert metrics.ndcg_at_k(["b", "d", "a"], {"b", "d"}, 10) == pytest.approx(1.0)


def test_ndcg_graded_uses_the_grade_as_gain_and_every_judged_record_for_the_ideal():
    # DCG = 1 + 2/log2(3); ideal (2, 2, 1) = 2 + 2/log2(3) + 1/log2(4)
    value = metrics.ndcg_at_k(["x", "y"], {"x": 1, "y": 2, "z": 2}, 10)
    assert value == pytest.approx(0.601261, abs=1e-6)
    assert metrics.ndcg_at_k(["x", "y"], {"x": 1, "y": 2}, 1) == pytest.approx(0.5)


def test_retrieval_metrics_average_over_queries_with_a_relevant_record():
    runs = {"q1": ["a", "b"], "q2": ["c"], "q3": ["a"]}
    qrels = {"q1": {"a": 1}, "q2": {"d": 1}, "q3": {"a": 0}, "q4": {"a": 1}}
    out = metrics.retrieval_metrics(runs, qrels)
    assert out["queries"] == 3  # q3 has nothing relevant; q4 has no ranking and counts as found nothing
    assert out["recall@1"] == pytest.approx(1 / 3)
    assert out["mrr@10"] == pytest.approx(1 / 3)


def test_abstention_scores_by_hand():
    # two unanswerable (one abstained), three answerable (one abstained)
    out = metrics.abstention_scores([True, False, True, False, False], [False, False, True, True, True])
    assert out["precision"] == 0.5
    assert out["recall"] == 0.5
    assert out["accuracy"] == pytest.approx(3 / 5)
    assert out["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert metrics.abstention_scores([False], [True])["precision"] is None


def test_percentile():
    assert metrics.percentile([1, 2, 3, 4], 50) == 2.5
    assert metrics.percentile([], 95) == 0.0
    assert metrics.latency_scores([1, 2, 3, 4]) == {"latency_p50_ms": 2.5, "latency_p95_ms": pytest.approx(3.85)}


# ---------------------------------------------------------------------------------------------- against trec_eval


def write_synthetic_beir(folder: Path, *, seed: int = 7, docs: int = 40, queries: int = 25) -> Path:
    """A small BEIR-layout dataset: topical documents, a query per topic, graded judgements (the
    documents of the query's topic 2 or 1, two random others 0; the last query judges nothing relevant)."""
    rng = np.random.default_rng(seed)
    topics = [
        "railway",
        "harvest",
        "treaty",
        "harbour",
        "uranium",
        "printing",
        "cotton",
        "radio",
        "famine",
        "bridge",
        "tariff",
        "orchestra",
        "glacier",
        "vaccine",
    ]
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for i in range(docs):
            topic = topics[i % len(topics)]
            text = f"A report on the {topic} question, number {i}, with notes on {topics[(i * 5 + 3) % len(topics)]}."
            title = "" if i % 9 == 0 else f"Memo {i} on the {topic}"
            f.write(json.dumps({"_id": f"d{i}", "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f, (folder / "qrels" / "test.tsv").open("w") as q:
        q.write("query-id\tcorpus-id\tscore\n")
        for j in range(queries):
            topic = topics[j % len(topics)]
            f.write(json.dumps({"_id": f"q{j}", "text": f"What do the memos say about the {topic}?"}) + "\n")
            on_topic = [i for i in range(docs) if i % len(topics) == j % len(topics)]
            grades = {i: (2 if n == 0 else 1) for n, i in enumerate(on_topic)} if j < queries - 1 else {}
            grades.update({int(i): 0 for i in rng.choice(docs, size=2, replace=False) if int(i) not in grades})
            for d, grade in grades.items():
                q.write(f"q{j}\td{d}\t{grade}\n")
        f.write(json.dumps({"_id": "unjudged", "text": "a query with no judgements"}) + "\n")
    return folder


def trec_eval(qrels: dict, runs: dict) -> dict[str, dict[str, float]]:
    """Per query: recall@1/3/5/10, nDCG@10 and MRR@10 from pytrec_eval (MRR on the run cut at 10)."""
    import pytrec_eval

    def scored(ranking, depth=None):
        ranking = list(dict.fromkeys(ranking))[:depth]
        return {d: float(len(ranking) - i) for i, d in enumerate(ranking)}  # distinct scores: no tie rules

    full = pytrec_eval.RelevanceEvaluator(qrels, {"recall.1,3,5,10", "ndcg_cut.10"})
    cut = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"})
    a = full.evaluate({q: scored(r) for q, r in runs.items()})
    b = cut.evaluate({q: scored(r, 10) for q, r in runs.items()})
    return {
        q: {
            "recall@1": a[q]["recall_1"],
            "recall@3": a[q]["recall_3"],
            "recall@5": a[q]["recall_5"],
            "recall@10": a[q]["recall_10"],
            "ndcg@10": a[q]["ndcg_cut_10"],
            "mrr@10": b[q]["recip_rank"],
        }
        for q in a
    }


def random_runs(dataset, seed: int = 11) -> dict[str, list[str]]:
    """Rankings of 5 to 20 documents per query, some holding the relevant ones, some not."""
    rng = np.random.default_rng(seed)
    ids = [str(d["_id"]) for d in dataset.corpus]
    runs = {}
    for q, judged in dataset.qrels.items():
        ranking = [ids[i] for i in rng.permutation(len(ids))[: int(rng.integers(5, 21))]]
        if rng.random() < 0.5:  # move a judged record near the top so that early ranks are exercised
            ranking.insert(int(rng.integers(0, 4)), next(iter(judged)))
        runs[q] = list(dict.fromkeys(ranking))
    return runs


def test_beir_loader_reads_the_layout(tmp_path):
    dataset = load_beir(write_synthetic_beir(tmp_path / "toy"))
    assert dataset.name == "toy" and dataset.split == "test"
    assert len(dataset.corpus) == 40
    assert "unjudged" not in dataset.queries and len(dataset.queries) == 25
    assert all(isinstance(g, int) for judged in dataset.qrels.values() for g in judged.values())
    corpus = write_corpus(dataset, tmp_path / "corpus" / "toy.jsonl")
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    assert rows[0] == {"id": "d0", "title": "d0", "summary": dataset.corpus[0]["text"]}  # empty title: the id
    assert rows[1]["title"] == "Memo 1 on the harvest"


def test_beir_loader_errors(tmp_path):
    with pytest.raises(DatasetError, match="qrels"):
        load_beir(tmp_path)
    bad = tmp_path / "bad.tsv"
    bad.write_text("query-id\tcorpus-id\tscore\nq1\td1\n")
    with pytest.raises(DatasetError, match=r"bad\.tsv:2"):
        read_qrels(bad)
    folder = write_synthetic_beir(tmp_path / "toy")
    with (folder / "queries.jsonl").open("a") as f:
        f.write('{"_id": "q99", "text": \n')
    with pytest.raises(DatasetError, match=r"queries\.jsonl:27: not valid JSON"):
        load_beir(folder)
    (folder / "queries.jsonl").write_text('{"text": "no id"}\n')
    with pytest.raises(DatasetError, match=r"queries\.jsonl:1: each line must be a JSON object with an '_id'"):
        load_beir(folder)


def test_metrics_agree_with_pytrec_eval_on_a_beir_dataset(tmp_path):
    dataset = load_beir(write_synthetic_beir(tmp_path / "toy"))
    runs = random_runs(dataset)
    reference = trec_eval(dataset.qrels, runs)
    judged = [q for q, r in dataset.qrels.items() if any(g >= 1 for g in r.values())]
    assert 10 <= len(judged) < len(dataset.qrels)  # some queries judge nothing relevant: both skip them in means
    for q in judged:
        mine = metrics.per_query(runs[q], dataset.qrels[q])
        for name, value in reference[q].items():
            assert mine[name] == pytest.approx(value, abs=5e-5), (q, name)
    means = metrics.retrieval_metrics(runs, dataset.qrels)
    assert means["queries"] == len(judged)
    for name in ("recall@1", "recall@3", "recall@5", "recall@10", "ndcg@10", "mrr@10"):
        expected = float(np.mean([reference[q][name] for q in judged]))
        assert round(means[name], 4) == round(expected, 4), name


def test_beir_evaluation_indexes_with_the_project_code_and_scores_like_trec_eval(tmp_path):
    """`archive-qa eval --dataset`: a temporary index built by build_index (the model-free embedder),
    rankings from Assistant.ask, scored as trec_eval scores them."""
    from archive_qa.cli import main

    folder = write_synthetic_beir(tmp_path / "toy")
    out = tmp_path / "report"
    assert main(["eval", "--dataset", str(folder), "--model", "hashing:64", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "beir" and report["config"]["records"] == 40
    assert (out / "recall_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "recall_at_k.png" in (out / "report.md").read_text()
    dataset = load_beir(folder)
    judged = [q for q, r in dataset.qrels.items() if any(g >= 1 for g in r.values())]
    assert report["modes"]["bm25"]["retrieval"]["recall@10"] >= 0.9  # ids map back to the right documents
    for mode in ("hybrid", "dense", "bm25"):
        runs = report["runs"][mode]
        assert set(runs) == set(dataset.queries)
        reference = trec_eval(dataset.qrels, runs)
        for name, value in report["modes"][mode]["retrieval"].items():
            if name != "queries":
                assert round(value, 4) == round(float(np.mean([reference[q][name] for q in judged])), 4), (mode, name)
    assert not list(tmp_path.glob("archive-qa-beir-*"))  # the temporary index is gone
