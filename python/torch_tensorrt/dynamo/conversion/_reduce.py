"""Reductions over dimensions with torch's conventions, for every converter family that reduces (reductions,
normalizations, softmax, attention).

torch's ``dim`` argument is an int, a list, or None/[] for "every dimension"; reducing a 0-d tensor is the
identity. Counts of reduced elements are sizes (ints, or 1-element int64 ITensors when dynamic).
"""

from __future__ import annotations

from typing import Any

from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext


def reduce_dims(dims: Any, rank: int) -> list[int]:
    """Normalized, sorted reduction dims; None or an empty list means every dimension."""
    if dims is None:
        return list(range(rank))
    if isinstance(dims, int):
        dims = [dims]
    if len(dims) == 0:
        return list(range(rank))
    return sorted({T.normalize_dim(int(d), rank) for d in dims})


def reduce(ctx: ConversionContext, x: Any, op: Any, dims: Any, keepdim: bool) -> Any:
    """``op`` over ``dims`` (None/[] = all). A 0-d input is returned as is (reducing a scalar is the identity)."""
    rank = len(x.shape)
    if rank == 0:
        return x
    axes = reduce_dims(dims, rank)
    return ctx.network.add_reduce(x, op, T.axes_mask(axes, rank), bool(keepdim)).get_output(0)


def reduced_count(ctx: ConversionContext, x: Any, dims: Any) -> T.DimLike:
    """Number of elements each output of a reduction over ``dims`` combines (int or 1-element int64 ITensor)."""
    rank = len(x.shape)
    return T.product(ctx, [T.dim_size(ctx, x, d) for d in reduce_dims(dims, rank)] if rank else [])
