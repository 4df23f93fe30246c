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
    exp = torch.as_tensor(np.ascontiguousarray(expected))
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


def test_elementwise_dynamic_batch_broadcasts_against_constant(net):
    a = net.input("a", (-1, 3), min=(1, 3), opt=(2, 3), max=(4, 3))
    net.mark(net.network.add_elementwise(a, net.const(torch.tensor([[1.0, 2.0, 3.0]])), E.SUB).get_output(0))
    for n in (1, 4):
        va = torch.rand(n, 3)
        _close(net.run1({"a": va}, build=n == 1), va.numpy() - np.array([[1.0, 2.0, 3.0]], np.float32))


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
    U.EXP: (math.exp, _X),
    U.LOG: (math.log, _POS),
    U.SQRT: (math.sqrt, _POS),
    U.RECIP: (lambda v: 1 / v, _POS),
    U.ABS: (abs, _X),
    U.NEG: (lambda v: -v, _X),
    U.SIN: (math.sin, _X),
    U.COS: (math.cos, _X),
    U.TAN: (math.tan, _X),
    U.SINH: (math.sinh, _X),
    U.COSH: (math.cosh, _X),
    U.ASIN: (math.asin, _X),
    U.ACOS: (math.acos, _X),
    U.ATAN: (math.atan, _X),
    U.ASINH: (math.asinh, _X),
    U.ACOSH: (math.acosh, _POS),
    U.ATANH: (math.atanh, _X),
    U.CEIL: (math.ceil, _X + [-1.5]),
    U.FLOOR: (math.floor, _X + [-1.5]),
    U.ERF: (math.erf, _X),
    U.SIGN: (lambda v: (v > 0) - (v < 0), _X + [0.0]),
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
        {
            "x": torch.tensor([1.0, math.inf, -math.inf, math.nan]),
            "b": torch.tensor([True, False]),
            "i": torch.tensor([-3, 0, 4], dtype=torch.int32),
        }
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


# -- SHUFFLE / SQUEEZE / UNSQUEEZE / CONCATENATION / SHAPE -------------------------------------------------


def test_shuffle_transpose_reshape_placeholders_transpose(net):
    x = net.input("x", (2, 3, 4))
    layer = net.network.add_shuffle(x)
    layer.first_transpose = (1, 0, 2)  # -> (3, 2, 4)
    layer.reshape_dims = (0, -1)  # 0 copies 3, -1 infers 8
    layer.second_transpose = (1, 0)  # -> (8, 3)
    net.mark(layer.get_output(0))
    v = torch.arange(24.0).reshape(2, 3, 4)
    out = net.run1({"x": v})
    expected = np.transpose(np.transpose(v.numpy(), (1, 0, 2)).reshape(3, 8), (1, 0))
    _close(out, expected)


def test_shuffle_dynamic_input_and_reshape_tensor(net):
    x = net.input("x", (-1, 6), min=(1, 6), opt=(4, 6), max=(8, 6))
    shape = net.network.add_shape(x).get_output(0)  # int64 [n, 6]
    first = net.network.add_slice(shape, (0,), (1,), (1,)).get_output(0)
    dims = net.network.add_concatenation([first, net.const(torch.tensor([2, 3]))]).get_output(0)
    layer = net.network.add_shuffle(x)
    layer.set_input(1, dims)
    net.mark(layer.get_output(0), "y")
    net.mark(shape, "shape")
    v = torch.arange(24.0).reshape(4, 6)
    out = net.run({"x": v})
    _close(out["y"], v.numpy().reshape(4, 2, 3))
    assert out["shape"].dtype == torch.int64 and out["shape"].tolist() == [4, 6]


def test_shuffle_zero_is_not_placeholder_gives_empty_dim(net):
    x = net.input("x", (0, 3))
    layer = net.network.add_shuffle(x)
    layer.zero_is_placeholder = False
    layer.reshape_dims = (3, 0)
    net.mark(layer.get_output(0))
    out = net.run1({"x": torch.zeros(0, 3)})
    assert out.shape == (3, 0)


def test_squeeze_and_unsqueeze_with_negative_axes(net):
    x = net.input("x", (1, 3, 1))
    sq = net.network.add_squeeze(x, net.const(torch.tensor([0, -1], dtype=torch.int64))).get_output(0)
    unsq = net.network.add_unsqueeze(sq, net.const(torch.tensor([-1, 0], dtype=torch.int64))).get_output(0)
    net.mark(sq, "sq")
    net.mark(unsq, "unsq")
    v = torch.tensor([[[1.0], [2.0], [3.0]]])
    out = net.run({"x": v})
    assert out["sq"].shape == (3,) and out["unsq"].shape == (1, 3, 1)
    _close(out["unsq"], v.numpy())


