"""Lowering: the fast path that skips re-tracing, BatchNorm folding, and the decomposition fallbacks."""

import torch
from torch import nn

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program, run_passes
from torch_tensorrt.dynamo.lowering._decompositions import needs_decomposition

aten = torch.ops.aten


def _targets(gm):
    return [n.target for n in gm.graph.nodes if n.op == "call_function"]


def test_fast_path_keeps_program_when_everything_converts():
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU()).eval()
    ep = torch.export.export(m, (torch.randn(2, 4),))
    assert needs_decomposition(ep) is None
    assert lower_exported_program(ep, CompilationSettings()) is ep


def test_unconverted_or_mutating_ops_force_decomposition():
    class Inplace(nn.Module):
        def forward(self, x):
            y = x * 2
            y.add_(1)
            return torch.special.bessel_j0(y)

    ep = torch.export.export(Inplace(), (torch.randn(3),))
    assert needs_decomposition(ep) is not None
    lowered = lower_exported_program(ep, CompilationSettings())
    assert aten.add_.Tensor not in _targets(lowered.graph_module)


def test_batch_norm_folds_into_conv_and_matches():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    bn = nn.BatchNorm2d(8)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    m = nn.Sequential(conv, bn, nn.ReLU()).eval()
    x = torch.randn(2, 3, 8, 8)
    for ep in (torch.export.export(m, (x,)), torch.export.export(m, (x,)).run_decompositions()):
        gm = run_passes(ep.module(), CompilationSettings())
        targets = _targets(gm)
        assert not {aten.batch_norm.default, aten._native_batch_norm_legit_no_training.default} & set(targets)
        torch.testing.assert_close(gm(x), m(x), rtol=1e-5, atol=1e-5)


def test_batch_norm_not_folded_when_conv_output_is_reused():
    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.conv(x)
            return self.bn(y) + y

    m = Both().eval()
    x = torch.randn(1, 3, 4, 4)
    gm = run_passes(torch.export.export(m, (x,)).module(), CompilationSettings())
    assert aten.batch_norm.default in _targets(gm)
    torch.testing.assert_close(gm(x), m(x))
