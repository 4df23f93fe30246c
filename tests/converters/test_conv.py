"""Converter of ``aten.convolution``: 1-D/2-D/3-D, transposed, groups, dilation, stride, padding, output_padding."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten
# torch.export emits conv1d/conv2d/... (kept by the lowering fast path) or, after decomposition, convolution:
# one converter handles them all.
CONV = {
    frozenset(
        {
            aten.convolution.default,
            aten.conv1d.default,
            aten.conv2d.default,
            aten.conv3d.default,
            aten.conv_transpose1d.default,
            aten.conv_transpose2d.input,
            aten.conv_transpose3d.input,
        }
    )
}

CONV_CASES = [
    # (dims, in_ch, out_ch, kernel, kwargs)
    (1, 3, 4, 3, {}),
    (1, 4, 6, 3, dict(stride=2, padding=1, dilation=2, groups=2)),
    (2, 3, 8, 3, {}),
    (2, 3, 8, 3, dict(stride=2, padding=1, bias=False)),
    (2, 4, 8, (3, 1), dict(stride=(1, 2), padding=(1, 0), dilation=(2, 1), groups=4)),
    (2, 4, 4, 3, dict(groups=4, padding=2, dilation=2)),
    (3, 2, 4, 3, dict(padding=1)),
    (3, 2, 4, (1, 3, 2), dict(stride=(1, 2, 1), padding=(0, 1, 1))),
]


def _conv(dims: int, cin: int, cout: int, k, kw: dict) -> torch.nn.Module:
    return {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[dims](cin, cout, k, **kw)


def _input(dims: int, batch: int, cin: int, size: int = 9) -> torch.Tensor:
    return torch.randn(batch, cin, *([size] * dims))


@pytest.mark.parametrize("dims,cin,cout,k,kw", CONV_CASES)
def test_conv(dims, cin, cout, k, kw):
    assert_converts(_conv(dims, cin, cout, k, kw), [_input(dims, 2, cin)], expected_ops=CONV)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_dynamic(dims):
    m = _conv(dims, 3, 4, 3, dict(padding=1, stride=2))
    x = _input(dims, 2, 3, 8)
    lo, hi = (1, 3) + (5,) * dims, (4, 3) + (11,) * dims
    assert_converts(m, [x], input_ranges=[(lo, tuple(x.shape), hi)], expected_ops=CONV)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_fp16(dims):
    assert_converts(
        _conv(dims, 4, 8, 3, dict(padding=1)), [_input(dims, 2, 4, 6)], precision=torch.float16, expected_ops=CONV
    )


def test_conv_padding_same():
    m = torch.nn.Conv2d(3, 4, (3, 5), padding="same")
    assert_converts(m, [_input(2, 1, 3, 7)], expected_ops=CONV)


def test_conv_weight_input():
    """Weights computed in the graph go into the layer's input slots."""
    assert_converts(
        lambda x, w, b: F.conv2d(x, w * 2.0, b, padding=1),
        [_input(2, 2, 3, 6), torch.randn(5, 3, 3, 3), torch.randn(5)],
        expected_ops=CONV,
    )


TRANSPOSED_CASES = [
    (1, 3, 4, 3, dict(stride=2)),
    (1, 4, 6, 3, dict(stride=2, padding=1, output_padding=1, groups=2)),
    (2, 3, 5, 3, {}),
    (2, 3, 5, 3, dict(stride=2, padding=1, output_padding=1)),
    (2, 4, 4, (3, 2), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), bias=True)),
    (2, 4, 6, 3, dict(stride=3, output_padding=2, groups=2)),
    (2, 4, 6, 3, dict(padding=2, groups=2, dilation=2)),
    (2, 4, 6, 3, dict(stride=2, output_padding=1, bias=False)),
    (3, 2, 3, 3, dict(stride=2, padding=1, output_padding=1)),
]


def _conv_t(dims: int, cin: int, cout: int, k, kw: dict) -> torch.nn.Module:
    return {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}[dims](
        cin, cout, k, **kw
    )