def test_concatenation_axis(net):
    a = net.input("a", (2, 1))
    b = net.const(torch.tensor([[5.0, 6.0], [7.0, 8.0]]))
    layer = net.network.add_concatenation([a, b])
    layer.axis = 1
    net.mark(layer.get_output(0))
    out = net.run1({"a": torch.tensor([[1.0], [2.0]])})
    _close(out, [[1.0, 5.0, 6.0], [2.0, 7.0, 8.0]])


# -- SLICE -------------------------------------------------------------------------------------------------


def test_slice_static_stride_and_negative_stride(net):
    x = net.input("x", (3, 5))
    net.mark(net.network.add_slice(x, (0, 1), (2, 2), (2, 2)).get_output(0), "pos")
    net.mark(net.network.add_slice(x, (2, 4), (3, 3), (-1, -2)).get_output(0), "neg")
    v = torch.arange(15.0).reshape(3, 5)
    out = net.run({"x": v})
    _close(out["pos"], [[1.0, 3.0], [11.0, 13.0]])
    _close(out["neg"], v.numpy()[::-1, ::-2][:, :3])


_MODE_EXPECTED = {  # input [10, 20, 30], start -4, size 9, stride 1 -> coordinates -4..4
    trt.SampleMode.WRAP: [30, 10, 20, 30, 10, 20, 30, 10, 20],
    trt.SampleMode.CLAMP: [10, 10, 10, 10, 10, 20, 30, 30, 30],
    trt.SampleMode.REFLECT: [10, 20, 30, 20, 10, 20, 30, 20, 10],
    trt.SampleMode.FILL: [-1, -1, -1, -1, 10, 20, 30, -1, -1],
}


@pytest.mark.parametrize("mode", list(_MODE_EXPECTED), ids=lambda m: m.name)
def test_slice_sample_modes(net, mode):
    x = net.input("x", (3,))
    fill = net.const(torch.tensor(-1.0))  # layers are added in topological order
    layer = net.network.add_slice(x, (-4,), (9,), (1,))
    layer.mode = mode
    if mode == trt.SampleMode.FILL:
        layer.set_input(4, fill)
    net.mark(layer.get_output(0))
    out = net.run1({"x": torch.tensor([10.0, 20.0, 30.0])})
    _close(out, [float(v) for v in _MODE_EXPECTED[mode]])


def test_slice_dynamic_start_size_stride_inputs(net):
    x = net.input("x", (4, 6))
    start = net.const(torch.tensor([1, 5], dtype=torch.int64))
    size = net.const(torch.tensor([2, 3], dtype=torch.int64))
    stride = net.const(torch.tensor([2, -2], dtype=torch.int64))
    layer = net.network.add_slice(x, (0, 0), (1, 1), (1, 1))
    for slot, value in ((1, start), (2, size), (3, stride)):
        layer.set_input(slot, value)
    net.mark(layer.get_output(0))
    v = torch.arange(24.0).reshape(4, 6)
    out = net.run1({"x": v})
    _close(out, v.numpy()[1::2, 5::-2])


def test_slice_axes_attribute_slices_only_listed_axes(net):
    x = net.input("x", (2, 3))
    layer = net.network.add_slice(x, (1,), (2,), (1,))
    layer.axes = (1,)
    net.mark(layer.get_output(0))
    out = net.run1({"x": torch.tensor([[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]])})
    _close(out, [[2.0, 4.0], [3.0, 5.0]])


def test_slice_strict_bounds_out_of_range_is_an_error(net):
    x = net.input("x", (3,))
    net.mark(net.network.add_slice(x, (0,), (2,), (1,)).get_output(0))
    net.build()
    layer = net.network.get_layer(0)
    layer.__class__ = trt.ISliceLayer
    layer.stride = (2,)
    layer.start = (1,)  # coordinates 1, 3: 3 is out of [0, 3)
    with pytest.raises(ValueError, match="STRICT_BOUNDS"):
        net.run({"x": torch.zeros(3)}, build=False)


# -- FILL --------------------------------------------------------------------------------------------------


def test_fill_linspace_attributes_1d(net):
    x = net.input("x", (1,))
    layer = net.network.add_fill((5,), trt.FillOperation.LINSPACE, trt.DataType.FLOAT)
    layer.alpha, layer.beta = 2.0, -0.5
    net.mark(layer.get_output(0), "y")
    net.mark(net.network.add_identity(x).get_output(0), "x_out")
    out = net.run({"x": torch.zeros(1)})
    _close(out["y"], [2.0, 1.5, 1.0, 0.5, 0.0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.int64])
