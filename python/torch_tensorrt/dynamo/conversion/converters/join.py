"""Joining and splitting: ``cat``, ``stack``, ``split``/``split_with_sizes``/``chunk``, ``unbind``.

Split sizes along a dynamic dimension are computed at run time; the number of outputs always comes from the
graph (export fixes it).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


def _is_legacy_empty(node_arg: Any, value: Any) -> bool:
    """torch.cat skips 1-D tensors of size 0 whatever the other inputs' shapes are."""
    val = node_arg.meta.get("val") if isinstance(node_arg, torch.fx.Node) else value
    return isinstance(val, torch.Tensor) and val.dim() == 1 and isinstance(val.shape[0], int) and val.shape[0] == 0


def concat_values(
    ctx: ConversionContext, values: Sequence[Any], dim: int, node_args: Optional[Sequence[Any]] = None
) -> Any:
    """Concatenate converted values along ``dim`` with torch's type promotion, skipping legacy empty tensors."""
    node_args = node_args if node_args is not None else [None] * len(values)
    kept = [v for a, v in zip(node_args, values) if not _is_legacy_empty(a, v)]
    if not kept:
        kept = list(values[:1])
    dtype = T.result_dtype(ctx, *kept)
    tensors = [T.to_trt(ctx, v, dtype) for v in kept]
    return T.concat(ctx, tensors, T.normalize_dim(dim, len(tensors[0].shape)))


@converter(aten.cat.default)
def cat(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dim = arg(args, kwargs, 1, "dim", 0)
    return concat_values(ctx, list(args[0]), dim, list(cast(Sequence[Any], node.args[0])))


@converter(aten.stack.default)
def stack(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    values = list(args[0])
    dim = arg(args, kwargs, 1, "dim", 0)
    dtype = T.result_dtype(ctx, *values)
    tensors = [T.to_trt(ctx, v, dtype) for v in values]
    dim = T.normalize_dim(dim, len(tensors[0].shape) + 1)
    return T.concat(ctx, [T.unsqueeze(ctx, t, [dim]) for t in tensors], dim)


def split_at(ctx: ConversionContext, x: Any, dim: int, lengths: Sequence[T.DimLike]) -> list[Any]:
    """Consecutive pieces of ``x`` along ``dim`` of the given ``lengths`` (ints or size ITensors)."""
    rank = len(x.shape)
    sizes = T.sizes(ctx, x)
    out = []
    offset: T.DimLike = 0
    for length in lengths:
        start = [offset if i == dim else 0 for i in range(rank)]
        size = [length if i == dim else sizes[i] for i in range(rank)]
        out.append(T.slice_tensor(ctx, x, start, size, [1] * rank))
        offset = T.scalar_arith(ctx, offset, length, "+")
    return out


def _num_outputs(node: torch.fx.Node) -> int:
    val = node.meta.get("val")
    if not isinstance(val, (list, tuple)):
        raise ValueError("a split node without a list of example outputs")
    return len(val)


@converter(aten.split.Tensor)
def split(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    size = args[1]
    dim = T.normalize_dim(arg(args, kwargs, 2, "dim", 0), len(x.shape))
    count = _num_outputs(node)
    total = T.dim_size(ctx, x, dim)
    # every piece has `size` elements except the last, which gets what is left
    rest = T.scalar_arith(ctx, total, T.scalar_arith(ctx, size, count - 1, "*"), "-")
    return split_at(ctx, x, dim, [size] * (count - 1) + [rest])


@converter(aten.split_with_sizes.default, aten.split_with_sizes_copy.default)
def split_with_sizes(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(arg(args, kwargs, 2, "dim", 0), len(x.shape))
    return split_at(ctx, x, dim, list(args[1]))


@converter(aten.chunk.default)
def chunk(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(arg(args, kwargs, 2, "dim", 0), len(x.shape))
    count = _num_outputs(node)
    total = T.dim_size(ctx, x, dim)
    size = T.scalar_arith(ctx, T.scalar_arith(ctx, total, args[1] - 1, "+"), args[1], "//")
    rest = T.scalar_arith(ctx, total, T.scalar_arith(ctx, size, count - 1, "*"), "-")
    return split_at(ctx, x, dim, [size] * (count - 1) + [rest])


@converter(aten.unbind.int)
def unbind(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(arg(args, kwargs, 1, "dim", 0), len(x.shape))
    return [T.select_index(ctx, x, dim, i) for i in range(_num_outputs(node))]
