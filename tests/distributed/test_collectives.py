"""Collectives in one process (no process group: nothing here executes a collective).

Partitioning of graphs that call functional collectives directly, the reason reports give, constant folding, and
the rank record of per-rank programs.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch
import torch.distributed._functional_collectives  # noqa: F401  (registers the legacy c10d_functional ops)
from torch import nn

import torch_tensorrt
from torch_tensorrt._collectives import (
    COLLECTIVE_REASON,
    RANK_FILE,
    RankInfo,
    RankMismatchError,
    check_rank,
    is_collective_target,
    rank_path,
    recorded_rank,
)
from torch_tensorrt.dynamo.distributed import collective_partitions, summarize

c10d = torch.ops._c10d_functional
GROUP = "0"  # the default group's name; resolved only when the collective runs


class Overlapped(nn.Module):
    """An all-reduce whose wait comes after independent work (the order a compiler emits for overlap)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = c10d.all_reduce(torch.relu(self.a(x)), "sum", GROUP)
        gate = torch.sigmoid(self.b(x))  # needs no communication: may run while the all-reduce is in flight
        return self.c(c10d.wait_tensor(reduced) * gate)


class GatherScatter(nn.Module):
    """Sequence-parallel style: all-gather, compute, reduce-scatter, compute."""

    def __init__(self, world: int = 2) -> None:
        super().__init__()
        self.world = world
        self.a, self.b, self.c = nn.Linear(16, 32), nn.Linear(32, 16), nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = c10d.wait_tensor(c10d.all_gather_into_tensor(torch.relu(self.a(x)), self.world, GROUP))
        part = c10d.wait_tensor(c10d.reduce_scatter_tensor(self.b(full) * 2.0, "sum", self.world, GROUP))
        return torch.tanh(self.c(part))


def _compile(model: nn.Module, x: torch.Tensor) -> torch.fx.GraphModule:
    with torch.no_grad(), torch_tensorrt.testing.simulate():
        return torch_tensorrt.compile(model.eval(), ir="dynamo", arg_inputs=[x], min_block_size=1)


@pytest.mark.parametrize(
    "op",
    [
        c10d.all_reduce.default,
        c10d.all_gather_into_tensor.default,
        c10d.reduce_scatter_tensor.default,
        c10d.wait_tensor.default,
        c10d.all_to_all_single.default,
        c10d.all_reduce,
        torch.ops.c10d_functional.all_reduce.default,
    ],
    ids=str,
)
def test_collectives_are_recognised_by_namespace(op: object) -> None:
    assert is_collective_target(op)


@pytest.mark.parametrize(
    "op",
    [torch.ops.aten.add.Tensor, torch.ops.aten.mm.default, torch.relu, None],
    ids=["aten.add", "aten.mm", "torch.relu", "None"],
)
def test_other_targets_are_not_collectives(op: object) -> None:
    assert not is_collective_target(op)


def test_wait_lands_with_its_collective_and_independent_work_does_not_split_an_engine() -> None:
    gm = _compile(Overlapped(), torch.randn(4, 16))
    info = summarize(gm)
    assert info.engines == 2  # one before the all-reduce, one after it: not one per operator
    assert info.torch_ops == ["_c10d_functional.all_reduce.default", "_c10d_functional.wait_tensor.default"]
    assert list(collective_partitions(gm).values()) == [info.torch_ops]


def test_gather_and_scatter_each_sit_between_two_engines() -> None:
    gm = _compile(GatherScatter(), torch.randn(4, 16))
    info = summarize(gm)
    assert info.engines == 3 and info.only_collectives
    assert list(collective_partitions(gm).values()) == [
        ["_c10d_functional.all_gather_into_tensor.default", "_c10d_functional.wait_tensor.default"],
        ["_c10d_functional.reduce_scatter_tensor.default", "_c10d_functional.wait_tensor.default"],
    ]


