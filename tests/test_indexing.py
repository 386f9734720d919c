"""Building the index: layout and manifest, incremental by content, atomic under kill -9, the `index` command."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from embeddings.model import text_key
from embeddings.vectors import HNSW_FILE
from qa.cli import main
from qa.config import Config
from qa.index import (
    BUILDS,
    CURRENT,
    DATES,
    FORMAT_VERSION,
    KEYS,
    MANIFEST,
    OFFSETS,
    RECORDS,
    VECTORS,
    ArchiveIndex,
    DateFilter,
    IndexProblem,
    embedded_text,
)
from qa.indexing import _Lock, build_index
from qa.records import Record

REPO = Path(__file__).resolve().parent.parent


class Factory:
    """An embedder factory that hands out the given (real, counting) embedder and records each load."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.loads: list[str] = []

    def __call__(self, name: str):
        self.loads.append(name)
        return self.embedder


def _never(name: str):
    raise AssertionError(f"model {name!r} loaded although nothing needed encoding")


def _builds(config: Config) -> list[Path]:
    return sorted((config.index_dir / BUILDS).iterdir())


def _manifest(config: Config) -> dict:
    return json.loads((config.index_dir / CURRENT / MANIFEST).read_text(encoding="utf-8"))


def _listing(config: Config) -> Path:
    return next(config.corpus.rglob("*.txt"))


def _top_title(index: ArchiveIndex, embedder, question: str) -> str:
    record_id = index.search(question, 1, embedder=embedder)[0][0]
    return index.records[index.records.position(record_id)].title


# ---------------------------------------------------------------------------------------------- layout


