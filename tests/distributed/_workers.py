"""What each rank does in the tensor-parallel tests (run by ``torch_tensorrt.testing.run_ranks``).

``tp_rank(rank, world_size, mode, out_dir)``:

* ``mode="compile"`` (TensorRT installed): shard each case, compile it under ``simulate()`` with every entry
  point, run it, summarize engines and PyTorch operators, save this rank's program to
  ``out_dir/<case>_rank<r>.ep`` and load it back;
* ``mode="load"`` (the GPU machine, no TensorRT): load the programs another machine saved in ``out_dir``.

Either way the outputs are compared with the unsharded model on the same input, on this rank's device (CUDA
with NCCL, CPU with gloo). ``python tests/distributed/_workers.py OUT_DIR`` writes the programs of 2 gloo ranks
for the GPU machine.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # examples.distributed

#: case -> (model of examples/distributed/tensor_parallel.MODELS, how it is sharded)
CASES = {"mlp": ("mlp", "dtensor"), "attention": ("attention", "dtensor"), "mlp_functional": ("mlp", "functional")}
#: engines per rank: an engine on each side of every collective that has work after it
ENGINES = {"mlp": 1, "attention": 2, "mlp_functional": 1}


def _device() -> torch.device:
    import torch.distributed as dist

    return torch.device("cuda", dist.get_rank()) if dist.get_backend() == "nccl" else torch.device("cpu")


def _sharded(case: str, full: torch.nn.Module, rank: int, world_size: int) -> torch.nn.Module:
    import torch.distributed as dist

    from examples.distributed.tensor_parallel import FunctionalMLP, shard

    if CASES[case][1] == "functional":
        return FunctionalMLP(full, rank, world_size, dist.group.WORLD)
    return shard(copy.deepcopy(full), _device().type)


def _err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().max().item())


def _summary(module: Any) -> dict[str, Any]:
    from torch_tensorrt.dynamo.distributed import collective_partitions, summarize

    info = summarize(module)
    parts = collective_partitions(module) if isinstance(module, torch.fx.GraphModule) else {}
    return {"engines": info.engines, "torch_ops": info.torch_ops, "collective_partitions": parts}


def _compile_case(case: str, rank: int, world_size: int, path: str) -> dict[str, Any]:
    import torch_tensorrt
    from examples.distributed.tensor_parallel import make

    full, x = make(CASES[case][0], _device())
    model = _sharded(case, full, rank, world_size)
    with torch.no_grad(), torch_tensorrt.testing.simulate():
        trt = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[x], min_block_size=1)
        out = trt(x)
        torch_tensorrt.save(trt, path, arg_inputs=[x])
    return {"error": _err(out, full(x)), "output": out.cpu(), **_summary(trt)}


def _load_case(case: str, path: str) -> dict[str, Any]:
    import torch_tensorrt
    from examples.distributed.tensor_parallel import make

    full, x = make(CASES[case][0], _device())
    loaded = torch_tensorrt.load(path).module()
    # the engines are simulated: they run (and are saved again) only inside simulate()
    with torch.no_grad(), torch_tensorrt.testing.simulate():
        out = loaded(x)
        expected = full(x)
        # round trip on this machine too: save what was loaded, load it again
        again_path = os.path.join(tempfile.mkdtemp(prefix="torchtrt_tp_"), os.path.basename(path))
        torch_tensorrt.save(loaded, again_path, arg_inputs=[x])
        again = torch_tensorrt.load(again_path).module()(x)
    return {
        "loaded_error": _err(out, expected),
        "loaded_output": out.cpu(),
        "again_equal": bool(torch.equal(again, out)),
        "loaded": _summary(loaded),
        "device": str(out.device),
    }


def _other_entry_points(rank: int, world_size: int) -> dict[str, Any]:
    """The attention block through ``dynamo.trace`` + ``dynamo.compile`` and ``torch.compile``, and its coverage."""
    import torch_tensorrt
    from examples.distributed.tensor_parallel import make

    full, x = make("attention", _device())
    out: dict[str, Any] = {}
    with torch.no_grad(), torch_tensorrt.testing.simulate():
        ep = torch_tensorrt.dynamo.trace(_sharded("attention", full, rank, world_size), arg_inputs=[x])
        gm = torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1)
        out["dynamo"] = {"error": _err(gm(x), full(x)), **_summary(gm)}
        fn = torch.compile(
            _sharded("attention", full, rank, world_size),
            backend="tensorrt",
            options={"min_block_size": 1},
            dynamic=False,
        )
        first = fn(x)
        out["torch_compile"] = {"error": _err(first, full(x)), "again_error": _err(fn(x), full(x))}
        mlp, y = make("mlp", _device())
        fn = torch.compile(
            _sharded("mlp_functional", mlp, rank, world_size),
            backend="tensorrt",
            options={"min_block_size": 1},
            dynamic=False,
        )
        out["torch_compile_functional"] = {"error": _err(fn(y), mlp(y))}
    spec = torch_tensorrt.Input(min_shape=(1, *x.shape[1:]), opt_shape=tuple(x.shape), max_shape=(4, *x.shape[1:]))
    try:
        torch_tensorrt.dynamo.trace(_sharded("attention", full, rank, world_size), arg_inputs=[spec])
        out["dynamic_error"] = ""
    except NotImplementedError as exc:
        out["dynamic_error"] = str(exc)
    report = torch_tensorrt.dynamo.coverage(_sharded("attention", full, rank, world_size), [x], min_block_size=1)
    out["coverage"] = [(n.op, n.partition, n.reason) for n in report.nodes]
    out["projected_engines"] = len(report.engines)
    return out


def tp_rank(rank: int, world_size: int, mode: str, out_dir: str) -> dict[str, Any]:
    import torch_tensorrt
    from torch_tensorrt._collectives import rank_path

    results: dict[str, Any] = {"rank": rank, "world_size": world_size}
    for case in CASES:
        path = os.path.join(out_dir, f"{case}_rank{{rank}}.ep")
        if mode == "compile":
            results[case] = _compile_case(case, rank, world_size, path)
        results.setdefault(case, {}).update(_load_case(case, rank_path(path)))
    if mode == "compile":
        results.update(_other_entry_points(rank, world_size))
    # another rank's file is refused, naming it
    torch.distributed.barrier()  # every rank has written its files
    other = os.path.join(out_dir, f"mlp_rank{(rank + 1) % world_size}.ep")
    try:
        torch_tensorrt.load(other)
        results["other_rank_error"] = ""
    except Exception as exc:  # the test checks the type and the message
        results["other_rank_error"] = f"{type(exc).__name__}: {exc}"
    return results


if __name__ == "__main__":
    from torch_tensorrt.testing import run_ranks

    target = os.path.abspath(sys.argv[1])
    os.makedirs(target, exist_ok=True)
    for r in run_ranks(tp_rank, 2, "gloo", "compile", target, timeout=900):
        print(f"rank {r['rank']}: " + ", ".join(f"{c} {r[c]['engines']} engine(s)" for c in CASES))
    print(f"wrote the per-rank programs of 2 ranks to {target}")