def test_coverage_gives_the_collective_reason() -> None:
    report = torch_tensorrt.dynamo.coverage(Overlapped(), [torch.randn(4, 16)], min_block_size=1)
    collectives = [n for n in report.nodes if n.op.startswith("_c10d_functional.")]
    assert [n.op for n in collectives] == [
        "_c10d_functional.all_reduce.default",
        "_c10d_functional.wait_tensor.default",
    ]
    assert all(n.reason == COLLECTIVE_REASON and not n.converts and n.partition == "" for n in collectives)
    assert len(report.engines) == 2


def test_a_collective_of_constants_is_not_folded() -> None:
    from torch_tensorrt.dynamo.lowering.passes.fold_constants import _foldable

    class ReducedWeight(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.randn(16))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + c10d.wait_tensor(c10d.all_reduce(self.w * 2.0, "sum", GROUP))

    ep = torch.export.export(ReducedWeight(), (torch.randn(4, 16),))
    nodes = {n.target: n for n in ep.module().graph.nodes if n.op == "call_function"}
    assert _foldable(nodes[torch.ops.aten.mul.Tensor])  # the constant arithmetic folds
    assert not _foldable(nodes[c10d.all_reduce.default])  # the communication does not


# ------------------------------------------------------------------------------------------------ ranks
def _archive(tmp_path: Path, info: RankInfo) -> str:
    path = tmp_path / "prog.ep"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("prog/extra/" + RANK_FILE, info.to_json())
        zf.writestr("prog/models/model.json", "{}")
    return str(path)


def test_rank_record_round_trips_and_mismatches_name_file_and_values(tmp_path: Path) -> None:
    path = _archive(tmp_path, RankInfo(1, 2, "nccl"))
    assert recorded_rank(path) == RankInfo(1, 2, "nccl")
    assert check_rank(path, RankInfo(1, 2, "gloo")) == RankInfo(1, 2, "nccl")
    with pytest.raises(RankMismatchError, match=r"world size 2, but this process runs with world size 4") as info:
        check_rank(path, RankInfo(1, 4, "nccl"))
    assert path in str(info.value)
    with pytest.raises(RankMismatchError, match=r"shard of rank 1 .* this process is rank 0"):
        check_rank(path, RankInfo(0, 2, "nccl"))


def test_a_corrupt_rank_record_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.ep"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bad/extra/" + RANK_FILE, json.dumps({"rank": "one"}))
    with pytest.raises(ValueError, match=r"bad.ep.*not a rank record"):
        recorded_rank(str(path))


def test_rank_placeholders_in_paths() -> None:
    assert rank_path("tp_rank{rank}_of_{world_size}.ep", RankInfo(3, 4)) == "tp_rank3_of_4.ep"
    assert rank_path("plain.ep", RankInfo(3, 4)) == "plain.ep"
    assert rank_path("tp_rank{rank}.ep") == "tp_rank0.ep"  # a process without torch.distributed is rank 0 of 1


def test_save_records_the_rank_of_programs_with_collectives_only(tmp_path: Path) -> None:
    x = torch.randn(4, 16)
    with_collectives = _compile(Overlapped(), x)
    torch_tensorrt.save(with_collectives, str(tmp_path / "tp_rank{rank}.ep"), arg_inputs=[x])
    assert recorded_rank(str(tmp_path / "tp_rank0.ep")) == RankInfo(0, 1, "")
    loaded = torch_tensorrt.load(str(tmp_path / "tp_rank{rank}.ep"))  # same world (1): loads
    assert summarize(loaded).torch_ops == [
        "_c10d_functional.all_reduce.default",
        "_c10d_functional.wait_tensor.default",
    ]

    plain = _compile(nn.Sequential(nn.Linear(16, 16), nn.ReLU()), x)
    torch_tensorrt.save(plain, str(tmp_path / "plain.ep"), arg_inputs=[x])
    assert recorded_rank(str(tmp_path / "plain.ep")) is None
