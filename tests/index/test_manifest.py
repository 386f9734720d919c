"""The index's on-disk format (qa/index/manifest.py): the manifest read, written and checked in one place, and the
corpus state a build records (size, modification and change time, digest) to tell a stale index."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from index_helpers import (
    assert_one_line,
    current,
    edit_manifest,
    listing,
    manifest_path,
    read_manifest,
    run,
    touch,
    where,
)

from qa.errors import IndexProblem
from qa.index import manifest as manifest_module
from qa.index import store as store_module
from qa.index.manifest import (
    BUILD_MARKER,
    FORMAT_VERSION,
    MANIFEST,
    RECORDS,
    SEGMENTS,
    Manifest,
    corpus_changes,
    corpus_state,
    describe_changes,
    list_names,
)
from qa.index.search import ArchiveIndex
from qa.index.vocabulary import VOCABULARY

FORCE = "run `archive-qa index --force`"
DEEP = "[" * 100_000 + "]" * 100_000


def _files_without(config, prefix: str) -> dict:
    return {name: entry for name, entry in read_manifest(config)["files"].items() if not name.startswith(prefix)}


def _main_segment(config) -> str:
    """The folder of the build's main segment, relative to the build."""
    return f"{SEGMENTS}/{read_manifest(config)['segments'][0]['name']}/"


# ---------------------------------------------------------------------------------------------- reading and writing


def test_a_manifest_reads_back_as_written(hashing_copy, tmp_path):
    folder = current(hashing_copy)
    manifest = Manifest.read(folder)
    manifest.check(folder, "hashing:64")
    assert (manifest.model, manifest.dim, manifest.count, manifest.kind) == ("hashing:64", 64, 10, "flat")
    assert manifest.format_version == FORMAT_VERSION
    assert sorted(manifest.files) == list_names(folder)
    assert MANIFEST not in manifest.files and BUILD_MARKER not in manifest.files
    assert all(name.startswith((f"{SEGMENTS}/", f"{VOCABULARY}/")) for name in manifest.files if "/" in name)
    assert [s["rows"] for s in manifest.segments] == [10] and manifest.vector_dtype == "float32"
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "records.jsonl").write_text("{}\n", encoding="utf-8")
    replace(manifest, count=1).write(tmp_path / "copy")  # the file list is made from the folder written into
    again = json.loads((tmp_path / "copy" / MANIFEST).read_text(encoding="utf-8"))
    assert again["count"] == 1 and list(again["files"]) == ["records.jsonl"]
    assert again["files"]["records.jsonl"]["size"] == 3


def _write(text: str | bytes):
    def damage(config):
        path = manifest_path(config)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    return damage


def _edit(**changes):
    return lambda config: edit_manifest(config, **changes)


def _edit_files(change):
    return lambda config: edit_manifest(config, files=change(read_manifest(config)["files"]))


