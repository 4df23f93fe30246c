"""Joining and splitting converters: cat (promotion, legacy empty inputs), stack, split/split_with_sizes/chunk,
unbind."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pytest
import torch

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten


def as_module(fn: Callable[..., Any], arity: int) -> torch.nn.Module:
    """``fn`` as a module whose forward names each input (export's dynamic_shapes cannot describe ``*args``)."""

    class One(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return fn(x)

    class Two(torch.nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return fn(x, y)

    class Three(torch.nn.Module):
        def forward(self, x: Any, y: Any, z: Any) -> Any:
            return fn(x, y, z)

    return (One, Two, Three)[arity - 1]()


def dyn(shape: Sequence[int], dims: Sequence[int] = (0,), lo: int = 1, factor: int = 2) -> tuple:
    """(min, opt, max) with ``dims`` dynamic: min ``lo``, max ``factor`` times the opt size."""
    mn = [lo if i in dims else s for i, s in enumerate(shape)]
    mx = [s * factor if i in dims else s for i, s in enumerate(shape)]
    return (mn, list(shape), mx)


def ranges_for(shapes: Sequence[Sequence[int]], dims: Any) -> list:
    """Per-input ranges: ``dims`` is one tuple of dynamic dims for every input, or a list with one entry
    (tuple, or None for static) per input."""
    per_input = dims if isinstance(dims, list) else [dims] * len(shapes)
    return [None if d is None else dyn(s, d) for s, d in zip(shapes, per_input)]


def run_case(fn: Callable[..., Any], inputs: list, dims: Any, dynamic: bool, op: Any, **kw: Any) -> None:
    if dynamic and dims is None:
        pytest.skip("static-only case")
    shapes = [tuple(t.shape) for t in inputs]
    ranges = ranges_for(shapes, dims) if dynamic else None
    assert_converts(as_module(fn, len(inputs)), inputs, input_ranges=ranges, expected_ops={op}, **kw)


def r(*shape: int) -> torch.Tensor:
    return torch.randn(shape)


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


@pytest.mark.parametrize("name,fn,inputs,dims,op", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_join(name: str, fn: Callable[..., Any], inputs: list, dims: Any, op: Any, dynamic: bool) -> None:
    run_case(fn, inputs, dims, dynamic, op)


def test_cat_dynamic_concat_axis() -> None:
    """Concatenating along the dynamic dimension."""
    x, y = r(2, 3), r(3, 3)
    assert_converts(as_module(lambda x, y: torch.cat([x, y]), 2), [x, y], input_ranges=[dyn(x.shape), dyn(y.shape)], expected_ops={aten.cat.default})


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
