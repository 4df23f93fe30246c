"""Indexing converters: slice, select, narrow, index_select, gather, index (advanced), embedding, diagonal,
scatter, index_put, slice_scatter, select_scatter, masked_fill; validators for data-dependent shapes."""

from __future__ import annotations

import os
import sys

from typing import Any, Callable

import pytest
import torch

from torch_tensorrt.testing import assert_converts

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _cases import as_module, case_params, dyn, r, ranges_for, run_case  # noqa: E402,F401

aten = torch.ops.aten


def ints(hi: int, *shape: int, lo: int = 0) -> torch.Tensor:
    """Int64 indices in [lo, hi) that cover both ends (the harness draws new ones in the example's range)."""
    t = torch.randint(lo, hi, shape)
    t.view(-1)[0], t.view(-1)[-1] = lo, hi - 1
    return t


IDX = torch.tensor([2, 0, 2])
NEG = torch.tensor([-1, 0, -3])
UNIQUE = torch.tensor([2, 0, 3])


def put(x: torch.Tensor, value: Any, *key: Any) -> torch.Tensor:
    x = x.clone()
    x[key if len(key) > 1 else key[0]] = value
    return x


CASES = [
    ("slice", lambda x: x[:, 1:3], [r(2, 4, 3)], (0,), aten.slice.Tensor),
    ("slice_neg", lambda x: x[:, -2:], [r(2, 4, 3)], (0,), aten.slice.Tensor),
    ("slice_step", lambda x: x[..., ::2], [r(2, 4, 5)], (0,), aten.slice.Tensor),
    ("slice_huge", lambda x: x[:, 1:100], [r(2, 4, 3)], (0,), aten.slice.Tensor),
    ("narrow", lambda x: x.narrow(1, 1, 2), [r(2, 4, 3)], (0,), aten.narrow.default),
    ("select", lambda x: x[:, 1], [r(2, 4, 3)], (0,), aten.select.int),
    ("select_neg", lambda x: x[:, :, -1], [r(2, 4, 3)], (0,), aten.select.int),
    ("select_dyn_neg", lambda x: x[-1], [r(3, 4)], (0,), aten.select.int),
    ("index_select", lambda x: x.index_select(1, IDX), [r(2, 4, 3)], (0,), aten.index_select.default),
    (
        "index_select_in",
        lambda x, i: x.index_select(0, i),
        [r(5, 3), ints(5, 4)],
        [None, (0,)],
        aten.index_select.default,
    ),
    ("gather", lambda x, i: x.gather(1, i), [r(2, 5, 3), ints(5, 2, 4, 3)], [None, (1,)], aten.gather.default),
    ("gather_small", lambda x, i: x.gather(2, i), [r(3, 4, 5), ints(5, 2, 2, 7)], None, aten.gather.default),
    ("index_one", lambda x: x[IDX], [r(4, 3)], None, aten.index.Tensor),
    ("index_mid", lambda x: x[:, IDX], [r(2, 4, 3)], (0,), aten.index.Tensor),
    ("index_neg", lambda x: x[:, NEG], [r(2, 4, 3)], (0,), aten.index.Tensor),
    ("index_input", lambda x, i: x[:, i], [r(2, 4, 3), ints(4, 2, 5)], [(0,), (1,)], aten.index.Tensor),
    ("index_input_neg", lambda x, i: x[i], [r(4, 3), ints(2, 6, lo=-4)], [None, (0,)], aten.index.Tensor),
    ("index_pair", lambda x: x[IDX, NEG], [r(4, 3, 2)], None, aten.index.Tensor),
    ("index_pair_mid", lambda x: x[:, IDX, NEG], [r(2, 4, 3, 2)], (0,), aten.index.Tensor),
    ("index_gap", lambda x: x[IDX, :, NEG], [r(4, 2, 3)], (1,), aten.index.Tensor),
    (
        "index_bcast",
        lambda x, i, j: x[:, i, j],
        [r(2, 4, 3), ints(4, 2, 1), ints(3, 3)],
        [(0,), None, (0,)],
        aten.index.Tensor,
    ),
    ("index_put", lambda x: put(x, 5.0, UNIQUE), [r(4, 3)], None, aten.index_put.default),
    (
        "index_put_mid",
        lambda x, v: put(x, v, slice(None), UNIQUE),
        [r(2, 4, 3), r(3, 3)],
        [(0,), None],
        aten.index_put.default,
    ),
    (
        "index_put_pair",
        lambda x, v: put(x, v, slice(None), torch.tensor([0, 2]), torch.tensor([1, -1])),
        [r(2, 4, 3), r(2, 1)],
        [(0,), (0,)],
        aten.index_put.default,
    ),
    (
        "index_put_gap",
        lambda x: put(x, -1.0, torch.tensor([0, 1]), slice(None), torch.tensor([2, 0])),
        [r(2, 4, 3)],
        (1,),
        aten.index_put.default,
    ),
    ("index_put_mask", lambda x: put(x, 0.0, x > 0.5), [r(2, 4, 3)], (0,), aten.index_put.default),
    ("masked_fill", lambda x: x.masked_fill(x > 0, 2.0), [r(2, 3)], (0,), aten.masked_fill.Scalar),
    (
        "masked_fill_bcast",
        lambda x, m: x.masked_fill(m, -1.0),
        [r(2, 3), torch.tensor([[True, False, True]])],
        [(0,), None],
        aten.masked_fill.Scalar,
    ),
    ("masked_fill_tensor", lambda x: x.masked_fill(x < 0, x.sum()), [r(2, 3)], (0,), aten.masked_fill.Tensor),
    ("masked_fill_int", lambda x: x.masked_fill(x > 3, 0), [ints(9, 2, 3)], (0,), aten.masked_fill.Scalar),
    ("embedding", torch.nn.Embedding(10, 4), [ints(10, 2, 3)], (0,), aten.embedding.default),
    ("diagonal", lambda x: torch.diagonal(x, 0, 1, 2), [r(2, 3, 4)], (0,), aten.diagonal.default),
    ("diagonal_off", lambda x: torch.diagonal(x, -1, 2, 1), [r(2, 3, 4)], (0,), aten.diagonal.default),
    ("diagonal_pos", lambda x: torch.diagonal(x, 2), [r(3, 4)], None, aten.diagonal.default),
    (
        "scatter",
        lambda x, i, s: x.scatter(1, i, s),
        [r(2, 5), torch.tensor([[0, 4, 2], [1, 3, 0]]), r(2, 4)],
        None,
        aten.scatter.src,
    ),
    ("scatter_value", lambda x: x.scatter(1, torch.tensor([[1, 0, 2]]), 7.0), [r(3, 3)], (0,), aten.scatter.value),
    (
        "slice_scatter",
        lambda x, s: torch.slice_scatter(x, s, 1, 1, 4, 2),
        [r(2, 5), r(2, 2)],
        None,
        aten.slice_scatter.default,
    ),
    (
        "slice_scatter_dyn",
        lambda x: torch.slice_scatter(x, x[:, :2] * 10, 1, 2, None),
        [r(2, 4)],
        (0,),
        aten.slice_scatter.default,
    ),
    (
        "slice_scatter_dim0",
        lambda x: torch.slice_scatter(x, x[:1] + 5, 0, 0, 1),
        [r(3, 4)],
        (0,),
        aten.slice_scatter.default,
    ),
    (
        "select_scatter",
        lambda x: torch.select_scatter(x, x[:, 0] * 3, 1, -1),
        [r(2, 4)],
        (0,),
        aten.select_scatter.default,
    ),
]