DAMAGED = {
    "missing": lambda c: manifest_path(c).unlink(),
    "empty": _write(""),
    "not JSON": _write("{not json"),
    "not UTF-8": _write(b"\xff\xfe{}"),
    "nested 100,000 deep": _write(DEEP),
    "a field nested 100,000 deep": lambda c: _write(json.dumps(read_manifest(c))[:-1] + f', "x": {DEEP}}}')(c),
    "a list": _write("[]"),
    "no file list": _edit(files=None),
    "no postings files": lambda c: edit_manifest(c, files=_files_without(c, _main_segment(c) + "rows")),
    "no segments": _edit(segments=None),
    "a segment with a path for a name": _edit(segments=[{"name": "../x", "kind": "flat", "rows": 10}]),
    "a segment of another kind than the index": _edit(segments=[{"name": "abc", "kind": "hnsw", "rows": 10}]),
    "an unknown vector type": _edit(vector_dtype="int4"),
    "no dates file": lambda c: edit_manifest(c, files=_files_without(c, "dates.npy")),
    "an HNSW index whose main segment is exact": _edit(kind="hnsw"),
    "an unknown kind": _edit(kind="ivf"),
    "a count in words": _edit(count="ten"),
    "a negative count": _edit(count=-1),
    "a dimension of true": _edit(dim=True),
    "a file entry without a digest": _edit_files(lambda files: {**files, "dates.npy": {"size": 1}}),
    "a file outside the build": _edit_files(lambda files: {**files, "../../escape": files["dates.npy"]}),
    "an absolute file name": _edit_files(lambda files: {**files, "/etc/hostname": files["dates.npy"]}),
    "corpus times missing": lambda c: edit_manifest(
        c, corpus_files={name: {"size": 1, "sha256": "0"} for name in read_manifest(c)["corpus_files"]}
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_manifest_is_one_clear_line(hashing_copy, case):
    DAMAGED[case](hashing_copy)
    with pytest.raises(IndexProblem) as caught:
        Manifest.read(current(hashing_copy))
    message = str(caught.value)
    assert message == f"{manifest_path(hashing_copy).resolve()} is missing or damaged: {FORCE}"


def test_a_manifest_larger_than_any_real_one_is_not_read(hashing_copy, monkeypatch):
    monkeypatch.setattr(manifest_module, "MAX_MANIFEST_BYTES", 100)
    with pytest.raises(IndexProblem, match="is missing or damaged"):
        Manifest.read(current(hashing_copy))


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (99, f"has format 99; this version reads format {FORMAT_VERSION}"),
        (1, f"has format 1; this version reads format {FORMAT_VERSION}"),
        ("1", "is damaged (its format_version '1' is not a whole number)"),
        (None, "is damaged (its format_version None is not a whole number)"),
        (True, "is damaged (its format_version True is not a whole number)"),
        ("9" * 1000, f"is damaged (its format_version '{'9' * 36}... is not a whole number)"),
    ],
)
def test_a_manifest_of_another_format_says_which(hashing_copy, version, message):
    edit_manifest(hashing_copy, format_version=version)  # None: left out
    with pytest.raises(IndexProblem) as caught:
        Manifest.read(current(hashing_copy))
    assert str(caught.value) == f"{manifest_path(hashing_copy).resolve()} {message}: {FORCE}"


# ---------------------------------------------------------------------------------------------- checking a build


def test_every_file_of_a_build_is_listed_in_its_manifest(hashing_copy):
    folder = current(hashing_copy)
    files = read_manifest(hashing_copy)["files"]
    (folder / "people.extra").write_text("mine", encoding="utf-8")  # a file no format reads
    with pytest.raises(IndexProblem, match=r"index file .*people\.extra is not in the build's manifest"):
        Manifest.read(folder).check(folder, "hashing:64")
    (folder / "people.extra").unlink()
    edit_manifest(hashing_copy, files=files)
    Manifest.read(folder).check(folder, "hashing:64")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(IndexProblem, match=r"index file .*notes\.txt is not in the build's manifest"):
        Manifest.read(folder).check(folder, "hashing:64")


def test_the_model_check(hashing_copy):
    folder = current(hashing_copy)
    manifest = Manifest.read(folder)
    with pytest.raises(IndexProblem) as caught:
        manifest.check(folder, "hashing:32")
    assert str(caught.value) == (
        "the index was built with model 'hashing:64', not 'hashing:32' (choose that model, or rebuild): "
        "run `archive-qa index --model hashing:32`"
    )
    # the bundled model is one model whichever of its names is configured
    replace(manifest, model="all-MiniLM-L6-v2").check(folder, "sentence-transformers/all-MiniLM-L6-v2")


@pytest.mark.parametrize("missing", ["/no/such/model", "./models/none", "~/no-such-model-folder"])
def test_a_configured_model_folder_that_does_not_exist_names_the_model_that_works(hashing_copy, missing):
    folder = current(hashing_copy)
    with pytest.raises(IndexProblem) as caught:
        Manifest.read(folder).check(folder, missing)
    message = str(caught.value)
    assert f"the configured model {missing!r} is a folder that does not exist: choose 'hashing:64'" in message
    assert "archive-qa index --model" not in message


