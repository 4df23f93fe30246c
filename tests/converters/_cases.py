"""Shared pieces of the table-driven converter tests (shape, join, indexing, creation)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pytest
import torch

from torch_tensorrt.testing import assert_converts


def as_module(fn: Callable[..., Any], arity: int) -> torch.nn.Module:
    """``fn`` as a module whose forward names each input."""

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


def case_params(cases: Sequence[tuple]) -> list[Any]:
    """``(name, fn, inputs, dims, op)`` cases as pytest params with a trailing ``dynamic`` flag: every case
    statically, and dynamically where it names dynamic dims (``dims`` is not None)."""
    params = []
    for case in cases:
        params.append(pytest.param(*case, False, id=f"static-{case[0]}"))
        if case[3] is not None:
            params.append(pytest.param(*case, True, id=f"dynamic-{case[0]}"))
    return params


def run_case(fn: Callable[..., Any], inputs: list, dims: Any, dynamic: bool, op: Any, **kw: Any) -> None:
    shapes = [tuple(t.shape) for t in inputs]
    ranges = ranges_for(shapes, dims) if dynamic else None
    assert_converts(as_module(fn, len(inputs)), inputs, input_ranges=ranges, expected_ops={op}, **kw)


def r(*shape: int) -> torch.Tensor:
    return torch.randn(shape)
