"""Indexing: ``slice``, ``select``, ``index_select``, ``gather``, ``index`` (advanced indexing), ``embedding``,
``diagonal``, and the writes ``scatter``, ``index_put``, ``slice_scatter``, ``select_scatter``, ``masked_fill``.

TensorRT's gather/scatter need indices in ``[0, size)``; torch accepts negative indices for ``select`` and
``index``/``index_put``, so those are wrapped first. Boolean-mask indexing has a data-dependent output shape and
stays in PyTorch (validator), except ``x[mask] = scalar``, which is a select.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, meta_val, node_arg
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
EW = trt.ElementWiseOperation
_HUGE = 2**62


def _bound(ctx: ConversionContext, v: Any, n: T.DimLike, default: T.DimLike) -> T.DimLike:
    """A slice bound with Python semantics (negative counts from the end, clamped to ``[0, n]``)."""
    if v is None:
        return default
    if isinstance(v, int) and isinstance(n, int):
        return min(max(v + n if v < 0 else v, 0), n)
    if isinstance(v, int):
        if v >= _HUGE:
            return n
        if v < 0:
            return T.scalar_arith(ctx, T.scalar_arith(ctx, n, v, "+"), 0, "max")
    return T.scalar_arith(ctx, v, n, "min")


def slice_dim(ctx: ConversionContext, x: Any, dim: int, start: Any, end: Any, step: int) -> Any:
    """``x[..., start:end:step, ...]`` on axis ``dim`` (bounds may be None, negative, huge or ITensors)."""
    rank = len(x.shape)
    sizes = T.sizes(ctx, x)
    n = sizes[dim]
    lo = _bound(ctx, start, n, 0)
    hi = _bound(ctx, end, n, n)
    if isinstance(lo, int) and lo == 0 and step == 1 and (hi is n or (isinstance(hi, int) and hi == n)):
        return x
    if isinstance(lo, int) and isinstance(hi, int):
        length: T.DimLike = len(range(lo, hi, step))
    else:
        span = T.scalar_arith(ctx, T.scalar_arith(ctx, hi, lo, "-"), step - 1, "+")
        length = T.scalar_arith(ctx, T.scalar_arith(ctx, span, step, "//"), 0, "max")
    starts = [lo if i == dim else 0 for i in range(rank)]
    out_sizes = [length if i == dim else sizes[i] for i in range(rank)]
    return T.slice_tensor(ctx, x, starts, out_sizes, [step if i == dim else 1 for i in range(rank)])


@converter(aten.slice.Tensor)
def slice_(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(arg(args, kwargs, 1, "dim", 0), len(x.shape))
    start, end, step = arg(args, kwargs, 2, "start"), arg(args, kwargs, 3, "end"), arg(args, kwargs, 4, "step", 1)
    return slice_dim(ctx, x, dim, start, end, step)


@converter(aten.narrow.default)
def narrow(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(args[1], len(x.shape))
    start = T.wrap_position(ctx, x, dim, args[2])
    return slice_dim(ctx, x, dim, start, T.scalar_arith(ctx, start, args[3], "+"), 1)


def wrap_index(ctx: ConversionContext, idx: Any, n: T.DimLike) -> Any:
    """Integer index tensor with negative entries wrapped (``i < 0 -> i + n``), as int64."""
    if isinstance(idx, torch.Tensor) and (idx.numel() == 0 or int(idx.min()) >= 0):
        return T.to_trt(ctx, idx, torch.int64)
    idx = T.to_trt(ctx, idx, torch.int64)
    negative = T.cast(ctx, T.elementwise(ctx, idx, 0, EW.LESS, torch.int64), torch.int64)
    return T.elementwise(ctx, idx, T.elementwise(ctx, negative, n, EW.PROD, torch.int64), EW.SUM, torch.int64)


@converter(aten.select.int)
def select(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return T.select_index(ctx, x, T.normalize_dim(args[1], len(x.shape)), args[2])


@converter(aten.index_select.default)
def index_select(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(args[1], len(x.shape))
    idx = wrap_index(ctx, args[2], T.dim_size(ctx, x, dim))
    if len(idx.shape) == 0:
        idx = T.reshape(ctx, idx, [1])
    return ctx.network.add_gather(x, idx, dim).get_output(0)


@converter(aten.embedding.default)
def embedding(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    weight = T.to_trt(ctx, args[0])
    return ctx.network.add_gather(weight, T.to_trt(ctx, args[1], torch.int64), 0).get_output(0)


def _fit(ctx: ConversionContext, x: Any, like: Any, keep: Optional[int]) -> Any:
    """``x`` cut down to the sizes of ``like`` in every axis except ``keep`` (torch gather/scatter allow an
    index smaller than the data there)."""
    if tuple(x.shape) == tuple(like.shape) and not T.is_dynamic(x):
        return x
    rank = len(x.shape)
    xs, ls = T.sizes(ctx, x), T.sizes(ctx, like)
    if all(isinstance(a, int) and isinstance(b, int) and (a == b or i == keep) for i, (a, b) in enumerate(zip(xs, ls))):
        return x
    size = [xs[i] if i == keep else ls[i] for i in range(rank)]
    return T.slice_tensor(ctx, x, [0] * rank, size, [1] * rank)


@converter(aten.gather.default)
def gather(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(args[1], len(x.shape))
    idx = wrap_index(ctx, args[2], T.dim_size(ctx, x, dim))
    layer = ctx.network.add_gather_v2(_fit(ctx, x, idx, dim), idx, trt.GatherMode.ELEMENT)
    layer.axis = dim
    return layer.get_output(0)


def _scatter_elements(ctx: ConversionContext, x: Any, dim: int, idx: Any, updates: Any) -> Any:
    layer = ctx.network.add_scatter(x, idx, updates, trt.ScatterMode.ELEMENT)
    layer.axis = dim
    return layer.get_output(0)


def _scatter_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    return "scatter with reduce" if "reduce" in node.kwargs or len(node.args) > 4 else None


@converter(aten.scatter.src, aten.scatter.value, validator=_scatter_ok)
def scatter(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dtype = T.dtype_of(x)
    dim = T.normalize_dim(args[1], len(x.shape))
    idx = wrap_index(ctx, args[2], T.dim_size(ctx, x, dim))
    if node.target == aten.scatter.value:
        updates = T.filled(ctx, T.sizes(ctx, idx), args[3], dtype)
    else:
        updates = _fit(ctx, T.to_trt(ctx, args[3], dtype), idx, None)
    return _scatter_elements(ctx, x, dim, idx, updates)


def _positions_along(ctx: ConversionContext, src: Any, dim: int, first: T.DimLike, step: int) -> Any:
    """An int64 tensor shaped like ``src`` holding ``first + step * i`` along ``dim`` (the scatter indices of a
    strided slice)."""
    rank = len(src.shape)
    sizes = T.sizes(ctx, src)
    pos = T.arange_1d(ctx, sizes[dim])
    if step != 1:
        pos = T.elementwise(ctx, pos, step, EW.PROD, torch.int64)
    if not (isinstance(first, int) and first == 0):
        pos = T.elementwise(ctx, pos, first, EW.SUM, torch.int64)
    pos = T.reshape(ctx, pos, [sizes[dim] if i == dim else 1 for i in range(rank)])
    return T.expand(ctx, pos, sizes)


@converter(aten.slice_scatter.default)
def slice_scatter(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(arg(args, kwargs, 2, "dim", 0), len(x.shape))
    src = T.to_trt(ctx, args[1], T.dtype_of(x))
    first = _bound(ctx, arg(args, kwargs, 3, "start"), T.dim_size(ctx, x, dim), 0)
    return _scatter_elements(ctx, x, dim, _positions_along(ctx, src, dim, first, arg(args, kwargs, 5, "step", 1)), src)


@converter(aten.select_scatter.default)
def select_scatter(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dim = T.normalize_dim(args[2], len(x.shape))
    index = T.wrap_position(ctx, x, dim, args[3])
    src = T.unsqueeze(ctx, T.to_trt(ctx, args[1], T.dtype_of(x)), [dim])
    return _scatter_elements(ctx, x, dim, _positions_along(ctx, src, dim, index, 1), src)


@converter(aten.masked_fill.Scalar, aten.masked_fill.Tensor)
def masked_fill(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    mask = T.to_trt(ctx, args[1], torch.bool)
    value = T.to_trt(ctx, args[2], T.dtype_of(x))
    x, mask, value = T.broadcast(ctx, x, mask, value)
    return ctx.network.add_select(mask, value, x).get_output(0)


# -- advanced indexing -----------------------------------------------------------------------------------------
def _is_mask(value: Any) -> bool:
    val = meta_val(value)
    return isinstance(val, torch.Tensor) and val.dtype in (torch.bool, torch.uint8)


def _index_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    if any(_is_mask(a) for a in cast(Sequence[Any], node.args[1]) if a is not None):
        return "boolean-mask indexing has a data-dependent output shape"
    return None


def _broadcast_all(ctx: ConversionContext, tensors: Sequence[Any]) -> tuple[list[Any], list[T.DimLike]]:
    """Index tensors broadcast to their common shape (returned as sizes too)."""
    tensors = T.broadcast(ctx, *tensors)
    shape: list[T.DimLike] = []
    for i in range(len(tensors[0].shape)):
        dims = [T.dim_size(ctx, t, i) for t in tensors]
        if all(isinstance(d, int) for d in dims):
            shape.append(max(dims) if 0 not in dims else 0)
        else:
            out = dims[0]
            for d in dims[1:]:
                out = T.scalar_arith(ctx, out, d, "max")
            shape.append(out)
    return [T.expand(ctx, t, shape) for t in tensors], shape


class _Advanced:
    """The layout bookkeeping of ``x[indices]`` with integer tensor indices (None = full slice)."""

    def __init__(self, ctx: ConversionContext, x: Any, indices: Sequence[Any]) -> None:
        rank = len(x.shape)
        indices = list(indices) + [None] * (rank - len(indices))
        self.pos = [i for i, v in enumerate(indices) if v is not None]
        self.rest = [i for i in range(rank) if i not in self.pos]
        wrapped = [wrap_index(ctx, indices[i], T.dim_size(ctx, x, i)) for i in self.pos]
        self.tensors, self.bshape = _broadcast_all(ctx, wrapped)
        sizes = T.sizes(ctx, x)
        self.rest_sizes = [sizes[i] for i in self.rest]
        # torch puts the broadcast index dims where the indexed axes were when those are adjacent, else first
        adjacent = self.pos == list(range(self.pos[0], self.pos[-1] + 1))
        self.lead = self.pos[0] if adjacent else 0

    def gathered_to_torch(self) -> list[int]:
        """Permutation from ``[B..., rest...]`` (gather-ND layout) to torch's result layout."""
        nb, lead = len(self.bshape), self.lead
        rest = list(range(nb, nb + len(self.rest)))
        return rest[:lead] + list(range(nb)) + rest[lead:]

    def torch_sizes(self) -> list[T.DimLike]:
        return self.rest_sizes[: self.lead] + list(self.bshape) + self.rest_sizes[self.lead :]

    def stacked(self, ctx: ConversionContext) -> Any:
        return T.concat(ctx, [T.unsqueeze(ctx, t, [len(t.shape)]) for t in self.tensors], -1)