def test_the_shipped_build_layout_and_manifest(shipped_config, shipped_index):
    index_dir = shipped_config.index_dir
    link = index_dir / CURRENT
    assert link.is_symlink() and os.readlink(link).startswith(f"{BUILDS}/")
    builds = _builds(shipped_config)
    assert builds == [link.resolve()]
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{8}", builds[0].name)
    for name in (MANIFEST, RECORDS, OFFSETS, VECTORS, KEYS, DATES, "bm25"):
        assert (builds[0] / name).exists(), name
    assert not (builds[0] / HNSW_FILE).exists()  # an exact index is rebuilt from the vectors on load
    manifest = _manifest(shipped_config)
    assert manifest["format_version"] == FORMAT_VERSION
    assert (manifest["model"], manifest["dim"], manifest["count"], manifest["kind"]) == (
        "all-MiniLM-L6-v2",
        384,
        10,
        "flat",
    )
    (listing,) = manifest["corpus_files"]
    assert listing.startswith("sino-soviet-relations/") and len(manifest["corpus_files"][listing]["sha256"]) == 64
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", manifest["built_at"])
    assert manifest["files"][VECTORS]["size"] == (builds[0] / VECTORS).stat().st_size
    vectors = np.load(builds[0] / VECTORS)
    assert vectors.dtype == np.float32 and vectors.shape == (10, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert shipped_index.vector_index.kind == "flat"


def test_the_index_folder_defaults_to_index_beside_the_corpus_and_is_git_ignored(tmp_path):
    assert Config(corpus=tmp_path / "corpus").index_dir == tmp_path / "index"
    assert "index/" in (REPO / ".gitignore").read_text(encoding="utf-8").split()


def test_what_is_embedded_for_a_record():
    def record(summary: str, date: str | None) -> Record:
        return Record("r", "Report, Kovalev to Stalin", date, "day" if date else None, summary, None, "c", "f:1")

    full = record("Kovalev relays requests.", "1949-07-06")
    assert embedded_text(full) == "Report, Kovalev to Stalin · July 6, 1949 · Kovalev relays requests."
    assert (
        embedded_text(record("Kovalev relays requests.", None))
        == "Report, Kovalev to Stalin · Kovalev relays requests."
    )
    assert embedded_text(record("", "1949-07-06")) == "Report, Kovalev to Stalin"


# ---------------------------------------------------------------------------------------------- incremental


def test_a_second_build_encodes_nothing_and_loads_no_model(shipped_copy, counting_embedder):
    before = _builds(shipped_copy)
    factory = Factory(counting_embedder)
    report = build_index(shipped_copy, embedder_factory=factory)
    assert report.up_to_date and (report.count, report.embedded, report.reused, report.removed) == (10, 0, 10, 0)
    assert factory.loads == [] and counting_embedder.calls == 0
    assert _builds(shipped_copy) == before


def test_the_index_command_on_an_unchanged_corpus(shipped_copy, capfd):
    status = main(["index", "--corpus", str(shipped_copy.corpus), "--index", str(shipped_copy.index)])
    out, err = capfd.readouterr()
    assert status == 0
    assert re.fullmatch(r"index up to date: 10 records \(0 embedded, 10 reused, 0 removed\) in \d+\.\ds\n", out)
    assert "embedding" not in err and "Traceback" not in err


def test_a_touched_file_is_rebuilt_without_encoding(shipped_copy):
    listing = _listing(shipped_copy)
    os.utime(listing, ns=(listing.stat().st_atime_ns, listing.stat().st_mtime_ns + 10**9))
    report = build_index(shipped_copy, embedder_factory=_never)
    assert not report.up_to_date and (report.embedded, report.reused, report.removed) == (0, 10, 0)
    assert ArchiveIndex.load(shipped_copy).count == 10


def test_adding_a_record_encodes_exactly_one_text(shipped_copy, shipped_index, counting_embedder):
    new = {
        "id": "new-1",
        "title": "Letter, Zhou Enlai to Molotov on Fishing Rights",
        "date": "1955-08-01",
        "summary": "Zhou Enlai proposes joint fishing rights in the Yellow Sea.",
    }
    (shipped_copy.corpus / "additions.jsonl").write_text(json.dumps(new) + "\n", encoding="utf-8")
    factory = Factory(counting_embedder)
    report = build_index(shipped_copy, embedder_factory=factory)
    assert (report.count, report.embedded, report.reused, report.removed) == (11, 1, 10, 0)
    assert counting_embedder.texts == [
        "Letter, Zhou Enlai to Molotov on Fishing Rights · August 1, 1955 · "
        "Zhou Enlai proposes joint fishing rights in the Yellow Sea."
    ]
    index = ArchiveIndex.load(shipped_copy)
    assert _top_title(index, counting_embedder.inner, "fishing in the Yellow Sea") == new["title"]
    for record in shipped_index.records:  # every old vector is kept as it was
        old = shipped_index.vectors[shipped_index.records.position(record.id)]
        assert np.array_equal(index.vectors[index.records.position(record.id)], old)


def test_removing_a_record_reports_one_removed(shipped_copy, shipped_index):
    listing = _listing(shipped_copy)
    text = listing.read_text(encoding="utf-8")
    assert "July 6, 1949" in text
    listing.write_text(text[: text.index("July 6, 1949")], encoding="utf-8")
    report = build_index(shipped_copy, embedder_factory=_never)
    assert (report.count, report.embedded, report.reused, report.removed) == (9, 0, 9, 1)
    index = ArchiveIndex.load(shipped_copy)
    assert "Report, Kovalev to Stalin" not in {r.title for r in index.records}
    assert len(_builds(shipped_copy)) == 1  # the previous build is gone once the new one is current


def test_editing_a_summary_re_encodes_that_record_only(shipped_copy, counting_embedder):
    listing = _listing(shipped_copy)
    text = listing.read_text(encoding="utf-8")
    listing.write_text(text.replace("The Romanians are concerned", "The Romanians worry"), encoding="utf-8")
    report = build_index(shipped_copy, embedder_factory=Factory(counting_embedder))
    assert (report.count, report.embedded, report.reused, report.removed) == (10, 1, 9, 1)
    assert len(counting_embedder.texts) == 1 and "The Romanians worry" in counting_embedder.texts[0]


def test_records_sharing_one_text_have_it_encoded_once(shipped_copy, counting_embedder):
    rows = [{"id": f"memo-{i}", "title": "Memorandum of Conversation", "date": f"195{i}"} for i in range(3)]
    (shipped_copy.corpus / "memos.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = build_index(shipped_copy, embedder_factory=Factory(counting_embedder))
    assert (report.count, report.embedded, report.reused) == (13, 3, 10)
    assert counting_embedder.texts == ["Memorandum of Conversation"]
    index = ArchiveIndex.load(shipped_copy)
    memos = [index.vectors[index.records.position(f"memo-{i}")] for i in range(3)]
    assert np.array_equal(memos[0], memos[1]) and np.array_equal(memos[0], memos[2])
    assert abs(float(np.linalg.norm(memos[0])) - 1.0) < 1e-5


def test_a_key_ending_in_zero_bytes_is_reused(shipped_copy, counting_embedder):
    # numpy drops the trailing zero bytes of a stored S16 key; such a record (1 in 256) must still be reused
    title = next(t for n in range(100_000) if text_key("all-MiniLM-L6-v2", t := f"Telegram No. {n}").endswith(b"\0"))
    (shipped_copy.corpus / "telegram.jsonl").write_text(json.dumps({"title": title}) + "\n", encoding="utf-8")
    assert build_index(shipped_copy, embedder_factory=Factory(counting_embedder)).embedded == 1
    assert counting_embedder.texts == [title]
    listing = _listing(shipped_copy)
    os.utime(listing, ns=(listing.stat().st_atime_ns, listing.stat().st_mtime_ns + 10**9))
    report = build_index(shipped_copy, embedder_factory=_never)
    assert not report.up_to_date and (report.embedded, report.reused, report.removed) == (0, 11, 0)


def test_force_re_encodes_every_record(shipped_copy, shipped_index, counting_embedder):
    factory = Factory(counting_embedder)
    report = build_index(shipped_copy, force=True, embedder_factory=factory)
    assert (report.count, report.embedded, report.reused, report.removed) == (10, 10, 0, 0)
    assert factory.loads == ["all-MiniLM-L6-v2"] and len(counting_embedder.texts) == 10
    np.testing.assert_allclose(ArchiveIndex.load(shipped_copy).vectors, shipped_index.vectors, atol=1e-5)


def test_a_damaged_index_is_rebuilt_by_the_next_build(shipped_copy, counting_embedder):
    path = shipped_copy.index_dir / CURRENT / RECORDS
    path.write_bytes(path.read_bytes().replace(b"Kovalev", b"Kovalyov", 1))
    with pytest.raises(IndexProblem, match="truncated or damaged"):
        ArchiveIndex.load(shipped_copy)
    report = build_index(shipped_copy, embedder_factory=Factory(counting_embedder))
    assert report.embedded == 10  # nothing of a damaged build is trusted
    index = ArchiveIndex.load(shipped_copy)
    assert "Kovalyov" not in (index.folder / RECORDS).read_text(encoding="utf-8")
    assert _top_title(index, counting_embedder.inner, "Mikoyan meets Mao").startswith("Memorandum of Conversation")


def test_an_interrupted_build_leaves_no_folder_and_the_index_as_it_was(shipped_copy):
    before = (shipped_copy.index_dir / CURRENT).resolve()

    def interrupted(name):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(shipped_copy, force=True, embedder_factory=interrupted)
    assert _builds(shipped_copy) == [before] and (shipped_copy.index_dir / CURRENT).resolve() == before
    assert ArchiveIndex.load(shipped_copy).count == 10


# ---------------------------------------------------------------------------------------------- kill -9

KINDS = ["Telegram", "Memorandum", "Letter", "Report", "Note"]
TOPICS = ["the loan", "the harvest", "the border", "the treaty", "the railway", "the delegation"]


def _write_synthetic(folder: Path, count: int) -> None:
    """Title-only records (30 distinct titles, so the model encodes little) over thirty years, one JSONL file."""
    folder.mkdir(parents=True)
    with (folder / "synthetic.jsonl").open("w", encoding="utf-8") as f:
        for i in range(count):
            title = f"{KINDS[i % 5]} on {TOPICS[(i // 5) % 6]}"
            f.write(json.dumps({"id": f"syn-{i:05d}", "title": title, "date": f"{1949 + i % 30}-{i % 12 + 1:02d}"}))
            f.write("\n")


def test_a_build_killed_while_writing_leaves_the_previous_index(tmp_path, counting_embedder):
    corpus = tmp_path / "synthetic" / "corpus"
    _write_synthetic(corpus / "synthetic", 3000)
    config = Config(corpus=corpus, index=tmp_path / "synthetic" / "index")
    report = build_index(config, embedder=counting_embedder)
    assert report.count == 3000 and len(counting_embedder.texts) == 30
    old_build = (config.index_dir / CURRENT).resolve()

    def results(index: ArchiveIndex) -> list:
        vector = counting_embedder.inner.encode_query("a telegram about the railway")
        return [
            index.search(vector, 20),
            index.search(vector, 20, DateFilter(19600101, 19621231)),
            index.search(None, 20, mode="bm25", text="report on the border treaty"),
        ]

    expected = results(ArchiveIndex.load(config))
    stderr = (tmp_path / "stderr.txt").open("w")
    command = [sys.executable, "-m", "qa", "index", "--force", "--corpus", str(corpus), "--index", str(config.index)]
    process = subprocess.Popen(
        command, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL, stderr=stderr
    )
    partial = None
    deadline = time.monotonic() + 120
    try:
        while partial is None and process.poll() is None and time.monotonic() < deadline:
            partial = next((b for b in _builds(config) if b != old_build and (b / RECORDS).exists()), None)
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        stderr.close()
    assert partial is not None, (tmp_path / "stderr.txt").read_text()
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    assert partial.is_dir() and not (partial / MANIFEST).exists()  # the new build was half written
    assert (config.index_dir / CURRENT).resolve() == old_build
    assert results(ArchiveIndex.load(config)) == expected
    # the next build finds the corpus unchanged, loads no model and clears what the killed build left
    report = build_index(config, embedder_factory=_never)
    assert report.up_to_date and _builds(config) == [old_build]


# ---------------------------------------------------------------------------------------------- flat and HNSW


QUESTIONS = [
    "Romanian party leaders worry about publishing the Chinese and Soviet declarations",
    "Mikoyan's talks with Mao in February 1949",
    "the Soviet loan to China discussed with the CCP delegation",
    "Kovalev relays requests from Liu Shaoqi and Gao Gang",
    "the politburo discusses the economic situation",
]


def test_hnsw_when_forced_finds_the_same_top_hits(shipped_copy, shipped_index, embedder):
    report = build_index(replace(shipped_copy, index_kind="hnsw"), embedder_factory=_never)
    assert (report.embedded, report.reused) == (0, 10)
    assert _manifest(shipped_copy)["kind"] == "hnsw"
    assert (shipped_copy.index_dir / CURRENT / HNSW_FILE).is_file()
    hnsw = ArchiveIndex.load(shipped_copy)
    assert hnsw.vector_index.kind == "hnsw" and shipped_index.vector_index.kind == "flat"
    for question in QUESTIONS:
        vector = embedder.encode_query(question)
        assert hnsw.search(vector, 1)[0][0] == shipped_index.search(vector, 1)[0][0]
        in_1949 = DateFilter(19490101, 19491231, keep_undated=False)
        got, exact = hnsw.search(vector, 3, in_1949), shipped_index.search(vector, 3, in_1949)
        assert [i for i, _ in got] == [i for i, _ in exact]
        assert [s for _, s in got] == pytest.approx([s for _, s in exact], abs=1e-5)
    # the graph is checked like every other file
    graph = shipped_copy.index_dir / CURRENT / HNSW_FILE
    graph.write_bytes(graph.read_bytes()[:-100])
    with pytest.raises(IndexProblem, match="hnsw.faiss is truncated or damaged"):
        ArchiveIndex.load(shipped_copy)


def test_the_index_kind_flag_and_the_size_threshold(shipped_copy, capfd):
    argv = ["index", "--corpus", str(shipped_copy.corpus), "--index", str(shipped_copy.index)]
    assert main([*argv, "--index-kind", "hnsw"]) == 0
    out, _ = capfd.readouterr()
    assert out.startswith("index built: 10 records (0 embedded, 10 reused, 0 removed)")
    assert _manifest(shipped_copy)["kind"] == "hnsw"
    assert main(argv) == 0  # auto again: 10 records are well under the threshold
    assert _manifest(shipped_copy)["kind"] == "flat"
    build_index(replace(shipped_copy, hnsw_threshold=5), embedder_factory=_never)
    assert _manifest(shipped_copy)["kind"] == "hnsw"
    assert ArchiveIndex.load(shipped_copy).vector_index.kind == "hnsw"


# ---------------------------------------------------------------------------------------------- models


def test_a_model_that_cannot_be_loaded_is_one_line_and_changes_nothing(shipped_copy, capfd):
    before = _builds(shipped_copy)
    argv = ["index", "--corpus", str(shipped_copy.corpus), "--index", str(shipped_copy.index)]
    status = main([*argv, "--model", "/nonexistent/path"])
    out, err = capfd.readouterr()
    assert status == 2 and out == ""
    assert err.startswith("archive-qa: model '/nonexistent/path' cannot be loaded offline") and err.count("\n") == 1
    assert "Traceback" not in err
    assert _builds(shipped_copy) == before and ArchiveIndex.load(shipped_copy).count == 10


def test_another_model_from_the_environment_or_the_flag(shipped_copy, small_model_dir, monkeypatch, capfd):
    argv = ["index", "--corpus", str(shipped_copy.corpus), "--index", str(shipped_copy.index)]
    monkeypatch.setenv("ARCHIVE_QA_MODEL", str(small_model_dir))
    assert main(argv) == 0
    out, err = capfd.readouterr()
    assert out.startswith("index built: 10 records (10 embedded, 0 reused, 0 removed) in ")
    assert "embedding" in err and "10/10" in err  # the progress bar
    manifest = _manifest(shipped_copy)
    assert (manifest["model"], manifest["dim"]) == (str(small_model_dir), 128)
    index = ArchiveIndex.load(Config.from_env(corpus=shipped_copy.corpus, index=shipped_copy.index))
    assert index.dim == 128 and index.vectors.shape == (10, 128)
    with pytest.raises(IndexProblem, match=f"built with model '{re.escape(str(small_model_dir))}', not 'all-MiniLM"):
        ArchiveIndex.load(shipped_copy)
    # the flag wins over the environment; the other model's vectors are not reused for this one
    assert main([*argv, "--model", "all-MiniLM-L6-v2"]) == 0
    out, _ = capfd.readouterr()
    assert out.startswith("index built: 10 records (10 embedded, 0 reused, 0 removed)")
    assert (_manifest(shipped_copy)["model"], _manifest(shipped_copy)["dim"]) == ("all-MiniLM-L6-v2", 384)


# ---------------------------------------------------------------------------------------------- other problems


def _index_cli(config: Config, capfd, *extra: str) -> tuple[int, str]:
    status = main(["index", "--corpus", str(config.corpus), "--index", str(config.index), *extra])
    out, err = capfd.readouterr()
    assert "Traceback" not in err and err.count("\n") <= 1
    return status, err


def test_a_second_build_at_the_same_time_is_refused(shipped_copy, capfd):
    with _Lock(shipped_copy.index_dir):
        status, err = _index_cli(shipped_copy, capfd)
    assert status == 2 and "another `archive-qa index` is building this index" in err


def test_corpus_problems_are_reported_not_indexed(tmp_path, capfd):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    status, err = _index_cli(Config(corpus=corpus), capfd)
    assert status == 2 and f"no records in {corpus}" in err
    (corpus / "bad.jsonl").write_text('{"title": "fine"}\n{"title": \n', encoding="utf-8")
    status, err = _index_cli(Config(corpus=corpus), capfd)
    assert status == 2 and "the corpus has 1 problem(s), first" in err and "bad.jsonl:2" in err
    assert not (tmp_path / "index" / CURRENT).exists()


def test_an_unreadable_alias_file_is_one_line(shipped_copy, monkeypatch, capfd, tmp_path):
    monkeypatch.setenv("ARCHIVE_QA_ALIASES", str(tmp_path / "missing.tsv"))
    status, err = _index_cli(shipped_copy, capfd)
    assert status == 2 and "missing.tsv: cannot read alias file" in err
