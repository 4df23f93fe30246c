"""Random fills (FILL with RANDOM_UNIFORM / RANDOM_NORMAL): TensorRT's values are not reproducible, so the
evaluator draws its own from a seeded generator; these tests check what TensorRT does determine -- shape, dtype,
range and the distribution (on tensors large enough for the statistics to be sharp) -- and the seeding.

Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Fill.html
"""

from __future__ import annotations

import math

import pytest
import torch

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._trt import trt

SHAPE = (400, 500)  # 200,000 draws: the mean of a unit-variance sample is known to about 0.0022
N = SHAPE[0] * SHAPE[1]


def _fill(net, op, dtype=torch.float32, alpha=None, beta=None, dynamic=False):
    """A FILL of SHAPE marked as output "y" (alpha/beta as attributes, or as scalar network inputs)."""
    layer = net.network.add_fill(SHAPE, op, trt_dtype_of(dtype))
    layer.name = "random_fill"
    if dynamic:
        layer.set_input(1, net.input("alpha", (), dtype))
        layer.set_input(2, net.input("beta", (), dtype))
    else:
        if alpha is not None:
            layer.alpha = alpha
        if beta is not None:
            layer.beta = beta
    net.mark(layer.get_output(0), "y")
    return layer


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_random_uniform_covers_its_range_evenly(net, dtype):
    _fill(net, trt.FillOperation.RANDOM_UNIFORM, dtype, alpha=-2.0, beta=3.0)
    y = net.run1()
    assert y.dtype == dtype and tuple(y.shape) == SHAPE
    v = y.double().reshape(-1)
    assert float(v.min()) >= -2.0 and float(v.max()) <= 3.0
    mean_err = 5 / math.sqrt(12 * N)  # standard error of the mean of U(-2, 3)
    assert abs(float(v.mean()) - 0.5) < 6 * mean_err
    assert abs(float(v.var()) - 25 / 12) < 0.02 * 25 / 12
    # ten equal bins each hold a tenth of the draws (binomial standard error ~0.00067)
    counts = torch.histc(v, bins=10, min=-2.0, max=3.0) / N
    assert float((counts - 0.1).abs().max()) < 0.005, counts


def test_random_uniform_defaults_are_the_unit_interval(net):
    _fill(net, trt.FillOperation.RANDOM_UNIFORM)
    v = net.run1().double().reshape(-1)
    assert float(v.min()) >= 0.0 and float(v.max()) <= 1.0
    assert abs(float(v.mean()) - 0.5) < 0.005


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_random_normal_with_dynamic_mean_and_scale(net, dtype):
    _fill(net, trt.FillOperation.RANDOM_NORMAL, dtype, dynamic=True)
    y = net.run1({"alpha": torch.tensor(2.0, dtype=dtype), "beta": torch.tensor(3.0, dtype=dtype)})
    assert y.dtype == dtype and tuple(y.shape) == SHAPE
    v = y.double().reshape(-1)
    assert abs(float(v.mean()) - 2.0) < 6 * 3 / math.sqrt(N)
    assert abs(float(v.std()) - 3.0) < 0.02 * 3
    within_one_sigma = float(((v - 2.0).abs() < 3.0).double().mean())
    assert abs(within_one_sigma - 0.6827) < 0.005
    assert float((v - 2.0).abs().max()) > 3 * 3.0  # tails are there (P(|z| > 3) * N ~ 540 draws)


def test_random_fill_is_seeded(net):
    _fill(net, trt.FillOperation.RANDOM_NORMAL)
    first = net.run1(seed=7)
    again = net.run1(seed=7, build=False)
    other = net.run1(seed=8, build=False)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    # independent draws: the correlation of two seeds' values is ~0 (standard error 1/sqrt(N))
    corr = float(torch.corrcoef(torch.stack([first.reshape(-1), other.reshape(-1)]))[0, 1])
    assert abs(corr) < 6 / math.sqrt(N)


def test_random_fill_of_a_dynamic_shape(net):
    shape = net.input("shape", (2,), torch.int32, values=((1, 1), (3, 4), (3, 4)))
    layer = net.network.add_fill((0, 0), trt.FillOperation.RANDOM_UNIFORM, trt.DataType.FLOAT)
    layer.set_input(0, shape)
    layer.alpha, layer.beta = 10.0, 11.0
    net.mark(layer.get_output(0), "y")
    y = net.run1({"shape": torch.tensor([3, 4], dtype=torch.int32)})
    assert tuple(y.shape) == (3, 4) and float(y.min()) >= 10.0 and float(y.max()) <= 11.0
