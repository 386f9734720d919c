"""Building the index (qa/index/build.py): layout, incremental by content, atomic under kill -9, only its own folders
removed, and the `index` command's answers. The model-free embedder is used throughout: no test here needs meaning.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import CountingEmbedder
from index_helpers import (
    Factory,
    assert_one_line,
    builds,
    current,
    listing,
    never,
    read_manifest,
    run,
    search,
    segment_path,
    touch,
    where,
)

from embeddings.hashing import HashingEmbedder
from embeddings.model import text_key
from embeddings.vectors import SEGMENT_FILE
from qa.config import Config
from qa.corpus import reader as corpus_module
from qa.errors import IndexProblem
from qa.index import build as build_module
from qa.index import reuse as reuse_module
from qa.index.build import Lock, build_index
from qa.index.encoding import embedded_text
from qa.index.lexical import Postings
from qa.index.manifest import (
    BUILD_MARKER,
    BUILDS,
    CURRENT,
    DATES,
    FORMAT_VERSION,
    KEYS,
    MANIFEST,
    MARKER,
    OFFSETS,
    RECORDS,
    SEGMENTS,
    df_file,
    positions_file,
    segment_files,
)
from qa.index.search import ArchiveIndex, DateFilter
from qa.records import Record

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def counter(hashing_embedder):
    """The model-free embedder, counting the texts it encodes."""
    return CountingEmbedder(hashing_embedder)


@pytest.fixture
def fresh_copy(hashing_copy):
    """A copy whose index records the copied corpus's change times (a copy cannot keep them): it is up to date."""
    assert _counts(_build(hashing_copy)) == (10, 0, 10, 0)
    return hashing_copy


def _build(config: Config, embedder=None, **options):
    return build_index(config, embedder_factory=Factory(embedder) if embedder else never, **options)


def _counts(report) -> tuple[int, int, int, int]:
    return report.count, report.embedded, report.reused, report.removed


def _top(index: ArchiveIndex, embedder, question: str, **options) -> list[str]:
    return [h.id for h in search(index, question, embedder, 1, **options)]


# ---------------------------------------------------------------------------------------------- layout


