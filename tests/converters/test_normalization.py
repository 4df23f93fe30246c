"""Batch/layer/group/instance/RMS normalization converters against eager PyTorch (static, dynamic, fp16)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten


class Fn(nn.Module):
    """Module around ``fn`` with a fixed arity (the harness's own wrapper takes ``*args``)."""

    def __init__(self, fn, arity=1):
        super().__init__()
        self.fn = fn
        self.arity = arity

    def forward(self, a, b=None, c=None):
        return self.fn(*(a, b, c)[: self.arity])


def _randomize(module: nn.Module) -> nn.Module:
    """Non-trivial affine parameters and running statistics (defaults are ones/zeros)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + 1.0)
        if getattr(module, "running_mean", None) is not None:
            module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=g))
            module.running_var.copy_(torch.rand(module.running_var.shape, generator=g) + 0.5)
    return module.eval()


X4 = torch.randn(2, 6, 5, 4) * 2 + 0.5
DYN4 = [((1, 6, 5, 4), (2, 6, 5, 4), (4, 6, 5, 4))]
DYN4_SPATIAL = [((1, 6, 2, 3), (2, 6, 5, 4), (3, 6, 7, 6))]
X3 = torch.randn(2, 7, 8) * 3 - 1
DYN3 = [((1, 2, 8), (2, 7, 8), (3, 9, 8))]

CASES = [
    # (name, module factory, input, dynamic ranges, expected op)
    ("batchnorm2d", lambda: _randomize(nn.BatchNorm2d(6)), X4, DYN4_SPATIAL, aten.batch_norm.default),
    (
        "batchnorm1d_2d",
        lambda: _randomize(nn.BatchNorm1d(8)),
        torch.randn(3, 8),
        [((1, 8), (3, 8), (5, 8))],
        aten.batch_norm.default,
    ),
    ("batchnorm_noaffine", lambda: _randomize(nn.BatchNorm2d(6, affine=False)), X4, DYN4, aten.batch_norm.default),
    (
        "batchnorm_batch_stats",
        lambda: nn.BatchNorm2d(6, track_running_stats=False).eval(),
        X4,
        DYN4,
        aten.batch_norm.default,
    ),
    ("layernorm_last", lambda: _randomize(nn.LayerNorm(8)), X3, DYN3, aten.layer_norm.default),
    ("layernorm_2dims", lambda: _randomize(nn.LayerNorm([5, 4], eps=1e-3)), X4, DYN4, aten.layer_norm.default),
    ("layernorm_noaffine", lambda: nn.LayerNorm(8, elementwise_affine=False), X3, DYN3, aten.layer_norm.default),
    ("layernorm_nobias", lambda: _randomize(nn.LayerNorm(8, bias=False)), X3, DYN3, aten.layer_norm.default),
    ("groupnorm", lambda: _randomize(nn.GroupNorm(3, 6)), X4, DYN4_SPATIAL, aten.group_norm.default),
    ("groupnorm_1group_noaffine", lambda: nn.GroupNorm(1, 6, affine=False), X4, DYN4, aten.group_norm.default),
    (
        "groupnorm_3d",
        lambda: _randomize(nn.GroupNorm(2, 6)),
        torch.randn(2, 6, 9),
        [((1, 6, 3), (2, 6, 9), (3, 6, 12))],
        aten.group_norm.default,
    ),
    (
        "groupnorm_2d",
        lambda: _randomize(nn.GroupNorm(2, 6)),
        torch.randn(3, 6),
        [((1, 6), (3, 6), (5, 6))],
        aten.group_norm.default,
    ),
    (
        "instancenorm2d_affine",
        lambda: _randomize(nn.InstanceNorm2d(6, affine=True)),
        X4,
        DYN4_SPATIAL,
        aten.instance_norm.default,
    ),
    (
        "instancenorm1d",
        lambda: nn.InstanceNorm1d(7),
        X3,
        [((1, 7, 3), (2, 7, 8), (3, 7, 11))],
        aten.instance_norm.default,
    ),
    (
        "instancenorm_running",
        lambda: _randomize(nn.InstanceNorm2d(6, affine=True, track_running_stats=True)),
        X4,
        DYN4,
        aten.instance_norm.default,
    ),
    ("rmsnorm", lambda: _randomize(nn.RMSNorm(8)), X3, DYN3, aten.rms_norm.default),
    ("rmsnorm_2dims_eps", lambda: _randomize(nn.RMSNorm([5, 4], eps=1e-2)), X4, DYN4, aten.rms_norm.default),
    ("rmsnorm_noweight", lambda: nn.RMSNorm(8, elementwise_affine=False), X3, DYN3, aten.rms_norm.default),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,make,x,rng,op", CASES, ids=IDS)
def test_norm_static(name, make, x, rng, op):
    assert_converts(make(), [x], expected_ops={op})


@pytest.mark.parametrize("name,make,x,rng,op", CASES, ids=IDS)
def test_norm_dynamic(name, make, x, rng, op):
    assert_converts(make(), [x], input_ranges=rng, expected_ops={op})


FP16 = [c for c in CASES if c[0] in {"batchnorm2d", "layernorm_2dims", "groupnorm", "instancenorm2d_affine", "rmsnorm"}]


@pytest.mark.parametrize("name,make,x,rng,op", FP16, ids=[c[0] for c in FP16])
def test_norm_fp16(name, make, x, rng, op):
    assert_converts(make(), [x], input_ranges=rng, precision=torch.float16, expected_ops={op})


def test_functional_forms_with_tensor_params():
    """Weights arriving as network tensors (computed in the graph), not constants."""
    w, b = torch.randn(6), torch.randn(6)

    def fn(x, w, b):
        mean, var = w * 0.1, b.abs() + 0.5
        return (
            F.batch_norm(x, mean, var, w, b, False, 0.1, 1e-5)
            + F.group_norm(x, 2, w, b)
            + F.instance_norm(x, weight=w, bias=b)
        )

    assert_converts(Fn(fn, 3), [X4, w, b], expected_ops={aten.batch_norm.default})
    g = torch.randn(4)
    assert_converts(
        Fn(lambda x, g: F.layer_norm(x, [4], g, g * 2) + F.rms_norm(x, [4], g), 2),
        [X4, g],
        expected_ops={aten.layer_norm.default, aten.rms_norm.default},
    )


def test_native_layer_norm_statistics():
    """native_layer_norm's mean/rstd outputs, when used, match torch's."""

    def fn(x):
        out, mean, rstd = aten.native_layer_norm.default(x, [5, 4], None, None, 1e-5)
        return out, mean, rstd

    assert_converts(Fn(fn), [X4], input_ranges=DYN4, expected_ops={aten.native_layer_norm.default})


def test_core_aten_batch_norm_forms():
    """The core-ATen forms batch_norm decomposes to (when lowering decomposes it)."""
    bn = _randomize(nn.BatchNorm2d(6))
    w, b, m, v = bn.weight.detach(), bn.bias.detach(), bn.running_mean, bn.running_var

    def running(x):
        return aten._native_batch_norm_legit_no_training.default(x, w, b, m, v, 0.1, 1e-5)[0]

    def batch_stats(x):
        return aten._native_batch_norm_legit.no_stats(x, w, b, True, 0.1, 1e-5)[0]

    assert_converts(
        Fn(running), [X4], input_ranges=DYN4, expected_ops={aten._native_batch_norm_legit_no_training.default}
    )
    assert_converts(Fn(batch_stats), [X4], input_ranges=DYN4, expected_ops={aten._native_batch_norm_legit.no_stats})


@pytest.mark.parametrize("groups,affine", [(3, True), (1, True), (6, False)], ids=["3groups", "1group", "per-channel"])
def test_group_norm_is_one_normalization_layer(groups, affine):
    """GroupNorm with its per-channel affine is one INormalizationLayer (add_normalization_v2), nothing else
    computes (only the scale/bias constants beside it)."""
    from torch_tensorrt._trt import trt

    model = _randomize(nn.GroupNorm(groups, 6, affine=affine)) if affine else nn.GroupNorm(groups, 6, affine=False)
    result = assert_converts(model, [X4], input_ranges=DYN4_SPATIAL, expected_ops={aten.group_norm.default})
    network = result.converted.network.network
    if not hasattr(network, "add_normalization_v2"):
        pytest.skip("this TensorRT has no add_normalization_v2: GroupNorm takes the normalization + affine form")
    types = [network.get_layer(i).type for i in range(network.num_layers)]
    assert [t for t in types if t != trt.LayerType.CONSTANT] == [trt.LayerType.NORMALIZATION]
