"""Tensor creation: ``arange``, ``full``/``zeros``/``ones``/``empty`` and their ``*_like`` / ``new_*`` forms,
``scalar_tensor``.

Static shapes become constants. A dynamic shape (sizes given as SymInt ITensors, or the shape of a dynamic
input for ``*_like``) broadcasts a one-element constant to the runtime shape; a dynamic ``arange`` length uses
a LINSPACE fill layer. ``empty`` is filled with zeros (its contents are unspecified).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


def _out_dtype(node: torch.fx.Node) -> torch.dtype:
    """The dtype the graph says the node produces."""
    val = node.meta.get("val")
    if isinstance(val, torch.Tensor):
        return val.dtype
    return torch.get_default_dtype()


def filled(ctx: ConversionContext, shape: Sequence[T.DimLike], value: Any, dtype: torch.dtype) -> Any:
    """A tensor of ``shape`` (ints and/or size ITensors) filled with ``value`` in (graph) ``dtype``."""
    dtype = ctx.value_dtype(dtype)
    host = torch.float32 if dtype == torch.bfloat16 else dtype
    if all(isinstance(d, int) for d in shape) and not T.is_trt(value):
        return ctx.constant(torch.full(tuple(shape), value, dtype=host), dtype)
    if T.is_trt(value):
        one = T.reshape(ctx, T.cast(ctx, value, dtype), [1] * len(shape))
    else:
        one = ctx.constant(torch.full((1,) * len(shape), value, dtype=host), dtype)
    return T.expand(ctx, one, list(shape))


def arange_1d(ctx: ConversionContext, n: T.DimLike, start: Any = 0, step: Any = 1, dtype: torch.dtype = torch.int64) -> Any:
    """``start + step * [0, 1, ..., n-1]`` in ``dtype``; ``n`` may be a size ITensor."""
    dtype = ctx.value_dtype(dtype)
    if isinstance(n, int):
        host = torch.arange(n, dtype=torch.float64) * step + start
        return ctx.constant(host.to(torch.float32 if dtype == torch.bfloat16 else dtype), dtype)
    fill_dtype = torch.int64 if not dtype.is_floating_point else torch.float32
    shape = T.shape_tensor_from(ctx, [n])
    alpha = ctx.constant(torch.tensor(start, dtype=fill_dtype))
    beta = ctx.constant(torch.tensor([step], dtype=fill_dtype))
    layer = ctx.network.add_fill((1,), trt.FillOperation.LINSPACE, trt_dtype_of(fill_dtype))
    layer.set_input(0, shape)
    layer.set_input(1, alpha)
    layer.set_input(2, beta)
    return T.cast(ctx, layer.get_output(0), dtype)


def _arange_args(node: torch.fx.Node, args: tuple) -> tuple[Any, Any, Any]:
    if node.target == aten.arange.default:
        return 0, args[0], 1
    if node.target == aten.arange.start:
        return args[0], args[1], 1
    return args[0], args[1], args[2] if len(args) > 2 else node.kwargs.get("step", 1)


def _arange_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    start, end, step = _arange_args(node, node.args)
    dynamic = [v for v in (start, end, step) if isinstance(v, torch.fx.Node)]
    if not dynamic:
        return None
    if isinstance(step, torch.fx.Node) or isinstance(start, torch.fx.Node):
        return "arange with a dynamic start or step"
    if not isinstance(step, int) or step <= 0 or not isinstance(start, int):
        return "dynamic arange needs an integer start and a positive integer step"
    return None


@converter(aten.arange.default, aten.arange.start, aten.arange.start_step, validator=_arange_ok)
def arange(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    start, end, step = _arange_args(node, args)
    dtype = _out_dtype(node)
    if not T.is_trt(end):
        values = torch.arange(start, end, step, dtype=dtype if dtype != torch.bfloat16 else torch.float32)
        return ctx.constant(values, ctx.value_dtype(dtype))
    # integer start/step (validator): n = max(ceil((end - start) / step), 0)
    offset = step - 1 - start
    n = T.scalar_arith(ctx, end, offset, "+") if offset else end
    n = T.scalar_arith(ctx, n, step, "//") if step != 1 else n
    n = T.elementwise(ctx, n, 0, trt.ElementWiseOperation.MAX, torch.int64)
    return arange_1d(ctx, n, start, step, dtype)


def _size_list(value: Any) -> list[T.DimLike]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@converter(aten.full.default)
def full(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return filled(ctx, _size_list(args[0]), args[1], _out_dtype(node))


@converter(aten.zeros.default, aten.empty.memory_format, aten.new_zeros.default, aten.new_empty.default)
def zeros(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    size = args[1] if node.target in (aten.new_zeros.default, aten.new_empty.default) else args[0]
    return filled(ctx, _size_list(size), 0, _out_dtype(node))


@converter(aten.ones.default, aten.new_ones.default)
def ones(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    size = args[1] if node.target == aten.new_ones.default else args[0]
    return filled(ctx, _size_list(size), 1, _out_dtype(node))


@converter(aten.new_full.default)
def new_full(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return filled(ctx, _size_list(args[1]), args[2], _out_dtype(node))


def _like_shape(ctx: ConversionContext, x: Any) -> list[T.DimLike]:
    return T.sizes(ctx, T.to_trt(ctx, x)) if T.is_trt(x) else list(x.shape)


@converter(aten.full_like.default)
def full_like(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return filled(ctx, _like_shape(ctx, args[0]), args[1], _out_dtype(node))


@converter(aten.zeros_like.default, aten.empty_like.default)
def zeros_like(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return filled(ctx, _like_shape(ctx, args[0]), 0, _out_dtype(node))


@converter(aten.ones_like.default)
def ones_like(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return filled(ctx, _like_shape(ctx, args[0]), 1, _out_dtype(node))


@converter(aten.scalar_tensor.default)
def scalar_tensor(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return filled(ctx, [], args[0], _out_dtype(node))


def _band_mask(ctx: ConversionContext, x: Any, diagonal: int, upper: bool) -> Any:
    """Bool ``[n, m]`` mask of the entries ``tril``/``triu`` zero: ``col - row > diagonal`` (tril) or
    ``col - row < diagonal`` (triu)."""
    n, m = T.dim_size(ctx, x, -2), T.dim_size(ctx, x, -1)
    rows = T.reshape(ctx, arange_1d(ctx, n), [n, 1])
    cols = T.reshape(ctx, arange_1d(ctx, m), [1, m])
    diff = T.elementwise(ctx, cols, rows, trt.ElementWiseOperation.SUB, torch.int64)
    op = trt.ElementWiseOperation.LESS if upper else trt.ElementWiseOperation.GREATER
    return T.elementwise(ctx, diff, diagonal, op, torch.int64)


@converter(aten.tril.default, aten.triu.default)
def tril_triu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    diagonal = args[1] if len(args) > 1 else kwargs.get("diagonal", 0)
    drop = _band_mask(ctx, x, diagonal, node.target == aten.triu.default)
    zero = T.to_trt(ctx, 0, T.dtype_of(x))
    drop, zero, x = T.broadcast(ctx, drop, zero, x)
    return ctx.network.add_select(drop, zero, x).get_output(0)


def _one_hot_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    classes = node.args[1] if len(node.args) > 1 else node.kwargs.get("num_classes", -1)
    return "one_hot without num_classes depends on the data (max + 1)" if classes == -1 else None


@converter(aten.one_hot.default, validator=_one_hot_ok)
def one_hot(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], torch.int64)
    classes = args[1] if len(args) > 1 else kwargs["num_classes"]
    hits = T.elementwise(ctx, T.unsqueeze(ctx, x, [len(x.shape)]), arange_1d(ctx, classes), trt.ElementWiseOperation.EQUAL, torch.int64)
    return T.cast(ctx, hits, torch.int64)
