"""Tensor parallelism: a transformer block sharded over N ranks, each rank compiled by torch_tensorrt.

Launch one process per rank with torchrun::

    # GPUs (NCCL, one GPU per rank, TensorRT installed)
    torchrun --nproc-per-node 2 examples/distributed/tensor_parallel.py
    # no GPU: gloo on the CPU, engines run on the simulated runtime (torch_tensorrt.testing.simulate)
    torchrun --nproc-per-node 2 examples/distributed/tensor_parallel.py --simulate

The block is sharded with PyTorch's own tensor-parallel API (``parallelize_module``): attention heads are split
across ranks (q/k/v column-parallel, output projection row-parallel) and so is the MLP (column-parallel up
projection, row-parallel down projection). Every rank compiles its shard with ``torch_tensorrt.compile``; the
two all-reduces stay in PyTorch, on the process group, between the engines. Each rank checks its output against
the unsharded block, prints what runs where, and with ``--save DIR`` writes its compiled program to
``DIR/block_rank{rank}.ep`` (reload it with ``torch_tensorrt.load`` under the same world size).

The models and sharding plans below are also used by ``tests/distributed`` and ``benchmarks/distributed.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from typing import Any, Callable

import torch
from torch import nn

# ------------------------------------------------------------------------------------------------ models


class MLP(nn.Module):
    """Megatron-style MLP: ``up`` is column-parallel, ``down`` row-parallel (one all-reduce at the end)."""

    def __init__(self, dim: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.relu(self.up(x)))


class Attention(nn.Module):
    """Multi-head self-attention. With q/k/v column-parallel each rank holds ``heads / world_size`` heads, so the
    head count is read from the projection's (local) width rather than stored."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.head_dim = dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, s, -1, self.head_dim).transpose(1, 2)

        a = nn.functional.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)))
        return self.o(a.transpose(1, 2).reshape(b, s, -1))


