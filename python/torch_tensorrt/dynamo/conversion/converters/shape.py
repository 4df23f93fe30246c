"""View and layout ops: view/reshape, flatten/unflatten, permute/transpose/t, squeeze/unsqueeze, expand,
repeat/tile, flip and roll.

Sizes may be dynamic: every size list handed to TensorRT is built from ints and 1-element int64 ITensors
(:func:`T.sizes`), so the converters below work with dynamic dimensions unless a validator says otherwise.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


def _input_shape(node: torch.fx.Node) -> Optional[Sequence[Any]]:
    """The example shape of the node's input (None when it is not a tensor)."""
    val = input_val(node)
    return tuple(val.shape) if val is not None else None


@converter(aten.view.default, aten.reshape.default, aten._unsafe_view.default)
def view(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.reshape(ctx, T.to_trt(ctx, args[0]), list(args[1]))


@converter(aten.flatten.using_ints)
def flatten(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    rank = len(x.shape)
    if rank == 0:
        return T.reshape(ctx, x, [1])
    start = T.normalize_dim(arg(args, kwargs, 1, "start_dim", 0), rank)
    end = T.normalize_dim(arg(args, kwargs, 2, "end_dim", -1), rank)
    dims = T.sizes(ctx, x)
    return T.reshape(ctx, x, dims[:start] + [T.product(ctx, dims[start : end + 1])] + dims[end + 1 :])


@converter(aten.unflatten.int)
def unflatten(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(args[1], len(x.shape))
    dims = T.sizes(ctx, x)
    return T.reshape(ctx, x, dims[:dim] + list(args[2]) + dims[dim + 1 :])


@converter(aten.permute.default)
def permute(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.permute(ctx, T.to_trt(ctx, args[0]), list(args[1]))


@converter(aten.transpose.int)
def transpose(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    rank = len(x.shape)
    if rank == 0:
        return x
    perm = list(range(rank))
    a, b = T.normalize_dim(args[1], rank), T.normalize_dim(args[2], rank)
    perm[a], perm[b] = perm[b], perm[a]
    return T.permute(ctx, x, perm)


@converter(aten.t.default)
def t(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return T.permute(ctx, x, [1, 0]) if len(x.shape) == 2 else x


@converter(aten.unsqueeze.default)
def unsqueeze(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return T.unsqueeze(ctx, x, [T.normalize_dim(args[1], len(x.shape) + 1)])


def _squeezable(node: torch.fx.Node, dims: Sequence[int]) -> list[int]:
    """Of ``dims``, those whose size is statically 1 (torch leaves other dimensions alone)."""
    shape = _input_shape(node) or ()
    rank = len(shape)
    if rank == 0:
        return []
    return [
        T.normalize_dim(d, rank)
        for d in dims
        if isinstance(shape[T.normalize_dim(d, rank)], int) and shape[T.normalize_dim(d, rank)] == 1
    ]


def _squeeze_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    shape = _input_shape(node)
    if shape is None:
        return "input is not a tensor"
    if node.target == aten.squeeze.default:
        dims: Sequence[int] = range(len(shape))
    else:
        dims = cast(Sequence[int], node.args[1] if isinstance(node.args[1], (list, tuple)) else [node.args[1]])
    for d in dims:
        if shape and isinstance(shape[T.normalize_dim(d, len(shape))], torch.SymInt):
            return "squeezing a dynamic dimension (whether it is 1 is only known at run time)"
    return None


@converter(aten.squeeze.dim, aten.squeeze.dims, aten.squeeze.default, validator=_squeeze_ok)
def squeeze(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if node.target == aten.squeeze.default:
        dims: Sequence[int] = list(range(len(x.shape)))
    else:
        dims = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
    return T.squeeze(ctx, x, _squeezable(node, dims))


@converter(aten.expand.default)
def expand(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.expand(ctx, T.to_trt(ctx, args[0]), list(args[1]))


@converter(aten.expand_as.default)
def expand_as(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.expand(ctx, T.to_trt(ctx, args[0]), T.sizes(ctx, T.to_trt(ctx, args[1])))


def repeat_tensor(ctx: ConversionContext, x: Any, repeats: Sequence[T.DimLike]) -> Any:
    """torch ``repeat``: interleave a size-1 axis before each dimension, broadcast it to the repeat count,
    and merge each pair (``[s0, s1] -> [1, s0, 1, s1] -> [r0, s0, r1, s1] -> [r0*s0, r1*s1]``)."""
    x = T.unsqueeze_to_rank(ctx, x, len(repeats))
    if all(isinstance(r, int) and r == 1 for r in repeats):
        return x
    dims = T.sizes(ctx, x)
    paired: list[T.DimLike] = []
    target: list[T.DimLike] = []
    for r, d in zip(repeats, dims):
        paired += [1, d]
        target += [r, d]
    wide = T.expand(ctx, T.reshape(ctx, x, paired), target)
    return T.reshape(ctx, wide, [T.scalar_arith(ctx, r, d, "*") for r, d in zip(repeats, dims)])


@converter(aten.repeat.default)
def repeat(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return repeat_tensor(ctx, T.to_trt(ctx, args[0]), list(args[1]))


@converter(aten.tile.default)
def tile(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    reps = list(args[1])
    reps = [1] * (len(x.shape) - len(reps)) + reps
    return repeat_tensor(ctx, x, reps)


@converter(aten.flip.default)
def flip(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    rank = len(x.shape)
    dims = {T.normalize_dim(d, rank) for d in args[1]}
    if rank == 0 or not dims:
        return x
    sizes = T.sizes(ctx, x)
    start = [T.scalar_arith(ctx, sizes[i], 1, "-") if i in dims else 0 for i in range(rank)]
    stride = [-1 if i in dims else 1 for i in range(rank)]
    return T.slice_tensor(ctx, x, start, sizes, stride)


def _mod(ctx: ConversionContext, a: T.DimLike, n: T.DimLike) -> T.DimLike:
    """Python ``a % n`` on sizes that may be ITensors (floor semantics)."""
    if isinstance(a, int) and isinstance(n, int):
        return a % n if n else 0
    return T.scalar_arith(ctx, a, T.scalar_arith(ctx, T.scalar_arith(ctx, a, n, "//"), n, "*"), "-")


def roll_dim(ctx: ConversionContext, x: Any, shift: int, dim: int) -> Any:
    """Roll along one axis: ``out[i] = x[(i - shift) mod n]``, one WRAP-mode slice starting at ``-shift mod n``."""
    rank = len(x.shape)
    sizes = T.sizes(ctx, x)
    start: list[T.DimLike] = [0] * rank
    start[dim] = _mod(ctx, -shift, sizes[dim])
    if isinstance(start[dim], int) and start[dim] == 0:
        return x
    return T.slice_tensor(ctx, x, start, sizes, [1] * rank, trt.SampleMode.WRAP)


@converter(aten.roll.default)
def roll(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    shifts = list(args[1]) if isinstance(args[1], (list, tuple)) else [args[1]]
    dims = list(arg(args, kwargs, 2, "dims") or [])
    if not dims:
        sizes = T.sizes(ctx, x)
        flat = roll_dim(ctx, T.reshape(ctx, x, [-1]), shifts[0], 0)
        return T.reshape(ctx, flat, sizes)
    for s, d in zip(shifts, dims):
        x = roll_dim(ctx, x, s, T.normalize_dim(d, len(x.shape)))
    return x
