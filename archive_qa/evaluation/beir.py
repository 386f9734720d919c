"""Standard benchmarks in the BEIR layout, indexed with the project's own code and scored on retrieval.

A BEIR folder holds corpus.jsonl (`_id`, `title`, `text`), queries.jsonl (`_id`, `text`) and
qrels/<split>.tsv (`query-id`, `corpus-id`, `score`, tab-separated, with a header line).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from archive_qa.evaluation import metrics
from archive_qa.evaluation.jsonl import read_rows
from archive_qa.evaluation.runner import RANK_DEPTH, run_ranking, timed_ask
from qa.config import Config
from qa.errors import DataError


class DatasetError(DataError):
    """A BEIR folder that cannot be read, named by file and line."""


@dataclass(slots=True)
class BeirDataset:
    """A BEIR dataset: its documents, the queries that have judgements, and the judgements."""

    name: str
    split: str
    corpus: list[dict]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing (a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/)")
    rows = []
    for where, row in read_rows(path, DatasetError, "the BEIR file"):
        if not isinstance(row, dict) or "_id" not in row:
            raise DatasetError(f"{where}: each line must be a JSON object with an '_id'")
        rows.append(row)
    return rows


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Judgements from a BEIR qrels file: {query id: {document id: grade}}."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing (qrels/<split>.tsv with query-id, corpus-id, score)")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or (number == 1 and row[0].strip().lower() in ("query-id", "query_id", "qid")):
                continue
            if len(row) < 3:
                raise DatasetError(f"{path}:{number}: expected query-id, corpus-id and score separated by tabs")
            try:
                grade = int(float(row[2]))
            except ValueError:
                raise DatasetError(f"{path}:{number}: score {row[2]!r} is not a number") from None
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = grade
    return qrels


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; only queries with judgements in the split are kept."""
    folder = Path(folder)
    qrels = read_qrels(folder / "qrels" / f"{split}.tsv")
    corpus = _jsonl(folder / "corpus.jsonl")
    queries = {str(q["_id"]): str(q.get("text", "")) for q in _jsonl(folder / "queries.jsonl")}
    kept = {q: queries[q] for q in qrels if q in queries}
    if not kept:
        raise DatasetError(f"{folder}: no query of qrels/{split}.tsv is in queries.jsonl")
    return BeirDataset(folder.resolve().name, split, corpus, kept, {q: qrels[q] for q in kept})


def write_corpus(dataset: BeirDataset, path: Path) -> Path:
    """The BEIR documents as a corpus JSONL file: id=_id, title (the id when empty), summary=text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for doc in dataset.corpus:
            doc_id = str(doc["_id"])
            title = " ".join(str(doc.get("title") or "").split()) or doc_id
            record = {"id": doc_id, "title": title, "summary": str(doc.get("text") or "")}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def evaluate_beir(
    dataset: BeirDataset,
    modes: Sequence[str],
    *,
    config: Config,
    embedder=None,
    workdir: Path | None = None,
    max_queries: int | None = None,
) -> dict:
    """Index the dataset in a temporary folder (the configuration's model) and score `Assistant.ask` rankings."""
    from qa.answer import Assistant
    from qa.index import default_embedder
    from qa.index.build import build_index

    queries = sorted(dataset.queries.items())[:max_queries] if max_queries else sorted(dataset.queries.items())
    qrels = {q: dataset.qrels[q] for q, _ in queries}
    with tempfile.TemporaryDirectory(prefix="archive-qa-beir-", dir=workdir) as tmp:
        root = Path(tmp)
        write_corpus(dataset, root / "corpus" / f"{dataset.name}.jsonl")
        config = replace(config, corpus=root / "corpus", index=root / "index")
        embedder = embedder or default_embedder(config)
        build = build_index(config, embedder=embedder)
        assistant = Assistant(config, embedder=embedder)
        runs = {mode: _run(assistant, queries, mode) for mode in modes}
    return {
        "kind": "beir",
        "dataset": dataset.name,
        "split": dataset.split,
        "query_count": len(queries),
        "config": {"model": config.model, "records": build.count, "k": RANK_DEPTH},
        "modes": {
            mode: {"retrieval": metrics.retrieval_metrics(ranking, qrels), "latency": metrics.latency_scores(ms)}
            for mode, (ranking, ms) in runs.items()
        },
        "runs": {mode: ranking for mode, (ranking, _) in runs.items()},
    }


def _run(assistant, queries: list[tuple[str, str]], mode: str) -> tuple[dict[str, list[str]], list[float]]:
    """Each query asked once: its ranking (the answer's first RANK_DEPTH record ids) and the latencies in ms."""
    run: dict[str, list[str]] = {}
    latencies = []
    for qid, text in queries:
        answer, latency_ms = timed_ask(assistant, text, k=RANK_DEPTH, mode=mode)
        latencies.append(latency_ms)
        run[qid] = run_ranking(answer)
    return run, latencies
