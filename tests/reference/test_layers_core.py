"""Self-tests of the core reference handlers on networks built by hand through the TensorRT API.

Every network is built with the real builder (the build must succeed) and then evaluated; expected values
are written out by hand or computed with a different formulation (numpy, Python's math, explicit loops).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._trt import trt

E = trt.ElementWiseOperation
U = trt.UnaryOperation
A = trt.ActivationType


def _close(actual: torch.Tensor, expected, dtype=None) -> None:
    exp = torch.as_tensor(np.asarray(expected))
    exp = exp.to(dtype or actual.dtype)
    assert actual.dtype == exp.dtype
    torch.testing.assert_close(actual, exp, rtol=1e-5, atol=1e-5, equal_nan=True)


# -- CONSTANT / CAST / IDENTITY ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32, torch.int64, torch.bool])
def test_constant_round_trips_weights(net, dtype):
    value = (torch.arange(6).reshape(2, 3) % 3).to(dtype)
    x = net.input("x", (2, 3), dtype)
    c = net.const(value)
    net.mark(net.network.add_identity(c).get_output(0), "c")
    net.mark(net.network.add_identity(x).get_output(0), "x_out")
    out = net.run({"x": value})
    assert torch.equal(out["c"], value)


def test_cast_float_to_int_truncates_toward_zero_and_to_bool_is_nonzero(net):
    x = net.input("x", (6,))
    net.mark(net.cast(x, torch.int32), "i")
    net.mark(net.cast(x, torch.bool), "b")
    net.mark(net.cast(net.cast(x, torch.bool), torch.float16), "h")
    out = net.run({"x": torch.tensor([1.2, 8.9, -1.7, -0.2, 0.0, 3.0])})
    assert out["i"].tolist() == [1, 8, -1, 0, 0, 3]
    assert out["b"].tolist() == [True, True, True, True, False, True]
    _close(out["h"], [1, 1, 1, 1, 0, 1], torch.float16)


# -- ELEMENTWISE -------------------------------------------------------------------------------------------

_NP_BINARY = {
    E.SUM: np.add,
    E.PROD: np.multiply,
    E.MAX: np.maximum,
    E.MIN: np.minimum,
    E.SUB: np.subtract,
    E.DIV: np.true_divide,
    E.POW: np.power,
    E.FLOOR_DIV: np.floor_divide,
}


@pytest.mark.parametrize("op", list(_NP_BINARY), ids=lambda o: o.name)
def test_elementwise_float_ops_broadcast(net, op):
    a = net.input("a", (2, 1, 3))
    b = net.input("b", (1, 4, 3))
    net.mark(net.network.add_elementwise(a, b, op).get_output(0))
    va = torch.rand(2, 1, 3) + 0.5
    vb = torch.rand(1, 4, 3) * 2 - 1 if op != E.POW else torch.rand(1, 4, 3) * 3
    out = net.run1({"a": va, "b": vb})
    assert out.shape == (2, 4, 3)
    _close(out, _NP_BINARY[op](va.numpy(), vb.numpy()).astype(np.float32))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_elementwise_integer_div_truncates_floor_div_floors(net, dtype):
    a = net.input("a", (4,), dtype)
    b = net.const(torch.tensor([2, 2, -2, -2], dtype=dtype))
    net.mark(net.network.add_elementwise(a, b, E.DIV).get_output(0), "div")
    net.mark(net.network.add_elementwise(a, b, E.FLOOR_DIV).get_output(0), "floor")
    out = net.run({"a": torch.tensor([7, -7, 7, -7], dtype=dtype)})
    assert out["div"].tolist() == [3, -3, -3, 3]
    assert out["floor"].tolist() == [3, -4, -4, 3]
    assert out["div"].dtype == dtype


def test_elementwise_half_precision_keeps_dtype(net):
    a = net.input("a", (3,), torch.float16)
    net.mark(net.network.add_elementwise(a, a, E.PROD).get_output(0))
    out = net.run1({"a": torch.tensor([1.5, -2.0, 3.0], dtype=torch.float16)})
    _close(out, [2.25, 4.0, 9.0], torch.float16)


@pytest.mark.parametrize(
    "op,expected",
    [(E.AND, [False, False, False, True]), (E.OR, [False, True, True, True]), (E.XOR, [False, True, True, False])],
    ids=lambda v: getattr(v, "name", ""),
)
def test_elementwise_logical(net, op, expected):
    a = net.input("a", (4,), torch.bool)
    b = net.input("b", (4,), torch.bool)
    net.mark(net.network.add_elementwise(a, b, op).get_output(0))
    out = net.run1({"a": torch.tensor([False, False, True, True]), "b": torch.tensor([False, True, False, True])})
    assert out.tolist() == expected


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32])
def test_elementwise_comparisons_give_bool_with_broadcast(net, dtype):
    a = net.input("a", (3, 1), dtype)
    b = net.const(torch.tensor([[1, 2, 3]], dtype=dtype))
    for op, name in ((E.EQUAL, "eq"), (E.GREATER, "gt"), (E.LESS, "lt")):
        net.mark(net.network.add_elementwise(a, b, op).get_output(0), name)
    out = net.run({"a": torch.tensor([[1], [2], [3]], dtype=dtype)})
    assert out["eq"].dtype == torch.bool
    assert out["eq"].tolist() == [[True, False, False], [False, True, False], [False, False, True]]
    assert out["gt"].tolist() == [[False, False, False], [True, False, False], [True, True, False]]
    assert out["lt"].tolist() == [[False, True, True], [False, False, True], [False, False, False]]


# -- UNARY -------------------------------------------------------------------------------------------------

_X = [0.3, -0.6, 0.9, 0.1]
_POS = [1.5, 2.0, 3.5, 1.1]
_MATH = {
    U.EXP: (math.exp, _X), U.LOG: (math.log, _POS), U.SQRT: (math.sqrt, _POS), U.RECIP: (lambda v: 1 / v, _POS),
    U.ABS: (abs, _X), U.NEG: (lambda v: -v, _X), U.SIN: (math.sin, _X), U.COS: (math.cos, _X),
    U.TAN: (math.tan, _X), U.SINH: (math.sinh, _X), U.COSH: (math.cosh, _X), U.ASIN: (math.asin, _X),
    U.ACOS: (math.acos, _X), U.ATAN: (math.atan, _X), U.ASINH: (math.asinh, _X), U.ACOSH: (math.acosh, _POS),
    U.ATANH: (math.atanh, _X), U.CEIL: (math.ceil, _X + [-1.5]), U.FLOOR: (math.floor, _X + [-1.5]),
    U.ERF: (math.erf, _X), U.SIGN: (lambda v: (v > 0) - (v < 0), _X + [0.0]),
}


@pytest.mark.parametrize("op", list(_MATH), ids=lambda o: o.name)
def test_unary_float_ops(net, op):
    fn, values = _MATH[op]
    x = net.input("x", (len(values),))
    net.mark(net.network.add_unary(x, op).get_output(0))
    out = net.run1({"x": torch.tensor(values)})
    _close(out, [float(fn(v)) for v in values], torch.float32)


def test_unary_round_is_half_to_even(net):
    x = net.input("x", (6,))
    net.mark(net.network.add_unary(x, U.ROUND).get_output(0))
    out = net.run1({"x": torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.6])})
    _close(out, [0.0, 2.0, 2.0, -0.0, -2.0, 3.0], torch.float32)


def test_unary_isinf_isnan_not_and_integer_abs(net):
    x = net.input("x", (4,))
    b = net.input("b", (2,), torch.bool)
    i = net.input("i", (3,), torch.int32)
    net.mark(net.network.add_unary(x, U.ISINF).get_output(0), "inf")
    net.mark(net.network.add_unary(x, U.ISNAN).get_output(0), "nan")
    net.mark(net.network.add_unary(b, U.NOT).get_output(0), "not")
    net.mark(net.network.add_unary(i, U.ABS).get_output(0), "abs")
    out = net.run(
        {"x": torch.tensor([1.0, math.inf, -math.inf, math.nan]), "b": torch.tensor([True, False]),
         "i": torch.tensor([-3, 0, 4], dtype=torch.int32)}
    )
    assert out["inf"].tolist() == [False, True, True, False]
    assert out["nan"].tolist() == [False, False, False, True]
    assert out["not"].tolist() == [False, True]
    assert out["abs"].tolist() == [3, 0, 4] and out["abs"].dtype == torch.int32


# -- ACTIVATION / PARAMETRIC_RELU --------------------------------------------------------------------------

_ACT = {
    A.RELU: (0, 0, lambda v, a, b: max(0.0, v)),
    A.SIGMOID: (0, 0, lambda v, a, b: 1 / (1 + math.exp(-v))),
    A.TANH: (0, 0, lambda v, a, b: math.tanh(v)),
    A.LEAKY_RELU: (0.1, 0, lambda v, a, b: v if v >= 0 else a * v),
    A.ELU: (0.7, 0, lambda v, a, b: v if v >= 0 else a * (math.exp(v) - 1)),
    A.SELU: (1.6733, 1.0507, lambda v, a, b: b * v if v > 0 else b * (a * math.exp(v) - a)),
    A.SOFTSIGN: (0, 0, lambda v, a, b: v / (1 + abs(v))),
    A.SOFTPLUS: (1.5, 2.0, lambda v, a, b: a * math.log(math.exp(b * v) + 1)),
    A.CLIP: (-0.5, 0.8, lambda v, a, b: max(a, min(b, v))),
    A.HARD_SIGMOID: (0.2, 0.5, lambda v, a, b: max(0.0, min(1.0, a * v + b))),
    A.SCALED_TANH: (1.7, 0.6, lambda v, a, b: a * math.tanh(b * v)),
    A.THRESHOLDED_RELU: (0.5, 0, lambda v, a, b: v if v > a else 0.0),
    A.GELU_ERF: (0, 0, lambda v, a, b: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))),
    A.GELU_TANH: (0, 0, lambda v, a, b: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))),
}


@pytest.mark.parametrize("kind", list(_ACT), ids=lambda k: k.name)
def test_activation_types_with_alpha_beta(net, kind):
    alpha, beta, fn = _ACT[kind]
    values = [-2.0, -0.5, 0.0, 0.4, 0.5, 0.9, 3.0]
    x = net.input("x", (len(values),))
    layer = net.network.add_activation(x, kind)
    layer.alpha, layer.beta = alpha, beta
    net.mark(layer.get_output(0))
    out = net.run1({"x": torch.tensor(values)})
    _close(out, [fn(v, alpha, beta) for v in values], torch.float32)


def test_parametric_relu_broadcasts_slopes(net):
    x = net.input("x", (2, 3))
    slopes = net.const(torch.tensor([[0.1], [2.0]]))
    net.mark(net.network.add_parametric_relu(x, slopes).get_output(0))
    out = net.run1({"x": torch.tensor([[-1.0, 2.0, -3.0], [-1.0, 0.0, 4.0]])})
    _close(out, [[-0.1, 2.0, -0.3], [-2.0, 0.0, 4.0]])


# -- SELECT ------------------------------------------------------------------------------------------------


def test_select_broadcasts_all_three_inputs(net):
    c = net.input("c", (2, 1), torch.bool)
    t = net.input("t", (1, 3))
    e = net.const(torch.full((2, 3), -1.0))
    net.mark(net.network.add_select(c, t, e).get_output(0))
    out = net.run1({"c": torch.tensor([[True], [False]]), "t": torch.tensor([[1.0, 2.0, 3.0]])})
    _close(out, [[1.0, 2.0, 3.0], [-1.0, -1.0, -1.0]])
