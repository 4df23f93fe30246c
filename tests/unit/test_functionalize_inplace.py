"""The functionalize_inplace pass: in-place ops on intermediate tensors become out-of-place, so that lowering can
skip ``run_decompositions`` (a full re-trace) for programs like torchvision's ResNet; anything it cannot prove
equivalent stays in place and sends the program through the decompositions."""

import pytest
import torch
from torch import nn

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program, run_passes
from torch_tensorrt.dynamo.lowering._decompositions import needs_decomposition
from torch_tensorrt.dynamo.lowering.passes.functionalize_inplace import functionalize_inplace, out_of_place, plan

aten = torch.ops.aten


def _mutating(gm):
    return [n.target for n in gm.graph.nodes if n.op == "call_function" and n.target._schema.is_mutable]


class Block(nn.Module):
    """ResNet's basic block as torchvision writes it: ``relu(inplace=True)`` and ``out += identity``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn(self.conv(x)))
        out += x
        return self.relu(out)


def test_resnet_block_skips_decomposition_and_matches():
    m = Block().eval()
    x = torch.randn(2, 4, 8, 8)
    ep = torch.export.export(m, (x,))
    assert {aten.relu_.default, aten.add_.Tensor} <= {n.target for n in ep.graph.nodes}
    assert needs_decomposition(ep) is None
    assert lower_exported_program(ep, CompilationSettings()) is ep
    gm = run_passes(ep.module(), CompilationSettings())
    assert not _mutating(gm)
    torch.testing.assert_close(gm(x), m(x))
    assert aten.relu_.default in {n.target for n in ep.graph.nodes}  # the user's program is left as exported


def test_out_of_place_counterparts():
    assert out_of_place(aten.relu_.default) is aten.relu.default
    assert out_of_place(aten.add_.Tensor) is aten.add.Tensor
    assert out_of_place(aten.index_put_.default) is aten.index_put.default
    assert out_of_place(aten.relu.default) is None  # not in-place
    assert out_of_place(aten.unsqueeze_.default) is None  # its out-of-place form is a view
    assert out_of_place(aten.__iand__.Tensor) is None


class Chain(nn.Module):
    def forward(self, x):
        y = x * 2
        before = y + 1  # reads y before the updates
        y.relu_()
        y.add_(3)
        return before, y, y * y


class InputUpdate(nn.Module):
    def forward(self, x):
        y = x * 2
        y[0].add_(1)  # through a view
        return y


class ViewReadLater(nn.Module):
    def forward(self, x):
        y = x * 2
        v = y.view(-1)
        y.relu_()
        return v + 0  # sees the update through the view


class DtypeChange(nn.Module):
    def forward(self, x):
        y = x * 2
        y.lt_(0.5)  # keeps y's float dtype; lt returns bool
        return y


@pytest.mark.parametrize("model", [Chain(), InputUpdate(), ViewReadLater(), DtypeChange()])
def test_results_match_eager_whether_or_not_rewritten(model):
    x = torch.randn(3, 4)
    ep = torch.export.export(model, (x,))
    gm = functionalize_inplace(ep.module(), CompilationSettings())
    torch.testing.assert_close(gm(x), model(x))
    lowered = lower_exported_program(ep, CompilationSettings())
    torch.testing.assert_close(run_passes(lowered.module(), CompilationSettings())(x), model(x))


def test_chain_is_rewritten_in_order():
    ep = torch.export.export(Chain(), (torch.randn(3, 4),))
    rewrites, reason = plan(ep.graph)
    assert reason is None and list(rewrites.values()) == [aten.relu.default, aten.add.Tensor]
    assert not _mutating(functionalize_inplace(ep.module(), CompilationSettings()))


@pytest.mark.parametrize(
    "model,words",
    [(InputUpdate(), "view"), (ViewReadLater(), "read later"), (DtypeChange(), "another dtype")],
)
def test_updates_that_cannot_be_rewritten_stay_and_force_decomposition(model, words):
    ep = torch.export.export(model, (torch.randn(3, 4),))
    rewrites, reason = plan(ep.graph)
    assert not rewrites and reason is not None and words in reason
    assert needs_decomposition(ep) == reason
    assert _mutating(functionalize_inplace(ep.module(), CompilationSettings()))


def test_buffer_update_is_never_rewritten():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("n", torch.zeros(1))

        def forward(self, x):
            self.n.add_(1)
            return x + self.n

    ep = torch.export.export(Counter(), (torch.randn(2),))
    assert needs_decomposition(ep) is not None
    gm = ep.module()
    assert functionalize_inplace(gm, CompilationSettings()) is gm
    assert aten.add_.Tensor in _mutating(gm)
