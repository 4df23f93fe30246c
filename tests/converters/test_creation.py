"""Creation converters: arange (static and with a dynamic end), full/zeros/ones and their *_like / new_* forms,
scalar_tensor, tril/triu, one_hot."""

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
    ("arange", lambda x: x + torch.arange(4), [r(2, 4)], (0,), aten.arange.default),
    ("arange_start_step", lambda x: x * torch.arange(1, 12, 3), [r(2, 4)], (0,), aten.arange.start_step),
    ("arange_float", lambda x: x + torch.arange(0.5, 2.5, 0.5), [r(2, 4)], (0,), aten.arange.start_step),
    ("arange_dyn", lambda x: torch.arange(x.shape[0]), [r(3, 4)], (0,), aten.arange.default),
    (
        "arange_dyn_float",
        lambda x: x * torch.arange(x.shape[1], dtype=torch.float32),
        [r(2, 3)],
        (1,),
        aten.arange.default,
    ),
    ("full", lambda x: x + torch.full((2, 4), 1.5), [r(2, 4)], None, aten.full.default),
    ("full_int", lambda x: torch.full((2, 3), 7) + x.long(), [r(2, 3)], None, aten.full.default),
    ("full_dyn", lambda x: torch.full((x.shape[0], 3), 2.0) * x, [r(2, 3)], (0,), aten.full.default),
    ("zeros", lambda x: torch.zeros(x.shape[0], 2) + x[:, :1], [r(2, 3)], (0,), aten.zeros.default),
    ("ones", lambda x: torch.ones(x.shape, dtype=torch.int32) + 1, [r(2, 3)], (0,), aten.ones.default),
    ("full_like", lambda x: torch.full_like(x, 3.0), [r(2, 3)], (0,), aten.full_like.default),
    ("full_like_int", lambda x: torch.full_like(x, 3, dtype=torch.int64), [r(2, 3)], (0,), aten.full_like.default),
    ("zeros_like", lambda x: torch.zeros_like(x) + 1, [r(2, 3)], (0,), aten.zeros_like.default),
    ("ones_like", lambda x: x - torch.ones_like(x), [r(2, 3)], (0,), aten.ones_like.default),
    ("ones_like_bool", lambda x: torch.ones_like(x, dtype=torch.bool), [r(2, 3)], (0,), aten.ones_like.default),
    ("new_zeros", lambda x: x.new_zeros((x.shape[0], 5)), [r(2, 3)], (0,), aten.new_zeros.default),
    ("new_ones", lambda x: x.new_ones(4), [r(2, 3)], None, aten.new_ones.default),
    ("new_full", lambda x: x.new_full((x.shape[0],), -2.0), [r(2, 3)], (0,), aten.new_full.default),
    (
        "scalar_tensor",
        lambda x: torch.where(x > 0, x, torch.scalar_tensor(-1.0)),
        [r(2, 3)],
        (0,),
        aten.scalar_tensor.default,
    ),
    ("tril", lambda x: x.tril(), [r(2, 3, 4)], (0,), aten.tril.default),
    ("tril_k", lambda x: x.tril(-1), [r(4, 4)], None, aten.tril.default),
    ("triu", lambda x: x.triu(1), [r(2, 3, 4)], (0,), aten.triu.default),
    ("triu_dyn_rows", lambda x: x.triu(), [r(3, 4)], (0,), aten.triu.default),
    ("tril_int", lambda x: x.long().tril(), [r(3, 4) * 5], (1,), aten.tril.default),
    (
        "one_hot",
        lambda i: torch.nn.functional.one_hot(i, 5),
        [torch.tensor([[0, 4, 2], [1, 3, 0]])],
        (0,),
        aten.one_hot.default,
    ),
]


@pytest.mark.parametrize("name,fn,inputs,dims,op,dynamic", case_params(CASES))
def test_creation(name: str, fn: Callable[..., Any], inputs: list, dims: Any, op: Any, dynamic: bool) -> None:
    run_case(fn, inputs, dims, dynamic, op)


@pytest.mark.parametrize(
    "fn,op",
    [
        (lambda x: x + torch.arange(x.shape[2], dtype=torch.float32), aten.arange.default),
        (lambda x: torch.full_like(x, 0.1) * x, aten.full_like.default),
        (lambda x: x.triu(), aten.triu.default),
    ],
)
def test_creation_fp16(fn: Callable[..., Any], op: Any) -> None:
    x = r(2, 3, 4)
    assert_converts(as_module(fn, 1), [x], input_ranges=[dyn(x.shape)], precision=torch.float16, expected_ops={op})


def test_arange_dynamic_start_step() -> None:
    """arange(2, n + 2, 3) with a dynamic n: length ceil(n / 3) computed at run time."""
    x = r(5, 4)
    assert_converts(
        as_module(lambda x: torch.arange(2, x.shape[0] + 2, 3) * 1.0, 1),
        [x],
        input_ranges=[((4, 4), (5, 4), (10, 4))],
        expected_ops={aten.arange.start_step},
    )
