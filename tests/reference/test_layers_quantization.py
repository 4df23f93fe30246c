"""QUANTIZE / DEQUANTIZE self-tests (the ONNX oracle has no buildable Q/DQ case: the parser's QuantizeLinear
networks declare int8 where ONNX has uint8). Networks are built with the real builder, then evaluated."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt._trt import trt


def _qdq(net, x, scale, to_type, axis=None):
    q = net.network.add_quantize(x, net.const(scale), to_type)
    dq = net.network.add_dequantize(q.get_output(0), net.const(scale), trt.DataType.FLOAT)
    if axis is not None:
        q.axis = dq.axis = axis
    return net.mark(dq.get_output(0))


def test_int8_per_tensor_rounds_half_to_even_and_saturates(net):
    x = net.input("x", (8,))
    _qdq(net, x, torch.tensor(0.5), trt.DataType.INT8)
    values = torch.tensor([0.25, 0.75, -0.25, 1.26, 63.5, 64.0, 100.0, -100.0])
    out = net.run1({"x": values})
    # x / 0.5 = 0.5, 1.5, -0.5, 2.52, 127, 128, 200, -200 -> round half to even, clamp to [-128, 127]
    expected = torch.tensor([0.0, 2.0, -0.0, 3.0, 127.0, 127.0, 127.0, -128.0]) * 0.5
    assert torch.equal(out, expected), out


def test_int8_per_axis(net):
    x = net.input("x", (2, 3))
    _qdq(net, x, torch.tensor([0.1, 1.0, 10.0]), trt.DataType.INT8, axis=1)
    values = torch.tensor([[0.26, 2.6, 26.0], [-0.34, -3.4, -3000.0]])
    out = net.run1({"x": values})
    expected = torch.tensor([[3 * 0.1, 3.0, 30.0], [-3 * 0.1, -3.0, -1280.0]])
    torch.testing.assert_close(out, expected)


def test_fp8_saturates_at_448(net):
    x = net.input("x", (4,))
    _qdq(net, x, torch.tensor(1.0), trt.DataType.FP8)
    out = net.run1({"x": torch.tensor([1.0, 0.3, 500.0, -1000.0])})
    expected = torch.tensor([1.0, 0.3, 448.0, -448.0]).to(torch.float8_e4m3fn).float()
    assert torch.equal(out, expected), out


@pytest.mark.parametrize("block", [2, 4])
def test_int8_per_block(net, block):
    x = net.input("x", (2, 4))
    scale = torch.tensor([[0.5] * (4 // block), [2.0] * (4 // block)])
    q = net.network.add_quantize(x, net.const(scale), trt.DataType.INT8)
    dq = net.network.add_dequantize(q.get_output(0), net.const(scale), trt.DataType.FLOAT)
    q.block_shape = dq.block_shape = trt.Dims([1, block])
    net.mark(dq.get_output(0))
    values = torch.tensor([[1.2, -1.2, 0.1, 70.0], [3.0, -5.0, 1.0, 1000.0]])
    out = net.run1({"x": values}, build=False)
    expected = torch.tensor([[1.0, -1.0, 0.0, 63.5], [4.0, -4.0, 0.0, 254.0]])
    torch.testing.assert_close(out, expected)