@pytest.mark.parametrize("dims,cin,cout,k,kw", TRANSPOSED_CASES)
def test_conv_transposed(dims, cin, cout, k, kw):
    assert_converts(_conv_t(dims, cin, cout, k, kw), [_input(dims, 2, cin, 5)], expected_ops=CONV)


@pytest.mark.parametrize("dims", [1, 2])
def test_conv_transposed_dynamic(dims):
    m = _conv_t(dims, 3, 4, 3, dict(stride=2, padding=1, output_padding=1))
    x = _input(dims, 2, 3, 6)
    lo, hi = (1, 3) + (3,) * dims, (3, 3) + (9,) * dims
    assert_converts(m, [x], input_ranges=[(lo, tuple(x.shape), hi)], expected_ops=CONV)


def test_conv_transposed_fp16():
    m = _conv_t(2, 4, 4, 3, dict(stride=2, output_padding=1))
    assert_converts(m, [_input(2, 2, 4, 5)], precision=torch.float16, expected_ops=CONV)


def _decide(x: torch.Tensor, w: torch.Tensor, stride, dilation, transposed: bool) -> str:
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    graph = torch.fx.Graph()
    xn, wn = graph.placeholder("x"), graph.placeholder("w")
    xn.meta["val"], wn.meta["val"] = x, w
    node = graph.call_function(aten.convolution.default, (xn, wn, None, stride, [0], dilation, transposed, [0], 1))
    return CONVERTERS.decide(node, CompilationSettings()).reason


def test_conv_validator():
    w = torch.empty(3, 4, 3)
    assert "int32" in _decide(torch.empty(1, 3, 8, dtype=torch.int32), w, [1], [1], False)
    assert "strided and dilated" in _decide(torch.empty(1, 3, 8), w, [2], [2], True)
    assert _decide(torch.empty(1, 3, 8), w, [2], [2], False) == ""


def test_conv_transposed_bf16():
    """TensorRT-RTX does not build bfloat16 deconvolutions: the converter runs them in float32."""
    m = _conv_t(2, 3, 4, 3, dict(stride=2, padding=1, output_padding=1))
    assert_converts(m, [_input(2, 2, 3, 5)], precision=torch.bfloat16, expected_ops=CONV)


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_bf16_constant_weights_are_checked(transposed):
    """bf16 weights are wired as tensors (bf16 trt.Weights cannot be read back), so the evaluator checks them."""
    conv = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(3, 4, 3).eval()
    assert_converts(conv, [torch.randn(1, 3, 8, 8)], precision=torch.bfloat16, expected_ops=CONV)


@pytest.mark.parametrize(
    "module, shape, op",
    [
        (torch.nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 16), torch.ops.aten.conv1d.default),
        (torch.nn.Conv2d(3, 4, 3, padding=1, dilation=2, groups=1), (2, 3, 16, 16), torch.ops.aten.conv2d.default),
        (torch.nn.Conv3d(2, 4, 3, bias=False), (1, 2, 6, 6, 6), torch.ops.aten.conv3d.default),
        (
            torch.nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1),
            (1, 4, 5, 5),
            torch.ops.aten.conv_transpose2d.input,
        ),
    ],
)
@pytest.mark.parametrize("dynamic", [False, True])
def test_exported_conv_overloads_convert_without_decomposition(module, shape, op, dynamic):
    """``torch.export`` emits conv2d & co.; they convert directly (the lowering fast path keeps them)."""
    from torch_tensorrt.dynamo.lowering._decompositions import needs_decomposition

    ep = torch.export.export(module.eval(), (torch.randn(shape),))
    assert op in {n.target for n in ep.graph.nodes} and needs_decomposition(ep) is None
    ranges = [((1, *shape[1:]), shape, (4, *shape[1:]))] if dynamic else None
    assert_converts(module, [torch.randn(shape)], input_ranges=ranges, expected_ops={op})