class AttentionBlock(nn.Module):
    """Pre-norm attention with its residual: ``x + attn(norm(x))``."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attn(self.norm(x))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: attention and MLP, each with its residual."""

    def __init__(self, dim: int = 32, heads: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x + self.attn(self.norm1(x))
        return h + self.mlp(self.norm2(h))


class FunctionalMLP(nn.Module):
    """The MLP sharded by hand: this rank's slices of the weights and an explicit all-reduce through
    ``torch.distributed._functional_collectives`` (no DTensor)."""

    def __init__(self, full: MLP, rank: int, world_size: int, group: Any) -> None:
        super().__init__()
        hidden = full.up.out_features
        if hidden % world_size:
            raise ValueError(f"hidden size {hidden} does not split over {world_size} ranks")
        part = slice(rank * hidden // world_size, (rank + 1) * hidden // world_size)
        self.up = nn.Linear(full.up.in_features, hidden // world_size)
        self.down = nn.Linear(hidden // world_size, full.down.out_features)
        with torch.no_grad():
            self.up.weight.copy_(full.up.weight[part])
            self.up.bias.copy_(full.up.bias[part])
            self.down.weight.copy_(full.down.weight[:, part])
            self.down.bias.copy_(full.down.bias / world_size)  # summed once per rank by the all-reduce
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch.distributed._functional_collectives as funcol

        return funcol.all_reduce(self.down(torch.relu(self.up(x))), "sum", self.group)


# --------------------------------------------------------------------------------------------- sharding


def _plan(prefix: str, colwise: tuple[str, ...], rowwise: tuple[str, ...]) -> dict[str, Any]:
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel

    plan: dict[str, Any] = {f"{prefix}{name}": ColwiseParallel() for name in colwise}
    plan.update({f"{prefix}{name}": RowwiseParallel() for name in rowwise})
    return plan


def tp_plan(model: nn.Module) -> dict[str, Any]:
    """The ``parallelize_module`` plan of each model above: heads and MLP hidden units split across ranks."""
    attn = ("q", "k", "v"), ("o",)
    if isinstance(model, MLP):
        return _plan("", ("up",), ("down",))
    if isinstance(model, Attention):
        return _plan("", *attn)
    if isinstance(model, AttentionBlock):
        return _plan("attn.", *attn)
    if isinstance(model, TransformerBlock):
        return {**_plan("attn.", *attn), **_plan("mlp.", ("up",), ("down",))}
    raise TypeError(f"no tensor-parallel plan for {type(model).__name__}")


def shard(model: nn.Module, device_type: str = "cpu") -> nn.Module:
    """``model`` sharded over every rank of the default process group (in place; returned for chaining)."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor.parallel import parallelize_module

    mesh = init_device_mesh(device_type, (dist.get_world_size(),))
    return parallelize_module(model, mesh, tp_plan(model))


#: name -> (model factory, example input factory); dims chosen so heads and hidden units split over 1, 2, 4 ranks
MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[[], torch.Tensor]]] = {
    "mlp": (lambda: MLP(32, 64), lambda: torch.randn(4, 32)),
    "attention": (lambda: AttentionBlock(32, 4), lambda: torch.randn(2, 8, 32)),
    "block": (lambda: TransformerBlock(32, 4, 64), lambda: torch.randn(2, 8, 32)),
}


def make(name: str, device: torch.device) -> tuple[nn.Module, torch.Tensor]:
    """The full (unsharded) model and its example input, identical on every rank (fixed seeds)."""
    model_fn, input_fn = MODELS[name]
    torch.manual_seed(0)
    model = model_fn().eval().to(device)
    torch.manual_seed(1)
    return model, input_fn().to(device)


# ------------------------------------------------------------------------------------------------- main


def main() -> None:
    import copy

    import torch.distributed as dist

    import torch_tensorrt
    from torch_tensorrt.dynamo.distributed import summarize

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="block", choices=sorted(MODELS))
    parser.add_argument("--simulate", action="store_true", help="gloo on the CPU, simulated engines (no GPU needed)")
    parser.add_argument("--save", metavar="DIR", help="write each rank's compiled program to DIR/<model>_rank<r>.ep")
    parser.add_argument("--min-block-size", type=int, default=1)
    args = parser.parse_args()

    if not args.simulate and not torch.cuda.is_available():
        parser.error("no CUDA GPU here: pass --simulate to run on the CPU (gloo, simulated engines)")
    use_cuda = not args.simulate
    rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    device = torch.device("cuda", rank) if use_cuda else torch.device("cpu")
    try:
        full, x = make(args.model, device)
        sharded = shard(copy.deepcopy(full), device.type)
        start = time.perf_counter()
        with torch.no_grad(), torch_tensorrt.testing.simulate() if args.simulate else contextlib.nullcontext():
            trt = torch_tensorrt.compile(sharded, ir="dynamo", arg_inputs=[x], min_block_size=args.min_block_size)
        seconds = time.perf_counter() - start
        # simulated engines run only inside simulate()
        with torch.no_grad(), torch_tensorrt.testing.simulate() if args.simulate else contextlib.nullcontext():
            out, expected = trt(x), full(x)
        info = summarize(trt)
        left = ", ".join(op.split(".")[1] for op in info.torch_ops) or "nothing"
        print(
            f"rank {dist.get_rank()}/{dist.get_world_size()} ({dist.get_backend()}): {info.engines} engine(s), left "
            f"to PyTorch: {left}; compiled in {seconds:.1f} s; max |error| vs unsharded: "
            f"{(out - expected).abs().max().item():.2e}",
            flush=True,
        )
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            path = os.path.join(args.save, f"{args.model}_rank{{rank}}.ep")
            torch_tensorrt.save(trt, path, arg_inputs=[x])
            reloaded = torch_tensorrt.load(path).module()
            torch.testing.assert_close(reloaded(x), out)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
