"""Tensor-parallel compile benchmark: the attention block of ``examples/distributed/tensor_parallel.py`` (heads
sharded with ``parallelize_module``) on 1, 2 and 4 gloo ranks on the CPU, engines simulated.

    .venv/bin/python benchmarks/distributed.py [--world-sizes 1 2 4] [--model attention]

Per rank: engines, the operators left to PyTorch (target: collectives only), compile time
(``torch_tensorrt.compile``: local trace, export, lowering, partitioning, engine builds; each rank is a fresh
process, so this is a cold compile), the part of it spent converting and building engines, and the largest error
against the unsharded block. Ranks of one world compile at the same time, so on a 2-core machine the times of
4 ranks include waiting for a core.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def compile_rank(rank: int, world_size: int, model_name: str) -> dict[str, Any]:
    import torch

    import torch_tensorrt
    from examples.distributed.tensor_parallel import make, shard
    from torch_tensorrt.dynamo.distributed import summarize

    full, x = make(model_name, torch.device("cpu"))
    sharded = shard(copy.deepcopy(full))
    start = time.perf_counter()
    with torch.no_grad(), torch_tensorrt.testing.simulate():
        trt = torch_tensorrt.compile(sharded, ir="dynamo", arg_inputs=[x], min_block_size=1)
    seconds = time.perf_counter() - start
    with torch.no_grad(), torch_tensorrt.testing.simulate():  # simulated engines run only inside simulate()
        error = (trt(x) - full(x)).abs().max().item()
    info = summarize(trt)
    return {
        "engines": info.engines,
        "torch_ops": info.torch_ops,
        "only_collectives": info.only_collectives,
        "seconds": seconds,
        "build_s": trt.compile_report.conversion_s,
        "error": error,
    }


def main() -> None:
    from rich.table import Table

    from examples.distributed.tensor_parallel import MODELS
    from torch_tensorrt._console import console as make_console
    from torch_tensorrt.testing import run_ranks

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world-sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--model", default="attention", choices=sorted(MODELS))
    args = parser.parse_args()

    table = Table(title=f"tensor-parallel {args.model} block: per-rank compile on CPU (gloo, simulated engines)")
    for col in (
        "world",
        "rank",
        "engines",
        "left to PyTorch",
        "collectives only",
        "compile s",
        "of which build s",
        "max |error|",
    ):
        table.add_column(col)
    for world in args.world_sizes:
        for rank, r in enumerate(run_ranks(compile_rank, world, "gloo", args.model, timeout=1200)):
            ops = ", ".join(op.split(".")[1] for op in r["torch_ops"]) or "-"
            table.add_row(
                str(world),
                str(rank),
                str(r["engines"]),
                ops,
                "yes" if r["only_collectives"] else "NO",
                f"{r['seconds']:.2f}",
                f"{r['build_s']:.2f}",
                f"{r['error']:.1e}",
            )
    make_console().print(table)


if __name__ == "__main__":
    main()
