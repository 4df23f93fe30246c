"""Activation converters: static, dynamic batch, fp16, parameters and edge values (softplus threshold, large
magnitudes, integer relu)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from torch_tensorrt._errors import UnsupportedOperatorError
from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten


def _batch_range(t: torch.Tensor) -> tuple:
    rest = tuple(t.shape[1:])
    return ((1, *rest), tuple(t.shape), (2 * t.shape[0], *rest))


def _x(*shape: int) -> torch.Tensor:
    return torch.randn(*shape) * 3


ACTIVATIONS = [
    ("relu", F.relu, aten.relu.default),
    ("relu6", F.relu6, aten.relu6.default),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), aten.leaky_relu.default),
    ("leaky_relu_default", F.leaky_relu, aten.leaky_relu.default),
    ("elu", lambda x: F.elu(x, alpha=0.7), aten.elu.default),
    ("selu", F.selu, aten.selu.default),
    # celu is CompositeImplicit: export decomposes it to expm1/where before lowering
    ("celu", lambda x: F.celu(x, alpha=1.5), aten.expm1.default),
    ("gelu", F.gelu, aten.gelu.default),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), aten.gelu.default),
    ("silu", F.silu, aten.silu.default),
    ("mish", F.mish, aten.mish.default),
    ("hardswish", F.hardswish, aten.hardswish.default),
    ("hardsigmoid", F.hardsigmoid, aten.hardsigmoid.default),
    ("hardtanh", F.hardtanh, aten.hardtanh.default),
    ("hardtanh_range", lambda x: F.hardtanh(x, -0.5, 2.0), aten.hardtanh.default),
    ("softplus", F.softplus, aten.softplus.default),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0), aten.softplus.default),
    ("sigmoid", torch.sigmoid, aten.sigmoid.default),
    ("tanh", torch.tanh, aten.tanh.default),
    ("logsigmoid", F.logsigmoid, aten.log_sigmoid.default),
    ("glu", F.glu, aten.glu.default),
    ("glu_dim1", lambda x: F.glu(x, dim=1), aten.glu.default),
]
_IDS = [c[0] for c in ACTIVATIONS]


@pytest.mark.parametrize("name,fn,op", ACTIVATIONS, ids=_IDS)
def test_activation_static(name, fn, op):
    assert_converts(fn, [_x(2, 4, 6)], expected_ops={op})


@pytest.mark.parametrize("name,fn,op", ACTIVATIONS, ids=_IDS)
def test_activation_dynamic(name, fn, op):
    x = _x(3, 4, 6)
    assert_converts(fn, [x], input_ranges=[_batch_range(x)], expected_ops={op})


@pytest.mark.parametrize("name,fn,op", ACTIVATIONS, ids=_IDS)
def test_activation_fp16(name, fn, op):
    assert_converts(fn, [_x(4, 8)], precision=torch.float16, expected_ops={op})


# -- parameters and edge values ---------------------------------------------------------------------------------
def test_elu_scale_and_input_scale():
    """aten.elu's scale/input_scale (as produced by selu-like decompositions) compose correctly."""
    x = _x(3, 7)
    assert_converts(
        lambda x: (
            torch.ops.aten.elu.default(x, 1.3, 2.0, 1.0),
            torch.ops.aten.elu.default(x, 0.5, 1.0, 0.5),
            torch.ops.aten.elu.default(x, 1.0, 1.5, 2.0),
        ),
        [x],
        expected_ops={aten.elu.default},
    )


def test_softplus_threshold_large_magnitudes():
    """Above the threshold softplus is the identity; far below it underflows to 0 without NaN."""
    x = torch.tensor([-200.0, -30.0, -1.0, 0.0, 1.0, 9.9, 10.1, 19.0, 21.0, 100.0, 1e4])
    assert_converts(
        lambda x: (F.softplus(x), F.softplus(x, beta=0.5, threshold=5.0), F.softplus(x, beta=2.0, threshold=20.0)),
        [x],
        expected_ops={aten.softplus.default},
    )


def test_large_magnitudes():
    """Saturating activations and compositions stay finite and exact at large |x|."""
    x = torch.tensor([-1e4, -300.0, -90.0, -20.0, -1.0, 0.0, 1.0, 20.0, 90.0, 300.0, 1e4])
    assert_converts(
        lambda x: (
            F.logsigmoid(x),
            F.mish(x),
            F.silu(x),
            torch.sigmoid(x),
            torch.tanh(x),
            F.gelu(x),
            F.elu(x),
            F.selu(x),
        ),
        [x],
        expected_ops={
            aten.log_sigmoid.default,
            aten.mish.default,
            aten.silu.default,
            aten.sigmoid.default,
            aten.tanh.default,
            aten.gelu.default,
            aten.elu.default,
            aten.selu.default,
        },
    )


def test_boundaries():
    """Values at the kinks: 0 for relu-likes, +-3 for hard sigmoid/swish, the hardtanh limits."""
    x = torch.tensor([-6.0, -3.0, -1.0, -0.0, 0.0, 1.0, 3.0, 6.0, 7.0])
    assert_converts(
        lambda x: (F.relu(x), F.relu6(x), F.hardsigmoid(x), F.hardswish(x), F.hardtanh(x), F.leaky_relu(x, 0.1)),
        [x],
        expected_ops={
            aten.relu.default,
            aten.relu6.default,
            aten.hardsigmoid.default,
            aten.hardswish.default,
            aten.hardtanh.default,
            aten.leaky_relu.default,
        },
    )


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_integer_relu_family(dtype):
    """relu/relu6/hardtanh accept integers in torch and keep the dtype."""
    x = torch.randint(-10, 10, (3, 5), dtype=dtype)
    assert_converts(
        lambda x: (F.relu(x), F.relu6(x), F.hardtanh(x, -2, 3)),
        [x],
        input_ranges=[_batch_range(x)],
        expected_ops={aten.relu.default, aten.relu6.default, aten.hardtanh.default},
    )


def test_integer_sigmoid_tanh_promote():
    x = torch.randint(-3, 3, (3, 5), dtype=torch.int32)
    assert_converts(
        lambda x: (torch.sigmoid(x), torch.tanh(x)),
        [x],
        expected_ops={aten.sigmoid.default, aten.tanh.default},
    )


def test_integer_gelu_falls_back():
    with pytest.raises(UnsupportedOperatorError, match="float inputs only"):
        assert_converts(
            lambda x: torch.ops.aten.gelu.default(x),
            [torch.randint(-3, 3, (3, 5), dtype=torch.int32)],
            expected_ops={aten.gelu.default},
        )


# -- prelu --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 4])
def test_prelu_module(channels):
    m = torch.nn.PReLU(channels)
    with torch.no_grad():
        m.weight.copy_(torch.linspace(-0.5, 0.5, channels))
    x = _x(3, 4, 5, 5)
    assert_converts(m, [x], input_ranges=[_batch_range(x)], expected_ops={aten.prelu.default})
    assert_converts(m, [x], precision=torch.float16, expected_ops={aten.prelu.default})


def test_prelu_tensor_weight_rank2():
    assert_converts(lambda x, w: F.prelu(x, w), [_x(3, 6), torch.rand(6)], expected_ops={aten.prelu.default})
