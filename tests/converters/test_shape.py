"""Shape/layout converters: view/reshape/flatten/unflatten, permute/transpose/t, squeeze/unsqueeze, expand,
repeat/tile, flip, roll, and the identity/cast ops (clone, _to_copy, functional copy)."""

from __future__ import annotations

import os
import sys

from typing import Any, Callable, Optional, Sequence

import pytest
import torch

from torch_tensorrt.testing import assert_converts

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _cases import as_module, case_params, dyn, r, ranges_for, run_case  # noqa: E402,F401

aten = torch.ops.aten


def _assign_cast(x: torch.Tensor) -> torch.Tensor:
    """Slice assignment of a bool source: functional ``copy`` casts it and broadcasts it over the slice."""
    y = x * 2
    y[:, 1:3] = x[:, :1] > 0
    return y


def _copy_into_new(x: torch.Tensor) -> torch.Tensor:
    """``copy_`` of an int source into a slice of a fresh tensor (swin_t's attention-mask pattern)."""
    y = x.new_zeros(x.shape)
    y[:, :2] = 1.5
    y[:, 2:].copy_(x[:, :1].int())
    return y + x


# name, fn, input shapes, dynamic dims (None = static only), expected op
CASES: list[tuple[str, Callable[..., Any], list[tuple[int, ...]], Optional[Sequence[int]], Any]] = [
    ("view", lambda x: x.view(x.shape[0], -1), [(2, 3, 4)], (0,), aten.view.default),
    ("view_static", lambda x: x.view(4, 6), [(2, 3, 4)], None, aten.view.default),
    ("reshape_split", lambda x: x.reshape(x.shape[0], 3, 2, 2), [(2, 3, 4)], (0,), aten.reshape.default),
    ("flatten", lambda x: x.flatten(1), [(2, 3, 4)], (0,), aten.flatten.using_ints),
    ("flatten_all", lambda x: torch.flatten(x), [(2, 3, 4)], (0,), aten.flatten.using_ints),
    ("unflatten", lambda x: x.unflatten(2, (2, 2)), [(2, 3, 4)], (0,), aten.unflatten.int),
    ("permute", lambda x: x.permute(2, 0, 1), [(2, 3, 4)], (0,), aten.permute.default),
    ("transpose", lambda x: x.transpose(0, 2), [(2, 3, 4)], (0,), aten.transpose.int),
    ("transpose_neg", lambda x: x.transpose(-1, -2), [(2, 3, 4)], (0,), aten.transpose.int),
    ("t", lambda x: x.t(), [(3, 5)], (0,), aten.t.default),
    ("unsqueeze0", lambda x: x.unsqueeze(0), [(2, 3)], (0,), aten.unsqueeze.default),
    ("unsqueeze_neg", lambda x: x.unsqueeze(-1), [(2, 3)], (0,), aten.unsqueeze.default),
    ("squeeze_dim", lambda x: x.squeeze(1), [(2, 1, 3)], (0,), aten.squeeze.dim),
    ("squeeze_dims", lambda x: x.squeeze((1, 3)), [(2, 1, 3, 1)], (0,), aten.squeeze.dims),
    ("squeeze_noop", lambda x: x.squeeze(2) + 1, [(2, 1, 3)], None, aten.squeeze.dim),
    ("squeeze_all", lambda x: x.squeeze(), [(2, 1, 3, 1)], None, aten.squeeze.default),
    ("expand", lambda x: x.expand(2, 3, 4), [(1, 3, 1)], None, aten.expand.default),
    ("expand_neg1", lambda x: x.expand(-1, 3, 4), [(2, 1, 4)], (0,), aten.expand.default),
    ("expand_rank", lambda x: x.expand(5, 2, 3), [(2, 3)], None, aten.expand.default),
    ("expand_as", lambda x, y: x.expand_as(y), [(1, 3, 1), (2, 3, 4)], [None, (0,)], aten.expand_as.default),
    ("repeat", lambda x: x.repeat(2, 3), [(2, 3)], (0,), aten.repeat.default),
    ("repeat_rank", lambda x: x.repeat(2, 1, 3), [(2, 3)], (0,), aten.repeat.default),
    ("tile", lambda x: x.tile((2,)), [(2, 3)], (0,), aten.tile.default),
    ("flip", lambda x: x.flip(0, 2), [(2, 3, 4)], (0,), aten.flip.default),
    ("flip_last", lambda x: x.flip(-1), [(2, 3, 4)], (0,), aten.flip.default),
    ("roll", lambda x: x.roll(1, 1), [(2, 3, 4)], (0,), aten.roll.default),
    ("roll_neg", lambda x: x.roll(-5, 2), [(2, 3, 4)], (0,), aten.roll.default),
    ("roll_dyn_dim", lambda x: x.roll(3, 0), [(4, 3)], (0,), aten.roll.default),
    ("roll_multi", lambda x: x.roll((1, 2), (0, 1)), [(2, 3, 4)], None, aten.roll.default),
    ("roll_flat", lambda x: x.roll(5), [(2, 3, 4)], (0,), aten.roll.default),
    ("clone", lambda x: x.permute(1, 0).contiguous() * 2, [(2, 3)], (0,), aten.contiguous.default),
    ("to_int", lambda x: (x * 3).to(torch.int32), [(2, 3)], (0,), aten.to.dtype),
    ("to_long_back", lambda x: (x * 3).long().float(), [(2, 3)], (0,), aten.to.dtype),
    ("to_bool", lambda x: (x > 0).to(torch.float32), [(2, 3)], (0,), aten.to.dtype),
    ("type_as", lambda x, y: (y * 5).type_as(x), [(2, 3), (2, 3)], (0,), aten.type_as.default),
    ("half", lambda x: x.half(), [(2, 3)], (0,), aten.to.dtype),
    ("copy_assign_cast", _assign_cast, [(2, 5, 3)], (0,), aten.copy.default),
    ("copy_into_new", _copy_into_new, [(2, 5, 3)], (0,), aten.copy.default),
]


