"""Joining and splitting converters: cat (promotion, legacy empty inputs), stack, split/split_with_sizes/chunk,
unbind."""

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


CASES = [
    ("cat0", lambda x, y: torch.cat([x, y]), [r(2, 3), r(4, 3)], (0,), aten.cat.default),
    ("cat1", lambda x: torch.cat([x, x[:, :2] * 2], 1), [r(2, 3)], (0,), aten.cat.default),
    ("cat_neg", lambda x: torch.cat([x, -x, x], -1), [r(2, 3)], (0,), aten.cat.default),
    ("cat_promote", lambda x, y: torch.cat([x, y], 1), [r(2, 3), torch.randint(0, 9, (2, 2))], None, aten.cat.default),
    ("cat_promote_dyn", lambda x: torch.cat([x, (x * 4).long()], 1), [r(2, 3)], (0,), aten.cat.default),
    ("cat_int", lambda x: torch.cat([x, x.int()], 1), [torch.randint(0, 9, (2, 3))], (0,), aten.cat.default),
    ("cat_const", lambda x: torch.cat([x, torch.ones(2, 1)], 1), [r(2, 3)], None, aten.cat.default),
    ("cat_empty", lambda x, e: torch.cat([e, x, e], 1), [r(2, 3), r(0)], [(0,), None], aten.cat.default),
    ("stack", lambda x: torch.stack([x, x * 2]), [r(2, 3)], (0,), aten.stack.default),
    ("stack_two", lambda x, y: torch.stack([x, y], 1), [r(2, 3), r(2, 3)], None, aten.stack.default),
    ("stack_last", lambda x: torch.stack([x, x + 1, x], -1), [r(2, 3)], (0,), aten.stack.default),
    ("split", lambda x: x.split(2, 1), [r(2, 5, 3)], (0,), aten.split.Tensor),
    ("split_dim0", lambda x: x.split(3, 0), [r(4, 3)], None, aten.split.Tensor),
    ("split_sizes", lambda x: x.split([1, 3, 1], 1), [r(2, 5, 3)], (0,), aten.split_with_sizes.default),
    ("split_last", lambda x: x.split([2, 1], -1), [r(2, 5, 3)], (0,), aten.split_with_sizes.default),
    ("chunk", lambda x: x.chunk(3, 1), [r(2, 7)], (0,), aten.chunk.default),
    ("unbind", lambda x: x.unbind(1), [r(2, 3, 4)], (0,), aten.unbind.int),
    ("unbind0", lambda x: x.unbind(0), [r(3, 4)], None, aten.unbind.int),
]


@pytest.mark.parametrize("name,fn,inputs,dims,op,dynamic", case_params(CASES))
def test_join(name: str, fn: Callable[..., Any], inputs: list, dims: Any, op: Any, dynamic: bool) -> None:
    run_case(fn, inputs, dims, dynamic, op)


def test_cat_dynamic_concat_axis() -> None:
    """Concatenating along the dynamic dimension."""
    x, y = r(2, 3), r(3, 3)
    assert_converts(
        as_module(lambda x, y: torch.cat([x, y]), 2),
        [x, y],
        input_ranges=[dyn(x.shape), dyn(y.shape)],
        expected_ops={aten.cat.default},
    )


def test_split_dynamic_dim() -> None:
    """split along a dynamic axis: the last piece's size is computed at run time."""
    x = r(6, 3)
    assert_converts(
        as_module(lambda x: x.split([2, x.shape[0] - 2])[1] * 2, 1),
        [x],
        input_ranges=[((4, 3), (6, 3), (9, 3))],
        expected_ops={aten.split_with_sizes.default},
    )


@pytest.mark.parametrize(
    "fn,op",
    [
        (lambda x: torch.cat([x, x * 2], 1), aten.cat.default),
        (lambda x: torch.stack(x.unbind(1), 2), aten.stack.default),
        (lambda x: x.split(1, 1)[1] + x.split([2, 1], 1)[0][:, :1], aten.split_with_sizes.default),
    ],
)
def test_join_fp16(fn: Callable[..., Any], op: Any) -> None:
    x = r(2, 3, 4)
    assert_converts(as_module(fn, 1), [x], input_ranges=[dyn(x.shape)], precision=torch.float16, expected_ops={op})