def test_the_build_layout_and_manifest(hashing_config, hashing_index):
    index_dir = hashing_config.index_dir
    link = index_dir / CURRENT
    assert link.is_symlink() and os.readlink(link).startswith(f"{BUILDS}/")
    assert (index_dir / MARKER).is_file()
    (build,) = builds(hashing_config)
    assert build == link.resolve() and (build / BUILD_MARKER).is_file()
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{8}", build.name)
    manifest = read_manifest(hashing_config)
    (segment,) = manifest["segments"]  # one segment: the whole collection, exact, float32
    assert (segment["kind"], segment["rows"], manifest["vector_dtype"]) == ("flat", 10, "float32")
    segment_names = [*segment_files(segment["name"]), positions_file(segment["name"]), df_file(segment["name"])]
    for name in (MANIFEST, RECORDS, OFFSETS, KEYS, DATES, *segment_names):
        assert (build / name).exists(), name
    assert sorted(p.name for p in (build / SEGMENTS).iterdir()) == sorted(
        [segment["name"], f"{segment['name']}.positions.npy", f"{segment['name']}.df.npy"]
    )
    assert manifest["format_version"] == FORMAT_VERSION
    assert (manifest["model"], manifest["dim"], manifest["count"], manifest["kind"]) == ("hashing:64", 64, 10, "flat")
    (name,) = manifest["corpus_files"]
    assert name.startswith("sino-soviet-relations/")
    assert set(manifest["corpus_files"][name]) == {"size", "mtime_ns", "ctime_ns", "sha256"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", manifest["built_at"])
    vectors_file = f"{SEGMENTS}/{segment['name']}/{SEGMENT_FILE}"
    assert manifest["files"][vectors_file]["size"] == (build / vectors_file).stat().st_size
    vectors = np.asarray(hashing_index.vectors)  # stored once: in the segment's FAISS index, memory-mapped
    assert vectors.dtype == np.float32 and vectors.shape == (10, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert hashing_index.vector_index.kind == "flat"


def test_the_default_index_folder_is_git_ignored():
    assert Config(corpus=REPO / "corpus").index_dir == REPO / "index"
    assert "index/" in (REPO / ".gitignore").read_text(encoding="utf-8").split()


def test_what_is_embedded_for_a_record():
    def record(summary: str, date: str | None) -> Record:
        return Record(
            id="r", title="Report, Kovalev to Stalin", date=date, date_precision="day" if date else None,
            summary=summary, url=None, collection="c", source="f:1",
        )

    full = record("Kovalev relays requests.", "1949-07-06")
    assert embedded_text(full) == "Report, Kovalev to Stalin · July 6, 1949 · Kovalev relays requests."
    undated = record("Kovalev relays requests.", None)
    assert embedded_text(undated) == "Report, Kovalev to Stalin · Kovalev relays requests."
    assert embedded_text(record("", "1949-07-06")) == "Report, Kovalev to Stalin"


def test_the_embedder_given_must_be_the_configured_model(hashing_copy):
    with pytest.raises(ValueError, match="the embedder is model 'hashing:32'"):
        build_index(hashing_copy, embedder=HashingEmbedder("hashing:32"))
    model = replace(hashing_copy, model="all-MiniLM-L6-v2")  # the int8 graph's vectors are kept apart: no mixing
    float32 = SimpleNamespace(name="all-MiniLM-L6-v2", encoder="onnx", dim=384)
    with pytest.raises(ValueError, match="encodes with 'onnx' but the configuration names 'onnx-int8'"):
        build_index(model, embedder=float32)


def test_vectors_of_another_encoder_are_never_mixed_with_the_builds(shipped_copy, embedder):
    """Switching the build's encoder (int8 <-> float32) encodes every record again, even with nothing else changed;
    the manifest says what made the vectors, and switching back does it again."""
    from embeddings.model import Embedder, vector_model

    assert build_index(shipped_copy, embedder=embedder).embedded == 0  # a copy: touched, nothing encoded
    float32 = replace(shipped_copy, encoder="onnx")
    report = build_index(float32, embedder=Embedder(embedder.name, cache=embedder.cache, encoder="onnx"))
    assert not report.up_to_date and report.embedded == report.count == 10
    index = ArchiveIndex.load(float32)
    assert index.manifest.vectors == vector_model(embedder.name, "onnx") == embedder.name
    reference = embedder._torch_encode([embedded_text(r) for r in index.records])
    assert np.abs(np.asarray(index.vectors, dtype=np.float32) - reference).max() < 1e-4  # float32: the model's own
    assert build_index(shipped_copy, embedder=embedder).embedded == 10
    assert ArchiveIndex.load(shipped_copy).manifest.vectors == vector_model(embedder.name, "onnx-int8")


def test_progress_is_told_before_the_first_text_is_encoded(hashing_copy, hashing_embedder):
    """So a progress bar shows while the first chunk is encoded, not only after it."""
    events: list = []

    class Recording(CountingEmbedder):
        def encode(self, texts, **kwargs):
            events.append(("encode", len(texts)))
            return super().encode(texts, **kwargs)

    recording = Recording(hashing_embedder)
    build_index(hashing_copy, force=True, embedder=recording, progress=lambda *told: events.append(told))
    assert events == [(0, 10), ("encode", 10), (10, 10)]


# ---------------------------------------------------------------------------------------------- incremental


def test_a_second_build_encodes_nothing_and_loads_no_model(fresh_copy, counter):
    before = builds(fresh_copy)
    factory = Factory(counter)
    report = build_index(fresh_copy, embedder_factory=factory)
    assert report.up_to_date and _counts(report) == (10, 0, 10, 0)
    assert factory.loads == [] and counter.calls == 0
    assert builds(fresh_copy) == before


def test_the_steps_are_told_in_order(hashing_copy):
    steps: list[str] = []
    build_index(hashing_copy, force=True, embedder_factory=Factory(HashingEmbedder()), on_step=steps.append)
    assert steps == ["planned", "encoded", "written", "swapped"]
    steps.clear()
    assert _build(hashing_copy, on_step=steps.append).up_to_date and steps == []


def test_the_index_command_on_an_unchanged_corpus(fresh_copy, capfd):
    status, out, err = run(capfd, "index", *where(fresh_copy))
    assert status == 0
    assert re.fullmatch(r"index up to date: 10 records \(0 embedded, 10 reused, 0 removed\) in \d+\.\ds\n", out)
    assert "embedding" not in err and "Traceback" not in err


def test_a_touched_file_is_rebuilt_without_encoding(fresh_copy):
    touch(listing(fresh_copy))
    report = _build(fresh_copy)
    assert not report.up_to_date and _counts(report) == (10, 0, 10, 0)
    assert ArchiveIndex.load(fresh_copy).count == 10
    assert _build(fresh_copy).up_to_date


def test_adding_a_record_encodes_exactly_one_text(hashing_copy, hashing_index, counter):
    new = {
        "id": "new-1",
        "title": "Letter, Zhou Enlai to Molotov on Fishing Rights",
        "date": "1955-08-01",
        "summary": "Zhou Enlai proposes joint fishing rights in the Yellow Sea.",
    }
    (hashing_copy.corpus / "additions.jsonl").write_text(json.dumps(new) + "\n", encoding="utf-8")
    report = _build(hashing_copy, counter)
    assert _counts(report) == (11, 1, 10, 0)
    assert counter.record_texts == [
        "Letter, Zhou Enlai to Molotov on Fishing Rights · August 1, 1955 · "
        "Zhou Enlai proposes joint fishing rights in the Yellow Sea."
    ]
    index = ArchiveIndex.load(hashing_copy)
    assert _top(index, counter.inner, "fishing rights in the Yellow Sea") == ["new-1"]
    for record in hashing_index.records:  # every old vector is kept as it was
        old = hashing_index.vectors[hashing_index.records.position(record.id)]
        assert np.array_equal(index.vectors[index.records.position(record.id)], old)


def test_removing_a_record_reports_one_removed(hashing_copy):
    page = listing(hashing_copy)
    text = page.read_text(encoding="utf-8")
    assert "July 6, 1949" in text
    page.write_text(text[: text.index("July 6, 1949")], encoding="utf-8")
    report = _build(hashing_copy)
    assert _counts(report) == (9, 0, 9, 1)
    index = ArchiveIndex.load(hashing_copy)
    assert "Report, Kovalev to Stalin" not in {r.title for r in index.records}
    assert len(builds(hashing_copy)) == 1  # the previous build is gone once the new one is current


def test_editing_a_summary_re_encodes_that_record_only(hashing_copy, counter):
    page = listing(hashing_copy)
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("The Romanians are concerned", "The Romanians worry"), encoding="utf-8")
    assert _counts(_build(hashing_copy, counter)) == (10, 1, 9, 1)
    assert len(counter.record_texts) == 1 and "The Romanians worry" in counter.record_texts[0]


def _files_read(monkeypatch) -> list[str]:
    """The corpus files read from now on (by name): by the corpus reader, or line by line (JSON Lines files)."""
    read: list[str] = []
    real, by_line = corpus_module.read_file, reuse_module.Known._by_line

    def counting(path, *args):
        read.append(path.name)
        return real(path, *args)

    def counting_lines(self, path, *args):
        read.append(path.name)
        return by_line(self, path, *args)

    monkeypatch.setattr(corpus_module, "read_file", counting)
    monkeypatch.setattr(reuse_module.Known, "_by_line", counting_lines)
    return read


def _lines_parsed(monkeypatch) -> list[str]:
    """The JSON Lines lines parsed from now on (the lines of a changed file not taken from the previous build)."""
    parsed: list[str] = []
    real = reuse_module.parse_jsonl

    def counting(text, sink):
        parsed.extend(line for line in text.splitlines() if line.strip())
        return real(text, sink)

    monkeypatch.setattr(reuse_module, "parse_jsonl", counting)
    return parsed


def _rows(*titles: str) -> str:
    return "".join(json.dumps({"title": t, "date": "1950-02-14", "summary": f"On {t.lower()}."}) + "\n" for t in titles)


def test_a_changed_json_lines_file_has_only_its_changed_lines_read(fresh_copy, monkeypatch):
    """Lines edited, added, removed and moved: only the new lines are parsed; every record, source, content key and
    person is as a fresh reading and build give them, and the records of the lines kept are not encoded again."""
    config = fresh_copy
    exports = config.corpus / "exports.jsonl"
    exports.write_text(_rows("Cable A", "Cable B", "Cable C", "Cable D", "Cable C"), encoding="utf-8")  # C read once
    assert _counts(_build(config, HashingEmbedder())) == (14, 4, 10, 0)
    parsed = _lines_parsed(monkeypatch)
    exports.write_text(_rows("Cable Z", "Cable A", "Cable C", "Cable B2", "Cable C", "Cable D"), encoding="utf-8")
    counter = CountingEmbedder(HashingEmbedder())
    assert _counts(_build(config, counter)) == (15, 2, 13, 1)
    assert [json.loads(line)["title"] for line in parsed] == ["Cable Z", "Cable B2"]
    new = [r for r in _as_read_afresh(config) if r.title in ("Cable Z", "Cable B2")]
    assert sorted(counter.texts) == sorted(map(embedded_text, new))
    index = ArchiveIndex.load(config)
    assert list(index.records) == _as_read_afresh(config)  # sources renumbered where the lines moved
    assert [r.source for r in index.records if "exports" in r.source] == [f"{exports}:{n}" for n in (1, 2, 3, 4, 6)]
    afresh = build_index(replace(config, index=config.index_dir.parent / "afresh"), embedder=HashingEmbedder())
    assert afresh.count == 15
    again = ArchiveIndex.load(replace(config, index=config.index_dir.parent / "afresh"))
    assert np.array_equal(np.load(current(config) / "keys.npy"), np.load(again.folder / "keys.npy"))
    assert index.people.keys == again.people.keys
    assert index.people.positions_.tolist() == again.people.positions_.tolist()


def test_a_problem_in_a_changed_line_is_reported_as_a_fresh_reading_reports_it(fresh_copy):
    config = fresh_copy
    exports = config.corpus / "exports.jsonl"
    exports.write_text(_rows("Cable A", "Cable B"), encoding="utf-8")
    _build(config, HashingEmbedder())
    exports.write_text(_rows("Cable A") + '{"title": "Cable B", "date": "1950-02-30"}\n', encoding="utf-8")
    with pytest.raises(IndexProblem, match=r"exports\.jsonl:2: .*not a real day"):
        _build(config, HashingEmbedder())
    exports.write_text(_rows("Cable A") + "{not json\n", encoding="utf-8")
    with pytest.raises(IndexProblem, match=r"exports\.jsonl:2: not valid JSON"):
        _build(config, HashingEmbedder())
    exports.write_bytes(_rows("Cable A").encode() + b'{"title": "Cable \xe9"}\n')
    with pytest.raises(IndexProblem, match=r"exports\.jsonl:2: byte 0xe9 is not UTF-8"):
        _build(config, HashingEmbedder())
    assert len(list(ArchiveIndex.load(config, check_stale=False).records)) == 12  # the last good build stays


def test_stored_records_read_in_runs_are_those_read_one_by_one(hashing_index):
    store = hashing_index.records
    one_by_one = [store[i] for i in range(len(store))]
    assert store.run(0, len(store)) == one_by_one and list(store) == one_by_one
    assert store.records([3, 4, 5, 0, 9, 8]) == [one_by_one[i] for i in (3, 4, 5, 0, 9, 8)]
    assert store.run(4, 4) == [] and store.records([]) == []


def _as_read_afresh(config: Config) -> list[Record]:
    return corpus_module.load_corpus([config.corpus]).records


def test_a_file_unchanged_since_the_last_build_is_not_read_again(fresh_copy, monkeypatch):
    hashing_copy = fresh_copy  # built where it is: its records' sources name this copy's files
    read = _files_read(monkeypatch)
    stored = (current(hashing_copy) / RECORDS).read_bytes()
    row = {"id": "new-1", "title": "Letter, Zhou Enlai to Molotov", "date": "1955-08-01", "summary": "On fishing."}
    (hashing_copy.corpus / "additions.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert _counts(_build(hashing_copy, HashingEmbedder())) == (11, 1, 10, 0)
    assert read == ["additions.jsonl"]  # the listing page's records come from the previous build
    assert stored in (current(hashing_copy) / RECORDS).read_bytes()  # and their stored lines
    index = ArchiveIndex.load(hashing_copy)
    assert list(index.records) == _as_read_afresh(hashing_copy)


def test_records_settled_across_files_stay_as_a_fresh_reading_gives_them(fresh_copy, monkeypatch):
    """A new file listing a document of an unchanged page again (read once), then the page's own duplicate gone."""
    hashing_copy = fresh_copy
    index = ArchiveIndex.load(hashing_copy)
    first = index.records[0]
    again = {"title": first.title, "date": first.date, "collection": first.collection}  # no summary: the same one
    other = {"title": first.title, "date": first.date, "collection": first.collection, "summary": "Another text."}
    extra = hashing_copy.corpus / "sino-soviet-relations" / "again.jsonl"
    for rows in ([again], [again, other], [other], []):
        extra.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        read = _files_read(monkeypatch)
        _build(hashing_copy, HashingEmbedder())
        assert read == ["again.jsonl"]
        assert list(ArchiveIndex.load(hashing_copy).records) == _as_read_afresh(hashing_copy)


def test_records_sharing_one_text_have_it_encoded_once(hashing_copy, counter):
    rows = [{"id": f"memo-{i}", "title": "Memorandum of Conversation", "date": f"195{i}"} for i in range(3)]
    (hashing_copy.corpus / "memos.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = _build(hashing_copy, counter)
    assert (report.count, report.embedded, report.reused) == (13, 3, 10)
    assert counter.texts == ["Memorandum of Conversation"]
    index = ArchiveIndex.load(hashing_copy)
    memos = [index.vectors[index.records.position(f"memo-{i}")] for i in range(3)]
    assert np.array_equal(memos[0], memos[1]) and np.array_equal(memos[0], memos[2])
    assert abs(float(np.linalg.norm(memos[0])) - 1.0) < 1e-5


def test_a_key_ending_in_zero_bytes_is_reused(hashing_copy, counter):
    # numpy drops the trailing zero bytes of a stored S16 key; such a record (1 in 256) must still be reused
    title = next(t for n in range(100_000) if text_key("hashing:64", t := f"Telegram No. {n}").endswith(b"\0"))
    (hashing_copy.corpus / "telegram.jsonl").write_text(json.dumps({"title": title}) + "\n", encoding="utf-8")
    assert _build(hashing_copy, counter).embedded == 1 and counter.texts == [title]
    touch(listing(hashing_copy))
    report = _build(hashing_copy)
    assert not report.up_to_date and _counts(report) == (11, 0, 11, 0)


def test_force_re_encodes_every_record(hashing_copy, hashing_index, counter):
    factory = Factory(counter)
    report = build_index(hashing_copy, force=True, embedder_factory=factory)
    assert _counts(report) == (10, 10, 0, 0)
    assert factory.loads == ["hashing:64"] and len(counter.texts) == 10
    np.testing.assert_allclose(ArchiveIndex.load(hashing_copy).vectors, hashing_index.vectors, atol=1e-6)


def test_a_damaged_index_is_rebuilt_by_the_next_build(hashing_copy, counter):
    path = hashing_copy.index_dir / CURRENT / RECORDS
    path.write_bytes(path.read_bytes().replace(b"Kovalev", b"Kovalyov", 1))
    with pytest.raises(IndexProblem, match="truncated or damaged"):
        ArchiveIndex.load(hashing_copy)
    assert _build(hashing_copy, counter).embedded == 10  # nothing of a damaged build is trusted
    index = ArchiveIndex.load(hashing_copy)
    assert "Kovalyov" not in (index.folder / RECORDS).read_text(encoding="utf-8")


def test_an_interrupted_build_leaves_no_folder_and_the_index_as_it_was(hashing_copy):
    before = current(hashing_copy)

    def interrupted(config):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(hashing_copy, force=True, embedder_factory=interrupted)
    assert builds(hashing_copy) == [before] and current(hashing_copy) == before
    assert ArchiveIndex.load(hashing_copy).count == 10


# ---------------------------------------------------------------------------------------------- kill -9

# The child builds (with `--force`, or as an update kept in a new segment) and stops at the named step until the test,
# having read "at <step>", kills it.
CHILD = """
import sys
from pathlib import Path

from qa import runtime
from qa.index import segments
from qa.config import Config
from qa.index.build import build_index

runtime.start()
point, corpus, index, model, mode = sys.argv[1:]
segments.MERGE_SHARE = 1.0  # an update adds a segment and links the others


def step(name):
    if name == point:
        print("at", name, flush=True)
        sys.stdin.readline()


config = Config(corpus=Path(corpus), index=Path(index), model=model)
build_index(config, force=mode == "force", on_step=step)
print("finished", flush=True)
"""


def _results(index: ArchiveIndex, embedder) -> list:
    query = index.query("a telegram from Kovalev about the CCP", embedder)
    return [
        index.search(query, 10, "dense"),
        index.search(query, 10, "hybrid", DateFilter(19490501, 19491231)),
        index.search(index.query("report on the loan", None, "bm25"), 10, "bm25"),
    ]


def _kill_at(point: str, config: Config, mode: str = "force") -> None:
    """Run a build in a child process, wait until it reaches `point`, and kill -9 it there."""
    argv = [sys.executable, "-c", CHILD, point, str(config.corpus), str(config.index_dir), config.model, mode]
    child = subprocess.Popen(
        argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
    assert line == f"at {point}\n", err
    assert child.returncode == -signal.SIGKILL  # killed there, not finished


@pytest.mark.parametrize("point", ["planned", "encoded", "written", "swapped"])
def test_a_build_killed_at_any_step_leaves_a_usable_index(fresh_copy, hashing_embedder, point):
    hashing_copy = fresh_copy
    old = current(hashing_copy)
    expected = _results(ArchiveIndex.load(hashing_copy), hashing_embedder)
    _kill_at(point, hashing_copy)
    now = current(hashing_copy)
    left = [b for b in builds(hashing_copy) if b not in (old, now)]
    if point == "planned":
        assert now == old and left == []
    elif point == "swapped":
        assert now != old and old.is_dir() and left == []  # the old build is removed by the next build
    else:
        (new,) = left  # the killed build's folder, never current
        assert now == old and (new / BUILD_MARKER).is_file()
        assert (new / MANIFEST).is_file() == (point == "written")
    assert _results(ArchiveIndex.load(hashing_copy), hashing_embedder) == expected
    # the next build finds the corpus unchanged, loads no model and clears what the killed build left
    assert _build(hashing_copy).up_to_date and builds(hashing_copy) == [now]


@pytest.mark.parametrize("point", ["encoded", "written", "swapped"])
def test_an_update_killed_at_any_step_leaves_a_usable_index(fresh_copy, hashing_embedder, point):
    old = current(fresh_copy)
    expected = _results(ArchiveIndex.load(fresh_copy), hashing_embedder)
    (fresh_copy.corpus / "extra.jsonl").write_text(json.dumps({"title": "A telegram from Kovalev"}) + "\n")
    _kill_at(point, fresh_copy, mode="update")
    index = ArchiveIndex.load(fresh_copy, check_stale=False)
    if point == "swapped":  # the update is in: the old segment linked, the new record in a segment of its own
        assert current(fresh_copy) != old and [len(s.positions) for s in index.segments] == [10, 1]
    else:  # the old build, whole, its segment's files untouched by the links the killed build made
        assert current(fresh_copy) == old and _results(index, hashing_embedder) == expected
    report = _build(fresh_copy, HashingEmbedder())
    assert report.up_to_date == (point == "swapped") and report.count == 11
    assert builds(fresh_copy) == [current(fresh_copy)] and ArchiveIndex.load(fresh_copy).count == 11


# The child takes the build's lock, starts a pool of worker processes as the encoder does and a writer beside
# itself as the build does, tells their process ids, and waits to be killed.
WORKERS_CHILD = """
import os
import sys
import time
from pathlib import Path

from qa.index.build import Lock, beside
from qa.shared import forked_pool


def pid_after(seconds):
    time.sleep(seconds)
    return os.getpid()


with Lock(Path(sys.argv[1])):
    pool = forked_pool(2)
    workers = set(pool.map(pid_after, [0.5] * 4))
    pool.submit(time.sleep, 120)
    wait = beside(lambda: {"pid": os.getpid(), "slept": time.sleep(120)})
    print(*workers, flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_build_leaves_no_worker_and_no_lock(tmp_path, kill):
    child = subprocess.Popen(
        [sys.executable, "-c", WORKERS_CHILD, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    workers = [int(pid) for pid in child.stdout.readline().split()]
    children = [int(p) for p in Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()]
    assert len(workers) == 2 and set(workers) < set(children) and len(children) == 3  # and the writer
    child.send_signal(kill)
    child.wait()
    with Lock(tmp_path):  # at once: no process of the killed build holds it
        pass
    deadline = time.monotonic() + 5
    while any(map(_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, children))


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.slow
def test_the_index_command_killed_while_its_workers_encode_can_build_again_at_once(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [{"title": f"Synthetic report {i} on the harbour of town {i % 97}", "summary": f"Cargo {i} " * 20}
             for i in range(2000)]
    (corpus / "synthetic.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    argv = [sys.executable, "-m", "archive_qa", "index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    env = {**os.environ, "PYTHONPATH": str(REPO), "ARCHIVE_QA_CACHE": str(embedder.cache)}
    build = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(workers := _children(build.pid)) < 2 and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) >= 2, "the build never started its encoding workers"
    time.sleep(1)  # they encode
    build.send_signal(signal.SIGKILL)
    build.wait()
    again = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "index built: 2000 records" in again.stdout, again.stderr
    assert not any(map(_alive, workers))


# ---------------------------------------------------------------------------------------------- only its own folders


def test_a_folder_holding_other_files_is_refused_and_left_as_it_was(hashing_copy, tmp_path, capfd):
    release = tmp_path / "p" / BUILDS / "release"
    release.mkdir(parents=True)
    (release / "app.bin").write_text("x", encoding="utf-8")
    config = replace(hashing_copy, index=tmp_path / "p")
    status, out, err = run(capfd, "index", *where(config))
    assert_one_line(status, out, err, "already holds files that archive-qa did not make")
    assert (release / "app.bin").read_text(encoding="utf-8") == "x"
    assert sorted(p.name for p in (tmp_path / "p").rglob("*")) == ["app.bin", BUILDS, "release"]


def test_a_build_keeps_a_foreign_folder_under_builds(hashing_copy):
    foreign = hashing_copy.index_dir / BUILDS / "release"
    foreign.mkdir()
    (foreign / "app.bin").write_text("x", encoding="utf-8")
    elsewhere = hashing_copy.index_dir.parent / "elsewhere"  # a link to a build folder elsewhere is not followed
    shutil.copytree(current(hashing_copy), elsewhere)
    (hashing_copy.index_dir / BUILDS / "linked").symlink_to(elsewhere)
    _build(hashing_copy, HashingEmbedder(), force=True)
    assert (foreign / "app.bin").read_text(encoding="utf-8") == "x"
    assert (elsewhere / MANIFEST).is_file()
    assert {p.name for p in builds(hashing_copy)} == {"release", "linked", current(hashing_copy).name}


def test_index_folders_sharing_one_builds_folder_keep_each_others_builds(hashing_copy, tmp_path):
    other = replace(hashing_copy, index=tmp_path / "other-index")
    _build(other, HashingEmbedder())
    shared = tmp_path / "shared-builds"
    shared.mkdir()
    for config in (hashing_copy, other):  # builds/ moved to one folder both link to
        for build in builds(config):
            build.rename(shared / build.name)
        (config.index_dir / BUILDS).rmdir()
        (config.index_dir / BUILDS).symlink_to(shared)
    theirs = current(other)
    _build(hashing_copy, HashingEmbedder(), force=True)
    _build(hashing_copy, HashingEmbedder(), force=True)
    assert current(other) == theirs and ArchiveIndex.load(other).count == 10
    assert sorted(shared.iterdir()) == sorted([theirs, current(hashing_copy)])  # its own old builds removed


def test_a_lock_file_replaced_by_a_link_is_never_followed(hashing_copy, tmp_path, capfd):
    precious = tmp_path / "precious.txt"
    precious.write_text("the user's notes", encoding="utf-8")
    lock = hashing_copy.index_dir / ".lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(precious)
    assert_one_line(*run(capfd, "index", *where(hashing_copy)), f"{lock} is a link or not a regular file: remove it")
    assert precious.read_text(encoding="utf-8") == "the user's notes"
    lock.unlink()
    os.mkfifo(lock)  # nor waited on: a FIFO is refused as a link is
    assert_one_line(*run(capfd, "index", *where(hashing_copy)), f"{lock} is a link or not a regular file")


def test_an_index_path_that_is_a_file_is_refused(hashing_copy, tmp_path, capfd):
    (tmp_path / "index.txt").write_text("mine", encoding="utf-8")
    config = replace(hashing_copy, index=tmp_path / "index.txt")
    assert_one_line(*run(capfd, "index", *where(config)), "is a file: choose a folder for the index")
    assert (tmp_path / "index.txt").read_text(encoding="utf-8") == "mine"


def test_a_copied_index_can_be_updated(hashing_copy, tmp_path):
    copy = replace(hashing_copy, index=tmp_path / "copy")
    shutil.copytree(hashing_copy.index_dir, copy.index_dir, symlinks=False)  # `current` is now a real folder
    assert not (copy.index_dir / CURRENT).is_symlink()
    assert ArchiveIndex.load(copy).count == 10
    (copy.corpus / "extra.jsonl").write_text(json.dumps({"title": "A new telegram"}) + "\n", encoding="utf-8")
    assert _counts(_build(copy, HashingEmbedder())) == (11, 1, 10, 0)
    assert (copy.index_dir / CURRENT).is_symlink() and ArchiveIndex.load(copy).count == 11
    assert builds(copy) == [current(copy)]  # the copied builds are gone
    assert not list(copy.index_dir.glob(f".{CURRENT}-*"))


# ---------------------------------------------------------------------------------------------- flat and HNSW

QUESTIONS = [
    "Romanian party leaders worry about publishing the Chinese and Soviet declarations",
    "Mikoyan's talks with Mao in February 1949",
    "the Soviet loan to China discussed with the CCP delegation",
    "Kovalev relays requests from Liu Shaoqi and Gao Gang",
    "the politburo discusses the economic situation",
]


def test_hnsw_when_forced_finds_the_same_top_hits(hashing_copy, hashing_index, hashing_embedder):
    assert _counts(_build(replace(hashing_copy, index_kind="hnsw"))) == (10, 0, 10, 0)
    assert (read_manifest(hashing_copy)["kind"], read_manifest(hashing_copy)["vector_dtype"]) == ("hnsw", "float16")
    graph = segment_path(hashing_copy, SEGMENT_FILE)
    assert graph.is_file()
    hnsw = ArchiveIndex.load(hashing_copy)
    assert hnsw.vector_index.kind == "hnsw" and hashing_index.vector_index.kind == "flat"
    in_1949 = DateFilter(19490101, 19491231, keep_undated=False)
    for question in QUESTIONS:
        assert _top(hnsw, hashing_embedder, question, mode="dense") == _top(
            hashing_index, hashing_embedder, question, mode="dense"
        )
        got = search(hnsw, question, hashing_embedder, 3, "dense", in_1949)
        exact = search(hashing_index, question, hashing_embedder, 3, "dense", in_1949)
        assert [h.id for h in got] == [h.id for h in exact]
        # float16 storage (the default of an approximate index) keeps a cosine to about 1e-3
        assert [h.similarity for h in got] == pytest.approx([h.similarity for h in exact], abs=1e-3)
    graph.write_bytes(graph.read_bytes()[:-100])  # the graph is checked like every other file
    with pytest.raises(IndexProblem, match="vectors.faiss is truncated or damaged"):
        ArchiveIndex.load(hashing_copy)


def test_float32_asked_for_over_float16_vectors_encodes_them_again(hashing_copy, counter):
    exact = np.asarray(ArchiveIndex.load(hashing_copy).vectors, dtype=np.float32)
    assert _counts(_build(replace(hashing_copy, vector_dtype="float16"))) == (10, 0, 10, 0)  # narrowed, not encoded
    rounded = np.asarray(ArchiveIndex.load(hashing_copy).vectors, dtype=np.float32)
    assert 0 < np.abs(rounded - exact).max() < 1e-3
    assert _counts(_build(replace(hashing_copy, vector_dtype="float32"), counter)) == (10, 10, 0, 0)
    np.testing.assert_array_equal(np.asarray(ArchiveIndex.load(hashing_copy).vectors), exact)  # float32 again
    assert _counts(_build(replace(hashing_copy, vector_dtype="float16"))) == (10, 0, 10, 0)
    # `auto` (float32 for a flat index, as after a kind change by the size rule) keeps the stored vectors
    assert _counts(_build(replace(hashing_copy, vector_dtype="auto"))) == (10, 0, 10, 0)
    assert read_manifest(hashing_copy)["vector_dtype"] == "float32"


def test_the_index_kind_flag_and_the_size_threshold(hashing_copy, capfd):
    status, out, _ = run(capfd, "index", *where(hashing_copy), "--index-kind", "hnsw")
    assert status == 0 and out.startswith("index built: 10 records (0 embedded, 10 reused, 0 removed)")
    assert read_manifest(hashing_copy)["kind"] == "hnsw"
    assert run(capfd, "index", *where(hashing_copy))[0] == 0  # auto again: 10 records are well under the threshold
    assert read_manifest(hashing_copy)["kind"] == "flat"
    _build(replace(hashing_copy, hnsw_threshold=5))
    assert read_manifest(hashing_copy)["kind"] == "hnsw"
    assert ArchiveIndex.load(hashing_copy).vector_index.kind == "hnsw"


# ---------------------------------------------------------------------------------------------- models


def test_another_model_from_the_environment_or_the_flag(hashing_copy, monkeypatch, capfd):
    argv = ["index", "--corpus", str(hashing_copy.corpus), "--index", str(hashing_copy.index_dir)]
    monkeypatch.setenv("ARCHIVE_QA_MODEL", "hashing:32")
    status, out, err = run(capfd, *argv)
    assert status == 0 and out.startswith("index built: 10 records (10 embedded, 0 reused, 0 removed) in ")
    assert "embedding" in err and "10/10" in err  # the progress bar
    assert (read_manifest(hashing_copy)["model"], read_manifest(hashing_copy)["dim"]) == ("hashing:32", 32)
    index = ArchiveIndex.load(Config.from_env(corpus=hashing_copy.corpus, index=hashing_copy.index_dir))
    assert index.dim == 32 and index.vectors.shape == (10, 32)
    with pytest.raises(IndexProblem, match="built with model 'hashing:32', not 'hashing:64'"):
        ArchiveIndex.load(hashing_copy)
    # the flag wins over the environment; the other model's vectors are not reused for this one
    status, out, _ = run(capfd, *argv, "--model", "hashing:64")
    assert status == 0 and out.startswith("index built: 10 records (10 embedded, 0 reused, 0 removed)")
    assert (read_manifest(hashing_copy)["model"], read_manifest(hashing_copy)["dim"]) == ("hashing:64", 64)


# ---------------------------------------------------------------------------------------------- the command's errors


def _hold_lock(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    stack.enter_context(Lock(config.index_dir))
    return config


def _empty_corpus(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    (tmp_path / "empty").mkdir()
    return replace(config, corpus=tmp_path / "empty", index=tmp_path / "new-index")


def _bad_corpus_file(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    (config.corpus / "bad.jsonl").write_text('{"title": "fine"}\n{"title": \n', encoding="utf-8")
    return config


def _missing_alias_file(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    stack.enter_context(pytest.MonkeyPatch.context()).setenv("ARCHIVE_QA_ALIASES", str(tmp_path / "missing.tsv"))
    return config


def _missing_model_folder(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    (config.corpus / "extra.jsonl").write_text('{"title": "A new telegram"}\n', encoding="utf-8")  # needs encoding
    return replace(config, model=str(tmp_path / "no-such-model"))


def _full_disk(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    (config.corpus / "extra.jsonl").write_text('{"title": "A new telegram"}\n', encoding="utf-8")

    def full(self, folder: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    stack.enter_context(pytest.MonkeyPatch.context()).setattr(Postings, "save", full)
    return config


def _full_disk_for_records(config: Config, stack: ExitStack, tmp_path: Path) -> Config:
    (config.corpus / "extra.jsonl").write_text('{"title": "A new telegram"}\n', encoding="utf-8")

    def full(folder, *args) -> None:  # written by a forked process: its error comes back in one line
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / RECORDS))

    stack.enter_context(pytest.MonkeyPatch.context()).setattr(build_module, "write_records", full)
    return config


INDEX_ERRORS = {
    "another build running": (_hold_lock, "another `archive-qa index` is building this index"),
    "no records": (_empty_corpus, "no records in"),
    "a corpus problem": (_bad_corpus_file, "the corpus has 1 problem(s), first"),
    "a missing alias file": (_missing_alias_file, "missing.tsv: cannot read alias file"),
    "a missing model folder": (_missing_model_folder, "no-such-model' does not exist: choose an existing"),
    "a full disk": (_full_disk, "cannot write the index in"),
    "a full disk for the records": (_full_disk_for_records, "No space left on device"),
}


@pytest.mark.parametrize("case", list(INDEX_ERRORS))
def test_each_index_error_is_one_line_and_changes_nothing(hashing_copy, tmp_path, capfd, case):
    setup, expected = INDEX_ERRORS[case]
    before = builds(hashing_copy)
    with ExitStack() as stack:
        config = setup(hashing_copy, stack, tmp_path)
        assert_one_line(*run(capfd, "index", *where(config)), expected)
    assert builds(hashing_copy) == before and ArchiveIndex.load(hashing_copy, check_stale=False).count == 10
    assert not (tmp_path / "new-index" / CURRENT).exists()


def test_a_changed_analyzer_tokenises_every_record_again_without_encoding(hashing_copy):
    """New aliases (or a new romanisation table or analyzer version) change the analyzer's fingerprint: the next
    build reads every record's words with the new one, reusing every vector."""
    before = ArchiveIndex.load(hashing_copy)
    report = next(p for p in range(before.count) if before.records[p].title == "Report, Kovalev to Stalin")
    assert before.lexical.document_frequency("teacher") == 0
    extra = hashing_copy.corpus.parent / "extra.tsv"
    extra.write_text("teacher\tprofessors\n", encoding="utf-8")
    config = replace(hashing_copy, aliases=extra)
    assert _counts(_build(config)) == (10, 0, 10, 0)  # nothing encoded (`never` loads no model)
    after = ArchiveIndex.load(config)
    assert after.lexical.document_frequency("teacher") == 1
    assert int(after.lexical.search(after.analyzer.tokens("teachers"), 1)[0][0]) == report
    undated = [p for p in range(after.count) if not after.records[p].date]
    assert after.lexical.document_frequency("undat") == len(undated) > 0  # a record's date as shown is searched
