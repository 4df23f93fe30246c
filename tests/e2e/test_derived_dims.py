"""End to end: an engine after a graph break whose inputs only carry sizes *derived* from a dynamic dimension.

``torch.cat([x, x], dim=1)`` before a PyTorch partition gives the second engine an input of size ``2*s0``; no input
of that engine has the plain dimension ``s0``, so its metadata's ``symbols`` cannot name a source for ``s0``. Its
output shapes (``2*s0``...) must still be computable from its inputs at run time (the simulator, the fake kernel
of a traced or saved module), by solving the input's expression for the symbol.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import torch_tensorrt
from torch_tensorrt.testing import simulate

BREAK = {"aten.sin.default"}  # run in PyTorch: the graph break between the two engines
SIZES = (2, 3, 7, 16)  # inside the range, odd sizes included
TOL = dict(rtol=1e-5, atol=1e-5)


class Derived(torch.nn.Module):
    """``derive(x)`` (an engine), ``sin`` (PyTorch), then an engine whose output keeps the derived size."""

    def __init__(self, derive) -> None:
        super().__init__()
        self.derive = derive

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sin(self.derive(x) * 2.0)
        return torch.cat([y, y + 1.0], dim=1) * 3.0  # the second engine derives again: 2*(derived size)


DERIVATIONS = {
    "cat": lambda x: torch.cat([x, x], dim=1),  # 2*s0
    "repeat": lambda x: x.repeat(1, 3, 1),  # 3*s0
    "reshape": lambda x: x.reshape(1, -1),  # 8*s0 (rank changes)
    "pad": lambda x: F.pad(x, (0, 0, 0, 1)),  # s0 + 1
    "pad_cat": lambda x: torch.cat([F.pad(x, (0, 0, 2, 1)), x], dim=1),  # 2*s0 + 3
}


def _engines(gm: torch.nn.Module) -> list[torch_tensorrt.runtime.TorchTensorRTModule]:
    return [m for m in gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]


def _compile(model: torch.nn.Module, dynamic: str) -> torch.fx.GraphModule:
    x = torch.randn(1, 4, 8)
    if dynamic == "input":
        spec = torch_tensorrt.Input(min_shape=(1, 2, 8), opt_shape=(1, 4, 8), max_shape=(1, 16, 8))
        return torch_tensorrt.dynamo.compile(
            torch_tensorrt.dynamo.trace(model, arg_inputs=[spec]),
            arg_inputs=[spec],
            min_block_size=1,
            torch_executed_ops=BREAK,
        )
    ep = torch.export.export(model, (x,), dynamic_shapes=({1: torch.export.Dim("n", min=2, max=16)},))
    return torch_tensorrt.dynamo.compile(ep, arg_inputs=[x], min_block_size=1, torch_executed_ops=BREAK)


def _second_engine_has_only_derived_sizes(gm: torch.fx.GraphModule) -> None:
    """The case under test: two engines, and the second one's inputs carry no plain symbol."""
    engines = _engines(gm)
    assert len(engines) == 2
    meta = engines[1].record.metadata
    dims = [d for spec in meta["inputs"] for d in spec["shape"] if isinstance(d, str)]
    assert dims and not meta["symbols"], meta["inputs"]


@pytest.mark.parametrize("dynamic", ["input", "export_dim"])
@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_engine_after_graph_break_with_derived_input_size(name, dynamic):
    model = Derived(DERIVATIONS[name]).eval()
    with simulate(), torch.no_grad():
        gm = _compile(model, dynamic)
        _second_engine_has_only_derived_sizes(gm)
        for n in SIZES:
            x = torch.randn(1, n, 8)
            torch.testing.assert_close(gm(x), model(x), **TOL)


def test_save_and_load_exported_program_round_trip(tmp_path):
    model = Derived(DERIVATIONS["pad_cat"]).eval()
    spec = torch_tensorrt.Input(min_shape=(1, 2, 8), opt_shape=(1, 4, 8), max_shape=(1, 16, 8))
    path = str(tmp_path / "derived.ep")
    with simulate(), torch.no_grad():
        gm = _compile(model, "input")
        _second_engine_has_only_derived_sizes(gm)
        torch_tensorrt.save(gm, path, arg_inputs=[spec], allow_simulated=True)
        loaded = torch_tensorrt.load(path)
        # the saved program's output size is the same expression of the input size as eager's (2*(2*s0 + 3)),
        # not a fresh data-dependent size
        (out,) = [n for n in loaded.graph.nodes if n.op == "output"][0].args[0]
        size = out.meta["val"].shape[1]
        (sym,) = size.node.expr.free_symbols
        assert size.node.expr == 4 * sym + 6
        module = loaded.module()
        for n in SIZES:
            x = torch.randn(1, n, 8)
            torch.testing.assert_close(module(x), model(x), **TOL)


class SizeAfterBreak(torch.nn.Module):
    """``x.shape[1]`` (the plain symbol) used by the second engine, whose only tensor input has size ``2*s0``: the
    engine gets the size as a SymInt placeholder, rebuilt in the network by solving ``2*s0`` for ``s0``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        y = torch.sin(torch.cat([x, x], dim=1)) * 2.0
        return y.reshape(1, n, 16) + torch.ones(1, n, 1)


@pytest.mark.parametrize("dynamic", ["input", "export_dim"])
def test_plain_size_used_after_graph_break_is_solved_in_the_network(dynamic):
    model = SizeAfterBreak().eval()
    with simulate(), torch.no_grad():
        gm = _compile(model, dynamic)
        _second_engine_has_only_derived_sizes(gm)
        (out,) = _engines(gm)[1].record.metadata["outputs"]
        assert out["shape"][1].isidentifier()  # the plain symbol, which no input of this engine carries
        for n in SIZES:
            x = torch.randn(1, n, 8)
            torch.testing.assert_close(gm(x), model(x), **TOL)
