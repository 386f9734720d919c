"""Fuzzing the index's manifest and files: any manifest.json, and any damage to a build, gives a loaded index that
answers or one `IndexProblem` line saying what to run, never another exception; and what is refused, a plain
`index` repairs.

Runs on copies of the model-free `hashing:64` index (tests/conftest.py); profiles in tests/fuzz_helpers.py.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from fuzz_helpers import ODD_TEXT, PROFILE, examples, hang_guard, one_line
from hypothesis import given
from hypothesis import strategies as st

from qa.errors import IndexProblem
from qa.index.build import build_index
from qa.index.manifest import CURRENT, MANIFEST, Manifest, list_names
from qa.index.search import ArchiveIndex

DEEP = "[" * 100_000 + "]" * 100_000


def json_values() -> st.SearchStrategy:
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=2**70), st.floats(),
        st.text(max_size=20), st.sampled_from(ODD_TEXT + ["flat", "hnsw", "hashing:64", "../x", "/etc/hostname",
                                                          "bm25/x", "records.jsonl", "\ud800"]),
    )
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=10)


def refused_in_one_line(exc: IndexProblem) -> None:
    one_line(str(exc).encode("utf-8", "backslashreplace").decode())


# ---------------------------------------------------------------------------------------------- reading


@examples(60)
@given(raw=st.one_of(json_values().map(lambda v: json.dumps(v).encode()), st.binary(max_size=200),
                     st.sampled_from([b"", DEEP.encode(), b"\xef\xbb\xbf{}", b'{"format_version": 2}' * 2,
                                      b'{"format_version": 1e400}', b'{"format_version": "2"}'])))
def test_any_manifest_file_is_read_or_refused_in_one_line(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / MANIFEST).write_bytes(raw)
        try:
            with hang_guard():
                manifest = Manifest.read(Path(tmp))
        except IndexProblem as exc:
            refused_in_one_line(exc)
            return
        try:
            manifest.check(Path(tmp), manifest.model)
        except IndexProblem as exc:
            refused_in_one_line(exc)


@pytest.fixture(scope="module")
def build(hashing_config) -> tuple[Path, dict]:
    """The model-free build's folder and its manifest as JSON."""
    folder = (hashing_config.index_dir / CURRENT).resolve()
    return folder, json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def _paths(value, prefix=()) -> list[tuple]:
    """Every place in a JSON value: the keys (and list positions) leading to it."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*prefix, i))
    return found


@st.composite
def mutated(draw, manifest: dict) -> dict:
    """A real manifest with one to three of its values replaced, removed, or added to."""
    manifest = json.loads(json.dumps(manifest))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(manifest)[1:]))
        *head, last = path
        parent = manifest
        for key in head:
            parent = parent[key]
        how = draw(st.sampled_from(["replace", "replace", "remove", "add", "number"]))
        if how == "replace":
            parent[last] = draw(json_values())
        elif how == "remove" and isinstance(parent, dict):
            del parent[last]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["records.jsonl", "bm25/extra", "x", "../up"]))] = draw(json_values())
        elif isinstance(parent[last], int) and not isinstance(parent[last], bool):
            parent[last] += draw(st.sampled_from([-1, 1, 10**6, -(10**6)]))
    return manifest


def _copy(config, tmp: str):
    root = Path(tmp)
    shutil.copytree(config.corpus, root / "corpus")
    shutil.copytree(config.index_dir, root / "index", symlinks=True)
    return dataclasses.replace(config, corpus=root / "corpus", index=root / "index")


@examples(40)
@given(data=st.data())
def test_a_real_manifest_changed_at_random_loads_or_is_refused(hashing_config, hashing_embedder, build, data) -> None:
    _, original = build
    manifest = data.draw(mutated(original))
    with tempfile.TemporaryDirectory() as tmp:
        config = _copy(hashing_config, tmp)
        (config.index_dir / CURRENT / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        if not loaded_and_searched(config, hashing_embedder) and repair(data):
            repaired_by_a_plain_build(config, hashing_embedder)


def loaded_and_searched(config, embedder) -> bool:
    """The index loads and answers a search in every mode (True), or is refused with one IndexProblem line."""
    try:
        with hang_guard():
            index = ArchiveIndex.load(config)
            for mode in ("dense", "bm25", "hybrid"):
                query = index.query("Stalin telegram to Mao", embedder if mode != "bm25" else None, mode)
                hits = index.search(query, 5, mode)
                assert all(0 <= h.position < index.count for h in hits)
                [index.records[h.position] for h in hits]
    except IndexProblem as exc:
        refused_in_one_line(exc)
        return False
    return True


def repair(data) -> bool:
    """Whether to check that a plain build repairs what was refused: always with the deep profile, for about a
    eighth of the examples in make test (a build a time is most of such an example's cost)."""
    return PROFILE == "deep" or data.draw(st.integers(0, 7), label="repair") == 0


def repaired_by_a_plain_build(config, embedder) -> None:
    """What loading refused, a plain `index` (no --force) builds again: the index then loads and answers."""
    with hang_guard():
        report = build_index(config, embedder=embedder)
    assert not report.up_to_date
    assert loaded_and_searched(config, embedder)


# ---------------------------------------------------------------------------------------------- damaged files


@examples(40)
@given(data=st.data())
def test_a_build_file_damaged_at_random_is_refused(hashing_config, hashing_embedder, build, data) -> None:
    folder, _ = build
    name = data.draw(st.sampled_from([MANIFEST, *list_names(folder)]))
    how = data.draw(st.sampled_from(["flip", "truncate", "empty", "append", "remove"]))
    with tempfile.TemporaryDirectory() as tmp:
        config = _copy(hashing_config, tmp)
        path = config.index_dir / CURRENT / name
        raw = bytearray(path.read_bytes())
        if how == "flip" and raw:
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] ^= data.draw(st.integers(1, 255))
        elif how == "truncate":
            raw = raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))]
        elif how == "empty":
            raw = bytearray()
        elif how == "append":
            raw += data.draw(st.binary(min_size=1, max_size=16))
        if how == "remove":
            path.unlink()
        else:
            path.write_bytes(bytes(raw))
        if not loaded_and_searched(config, hashing_embedder) and repair(data):
            repaired_by_a_plain_build(config, hashing_embedder)


# ---------------------------------------------------------------------------------------------- found by the fuzzer


@pytest.mark.parametrize("field", ["corpus", "built_at"])
def test_a_manifest_without_a_required_field_is_refused(hashing_config, build, field) -> None:
    """`make fuzz` found: a manifest without `corpus` (or `built_at`) raised TypeError in Manifest.read."""
    _, original = build
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / MANIFEST).write_text(json.dumps({k: v for k, v in original.items() if k != field}))
        with pytest.raises(IndexProblem, match="is missing or damaged"):
            Manifest.read(Path(tmp))
