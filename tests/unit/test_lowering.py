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


class _WindowMask(nn.Module):
    """A mask built in forward from constants only (as Swin does), added to a learned bias and the input."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(9, 2))
        self.register_buffer("index", torch.randint(0, 9, (4, 4)))

    def forward(self, x):
        mask = torch.zeros(4, 4)
        mask[:2, 2:] = -100.0
        bias = self.table[self.index].permute(2, 0, 1)  # (2, 4, 4) from a parameter and an index buffer
        return x + mask + bias


def test_constant_subgraphs_fold_and_match():
    from torch_tensorrt.dynamo import convert_exported_program

    m = _WindowMask().eval()
    x = torch.randn(3, 2, 4, 4)
    ep = torch.export.export(m, (x,))
    lowered = lower_exported_program(ep, CompilationSettings())  # functionalizes the in-place mask fill
    folded = run_passes(lowered.module(), CompilationSettings())
    ops = _targets(folded)
    assert ops == [aten.add.Tensor, aten.add.Tensor], ops  # mask and bias became constants
    torch.testing.assert_close(folded(x), m(x))
    unfolded_ep = torch.export.export(m, (x,))
    off = run_passes(unfolded_ep.run_decompositions().module(), CompilationSettings(fold_constants=False))
    assert not [n for n in run_passes(ep.module(), CompilationSettings()).graph.nodes if n.name.startswith("_folded")]
    assert aten.index.Tensor in _targets(off)
    layers_on = convert_exported_program(ep, [x]).network.network.num_layers
    layers_off = convert_exported_program(ep, [x], fold_constants=False).network.network.num_layers
    assert layers_on < layers_off
    import torch_tensorrt

    torch.testing.assert_close(torch_tensorrt.reference.run(ep, [x]), m(x))


def test_folding_never_inflates_or_folds_inputs():
    class Big(nn.Module):
        def forward(self, x):
            return x + torch.ones(1, 1).expand(1024, 1024)  # folding would store 1M constants

    gm = run_passes(torch.export.export(Big(), (torch.randn(1024, 1024),)).module(), CompilationSettings())
    assert aten.expand.default in _targets(gm)


def test_every_pass_module_is_in_the_one_ordered_list():
    """Each module of lowering/passes defines one pass of the same name, and PASSES lists them all, in order."""
    import importlib
    import pkgutil

    from torch_tensorrt.dynamo.lowering import PASSES, passes

    modules = sorted(m.name for m in pkgutil.iter_modules(passes.__path__) if not m.name.startswith("_"))
    assert sorted(p.__name__ for p in PASSES) == modules
    for p in PASSES:
        assert p is getattr(importlib.import_module(f"{passes.__name__}.{p.__name__}"), p.__name__)
    names = [p.__name__ for p in PASSES]
    assert names.index("remove_export_guards") == 0 and names[-1] == "remove_dead_code"
    assert names.index("remove_noops") < names.index("fold_batch_norm") < names.index("fold_constants")


def test_noops_and_export_guards_are_removed():
    class M(nn.Module):
        def forward(self, x):
            return x.detach() + 1

    ep = torch.export.export(M(), (torch.randn(2, 3),), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},))
    gm = ep.module()
    assert [n.target for n in gm.graph.nodes if n.op == "call_module"] == ["_guards_fn"]
    gm = run_passes(gm, CompilationSettings())
    assert not [n for n in gm.graph.nodes if n.op == "call_module"] and not hasattr(gm, "_guards_fn")
    assert _targets(gm) == [aten.add.Tensor]


class _MaskFromNewZeros(nn.Module):
    """A mask built from ``x.new_zeros`` by slice assignments (Swin's shifted-window mask): no value of x enters."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x.new_zeros((6, 6))
        count = 0
        for rows in (slice(0, -3), slice(-3, None)):
            for cols in (slice(0, -2), slice(-2, None)):
                mask[rows, cols] = count
                count += 1
        return x + (mask != torch.zeros_like(x)).float() * mask


def test_metadata_only_factories_fold():
    x = torch.randn(6, 6)
    ep = torch.export.export(_MaskFromNewZeros(), (x,))
    gm = run_passes(lower_exported_program(ep, CompilationSettings()).module(), CompilationSettings())
    targets = _targets(gm)
    assert targets == [aten.add.Tensor], targets  # everything but the final add was computed at compile time
    torch.testing.assert_close(gm(x), _MaskFromNewZeros()(x))


class _ConstantAttention(nn.Module):
    """DETR's first decoder self-attention: q/k/v permuted from constants (folded), attention, then views that
    rely on the attention output's layout."""

    def __init__(self) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.randn(1, 10, 2, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.queries.transpose(1, 2) * 0.5
        o = torch.nn.functional.scaled_dot_product_attention(q, q + 1, q - 1)
        return o.transpose(1, 2).contiguous().view(1, 10, -1) + x


def test_folded_constants_keep_their_strides():
    """A folded permute keeps its eager strides: the lowered graph still runs eagerly (reference.compare runs it)."""
    model, x = _ConstantAttention().eval(), torch.randn(1, 10, 32)
    gm = run_passes(torch.export.export(model, (x,)).module(), CompilationSettings())
    assert any(n.op == "get_attr" and n.target.startswith("_folded") for n in gm.graph.nodes)
    torch.testing.assert_close(gm(x), model(x))