# ---------------------------------------------------------------------------------------------- the commands


def test_a_deeply_nested_manifest_stops_ask_and_is_repaired_by_index(hashing_copy, capfd):
    for repair in ([], ["--force"]):
        _write(DEEP)(hashing_copy)
        ask = ("ask", "Who met Mao in 1949?", *where(hashing_copy))
        assert_one_line(*run(capfd, *ask), "manifest.json is missing or damaged", FORCE)
        status, out, _ = run(capfd, "index", *where(hashing_copy), *repair)
        assert status == 0 and out.startswith("index built: 10 records (10 embedded, 0 reused")
        assert run(capfd, *ask)[0] == 0


def test_a_manifest_leaving_out_the_postings_files_is_refused_and_index_rebuilds(hashing_copy, capfd):
    edit_manifest(hashing_copy, files=_files_without(hashing_copy, _main_segment(hashing_copy)))
    (current(hashing_copy) / _main_segment(hashing_copy) / "rows.npy").write_bytes(b"\x93NUMPY damaged")
    ask = ("ask", "Who met Mao in 1949?", *where(hashing_copy))
    assert_one_line(*run(capfd, *ask), "manifest.json is missing or damaged", FORCE)
    status, out, _ = run(capfd, "index", *where(hashing_copy))
    assert status == 0 and out.startswith("index built: 10 records (10 embedded")  # not "up to date"
    assert run(capfd, *ask)[0] == 0


def _segment_rows(config) -> None:
    segments = read_manifest(config)["segments"]
    segments[0]["rows"] += 1
    edit_manifest(config, segments=segments)


def _not_a_file(make):
    def damage(config) -> None:
        path = manifest_path(config).resolve()
        path.unlink()
        make(path)

    return damage


FIELDS_OFF = {
    "float16 named for float32 vectors": lambda c: edit_manifest(c, vector_dtype="float16"),
    "one record more": lambda c: edit_manifest(c, count=read_manifest(c)["count"] + 1),
    "one record fewer": lambda c: edit_manifest(c, count=read_manifest(c)["count"] - 1),
    "one dimension more": lambda c: edit_manifest(c, dim=read_manifest(c)["dim"] + 1),
    "a segment row more": _segment_rows,
    "hnsw named for a flat segment": lambda c: edit_manifest(
        c, kind="hnsw", segments=[{**s, "kind": "hnsw"} for s in read_manifest(c)["segments"]]
    ),
    "the manifest a link to /dev/zero": _not_a_file(lambda path: path.symlink_to("/dev/zero")),
    "the manifest a FIFO": _not_a_file(os.mkfifo),
    "the manifest a folder": _not_a_file(lambda path: path.mkdir()),
}


@pytest.mark.parametrize("case", list(FIELDS_OFF))
def test_what_ask_refuses_in_one_line_a_plain_index_repairs(hashing_copy, capfd, case):
    FIELDS_OFF[case](hashing_copy)
    ask = ("ask", "Who met Mao in 1949?", *where(hashing_copy))
    assert_one_line(*run(capfd, *ask), FORCE)
    status, out, err = run(capfd, "index", *where(hashing_copy))
    assert status == 0 and out.startswith("index built: 10 records (10 embedded"), err  # not "up to date"
    assert run(capfd, *ask)[0] == 0


def test_a_large_records_file_is_checked_block_by_block_as_read(hashing_copy, capfd, monkeypatch):
    monkeypatch.setattr(manifest_module, "VERIFY_LIMIT", 1000)  # the shipped records count as a large file
    monkeypatch.setattr(manifest_module, "BLOCK", 4096)
    monkeypatch.setattr(store_module, "BLOCK", 4096)
    assert run(capfd, "index", "--force", *where(hashing_copy))[0] == 0
    entry = read_manifest(hashing_copy)["files"][RECORDS]
    assert len(entry["blocks"]) == -(-entry["size"] // 4096) > 1
    records = current(hashing_copy) / RECORDS
    raw = records.read_bytes()
    at = raw.index(b'"title": "') + len(b'"title": "')  # one character of the first title changed, size the same
    records.write_bytes(raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1 :])
    ask = ("ask", "Who met Mao in 1949?", *where(hashing_copy))
    assert_one_line(*run(capfd, *ask), f"index file {records} is damaged", FORCE)
    status, out, err = run(capfd, "index", *where(hashing_copy))
    assert status == 0 and out.startswith("index built: 10 records (10 embedded"), err
    assert run(capfd, *ask)[0] == 0


