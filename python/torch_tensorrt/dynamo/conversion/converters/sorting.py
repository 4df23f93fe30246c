"""TopK-based ops: topk, sort, argmax/argmin, max.dim/min.dim (values and int64 indices).

ITopKLayer reduces one of the last four dimensions with k <= 3840; other dims are permuted to the end first.
Ties: TensorRT does not document which of equal elements comes first, so equal values may be ordered (and
argmax/argmin may pick an index) differently from torch.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val, node_arg, out_dtype
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
MAX_K = 3840


def topk_along(ctx: ConversionContext, x: Any, k: T.DimLike, dim: int, largest: bool) -> tuple[Any, Any]:
    """(values, int64 indices) of the ``k`` largest/smallest along ``dim``, sorted; ``k`` int or int64 ITensor."""
    rank = len(x.shape)
    if rank == 0:
        x1 = T.reshape(ctx, x, (1,))
        values, indices = topk_along(ctx, x1, k, 0, largest)
        return T.reshape(ctx, values, ()), T.reshape(ctx, indices, ())
    dim = T.normalize_dim(dim, rank)
    perm = None
    if dim < rank - 4:  # TopK reduces one of the last four dimensions only: move ``dim`` last
        perm = [d for d in range(rank) if d != dim] + [dim]
        x = T.permute(ctx, x, perm)
        dim = rank - 1
    if rank == 1:  # TopK needs at least two dimensions
        values, indices = topk_along(ctx, T.unsqueeze(ctx, x, [0]), k, 1, largest)
        return T.squeeze(ctx, values, [0]), T.squeeze(ctx, indices, [0])
    if T.dtype_of(x) == torch.bool:
        x = T.cast(ctx, x, torch.int32)
    op = trt.TopKOperation.MAX if largest else trt.TopKOperation.MIN
    # a dynamic k is a 0-d int32 shape tensor in input slot 1 (built before the layer: layers stay in topological order)
    k_tensor = None if isinstance(k, int) else T.cast(ctx, T.reshape(ctx, k, ()), torch.int32)
    layer = ctx.network.add_topk(x, op, k if isinstance(k, int) else 1, 1 << dim, trt.DataType.INT64)
    if k_tensor is not None:
        layer.set_input(1, k_tensor)
    values, indices = layer.get_output(0), layer.get_output(1)
    if perm is not None:
        inverse = [perm.index(d) for d in range(rank)]
        values, indices = T.permute(ctx, values, inverse), T.permute(ctx, indices, inverse)
    return values, indices


def _k_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    k = node_arg(node, 1, "k")
    if isinstance(k, int) and k > MAX_K:
        return f"k={k} exceeds TensorRT's TopK limit of {MAX_K}"
    return None


@converter(aten.topk.default, validator=_k_ok)
def topk(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """torch.topk; ``sorted=False`` is served sorted (torch leaves the order unspecified)."""
    x = T.to_trt(ctx, args[0])
    k = arg(args, kwargs, 1, "k")
    values, indices = topk_along(
        ctx, x, k, arg(args, kwargs, 2, "dim", -1), bool(arg(args, kwargs, 3, "largest", True))
    )
    return T.cast(ctx, values, out_dtype(ctx, node, 0)), indices


def _sort_args(node: torch.fx.Node, args: tuple, kwargs: dict) -> tuple[int, bool]:
    if node.target == aten.sort.stable:
        return int(kwargs.get("dim", -1)), bool(kwargs.get("descending", False))
    return int(arg(args, kwargs, 1, "dim", -1)), bool(arg(args, kwargs, 2, "descending", False))


def _sort_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    val = input_val(node)
    if val is None:
        return "unknown input shape"
    if val.dim() == 0:
        return None
    dim, _ = _sort_args(node, node.args, node.kwargs)
    size = val.shape[T.normalize_dim(int(dim), val.dim())]
    if isinstance(size, int) and size > MAX_K:
        return f"sorting {size} elements exceeds TensorRT's TopK limit of {MAX_K}"
    if node.target == aten.sort.stable and node.kwargs.get("stable"):
        return "stable sort (TensorRT TopK does not guarantee the order of equal elements)"
    return None


@converter(aten.sort.default, aten.sort.stable, validator=_sort_ok)
def sort(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """torch.sort as a TopK over the whole dimension (k = its size, a shape tensor when dynamic)."""
    x = T.to_trt(ctx, args[0])
    dim, descending = _sort_args(node, args, kwargs)
    k = T.dim_size(ctx, x, dim) if len(x.shape) else 1
    values, indices = topk_along(ctx, x, k, dim, descending)
    return T.cast(ctx, values, out_dtype(ctx, node, 0)), indices


def _extreme_index(ctx: ConversionContext, x: Any, dim: Any, keep: bool, largest: bool) -> tuple[Any, Any]:
    """(values, indices) of the max/min along ``dim`` (None: over the flattened input)."""
    rank = len(x.shape)
    if dim is None:
        flat = T.reshape(ctx, x, (-1,))
        values, indices = topk_along(ctx, flat, 1, 0, largest)
        shape = (1,) * rank if keep else ()
        return T.reshape(ctx, values, shape), T.reshape(ctx, indices, shape)
    values, indices = topk_along(ctx, x, 1, dim, largest)
    if not keep and rank:
        d = T.normalize_dim(int(dim), rank)
        values, indices = T.squeeze(ctx, values, [d]), T.squeeze(ctx, indices, [d])
    return values, indices


@converter(aten.argmax.default)
def argmax(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return _extreme_index(ctx, x, arg(args, kwargs, 1, "dim"), bool(arg(args, kwargs, 2, "keepdim", False)), True)[1]


@converter(aten.argmin.default)
def argmin(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return _extreme_index(ctx, x, arg(args, kwargs, 1, "dim"), bool(arg(args, kwargs, 2, "keepdim", False)), False)[1]


@converter(aten.max.dim)
def max_dim(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    values, indices = _extreme_index(ctx, x, args[1], bool(arg(args, kwargs, 2, "keepdim", False)), True)
    return T.cast(ctx, values, out_dtype(ctx, node, 0)), indices


@converter(aten.min.dim)
def min_dim(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    values, indices = _extreme_index(ctx, x, args[1], bool(arg(args, kwargs, 2, "keepdim", False)), False)
    return T.cast(ctx, values, out_dtype(ctx, node, 0)), indices
