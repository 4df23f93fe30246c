"""Tensor-parallel models on 2 ranks, each compiled with torch_tensorrt, collectives in PyTorch between engines.

Cases (``_workers.CASES``): a Megatron MLP and an attention block with its heads sharded, both sharded with
``parallelize_module`` (DTensor), and the MLP sharded by hand with functional collectives. Every check runs on
each rank: output equal to the unsharded model, engines per rank, operators left to PyTorch (the collective and
its wait, in one partition), a per-rank save/load round trip, refusal of another rank's or world's file.

* ``gloo``: 2 spawned CPU processes, engines simulated (``testing.simulate()``); needs TensorRT to build them.
* ``nccl``: 2 processes on 2 GPUs with CUDA tensors; skipped with fewer than 2 GPUs. Without TensorRT there
  (our GPU machine) it loads the programs compiled elsewhere from ``TORCHTRT_DIST_ARTIFACTS``
  (``python tests/distributed/_workers.py DIR``) and runs them with the names-only TensorRT stand-in.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from torch_tensorrt._collectives import COLLECTIVE_REASON, RankInfo, RankMismatchError, recorded_rank
from torch_tensorrt.testing import run_ranks

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _workers import CASES, ENGINES, tp_rank  # noqa: E402

PAIR = ["_c10d_functional.all_reduce.default", "_c10d_functional.wait_tensor.default"]
WORLD = 2
TIMEOUT_S = 900


def _real_tensorrt() -> bool:
    from torch_tensorrt import _trt

    return _trt.is_available() and not _trt.info().version.endswith("names-only")


@pytest.fixture(scope="module")
def gloo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not _real_tensorrt():
        pytest.skip("TensorRT is not installed: no engine can be built")
    out = tmp_path_factory.mktemp("tp_gloo")
    return {
        "mode": "compile",
        "dir": out,
        "ranks": run_ranks(tp_rank, WORLD, "gloo", "compile", str(out), timeout=TIMEOUT_S),
    }


@pytest.fixture(scope="module")
def nccl_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if torch.cuda.device_count() < WORLD:
        pytest.skip(f"fewer than {WORLD} GPUs")
    if not torch.distributed.is_nccl_available():
        pytest.skip("torch is built without NCCL")
    if _real_tensorrt():
        mode, out = "compile", tmp_path_factory.mktemp("tp_nccl")
    elif os.environ.get("TORCHTRT_DIST_ARTIFACTS"):
        mode, out = "load", Path(os.environ["TORCHTRT_DIST_ARTIFACTS"]).resolve()
    else:
        pytest.skip("no TensorRT to compile with and no TORCHTRT_DIST_ARTIFACTS to load")
    return {"mode": mode, "dir": out, "ranks": run_ranks(tp_rank, WORLD, "nccl", mode, str(out), timeout=TIMEOUT_S)}


@pytest.fixture(params=["gloo", "nccl"])
def run(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.getfixturevalue(f"{request.param}_run")


def _compiled_here(run: dict[str, Any]) -> None:
    if run["mode"] != "compile":
        pytest.skip("the programs were compiled on another machine (load mode)")


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_equal_the_unsharded_model(run: dict[str, Any], case: str) -> None:
    for r in run["ranks"]:
        result = r[case]
        tol = 1e-4 if result["device"].startswith("cuda") else 1e-5
        assert result["loaded_error"] < tol, f"rank {r['rank']}"
        if run["mode"] == "compile":
            assert result["error"] < tol, f"rank {r['rank']}"


@pytest.mark.parametrize("case", list(CASES))
def test_engines_per_rank_with_the_collective_and_its_wait_in_one_pytorch_partition(
    run: dict[str, Any], case: str
) -> None:
    for r in run["ranks"]:
        result = r[case]
        if run["mode"] == "compile":
            assert result["engines"] == ENGINES[case], f"rank {r['rank']}: {result}"
            assert result["torch_ops"] == PAIR, f"rank {r['rank']}: only the collective is left to PyTorch"
            assert result["collective_partitions"] == {"_run_on_gpu_0": PAIR}
        # the loaded program (one graph: engine ops and the collectives between them)
        assert result["loaded"]["engines"] == ENGINES[case]
        assert result["loaded"]["torch_ops"] == PAIR


@pytest.mark.parametrize("case", list(CASES))
def test_per_rank_save_load_round_trip(run: dict[str, Any], case: str) -> None:
    for r in run["ranks"]:
        result = r[case]
        path = run["dir"] / f"{case}_rank{r['rank']}.ep"
        saved = recorded_rank(str(path))
        assert saved is not None and (saved.rank, saved.world_size) == (r["rank"], WORLD)
        if run["mode"] == "compile":
            assert torch.equal(result["loaded_output"], result["output"]), f"rank {r['rank']}"
        assert result["again_equal"], f"rank {r['rank']}: saving the loaded program again changed its output"


def test_another_ranks_file_is_refused(run: dict[str, Any]) -> None:
    for r in run["ranks"]:
        other = (r["rank"] + 1) % WORLD
        message = r["other_rank_error"]
        assert message.startswith("RankMismatchError"), message
        assert f"mlp_rank{other}.ep" in message and f"rank {other}" in message and f"rank {r['rank']}" in message


def test_a_file_of_another_world_size_is_a_clear_error(gloo_run: dict[str, Any]) -> None:
    import torch_tensorrt

    path = gloo_run["dir"] / "attention_rank0.ep"
    with pytest.raises(RankMismatchError, match=r"world size 2.*world size 1") as info:
        torch_tensorrt.load(str(path))  # this process is not distributed: a world of 1
    assert str(path) in str(info.value)
    with pytest.raises(RankMismatchError, match=r"world size 2.*world size 4"):
        from torch_tensorrt._collectives import check_rank

        check_rank(str(path), RankInfo(0, 4, "gloo"))


def test_dynamo_compile_and_torch_compile_on_every_rank_static_shapes_only(run: dict[str, Any]) -> None:
    _compiled_here(run)
    for r in run["ranks"]:
        assert r["dynamo"]["error"] < 1e-5 and r["dynamo"]["engines"] == ENGINES["attention"]
        assert r["dynamo"]["torch_ops"] == PAIR
        assert r["torch_compile"]["error"] < 1e-5 and r["torch_compile"]["again_error"] < 1e-5
        assert r["torch_compile_functional"]["error"] < 1e-5
        assert "AttentionBlock is sharded with DTensor" in r["dynamic_error"] and "static shapes" in r["dynamic_error"]


def test_coverage_report_says_why_collectives_run_in_pytorch(run: dict[str, Any]) -> None:
    _compiled_here(run)
    for r in run["ranks"]:
        collectives = [(op, part, why) for op, part, why in r["coverage"] if op.startswith("_c10d_functional.")]
        assert [op for op, _, _ in collectives] == PAIR
        assert all(part == "" and why == COLLECTIVE_REASON for _, part, why in collectives)
        assert all(part for op, part, _ in r["coverage"] if op not in PAIR), "every other operator is in an engine"
        assert r["projected_engines"] == ENGINES["attention"]