@converter(aten.index.Tensor, validator=_index_ok)
def index(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    indices = list(args[1])
    present = [i for i, v in enumerate(indices) if v is not None]
    if len(present) == 1:
        axis = present[0]
        idx = wrap_index(ctx, indices[axis], T.dim_size(ctx, x, axis))
        return ctx.network.add_gather(x, idx, axis).get_output(0)
    adv = _Advanced(ctx, x, indices)
    data = T.permute(ctx, x, adv.pos + adv.rest)
    layer = ctx.network.add_gather_v2(data, adv.stacked(ctx), trt.GatherMode.ND)
    layer.num_elementwise_dims = 0
    return T.permute(ctx, layer.get_output(0), adv.gathered_to_torch())


def _index_put_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    accumulate = node_arg(node, 3, "accumulate", False)
    if accumulate:
        return "index_put with accumulate=True (duplicate indices would need a scatter-add)"
    given = cast(Sequence[Any], node.args[1])
    indices = [a for a in given if a is not None]
    if any(_is_mask(a) for a in indices):
        self_val, values = meta_val(node.args[0]), meta_val(node.args[2])
        mask = meta_val(indices[0])
        whole = len(given) == 1 and tuple(mask.shape) == tuple(self_val.shape)
        if not (whole and isinstance(values, torch.Tensor) and values.numel() == 1):
            return "index_put with a boolean mask (other than x[mask] = scalar) is data-dependent"
    return None


def _inverse(perm: Sequence[int]) -> list[int]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


@converter(aten.index_put.default, validator=_index_put_ok)
def index_put(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    dtype = T.dtype_of(x)
    indices = list(args[1])
    if _is_mask(cast(Sequence[Any], node.args[1])[0]):
        # x[mask] = v with a full-shape mask: an elementwise select
        mask = T.to_trt(ctx, indices[0], torch.bool)
        value = T.reshape(ctx, T.to_trt(ctx, args[2], dtype), [1] * len(x.shape))
        return ctx.network.add_select(mask, value, x).get_output(0)
    adv = _Advanced(ctx, x, indices)
    data_perm = adv.pos + adv.rest
    data = T.permute(ctx, x, data_perm)
    values = T.expand(ctx, T.to_trt(ctx, args[2], dtype), adv.torch_sizes())
    updates = T.permute(ctx, values, _inverse(adv.gathered_to_torch()))
    out = ctx.network.add_scatter(data, adv.stacked(ctx), updates, trt.ScatterMode.ND).get_output(0)
    return T.permute(ctx, out, _inverse(data_perm))


def _diagonal_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    shape = meta_val(node.args[0]).shape
    rank = len(shape)
    dim1, dim2 = node_arg(node, 2, "dim1", 0), node_arg(node, 3, "dim2", 1)
    if any(isinstance(shape[T.normalize_dim(d, rank)], torch.SymInt) for d in (dim1, dim2)):
        return "diagonal over dynamic dimensions"
    return None


@converter(aten.diagonal.default, validator=_diagonal_ok)
def diagonal(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Move the two axes last, flatten them, and take every (n2 + 1)-th element from the first diagonal one."""
    x = T.to_trt(ctx, args[0])
    rank = len(x.shape)
    offset = arg(args, kwargs, 1, "offset", 0)
    d1 = T.normalize_dim(arg(args, kwargs, 2, "dim1", 0), rank)
    d2 = T.normalize_dim(arg(args, kwargs, 3, "dim2", 1), rank)
    others = [i for i in range(rank) if i not in (d1, d2)]
    x = T.permute(ctx, x, others + [d1, d2])
    n1, n2 = int(x.shape[-2]), int(x.shape[-1])
    row, col = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - row, n2 - col))
    lead = T.sizes(ctx, x)[:-2]
    flat = T.reshape(ctx, x, lead + [n1 * n2])
    k = len(lead)
    first = min(row * n2 + col, max(n1 * n2 - 1, 0))
    return T.slice_tensor(ctx, flat, [0] * k + [first], lead + [length], [1] * k + [n2 + 1])