@pytest.mark.parametrize("name,fn,inputs,dims,op,dynamic", case_params(CASES))
def test_indexing(name: str, fn: Any, inputs: list, dims: Any, op: Any, dynamic: bool) -> None:
    if isinstance(fn, torch.nn.Module):
        ranges = ranges_for([t.shape for t in inputs], dims) if dynamic else None
        assert_converts(fn, inputs, input_ranges=ranges, expected_ops={op})
        return
    run_case(fn, inputs, dims, dynamic, op)


@pytest.mark.parametrize(
    "fn,op",
    [
        (lambda x: x[:, 1:3, IDX], aten.index.Tensor),
        (lambda x: x.masked_fill(x > 0, 1.5), aten.masked_fill.Scalar),
        (lambda x: torch.slice_scatter(x, x[:, :1] * 2, 1, 0, 1), aten.slice_scatter.default),
    ],
)
def test_indexing_fp16(fn: Callable[..., Any], op: Any) -> None:
    x = r(2, 3, 4)
    assert_converts(as_module(fn, 1), [x], input_ranges=[dyn(x.shape)], precision=torch.float16, expected_ops={op})


def _decide(fn: Callable[..., Any], inputs: list, target: Any) -> Any:
    from torch_tensorrt.dynamo import trace
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS
    from torch_tensorrt.dynamo.lowering import lower_exported_program

    ep = lower_exported_program(trace(as_module(fn, len(inputs)), arg_inputs=inputs), CompilationSettings())
    node = next(n for n in ep.graph_module.graph.nodes if n.target == target)
    return CONVERTERS.decide(node, CompilationSettings())


@pytest.mark.parametrize(
    "fn,inputs,target,words",
    [
        (lambda x, m: x[m], [r(3, 4), torch.rand(3, 4) > 0.5], aten.index.Tensor, "data-dependent"),
        (
            lambda x, m: put(x, x[:1].sum(1) * 0 + r(1), m),
            [r(3, 4), torch.rand(3) > 0.5],
            aten.index_put.default,
            "boolean",
        ),
        (
            lambda x: x.index_put((IDX,), torch.ones(3, 3), accumulate=True),
            [r(4, 3)],
            aten.index_put.default,
            "accumulate",
        ),
    ],
)
def test_data_dependent_rejected(fn: Callable[..., Any], inputs: list, target: Any, words: str) -> None:
    """Ops whose output shape (or semantics) depend on the data stay in PyTorch, with a reason."""
    decision = _decide(fn, inputs, target)
    assert not decision.supported and words in decision.reason


@pytest.mark.parametrize(
    "fn,op",
    [
        (lambda x: x[1:], aten.slice.Tensor),
        (lambda x: x[:-1:2], aten.slice.Tensor),
        (lambda x: x[-3:], aten.slice.Tensor),
        (lambda x: x[1 : x.shape[0] - 1], aten.slice.Tensor),
        (lambda x: x.narrow(0, 1, 2), aten.narrow.default),
        (lambda x: x.narrow(0, -3, 2), aten.narrow.default),
    ],
    ids=["from1", "neg_end_step", "last3", "symbolic_end", "narrow", "narrow_neg"],
)
def test_slice_dynamic_axis(fn: Callable[..., Any], op: Any) -> None:
    """Slices of the dynamic axis itself: bounds are clamped at run time."""
    x = r(5, 4)
    assert_converts(as_module(fn, 1), [x], input_ranges=[((4, 4), (5, 4), (9, 4))], expected_ops={op})