@pytest.mark.parametrize("name,fn,shapes,dims,op,dynamic", case_params(CASES))
def test_shape_ops(
    name: str, fn: Callable[..., Any], shapes: list, dims: Optional[Sequence[int]], op: Any, dynamic: bool
) -> None:
    inputs = [torch.randn(s) for s in shapes]
    ranges = ranges_for(shapes, dims) if dynamic else None
    assert_converts(as_module(fn, len(inputs)), inputs, input_ranges=ranges, expected_ops={op})


@pytest.mark.parametrize(
    "fn,op",
    [
        (lambda x: x.transpose(1, 2).reshape(x.shape[0], -1), aten.transpose.int),
        (lambda x: x.repeat(1, 2, 1), aten.repeat.default),
        (lambda x: x.flip(1).roll(2, 2), aten.flip.default),
        (lambda x: x.float().half(), aten.to.dtype),
        (_copy_into_new, aten.copy.default),
    ],
)
def test_shape_fp16(fn: Callable[..., Any], op: Any) -> None:
    x = torch.randn(2, 3, 4)
    assert_converts(as_module(fn, 1), [x], input_ranges=[dyn(x.shape)], precision=torch.float16, expected_ops={op})


def test_int_inputs() -> None:
    x = torch.arange(24, dtype=torch.int64).reshape(2, 3, 4)
    assert_converts(
        as_module(lambda x: x.permute(1, 0, 2).flip(0).roll(1, 2), 1),
        [x],
        input_ranges=[dyn(x.shape)],
        expected_ops={aten.permute.default, aten.flip.default, aten.roll.default},
    )


def test_squeeze_dynamic_dim_rejected() -> None:
    """Squeezing a dynamic dimension can't be decided at build time: the validator keeps it in PyTorch."""
    from torch_tensorrt.dynamo import trace
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS
    from torch_tensorrt.dynamo.lowering import lower_exported_program
    from torch_tensorrt._input import Input

    class M(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.squeeze(0)

    x = torch.randn(2, 3)
    ep = trace(
        M(),
        arg_inputs=[Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3), dtype=torch.float32, torch_tensor=x)],
    )
    gm = lower_exported_program(ep, CompilationSettings()).graph_module
    node = next(n for n in gm.graph.nodes if n.op == "call_function" and "squeeze" in str(n.target))
    decision = CONVERTERS.decide(node, CompilationSettings())
    assert not decision.supported and "dynamic" in decision.reason