def test_fill_linspace_dynamic_alpha_beta_inputs(net, dtype):
    alpha = net.input("alpha", (), dtype)
    beta = net.input("beta", (2,), dtype)
    layer = net.network.add_fill((2, 3), trt.FillOperation.LINSPACE, trt_dtype_of(dtype))
    layer.set_input(1, alpha)
    layer.set_input(2, beta)
    net.mark(layer.get_output(0))
    out = net.run1({"alpha": torch.tensor(1, dtype=dtype), "beta": torch.tensor([3, 1], dtype=dtype)})
    assert out.dtype == dtype
    assert out.tolist() == [[1, 2, 3], [4, 5, 6]]


# -- GATHER / SCATTER / ONE_HOT / NON_ZERO -----------------------------------------------------------------


def test_gather_default_axis(net):
    data = net.input("d", (2, 1, 5))
    idx = net.const(torch.tensor([[2, 1, 1]], dtype=torch.int32))
    net.mark(net.network.add_gather(data, idx, 2).get_output(0))
    v = torch.tensor([[[-3.0, -2.0, -1.0, 10.0, -25.0]], [[0.0, 1.0, 2.0, -2.0, -1.0]]])
    out = net.run1({"d": v})
    assert out.shape == (2, 1, 1, 3)
    _close(out, [[[[-1.0, -2.0, -2.0]]], [[[2.0, 1.0, 1.0]]]])


def test_gather_default_with_one_elementwise_dim(net):
    data = net.input("d", (2, 4))
    layer = net.network.add_gather(data, net.const(torch.tensor([[3, 0], [1, 1]], dtype=torch.int32)), 1)
    layer.num_elementwise_dims = 1
    net.mark(layer.get_output(0))
    out = net.run1({"d": torch.tensor([[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0]])})
    _close(out, [[3.0, 0.0], [11.0, 11.0]])


def test_gather_element(net):
    data = net.input("d", (2, 3))
    layer = net.network.add_gather_v2(
        data, net.const(torch.tensor([[2, 0, 1], [0, 0, 2]], dtype=torch.int32)), trt.GatherMode.ELEMENT
    )
    layer.axis = 1
    net.mark(layer.get_output(0))
    out = net.run1({"d": torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])})
    _close(out, [[3.0, 1.0, 2.0], [4.0, 4.0, 6.0]])


@pytest.mark.parametrize("batch_dims", [0, 1])
def test_gather_nd_with_and_without_batch_dims(net, batch_dims):
    data = net.input("d", (2, 3, 4))
    if batch_dims == 0:
        idx = torch.tensor([[[1, 2], [0, 0]], [[1, 0], [0, 2]]], dtype=torch.int32)  # (2, 2, k=2)
    else:
        idx = torch.tensor([[[2], [0]], [[1], [1]]], dtype=torch.int32)  # batch 2, (2, k=1)
    layer = net.network.add_gather_v2(data, net.const(idx), trt.GatherMode.ND)
    layer.num_elementwise_dims = batch_dims
    net.mark(layer.get_output(0))
    v = torch.arange(24.0).reshape(2, 3, 4)
    out = net.run1({"d": v})
    rows = []
    for i in range(2):
        for j in range(2):
            point = idx[i, j].tolist()
            rows.append(v[tuple(point)] if batch_dims == 0 else v[i][tuple(point)])
    _close(out, torch.stack(rows).reshape(2, 2, 4).numpy())


def test_gather_out_of_range_index_is_reported(net):
    """Indices in [-dim, dim) are valid (a negative one counts from the end, as NVIDIA's ONNX parser relies on
    since TensorRT 8.2; the ONNX oracle checks it on ONNX's negative-index cases); anything else is reported."""
    data = net.input("d", (3,))
    idx = net.input("i", (1,), torch.int32)
    net.mark(net.network.add_gather(data, idx, 0).get_output(0))
    d = torch.tensor([1.0, 2.0, 3.0])
    assert net.run1({"d": d, "i": torch.tensor([-1], dtype=torch.int32)}).tolist() == [3.0]
    for bad in (-4, 3):
        with pytest.raises(ValueError, match=r"\[-3, 3\)"):
            net.run({"d": d, "i": torch.tensor([bad], dtype=torch.int32)})


def test_scatter_element_and_nd(net):
    data = net.input("d", (3, 3))
    upd = net.const(torch.tensor([[1.0, 1.1, 1.2], [2.0, 2.1, 2.2]]))
    el = net.network.add_scatter(
        data, net.const(torch.tensor([[1, 0, 2], [0, 2, 1]], dtype=torch.int32)), upd, trt.ScatterMode.ELEMENT
    )
    el.axis = 0
    nd = net.network.add_scatter(
        data,
        net.const(torch.tensor([[2], [0]], dtype=torch.int32)),
        net.const(torch.full((2, 3), 9.0)),
        trt.ScatterMode.ND,
    )
    net.mark(el.get_output(0), "el")
    net.mark(nd.get_output(0), "nd")
    out = net.run({"d": torch.zeros(3, 3)})
    _close(out["el"], [[2.0, 1.1, 0.0], [1.0, 0.0, 2.2], [0.0, 2.1, 1.2]])
    _close(out["nd"], [[9.0, 9.0, 9.0], [0.0, 0.0, 0.0], [9.0, 9.0, 9.0]])


