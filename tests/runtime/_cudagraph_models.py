"""Models for the CUDA-graph tests, with simulated engines.

Where TensorRT is installed (here, CI) they are built on the spot. The GPU test machine has no TensorRT: there the
tests load them from ``TORCHTRT_CUDAGRAPH_MODELS`` (written by ``python tests/runtime/_cudagraph_models.py OUT.pt``)
and run them with the names-only TensorRT stand-in, like :mod:`_sim_artifacts`.

``build()`` returns:

``dynamic_engine``        (TorchTensorRTModule ``relu(x @ W)``, batch 1..8; W)
``two_engines``           (compiled GraphModule: engine -> PyTorch partition (sin) -> engine, batch 1..8; eager model)
``nonzero_partition``     (compiled GraphModule whose PyTorch partition ends in ``nonzero``; eager model)
``nonzero_engine``        TorchTensorRTModule ``nonzero(x)`` on ``[3, 4]`` (data-dependent output shape)
``engine_then_nonzero``   (GraphModule: the matmul engine (4 -> 4), then the nonzero engine; W of the first)
"""

from __future__ import annotations

import os
import sys
from typing import Any

import torch


class TwoEngines(torch.nn.Module):
    """Linear+relu (engine), sin (PyTorch: ``torch_executed_ops``), Linear+relu (engine)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Linear(8, 8)
        self.b = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.a(x))
        return torch.relu(self.b(torch.sin(y) * 2.0 + 1.0))


class NonzeroTail(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.a = torch.nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nonzero(torch.relu(self.a(x)) - 0.1)


class _EngineThenNonzero(torch.nn.Module):
    def __init__(self, first: torch.nn.Module, second: torch.nn.Module) -> None:
        super().__init__()
        self.first, self.second = first, second

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


def build() -> dict[str, Any]:
    import torch_tensorrt
    from torch_tensorrt.testing import simulate
    from torch_tensorrt.testing._engines import graph_module, matmul_relu_module, nonzero_module

    out: dict[str, Any] = {"dynamic_engine": matmul_relu_module(in_features=4, out_features=3, max_batch=8)}
    batch = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(8, 8))
    with torch.no_grad(), simulate():
        model = TwoEngines().eval()
        gm = torch_tensorrt.compile(
            model, ir="dynamo", arg_inputs=[batch], min_block_size=1, torch_executed_ops={"aten.sin.default"}
        )
        out["two_engines"] = (gm, model)
        tail = NonzeroTail().eval()
        gm = torch_tensorrt.compile(tail, ir="dynamo", arg_inputs=[torch.randn(3, 8)], min_block_size=1)
        out["nonzero_partition"] = (gm, tail)
    out["nonzero_engine"] = nonzero_module(3, 4)
    first, w = matmul_relu_module(in_features=4, out_features=4, max_batch=8, seed=2, name="matmul4")
    out["engine_then_nonzero"] = (graph_module(_EngineThenNonzero(first, nonzero_module(3, 4))), w)
    return out


def load_or_build() -> dict[str, Any]:
    from torch_tensorrt import _trt

    if _trt.is_available() and not _trt.info().version.endswith("names-only"):
        return build()
    path = os.environ.get("TORCHTRT_CUDAGRAPH_MODELS")
    if not path:
        import pytest

        pytest.skip("no TensorRT to build the test engines with and no TORCHTRT_CUDAGRAPH_MODELS to load")
    import torch_tensorrt.testing  # noqa: F401 -- registers the simulated engine kind the models are of

    return torch.load(path, weights_only=False)


if __name__ == "__main__":
    import _cudagraph_models  # the classes pickled by this module's name, not as __main__'s

    torch.save(_cudagraph_models.build(), sys.argv[1])
    print(f"wrote {sys.argv[1]}")
