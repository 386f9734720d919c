"""Encoding on a Ray cluster (`archive-qa index --engine ray`): the texts as a Ray Data dataset, encoded in
batches by a pool of actors, one a CPU of the cluster, each holding the model.

`ray.init()` starts a local cluster unless RAY_ADDRESS (or the address given) names one to join, so the same
command runs on a laptop and on a cluster of many nodes. Only the encoding runs there: the vectors come back
to this process, which writes the build as the local path does.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

import numpy as np

from qa.errors import RAY_INSTALL, EngineError

BLOCK = 1024  # texts a block of the dataset holds at most: blocks are what the actors share out
BLOCKS_PER_ACTOR = 4  # fewer texts than BLOCK for each: blocks small enough that every actor has its share
Progress = Callable[[int, int], None]
CONNECT_TIMEOUT_S = 5.0  # a cluster address that does not answer in this long is refused (Ray retries for minutes)


def import_ray():
    """The `ray` module with its data library, or EngineError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - the data library is part of the extra
    except ImportError:
        raise EngineError("--engine ray needs Ray, which is not installed", RAY_INSTALL) from None
    return ray


def connect(address: str | None = None):
    """Join the cluster at `address` (else RAY_ADDRESS), or start a local one; quiet, once per process."""
    ray = import_ray()
    if not ray.is_initialized():
        check_reachable(address)
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                ignore_reinit_error=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "RAY_ADDRESS"
            raise EngineError(f"cannot start or join the Ray cluster ({where}): {str(exc).splitlines()[0]}") from None
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # not its notes on progress bars and block counts
    return ray


def check_reachable(address: str | None) -> None:
    """The cluster at `address` (else RAY_ADDRESS), when named by host and port (`host:port` or
    `ray://host:port`), answers within CONNECT_TIMEOUT_S, or EngineError says so at once: given an address
    nobody listens on, Ray itself retries for many minutes. Other forms ("auto", "local", none) are left to
    Ray's own rules."""
    address = address or os.environ.get("RAY_ADDRESS") or ""
    host, colon, port = address.strip().removeprefix("ray://").rpartition(":")
    if not colon or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise EngineError(
            f"cannot reach the Ray cluster at {address} ({reason}): start it (`ray start --head` on its head node) "
            "or give its address with --ray-address or RAY_ADDRESS"
        ) from None


class _Encoder:
    """A Ray actor's encoder: the model, made once by the factory, on the actor's one CPU. The embedder encodes
    each text alone, so its vectors are the local path's whichever texts share a block."""

    def __init__(self, make_embedder: Callable[[], object]) -> None:
        self.embedder = make_embedder()
        if getattr(self.embedder, "device", "cpu") == "cpu" and hasattr(self.embedder, "threads"):
            self.embedder.threads = 1  # one actor a CPU: its work on one thread

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode([str(t) for t in batch["text"]])
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}


def workers(ray) -> int:
    """How many actors encode: one a CPU of the cluster."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def gpu_workers(ray) -> tuple[int, dict]:
    """How many actors encode on GPUs (one a GPU of the cluster) and what each asks for; EngineError when the
    cluster has none."""
    count = int(ray.cluster_resources().get("GPU", 0))
    if not count:
        raise EngineError("--device cuda: the Ray cluster has no GPUs (ray.cluster_resources() lists none)")
    return count, {"num_gpus": 1}


def encode_on_ray(
    texts: list[str],
    make_embedder: Callable[[], object],
    *,
    address: str | None = None,
    progress: Progress | None = None,
    gpus: bool = False,
) -> np.ndarray:
    """Normalised float32 vectors of the texts, in order, encoded by actors of the Ray cluster: one a CPU, or
    with `gpus` one a GPU of the cluster (each actor given its GPU by Ray)."""
    ray = connect(address)
    import pyarrow as pa

    table = pa.table({"row": np.arange(len(texts), dtype=np.int64), "text": pa.array(texts, type=pa.string())})
    actors, resources = gpu_workers(ray) if gpus else (workers(ray), {"num_cpus": 1})
    size = max(1, min(BLOCK, -(-len(texts) // (actors * BLOCKS_PER_ACTOR))))
    blocks = [table.slice(start, size) for start in range(0, len(texts), size)]
    pool = ray.data.ActorPoolStrategy(size=min(actors, len(blocks)))
    encoded = ray.data.from_arrow(blocks).map_batches(
        _Encoder,
        fn_constructor_args=(make_embedder,),
        batch_size=size,
        batch_format="numpy",
        compute=pool,
        **resources,
    )
    out: np.ndarray | None = None
    done = 0
    for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
        if out is None:
            out = np.zeros((len(texts), batch["vector"].shape[1]), dtype=np.float32)
        out[batch["row"]] = batch["vector"]
        done += len(batch["row"])
        if progress is not None:
            progress(done, len(texts))
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