def test_scatter_nd_duplicate_targets_are_reported(net):
    data = net.input("d", (3,))
    idx, upd = net.const(torch.tensor([[1], [1]], dtype=torch.int32)), net.const(torch.tensor([1.0, 2.0]))
    net.mark(net.network.add_scatter(data, idx, upd, trt.ScatterMode.ND).get_output(0))
    with pytest.raises(ValueError, match="twice"):
        net.run({"d": torch.zeros(3)})


@pytest.mark.parametrize("axis", [-1, 0])
def test_one_hot_negative_and_out_of_range_indices(net, axis):
    idx = net.input("i", (6,), torch.int32)
    values = net.const(torch.tensor([0.0, 5.0]))
    depth = net.const(torch.tensor(4, dtype=torch.int32))
    net.mark(net.network.add_one_hot(idx, values, depth, axis).get_output(0))
    out = net.run1({"i": torch.tensor([0, 3, 4, -1, -4, -5], dtype=torch.int32)})
    expected = [[5, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 0, 5], [5, 0, 0, 0], [0, 0, 0, 0]]
    expected_t = np.array(expected, dtype=np.float32)
    _close(out, expected_t if axis == -1 else expected_t.T)


def test_non_zero_row_major_coordinates(net):
    # TensorRT-RTX's builder has no NonZero runner, so this network is evaluated without a build.
    x = net.input("x", (2, 3))
    layer = net.network.add_non_zero(x, trt.DataType.INT64)
    net.mark(layer.get_output(0))
    out = net.run1({"x": torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])}, build=False)
    assert out.dtype == torch.int64 and out.tolist() == [[0, 1, 1], [1, 0, 2]]


# -- ASSERTION / CUMULATIVE / REVERSE_SEQUENCE -------------------------------------------------------------


def test_assertion_passes_and_fails_with_message(net):
    # The assertion's condition must be a shape tensor, so x is an int32 shape-tensor input.
    x = net.input("x", (3,), torch.int32, values=((-2, -2, -2), (1, 1, 1), (5, 5, 5)))
    cond = net.network.add_elementwise(x, net.const(torch.zeros(3, dtype=torch.int32)), E.GREATER).get_output(0)
    net.network.add_assertion(cond, "x must be positive")
    net.mark(net.network.add_identity(x).get_output(0))
    net.build()
    assert net.run1({"x": torch.ones(3, dtype=torch.int32)}, build=False).tolist() == [1, 1, 1]
    with pytest.raises(AssertionError, match="x must be positive"):
        net.run({"x": torch.tensor([1, -1, 1], dtype=torch.int32)}, build=False)


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_sum_variants(net, exclusive, reverse):
    x = net.input("x", (2, 4))
    axis = net.const(torch.tensor(1, dtype=torch.int32))
    net.mark(net.network.add_cumulative(x, axis, trt.CumulativeOperation.SUM, exclusive, reverse).get_output(0))
    v = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]])
    out = net.run1({"x": v})
    expected = []
    for row in v.tolist():
        cells = []
        for j in range(4):
            span = (
                (range(j + 1, 4) if exclusive else range(j, 4))
                if reverse
                else (range(j) if exclusive else range(j + 1))
            )
            cells.append(sum(row[k] for k in span))
        expected.append(cells)
    _close(out, expected)


def test_reverse_sequence(net):
    x = net.input("x", (4, 2))  # sequence axis 0, batch axis 1 (the defaults)
    lens = net.const(torch.tensor([3, 1], dtype=torch.int32))
    net.mark(net.network.add_reverse_sequence(x, lens).get_output(0))
    out = net.run1({"x": torch.tensor([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0], [3.0, 13.0]])})
    _close(out, [[2.0, 10.0], [1.0, 11.0], [0.0, 12.0], [3.0, 13.0]])


# -- unmodelled attribute values ---------------------------------------------------------------------------


def test_unmodelled_attribute_raises_not_implemented_naming_the_layer(net):
    x = net.input("x", (1,))
    # LINSPACE over two dimensions with the scalar beta attribute: TensorRT builds it, the evaluator does not
    # model it (the attribute holds one delta, a rank-2 output needs one per dimension)
    layer = net.network.add_fill((2, 2), trt.FillOperation.LINSPACE, trt.DataType.FLOAT)
    layer.name = "my_linspace_fill"
    net.mark(layer.get_output(0), "y")
    net.mark(net.network.add_identity(x).get_output(0), "x_out")
    with pytest.raises(NotImplementedError, match="my_linspace_fill.*beta attribute"):
        net.run({"x": torch.zeros(1)})
