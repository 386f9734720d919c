"""`archive-qa index --engine ray`: the encoding as a Ray Data pipeline on a local cluster (2 CPUs), writing the
same build as the local path; and one line saying how to install Ray when it is missing.

Starting the local cluster takes several seconds, so one module-wide build on the shipped corpus (the model-free
embedder) serves the comparisons.
"""

from __future__ import annotations

import json
import socket
import sys
from dataclasses import replace

import numpy as np
import pytest
from index_helpers import Factory, assert_one_line, read_manifest, run, where

from embeddings.hashing import HashingEmbedder
from qa.config import Config
from qa.index.build import build_index
from qa.index.search import ArchiveIndex

ray = pytest.importorskip("ray", reason="Ray is part of the dev extra: pip install -e '.[dev]'")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own, about its settings


@pytest.fixture(scope="module")
def ray_cluster():
    """A local two-CPU cluster for this module, shut down after it. It declares one GPU (Ray takes the count it is
    given; there is none here): actors asking for a GPU are placed on it, so the GPU path's placement is tested."""
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _counts(report) -> tuple[int, int, int, int]:
    return report.count, report.embedded, report.reused, report.removed


@pytest.mark.slow  # starts a local Ray cluster
def test_the_ray_engine_writes_the_build_the_local_path_writes(ray_cluster, hashing_copy, tmp_path):
    on_ray = replace(hashing_copy, index=tmp_path / "ray", engine="ray")
    local = replace(hashing_copy, index=tmp_path / "local")
    assert _counts(build_index(on_ray, embedder=HashingEmbedder())) == (10, 10, 0, 0)
    build_index(local, embedder=HashingEmbedder())
    a, b = ArchiveIndex.load(on_ray), ArchiveIndex.load(local)
    assert list(a.records) == list(b.records)
    np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-5)
    assert read_manifest(on_ray)["segments"][0]["rows"] == 10
    # incremental as the local path: a new record is the only text the cluster encodes
    row = {"title": "A telegram from Kovalev to Filippov", "date": "1949-05-02"}
    (hashing_copy.corpus / "extra.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert _counts(build_index(on_ray, embedder_factory=Factory(HashingEmbedder()))) == (11, 1, 10, 0)
    assert _counts(build_index(local, embedder=HashingEmbedder())) == (11, 1, 10, 0)
    a, b = ArchiveIndex.load(on_ray), ArchiveIndex.load(local)
    assert [r.id for r in a.records] == [r.id for r in b.records]
    np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-5)


def test_with_the_real_model_and_the_default_encoder_the_cluster_gives_the_local_vectors(
    ray_cluster, shipped_copy, embedder, tmp_path
):
    # The actors make their embedder from the configuration, as the local build does; a text's vector must not
    # depend on which texts share its block (the local path encoded these 10 in one call, the actors 2 at a time).
    on_ray = replace(shipped_copy, index=tmp_path / "ray", engine="ray", cache=embedder.cache)
    local = replace(on_ray, index=tmp_path / "local", engine="local")
    assert on_ray.encoder == Config().encoder == embedder.encoder == "onnx-int8"
    assert _counts(build_index(on_ray)) == (10, 10, 0, 0)
    assert _counts(build_index(local, embedder=embedder)) == (10, 10, 0, 0)
    a, b = ArchiveIndex.load(on_ray), ArchiveIndex.load(local)
    assert list(a.records) == list(b.records)
    np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-5)


@pytest.mark.slow  # starts a local Ray cluster
def test_the_engine_flag_on_the_command_line(ray_cluster, hashing_copy, tmp_path, capfd):
    config = replace(hashing_copy, index=tmp_path / "cli")
    status, out, _ = run(capfd, "index", *where(config), "--engine", "ray")
    assert status == 0 and out.startswith("index built: 10 records (10 embedded, 0 reused, 0 removed)")
    assert ArchiveIndex.load(config).count == 10


def test_without_ray_the_flag_says_how_to_install_it(hashing_copy, monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    status, out, err = run(capfd, "index", *where(hashing_copy), "--engine", "ray")
    assert_one_line(status, out, err, "--engine ray needs Ray, which is not installed", "pip install 'archive-qa[ray]'")
    assert Config.from_env({"ARCHIVE_QA_ENGINE": "ray"}).engine == "ray"


def test_a_cluster_address_nobody_answers_is_refused_at_once(hashing_copy, capfd):
    with socket.socket() as probe:  # a port just freed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = sorted(p.name for p in (hashing_copy.index_dir / "builds").iterdir())
    address = f"127.0.0.1:{port}"
    status, out, err = run(capfd, "index", *where(hashing_copy), "--engine", "ray", "--ray-address", address)
    assert_one_line(status, out, err, f"cannot reach the Ray cluster at 127.0.0.1:{port}")
    assert "--ray-address or RAY_ADDRESS" in err
    assert sorted(p.name for p in (hashing_copy.index_dir / "builds").iterdir()) == before  # nothing written


@pytest.mark.slow  # starts a local Ray cluster
def test_with_device_cuda_each_actor_is_given_a_gpu_of_the_cluster(ray_cluster):
    from embeddings.ray_engine import encode_on_ray, gpu_workers

    class _OnItsGpu(HashingEmbedder):  # defined here: the actors receive it by value (tests are not importable there)
        """The model-free embedder, refusing to encode unless Ray gave its actor a GPU."""

        def encode(self, texts, **kwargs):
            if len(ray.get_gpu_ids()) != 1:
                raise RuntimeError(f"an actor without its GPU: {ray.get_gpu_ids()}")
            return super().encode(texts, **kwargs)

    texts = [f"Cable {i} from Kovalev to Filippov on the loan" for i in range(40)]
    assert gpu_workers(ray) == (1, {"num_gpus": 1})
    vectors = encode_on_ray(texts, _OnItsGpu, gpus=True)
    np.testing.assert_allclose(vectors, HashingEmbedder().encode(texts), atol=1e-6)
    with pytest.raises(Exception, match="an actor without its GPU"):  # the check above can fail: CPU actors have none
        encode_on_ray(texts, _OnItsGpu, gpus=False)


def test_a_cluster_without_gpus_is_refused_for_device_cuda():
    from embeddings.ray_engine import gpu_workers
    from qa.errors import EngineError

    class NoGpus:  # a cluster's resources as Ray reports them, without GPUs
        @staticmethod
        def cluster_resources():
            return {"CPU": 64.0, "memory": 1e11}

    with pytest.raises(EngineError, match="the Ray cluster has no GPUs"):
        gpu_workers(NoGpus)


def test_device_cuda_asks_for_the_torch_encoder_in_one_line(hashing_copy, capfd):
    status, out, err = run(capfd, "index", *where(hashing_copy), "--device", "cuda")
    assert_one_line(status, out, err, "device cuda runs the torch encoder only", "--device cuda --encoder torch")
