"""Self-tests of the compute layer handlers of the reference evaluator: MATRIX_MULTIPLY, EINSUM, REDUCE, TOPK,
SOFTMAX, NORMALIZATION, SCALE (spatial layers are in test_layers_compute_spatial.py).

Every network is built by hand through the TensorRT API, built with the real builder (the build must
succeed), evaluated, and compared with values computed here by a different formulation (explicit loops and
sums over subscripts, numpy reductions).
"""

from __future__ import annotations

import itertools
import math
from typing import Optional

import numpy as np
import pytest
import torch

from torch_tensorrt._trt import trt

from _compute import Net, close as _close, rand as _rand, w_ as _w


# ---------------------------------------------------------------- MATRIX_MULTIPLY / EINSUM


def _loop_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched matrix product by explicit loops over (broadcast) batch indices and output elements."""
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a, b = a.expand(*batch, *a.shape[-2:]).double(), b.expand(*batch, *b.shape[-2:]).double()
    out = torch.zeros(*batch, a.shape[-2], b.shape[-1], dtype=torch.float64)
    for idx in itertools.product(*[range(n) for n in batch]):
        for i in range(a.shape[-2]):
            for j in range(b.shape[-1]):
                out[idx + (i, j)] = sum(a[idx + (i, k)] * b[idx + (k, j)] for k in range(a.shape[-1]))
    return out


M = "MatrixOperation"


@pytest.mark.parametrize(
    "op0, op1, sa, sb",
    [
        ("NONE", "NONE", (3, 4), (4, 5)),
        ("NONE", "NONE", (2, 3, 4), (2, 4, 5)),
        ("TRANSPOSE", "NONE", (2, 4, 3), (2, 4, 5)),
        ("NONE", "TRANSPOSE", (2, 3, 4), (2, 5, 4)),
        ("TRANSPOSE", "TRANSPOSE", (2, 4, 3), (2, 5, 4)),
        ("NONE", "NONE", (1, 3, 4), (2, 4, 5)),  # batch broadcast of A
        ("NONE", "NONE", (2, 1, 3, 4), (1, 3, 4, 2)),  # broadcast both ways
        ("VECTOR", "NONE", (2, 4), (2, 4, 5)),  # vector * matrix
        ("NONE", "VECTOR", (2, 3, 4), (2, 4)),  # matrix * vector
        ("VECTOR", "VECTOR", (2, 4), (2, 4)),  # vector * vector -> scalar per batch
        ("VECTOR", "TRANSPOSE", (2, 4), (2, 5, 4)),
    ],
)
def test_matrix_multiply(op0: str, op1: str, sa: tuple, sb: tuple) -> None:
    a, b = _rand(*sa, seed=1), _rand(*sb, seed=2)
    net = Net()
    layer = net.network.add_matrix_multiply(
        net.input("a", a), getattr(trt.MatrixOperation, op0), net.input("b", b), getattr(trt.MatrixOperation, op1)
    )
    (out,) = net.run(layer.get_output(0))
    ea = a.transpose(-1, -2) if op0 == "TRANSPOSE" else a.unsqueeze(-2) if op0 == "VECTOR" else a
    eb = b.transpose(-1, -2) if op1 == "TRANSPOSE" else b.unsqueeze(-1) if op1 == "VECTOR" else b
    expected = _loop_matmul(ea, eb)
    if op1 == "VECTOR":
        expected = expected[..., 0]
    if op0 == "VECTOR":
        expected = expected[..., 0] if op1 == "VECTOR" else expected[..., 0, :]
    _close(out, expected)


def test_matrix_multiply_dynamic_batch_half() -> None:
    a, b = _rand(3, 2, 4, seed=3).half(), _rand(3, 4, 2, seed=4).half()
    net = Net()
    layer = net.network.add_matrix_multiply(
        net.input("a", a, dynamic=[0]),
        trt.MatrixOperation.NONE,
        net.input("b", b, dynamic=[0]),
        trt.MatrixOperation.NONE,
    )
    (out,) = net.run(layer.get_output(0))
    assert out.dtype == torch.float16
    _close(out, _loop_matmul(a.float(), b.float()), tol=1e-2)


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 2)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
        ("ij->ji", [(3, 4)]),
        ("ij->i", [(3, 4)]),
        ("ij,ij->", [(3, 4), (3, 4)]),
        ("ik,jk", [(2, 3), (4, 3)]),  # implicit output: "ij"
        ("i,j->ij", [(3,), (2,)]),
    ],
)
def test_einsum(equation: str, shapes: list) -> None:
    xs = [_rand(*s, seed=i + 5) for i, s in enumerate(shapes)]
    net = Net()
    layer = net.network.add_einsum([net.input(f"x{i}", x) for i, x in enumerate(xs)], equation)
    (out,) = net.run(layer.get_output(0))
    # Independent evaluation: sum over every assignment of the subscripts.
    lhs, _, rhs = equation.partition("->")
    terms = lhs.split(",")
    if "->" not in equation:
        letters = "".join(terms)
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    size = {c: xs[t].shape[p] for t, term in enumerate(terms) for p, c in enumerate(term)}
    letters = sorted(size)
    expected = torch.zeros(tuple(size[c] for c in rhs), dtype=torch.float64)
    for values in itertools.product(*[range(size[c]) for c in letters]):
        env = dict(zip(letters, values))
        prod = 1.0
        for t, term in enumerate(terms):
            prod *= float(xs[t][tuple(env[c] for c in term)])
        expected[tuple(env[c] for c in rhs)] += prod
    _close(out, expected)


# ---------------------------------------------------------------- REDUCE / TOPK / SOFTMAX


@pytest.mark.parametrize("op", ["SUM", "PROD", "MAX", "MIN", "AVG"])
@pytest.mark.parametrize("axes, keep", [((1,), True), ((0, 2), False), ((2,), False), ((0, 1, 2), True)])
def test_reduce_float(op: str, axes: tuple, keep: bool) -> None:
    x = _rand(2, 3, 4, seed=7)
    net = Net()
    mask = sum(1 << a for a in axes)
    layer = net.network.add_reduce(net.input("x", x), getattr(trt.ReduceOperation, op), mask, keep)
    (out,) = net.run(layer.get_output(0))
    fn = {"SUM": np.sum, "PROD": np.prod, "MAX": np.max, "MIN": np.min, "AVG": np.mean}[op]
    expected = fn(x.double().numpy(), axis=axes, keepdims=keep)
    _close(out, torch.from_numpy(np.asarray(expected)))


@pytest.mark.parametrize("op", ["SUM", "MAX", "MIN", "PROD"])
def test_reduce_int32(op: str) -> None:
    x = torch.randint(-5, 6, (3, 4), generator=torch.Generator().manual_seed(8), dtype=torch.int32)
    net = Net()
    layer = net.network.add_reduce(net.input("x", x), getattr(trt.ReduceOperation, op), 0b10, False)
    (out,) = net.run(layer.get_output(0))
    assert out.dtype == torch.int32
    rows = x.tolist()
    fn = {"SUM": sum, "MAX": max, "MIN": min, "PROD": math.prod}[op]
    assert out.tolist() == [fn(r) for r in rows]


@pytest.mark.parametrize("op", ["MAX", "MIN"])
@pytest.mark.parametrize("axis, k", [(1, 2), (2, 3), (2, 1)])
@pytest.mark.parametrize("indices_type", [None, "INT64"])
def test_topk(op: str, axis: int, k: int, indices_type: Optional[str]) -> None:
    x = torch.randperm(2 * 4 * 5, generator=torch.Generator().manual_seed(9)).reshape(2, 4, 5).float()  # no ties
    net = Net()
    args = [net.input("x", x), getattr(trt.TopKOperation, op), k, 1 << axis]
    if indices_type:
        args.append(getattr(trt.DataType, indices_type))
    layer = net.network.add_topk(*args)
    values, indices = net.run(layer.get_output(0), layer.get_output(1))
    assert indices.dtype == (torch.int64 if indices_type else torch.int32)
    xs = x.movedim(axis, -1)
    vs, ids = values.movedim(axis, -1), indices.movedim(axis, -1)
    for idx in itertools.product(*[range(n) for n in xs.shape[:-1]]):
        row = xs[idx].tolist()
        order = sorted(range(len(row)), key=lambda i: row[i], reverse=(op == "MAX"))[:k]
        assert ids[idx].tolist() == order
        assert vs[idx].tolist() == [row[i] for i in order]


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_softmax(axis: int) -> None:
    x = _rand(2, 3, 4, seed=10)
    net = Net()
    layer = net.network.add_softmax(net.input("x", x, dynamic=[0]))
    layer.axes = 1 << axis
    (out,) = net.run(layer.get_output(0))
    e = np.exp(x.double().numpy())
    _close(out, torch.from_numpy(e / e.sum(axis=axis, keepdims=True)))


# ---------------------------------------------------------------- NORMALIZATION / SCALE


def _ref_norm(
    x: torch.Tensor, axes: tuple, groups: int, scale: torch.Tensor, bias: torch.Tensor, per_group: bool, eps: float
):
    """Mean/variance by explicit sums over every slice that shares the non-normalized (and group) indices."""
    xd = x.double().numpy()
    out = np.zeros_like(xd)
    c = x.shape[1] if x.dim() > 1 else 1
    keep = [d for d in range(x.dim()) if d not in axes and not (groups > 1 and d == 1)]
    for idx in itertools.product(*[range(x.shape[d]) for d in keep]):
        for g in range(groups):
            sel = [slice(None)] * x.dim()
            for d, i in zip(keep, idx):
                sel[d] = slice(i, i + 1)
            if groups > 1:
                sel[1] = slice(g * c // groups, (g + 1) * c // groups)
            block = xd[tuple(sel)]
            mean = block.sum() / block.size
            var = ((block - mean) ** 2).sum() / block.size
            normed = (block - mean) / math.sqrt(var + eps)
            if per_group:
                normed = normed * float(scale.flatten()[g]) + float(bias.flatten()[g])
            out[tuple(sel)] = normed
    result = torch.from_numpy(out)
    return result if per_group else result * scale.double() + bias.double()


@pytest.mark.parametrize(
    "shape, axes, groups, sb_shape, v2",
    [
        ((2, 3, 4), (2,), 1, (1, 1, 4), True),  # layer norm, last dim
        ((2, 3, 4), (1, 2), 1, (1, 3, 4), False),  # layer norm, last two dims
        ((2, 3, 4, 5), (2, 3), 1, (1, 3, 1, 1), True),  # instance norm
        ((2, 4, 3, 3), (2, 3), 2, (1, 2, 1, 1), False),  # group norm, per-group scale (add_normalization)
        ((2, 4, 3, 3), (2, 3), 2, (1, 4, 1, 1), True),  # group norm, per-channel scale (add_normalization_v2)
        ((1, 6, 5), (2,), 3, (1, 6, 1), True),
    ],
)
def test_normalization(shape, axes, groups, sb_shape, v2) -> None:
    x, s, b = _rand(*shape, seed=22) * 3 + 1, _rand(*sb_shape, seed=23), _rand(*sb_shape, seed=24)
    net = Net()
    add = net.network.add_normalization_v2 if v2 else net.network.add_normalization
    layer = add(net.input("x", x), net.input("s", s), net.input("b", b), sum(1 << a for a in axes))
    layer.num_groups = groups
    layer.epsilon = 1e-3
    assert layer.is_v2 == v2
    (out,) = net.run(layer.get_output(0))
    per_group = groups > 1 and not v2
    _close(out, _ref_norm(x, axes, groups, s, b, per_group, 1e-3), tol=1e-4)


@pytest.mark.parametrize("mode", ["UNIFORM", "CHANNEL", "ELEMENTWISE"])
@pytest.mark.parametrize("with_power", [True, False])
def test_scale(mode: str, with_power: bool) -> None:
    x = _rand(2, 3, 4, 2, seed=25).abs() + 0.5
    wshape = {"UNIFORM": (1,), "CHANNEL": (3,), "ELEMENTWISE": (3, 4, 2)}[mode]
    sc, sh, pw = _rand(*wshape, seed=26), _rand(*wshape, seed=27).abs(), torch.full(wshape, 2.0)
    net = Net()
    layer = net.network.add_scale_nd(
        net.input("x", x), getattr(trt.ScaleMode, mode), _w(sh), _w(sc), _w(pw) if with_power else trt.Weights(), 1
    )
    (out,) = net.run(layer.get_output(0))
    expected = torch.zeros(x.shape, dtype=torch.float64)
    for n, c, h, w in itertools.product(*[range(s) for s in x.shape]):
        i = {"UNIFORM": (0,), "CHANNEL": (c,), "ELEMENTWISE": (c, h, w)}[mode]
        v = float(x[n, c, h, w]) * float(sc[i]) + float(sh[i])
        expected[n, c, h, w] = v**2 if with_power else v
    _close(out, expected, tol=1e-4)


# ---------------------------------------------------------------- values that are not modelled


def test_reduce_avg_of_integers_is_not_modelled() -> None:
    x = torch.ones(3, 4, dtype=torch.int32)
    net = Net()
    layer = net.network.add_reduce(net.input("x", x), trt.ReduceOperation.AVG, 0b10, False)
    with pytest.raises(NotImplementedError, match="AVG of input dtype"):
        net.run(layer.get_output(0))
