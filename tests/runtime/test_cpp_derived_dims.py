"""The C++ runtime (test build, simulated engines) on an engine after a graph break whose inputs only carry sizes
derived from a dynamic dimension (``2*s0 + 3``): its output shapes come from the stand-in's simulator, which binds
the engine's symbols by solving those sizes; tracing the module (the C++ op's fake kernel) keeps the exact size
expression. The Python-runtime side is tests/e2e/test_derived_dims.py."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import torch_tensorrt
from torch_tensorrt.testing import _cpp_hook, simulate

pytestmark = pytest.mark.cpp


class PadCatBreak(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sin(torch.cat([F.pad(x, (0, 0, 2, 1)), x], dim=1))  # 2*s0 + 3, then PyTorch (sin)
        return torch.cat([y, y + 1.0], dim=1) * 3.0  # the second engine: 4*s0 + 6


@pytest.fixture(scope="module")
def compiled(rt):
    spec = torch_tensorrt.Input(min_shape=(1, 2, 8), opt_shape=(1, 4, 8), max_shape=(1, 16, 8))
    model = PadCatBreak().eval()
    with simulate():
        gm = torch_tensorrt.dynamo.compile(
            torch_tensorrt.dynamo.trace(model, arg_inputs=[spec]),
            arg_inputs=[spec],
            min_block_size=1,
            torch_executed_ops={"aten.sin.default"},
        )
    engines = [m for m in gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
    assert len(engines) == 2 and not engines[1].record.metadata["symbols"]
    for e in engines:
        e.set_runtime("cpp")
    return model, gm


def test_cpp_runtime_runs_the_engine_with_derived_input_sizes(compiled):
    model, gm = compiled
    before = _cpp_hook.calls[_cpp_hook.EXECUTE]
    with torch.no_grad():
        for n in (2, 5, 16):
            x = torch.randn(1, n, 8)
            torch.testing.assert_close(gm(x), model(x), rtol=1e-5, atol=1e-5)
    assert _cpp_hook.calls[_cpp_hook.EXECUTE] - before == 2 * 3


def test_tracing_the_cpp_engines_keeps_the_size_expression(compiled):
    _, gm = compiled
    ep = torch.export.export(
        gm, (torch.randn(1, 4, 8),), dynamic_shapes=({1: torch.export.Dim("n", min=2, max=16)},), strict=False
    )
    (out,) = [n for n in ep.graph.nodes if n.op == "output"][0].args[0]
    size = out.meta["val"].shape[1]
    (sym,) = size.node.expr.free_symbols
    assert size.node.expr == 4 * sym + 6
