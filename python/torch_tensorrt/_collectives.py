"""Collective operators and the rank of per-rank artifacts (tensor-parallel programs under ``torch.distributed``).

A tensor-parallel model compiles per rank: each rank's program holds its shard of the weights and calls
collectives (all-reduce, all-gather, reduce-scatter, ``wait_tensor``) between the parts that TensorRT runs.
Collectives always run in PyTorch, on the process group, because an engine cannot talk to other ranks. They are
recognised by operator *namespace* (functional collectives, their legacy and autograd spellings, the in-place
``c10d`` ops and the helpers DTensor lowers to), so new collectives of those libraries are covered without a list
to keep up to date. They are never evaluated at compile time (that would communicate while compiling).

A saved per-rank program records which rank of how many wrote it (:class:`RankInfo`, a JSON extra file of the
archive). Loading it checks the current process: another world size, or another rank, is an error naming the
file and both values -- a shard loaded on the wrong rank would compute silently wrong results.

Low level: imports only torch (``torch.distributed`` lazily).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Optional

import torch
import torch.fx

#: Operator namespaces whose ops communicate (or wait for communication) on a process group.
COLLECTIVE_NAMESPACES = frozenset(
    {
        "_c10d_functional",  # torch.distributed._functional_collectives, DTensor redistribution
        "_c10d_functional_autograd",  # the differentiable spellings of the same
        "c10d_functional",  # legacy functional collectives
        "c10d",  # in-place collectives (dist.all_reduce traced as an op)
        "_dtensor",  # DTensor's own (shard_dim_alltoall, mesh_get_process_group)
        "device_mesh",  # DeviceMesh helpers DTensor may trace
    }
)

#: Why a collective stays in PyTorch (partition and coverage reports).
COLLECTIVE_REASON = "collective: runs in PyTorch on the process group"

#: Name of the JSON entry recording the rank in a saved archive (``torch.export.save(extra_files=...)``).
RANK_FILE = "torchtrt_rank.json"


def is_collective_target(target: Any) -> bool:
    """True for an operator (``OpOverload`` or packet) of one of :data:`COLLECTIVE_NAMESPACES`."""
    namespace = getattr(target, "namespace", None)
    if namespace is None and isinstance(target, torch._ops.OpOverloadPacket):
        namespace = target._qualified_op_name.split("::")[0]
    return namespace in COLLECTIVE_NAMESPACES


def is_collective(node: torch.fx.Node) -> bool:
    """True when ``node`` calls a collective operator."""
    return node.op == "call_function" and is_collective_target(node.target)


def collective_nodes(nodes: Iterable[torch.fx.Node]) -> list[torch.fx.Node]:
    return [n for n in nodes if is_collective(n)]


def module_has_collectives(module: Any) -> bool:
    """True when a graph of ``module`` (an ExportedProgram, or any of a module's GraphModules) calls a collective."""
    if isinstance(module, torch.export.ExportedProgram):
        module = module.graph_module
    if not isinstance(module, torch.nn.Module):
        return False
    return any(
        isinstance(m, torch.fx.GraphModule) and any(is_collective(n) for n in m.graph.nodes) for m in module.modules()
    )


# -------------------------------------------------------------------------------------------------- ranks
@dataclass(frozen=True)
class RankInfo:
    """Which rank of how many processes a per-rank program belongs to."""

    rank: int
    world_size: int
    backend: str = ""

    @classmethod
    def current(cls) -> "RankInfo":
        """This process's rank in the default process group; rank 0 of 1 when ``torch.distributed`` is not
        initialized (a single process)."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), str(dist.get_backend()))
        return cls(0, 1, "")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> "RankInfo":
        try:
            value = json.loads(text)
            return cls(int(value["rank"]), int(value["world_size"]), str(value.get("backend", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{where}: {RANK_FILE} is not a rank record ({exc})") from exc


def rank_path(path: str, info: Optional[RankInfo] = None) -> str:
    """``path`` with ``{rank}`` and ``{world_size}`` replaced by this process's values (one file per rank:
    ``"tp_rank{rank}.ep"``). Paths without placeholders are returned unchanged."""
    if "{rank}" not in path and "{world_size}" not in path:
        return path
    info = info or RankInfo.current()
    return path.replace("{rank}", str(info.rank)).replace("{world_size}", str(info.world_size))


def rank_save_kwargs(program: Any) -> dict[str, Any]:
    """Keyword arguments of ``torch.export.save`` recording the rank of a program that calls collectives
    (``extra_files``); none for any other program."""
    if not module_has_collectives(program):
        return {}
    return {"extra_files": {RANK_FILE: RankInfo.current().to_json()}}


def recorded_rank(path: str) -> Optional[RankInfo]:
    """The :class:`RankInfo` saved in the archive at ``path``, or None when it holds none."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as zf:
        entry = next((n for n in zf.namelist() if n.rsplit("/", 1)[-1] == RANK_FILE), None)
        if entry is None:
            return None
        return RankInfo.from_json(zf.read(entry).decode("utf-8"), repr(path))


class RankMismatchError(RuntimeError):
    """A per-rank program loaded by a process of another world size or rank."""


def check_rank(path: str, current: Optional[RankInfo] = None) -> Optional[RankInfo]:
    """Raise :class:`RankMismatchError` when the program at ``path`` was saved for another world size or rank
    than ``current`` (default: this process). Returns the recorded info (None for programs without collectives)."""
    saved = recorded_rank(path)
    if saved is None:
        return None
    current = current or RankInfo.current()
    hint = (
        f"; launch {saved.world_size} processes (torchrun --nproc-per-node {saved.world_size}) and initialize "
        "torch.distributed before loading"
    )
    if saved.world_size != current.world_size:
        raise RankMismatchError(
            f"torch_tensorrt.load: {path!r} is rank {saved.rank} of a tensor-parallel program saved with world size "
            f"{saved.world_size}, but this process runs with world size {current.world_size}"
            + (" (torch.distributed is not initialized)" if not current.backend else "")
            + hint
        )
    if saved.rank != current.rank:
        raise RankMismatchError(
            f"torch_tensorrt.load: {path!r} holds the shard of rank {saved.rank} (world size {saved.world_size}), "
            f"but this process is rank {current.rank}; load the file saved by rank {current.rank}"
        )
    return saved