def test_a_string_format_version_is_one_sensible_line_for_ask(hashing_copy, capfd):
    edit_manifest(hashing_copy, format_version="1")
    ask = ("ask", "Who met Mao in 1949?", *where(hashing_copy))
    assert_one_line(*run(capfd, *ask), "its format_version '1' is not a whole number", FORCE)


def test_a_missing_model_folder_in_the_environment_names_the_model_that_works(
    hashing_copy, tmp_path, monkeypatch, capfd
):
    missing = str(tmp_path / "models" / "gone")
    monkeypatch.setenv("ARCHIVE_QA_MODEL", missing)
    place = ("--corpus", str(hashing_copy.corpus), "--index", str(hashing_copy.index_dir))
    status, out, err = run(capfd, "ask", "Who met Mao in 1949?", *place)
    assert_one_line(status, out, err, f"{missing!r} is a folder that does not exist: choose 'hashing:64'")
    assert f"--model {missing}" not in err
    status, out, err = run(capfd, "index", *place)
    assert_one_line(status, out, err, f"model folder {missing!r} does not exist")
    monkeypatch.setenv("ARCHIVE_QA_MODEL", "hashing:64")  # what the message said to do
    assert run(capfd, "ask", "Who met Mao in 1949?", *place)[0] == 0


# ---------------------------------------------------------------------------------------------- the corpus state


def test_the_corpus_state_records_size_times_and_digest(hashing_copy):
    state = corpus_state(hashing_copy.corpus)
    (name,) = state
    path = hashing_copy.corpus / name
    stat = path.stat()
    assert state[name]["size"] == stat.st_size
    assert (state[name]["mtime_ns"], state[name]["ctime_ns"]) == (stat.st_mtime_ns, stat.st_ctime_ns)
    assert len(state[name]["sha256"]) == 64
    assert corpus_changes(hashing_copy.corpus, state) == []


def test_a_same_size_edit_with_its_modification_time_put_back_is_seen(hashing_copy):
    path = listing(hashing_copy)
    before = path.stat()
    data = path.read_bytes()
    edited = data.replace(b"Kovalev", b"Kovalyv", 1)
    assert len(edited) == len(data) and edited != data
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # what `touch -r` does
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    name = str(path.relative_to(hashing_copy.corpus))
    assert corpus_changes(hashing_copy.corpus, read_manifest(hashing_copy)["corpus_files"]) == [f"changed {name}"]
    with pytest.raises(IndexProblem, match=f"the corpus changed since the index was built \\(changed {name}\\)"):
        ArchiveIndex.load(hashing_copy)


def test_new_times_on_the_same_bytes_are_not_a_change(hashing_copy):
    touch(listing(hashing_copy))
    assert corpus_changes(hashing_copy.corpus, read_manifest(hashing_copy)["corpus_files"]) == []


def test_added_and_removed_files_and_their_description(hashing_copy):
    recorded = read_manifest(hashing_copy)["corpus_files"]
    (name,) = recorded
    for i in range(4):
        (hashing_copy.corpus / f"extra-{i}.jsonl").write_text('{"title": "A"}\n', encoding="utf-8")
    listing(hashing_copy).unlink()
    changes = corpus_changes(hashing_copy.corpus, recorded)
    assert changes == [f"removed {name}"] + [f"added extra-{i}.jsonl" for i in range(4)]
    assert describe_changes(changes) == (
        f"the corpus changed since the index was built (removed {name}, added extra-0.jsonl, added extra-1.jsonl…)"
    )
    assert describe_changes(changes[:1]) == f"the corpus changed since the index was built (removed {name})"
