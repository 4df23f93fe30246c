"""Tensor creation: ``arange``, ``full``/``zeros``/``ones``/``empty`` and their ``*_like`` / ``new_*`` forms,
``scalar_tensor``.

Static shapes become constants. A dynamic shape (sizes given as SymInt ITensors, or the shape of a dynamic
input for ``*_like``) broadcasts a one-element constant to the runtime shape; a dynamic ``arange`` length uses
a LINSPACE fill layer. ``empty`` is filled with zeros (its contents are unspecified).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, node_arg
from torch_tensorrt.dynamo.conversion._arith import select
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


def _out_dtype(node: torch.fx.Node) -> torch.dtype:
    """The dtype the graph says the node produces."""
    val = node.meta.get("val")
    if isinstance(val, torch.Tensor):
        return val.dtype
    return torch.get_default_dtype()


def _arange_args(node: torch.fx.Node, args: tuple) -> tuple[Any, Any, Any]:
    if node.target == aten.arange.default:
        return 0, args[0], 1
    if node.target == aten.arange.start:
        return args[0], args[1], 1
    return args[0], args[1], arg(args, node.kwargs, 2, "step", 1)


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
    n = T.scalar_arith(ctx, n, 0, "max")
    return T.arange_1d(ctx, n, start, step, dtype)


def _size_list(value: Any) -> list[T.DimLike]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@converter(aten.full.default)
def full(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.filled(ctx, _size_list(args[0]), args[1], _out_dtype(node))


@converter(aten.zeros.default, aten.empty.memory_format, aten.new_zeros.default, aten.new_empty.default)
def zeros(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    size = args[1] if node.target in (aten.new_zeros.default, aten.new_empty.default) else args[0]
    return T.filled(ctx, _size_list(size), 0, _out_dtype(node))


@converter(aten.ones.default, aten.new_ones.default)
def ones(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    size = args[1] if node.target == aten.new_ones.default else args[0]
    return T.filled(ctx, _size_list(size), 1, _out_dtype(node))


@converter(aten.new_full.default)
def new_full(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.filled(ctx, _size_list(args[1]), args[2], _out_dtype(node))


def _like_shape(ctx: ConversionContext, x: Any) -> list[T.DimLike]:
    return T.sizes(ctx, T.to_trt(ctx, x)) if T.is_trt(x) else list(x.shape)


@converter(aten.full_like.default)
def full_like(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.filled(ctx, _like_shape(ctx, args[0]), args[1], _out_dtype(node))


@converter(aten.zeros_like.default, aten.empty_like.default)
def zeros_like(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.filled(ctx, _like_shape(ctx, args[0]), 0, _out_dtype(node))


@converter(aten.ones_like.default)
def ones_like(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.filled(ctx, _like_shape(ctx, args[0]), 1, _out_dtype(node))


@converter(aten.scalar_tensor.default)
def scalar_tensor(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.filled(ctx, [], args[0], _out_dtype(node))


def _band_mask(ctx: ConversionContext, x: Any, diagonal: int, upper: bool) -> Any:
    """Bool ``[n, m]`` mask of the entries ``tril``/``triu`` zero: ``col - row > diagonal`` (tril) or
    ``col - row < diagonal`` (triu)."""
    n, m = T.dim_size(ctx, x, -2), T.dim_size(ctx, x, -1)
    rows = T.reshape(ctx, T.arange_1d(ctx, n), [n, 1])
    cols = T.reshape(ctx, T.arange_1d(ctx, m), [1, m])
    diff = T.elementwise(ctx, cols, rows, trt.ElementWiseOperation.SUB, torch.int64)
    op = trt.ElementWiseOperation.LESS if upper else trt.ElementWiseOperation.GREATER
    return T.elementwise(ctx, diff, diagonal, op, torch.int64)


@converter(aten.tril.default, aten.triu.default)
def tril_triu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    diagonal = arg(args, kwargs, 1, "diagonal", 0)
    drop = _band_mask(ctx, x, diagonal, node.target == aten.triu.default)
    return select(ctx, drop, 0, x, T.dtype_of(x))


def _one_hot_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    classes = node_arg(node, 1, "num_classes", -1)
    return "one_hot without num_classes depends on the data (max + 1)" if classes == -1 else None


@converter(aten.one_hot.default, validator=_one_hot_ok)
def one_hot(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], torch.int64)
    classes = arg(args, kwargs, 1, "num_classes")
    hits = T.elementwise(
        ctx, T.unsqueeze(ctx, x, [len(x.shape)]), T.arange_1d(ctx, classes), trt.ElementWiseOperation.EQUAL, torch.int64
    )
    return T.cast(ctx, hits, torch.int64)
