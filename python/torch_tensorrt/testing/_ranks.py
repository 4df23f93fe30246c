"""``torch_tensorrt.testing.run_ranks``: run a function on N ranks of a fresh process group, with a deadline.

``run_ranks(fn, world_size, backend, *args, timeout=...)`` starts one process per rank (``spawn``: nothing
inherited from the caller but ``sys.path``), sets up ``torch.distributed`` on a free TCP port (``"gloo"`` on the
CPU; ``"nccl"`` with rank ``r`` on GPU ``r``), calls ``fn(rank, world_size, *args)`` -- a module-level function
-- and returns each rank's result (anything picklable). A rank that raises, exits or outlives the deadline fails
the run with its traceback; every process is killed on the way out, so a hung collective cannot hang a test.
With ``TORCHTRT_NAMES_ONLY_TRT=1`` each rank installs the names-only TensorRT stand-in (as the test suite does).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue
import socket
import time
import traceback
from typing import Any, Callable


class RankFailure(RuntimeError):
    """A rank raised, died or timed out."""


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _entry(
    fn: Callable[..., Any], rank: int, world_size: int, backend: str, port: int, results: Any, args: tuple
) -> None:
    try:
        if os.environ.get("TORCHTRT_NAMES_ONLY_TRT") == "1":
            from torch_tensorrt.testing import _names_only_trt

            _names_only_trt.install()
        import torch
        import torch.distributed as dist

        if backend == "nccl":
            torch.cuda.set_device(rank)
        device: dict[str, Any] = {"device_id": torch.device("cuda", rank)} if backend == "nccl" else {}
        dist.init_process_group(
            backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size, **device
        )
        try:
            value = fn(rank, world_size, *args)
        finally:
            dist.destroy_process_group()
        results.put((rank, True, pickle.dumps(value)))  # by value: tensors in shared memory die with the rank
    except BaseException:  # reported to the parent, which fails the test with it
        results.put((rank, False, traceback.format_exc()))


def run_ranks(fn: Callable[..., Any], world_size: int, backend: str, *args: Any, timeout: float = 600.0) -> list[Any]:
    """``[fn(0, world_size, *args), ..., fn(world_size - 1, ...)]``, each in its own process."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = free_port()
    procs = [
        ctx.Process(target=_entry, args=(fn, rank, world_size, backend, port, results, args), daemon=True)
        for rank in range(world_size)
    ]
    for p in procs:
        p.start()
    deadline = time.monotonic() + timeout
    values: dict[int, Any] = {}
    try:
        while len(values) < world_size:
            try:
                rank, ok, value = results.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() > deadline:
                    late = sorted(set(range(world_size)) - set(values))
                    raise RankFailure(f"ranks {late} did not finish in {timeout:.0f} s") from None
                dead = [i for i, p in enumerate(procs) if i not in values and p.exitcode not in (None, 0)]
                if dead and results.empty():
                    raise RankFailure(
                        f"rank {dead[0]} exited with code {procs[dead[0]].exitcode} without a result"
                    ) from None
                continue
            if not ok:
                raise RankFailure(f"rank {rank} failed:\n{value}")
            values[rank] = pickle.loads(value)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
    return [values[r] for r in range(world_size)]
