"""Reductions: sum, mean, prod, amax/amin, max/min (full), any/all, var/std, vector norms, logsumexp, cumsum.

Float accumulations run in float32 under reduced precision (``fp32=True``). Integer and bool sums/products
accumulate in int64 like torch. The reduction helpers other families use too live in :mod:`.._reduce`.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val, node_arg, out_dtype
from torch_tensorrt.dynamo.conversion._arith import as_bool, select
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._reduce import reduce, reduce_dims, reduced_count
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
R = trt.ReduceOperation
E = trt.ElementWiseOperation
U = trt.UnaryOperation


# -- helpers -----------------------------------------------------------------------------------------------------
def accumulate_dtype(ctx: ConversionContext, x: Any, dtype: Optional[torch.dtype]) -> torch.dtype:
    """The dtype a sum/prod accumulates in: ``dtype`` when given, int64 for integers and bool, else x's float."""
    if dtype is not None:
        return ctx.value_dtype(dtype)
    own = T.dtype_of(x)
    return own if own.is_floating_point else torch.int64


def _dims_keepdim(node: torch.fx.Node, args: tuple, kwargs: dict, *whole: Any) -> tuple[Any, bool]:
    """(dim, keepdim) of a reduction; ``whole`` are its whole-tensor overloads (no dim: reduce everything)."""
    if node.target in whole:
        return None, False
    return arg(args, kwargs, 1, "dim"), arg(args, kwargs, 2, "keepdim", False)


# -- sum / mean / prod -------------------------------------------------------------------------------------------
def _accumulate(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict, op: Any, whole: Any) -> Any:
    """sum/prod over the node's dims in the accumulation dtype, cast to the output dtype."""
    dims, keep = _dims_keepdim(node, args, kwargs, whole)
    x = T.to_trt(ctx, args[0])
    x = T.cast(ctx, x, accumulate_dtype(ctx, x, kwargs.get("dtype")))
    return T.cast(ctx, reduce(ctx, x, op, dims, keep), out_dtype(ctx, node))


@converter(aten.sum.dim_IntList, aten.sum.default, fp32=True)
def sum_(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _accumulate(ctx, node, args, kwargs, R.SUM, aten.sum.default)


@converter(aten.mean.dim, aten.mean.default, fp32=True)
def mean(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dims, keep = _dims_keepdim(node, args, kwargs, aten.mean.default)
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    return reduce(ctx, x, R.AVG, dims, keep)


@converter(aten.prod.dim_int, aten.prod.default, fp32=True)
def prod(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _accumulate(ctx, node, args, kwargs, R.PROD, aten.prod.default)


# -- amax / amin / max / min (values only) -----------------------------------------------------------------------
def _extremum(ctx: ConversionContext, node: torch.fx.Node, x: Any, op: Any, dims: Any, keep: bool) -> Any:
    x = T.to_trt(ctx, x)
    if T.dtype_of(x) == torch.bool:  # max over bool = any, min = all: reduce as int32
        x = T.cast(ctx, x, torch.int32)
    return T.cast(ctx, reduce(ctx, x, op, dims, keep), out_dtype(ctx, node))


@converter(aten.amax.default)
def amax(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _extremum(ctx, node, args[0], R.MAX, *_dims_keepdim(node, args, kwargs))


@converter(aten.amin.default)
def amin(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _extremum(ctx, node, args[0], R.MIN, *_dims_keepdim(node, args, kwargs))


@converter(aten.max.default)
def max_all(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _extremum(ctx, node, args[0], R.MAX, None, False)


@converter(aten.min.default)
def min_all(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _extremum(ctx, node, args[0], R.MIN, None, False)


# -- any / all ---------------------------------------------------------------------------------------------------
def _logical(ctx: ConversionContext, x: Any, op: Any, dims: Any, keep: bool) -> Any:
    flags = T.cast(ctx, as_bool(ctx, T.to_trt(ctx, x)), torch.int32)
    hit = reduce(ctx, flags, op, dims, keep)
    return T.elementwise(ctx, hit, 0, E.GREATER, torch.int32)


def _any_all(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict, op: Any) -> Any:
    dims, keep = _dims_keepdim(node, args, kwargs, aten.any.default, aten.all.default)
    if node.target in (aten.any.dims, aten.all.dims) and dims is not None and len(dims) == 0:
        return as_bool(ctx, T.to_trt(ctx, args[0]))  # over no dims: elementwise
    return _logical(ctx, args[0], op, dims, keep)


@converter(aten.any.default, aten.any.dim, aten.any.dims)
def any_(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _any_all(ctx, node, args, kwargs, R.MAX)


@converter(aten.all.default, aten.all.dim, aten.all.dims)
def all_(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _any_all(ctx, node, args, kwargs, R.MIN)


# -- var / std ---------------------------------------------------------------------------------------------------
def variance(ctx: ConversionContext, x: Any, dims: Any, correction: float, keep: bool) -> Any:
    """sum((x - mean)^2) / max(N - correction, 0) over ``dims`` (two-pass, in x's float dtype)."""
    dtype = T.dtype_of(x)
    mu = reduce(ctx, x, R.AVG, dims, True)
    d = T.elementwise(ctx, x, mu, E.SUB)
    ss = reduce(ctx, T.elementwise(ctx, d, d, E.PROD), R.SUM, dims, keep)
    n = reduced_count(ctx, x, dims)
    if isinstance(n, int):
        return T.elementwise(ctx, ss, float(max(n - correction, 0)), E.DIV, dtype)
    denom = T.elementwise(ctx, T.as_scalar(ctx, n, dtype), float(correction), E.SUB, dtype)
    denom = T.elementwise(ctx, denom, 0.0, E.MAX, dtype)
    return T.elementwise(ctx, ss, denom, E.DIV, dtype)


def _var_args(node: torch.fx.Node, args: tuple, kwargs: dict) -> tuple[Any, float, bool]:
    """(dims, correction, keepdim) of var/std .correction, .dim and .default overloads."""
    if node.target in (aten.var.correction, aten.std.correction):
        corr = kwargs.get("correction")
        return arg(args, kwargs, 1, "dim"), 1.0 if corr is None else float(corr), bool(kwargs.get("keepdim", False))
    if node.target in (aten.var.default, aten.std.default):
        return None, 1.0 if arg(args, kwargs, 1, "unbiased", True) else 0.0, False
    unbiased = arg(args, kwargs, 2, "unbiased", True)
    return arg(args, kwargs, 1, "dim"), 1.0 if unbiased else 0.0, bool(arg(args, kwargs, 3, "keepdim", False))


_VAR = (aten.var.correction, aten.var.dim, aten.var.default)
_STD = (aten.std.correction, aten.std.dim, aten.std.default)


@converter(*_VAR, *_STD, fp32=True)
def var_std(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dims, corr, keep = _var_args(node, args, kwargs)
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    out = variance(ctx, x, dims, corr, keep)
    if node.target in _STD:
        out = T.unary(ctx, out, U.SQRT)
    return out


@converter(aten.var_mean.correction, fp32=True)
def var_mean(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dims = arg(args, kwargs, 1, "dim")
    corr = kwargs.get("correction")
    keep = bool(kwargs.get("keepdim", False))
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node, 0))
    return variance(ctx, x, dims, 1.0 if corr is None else float(corr), keep), reduce(ctx, x, R.AVG, dims, keep)


# -- vector norms ------------------------------------------------------------------------------------------------
def _norm_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    ord_ = node_arg(node, 1, "ord", 2)
    if not isinstance(ord_, (int, float)):
        return f"ord={ord_!r} is not a number"
    val = input_val(node)
    if val is not None and val.dtype.is_complex:
        return "complex input"
    return None


@converter(aten.linalg_vector_norm.default, validator=_norm_ok, fp32=True)
def vector_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """||x||_p over ``dim``: p=inf/-inf are max/min of |x|, p=0 counts non-zeros, else (sum |x|^p)^(1/p)."""
    p = float(arg(args, kwargs, 1, "ord", 2))
    dims = arg(args, kwargs, 2, "dim")
    keep = bool(arg(args, kwargs, 3, "keepdim", False))
    dtype = out_dtype(ctx, node)
    x = T.to_trt(ctx, args[0], dtype)
    if p == 0:
        return reduce(ctx, T.cast(ctx, as_bool(ctx, x), dtype), R.SUM, dims, keep)
    a = T.unary(ctx, x, U.ABS)
    if math.isinf(p):
        return reduce(ctx, a, R.MAX if p > 0 else R.MIN, dims, keep)
    if p == 1:
        return reduce(ctx, a, R.SUM, dims, keep)
    if p == 2:
        s = reduce(ctx, T.elementwise(ctx, x, x, E.PROD), R.SUM, dims, keep)
        return T.unary(ctx, s, U.SQRT)
    s = reduce(ctx, T.elementwise(ctx, a, p, E.POW, dtype), R.SUM, dims, keep)
    return T.elementwise(ctx, s, 1.0 / p, E.POW, dtype)


# -- logsumexp ---------------------------------------------------------------------------------------------------
def logsumexp_of(ctx: ConversionContext, x: Any, dims: Any, keep: bool) -> Any:
    """log(sum(exp(x - m))) + m with m = max over ``dims`` (taken as 0 where infinite, as torch does)."""
    m = reduce(ctx, x, R.MAX, dims, True)
    dtype = T.dtype_of(x)
    infinite = T.elementwise(ctx, T.unary(ctx, m, U.ABS), math.inf, E.EQUAL, dtype)
    m = select(ctx, infinite, 0.0, m, dtype)
    e = T.unary(ctx, T.elementwise(ctx, x, m, E.SUB), U.EXP)
    s = T.unary(ctx, reduce(ctx, e, R.SUM, dims, keep), U.LOG)
    if not keep and len(x.shape):
        m = T.squeeze(ctx, m, reduce_dims(dims, len(x.shape)))
    return T.elementwise(ctx, s, m, E.SUM)


@converter(aten.logsumexp.default, fp32=True)
def logsumexp(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    return logsumexp_of(ctx, x, arg(args, kwargs, 1, "dim"), bool(arg(args, kwargs, 2, "keepdim", False)))


# -- cumsum ------------------------------------------------------------------------------------------------------
@converter(aten.cumsum.default, fp32=True)
def cumsum(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Inclusive forward prefix sum along ``dim`` (ICumulativeLayer); ints/bool accumulate in int64."""
    x = T.to_trt(ctx, args[0])
    x = T.cast(ctx, x, accumulate_dtype(ctx, x, arg(args, kwargs, 2, "dtype")))
    rank = len(x.shape)
    if rank == 0:
        return T.cast(ctx, x, out_dtype(ctx, node))
    dim = T.normalize_dim(int(args[1]), rank)
    axis = ctx.constant(torch.tensor(dim, dtype=torch.int32))
    layer = ctx.network.add_cumulative(x, axis, trt.CumulativeOperation.SUM, False, False)
    return T.cast(ctx, layer.get_output(0), out_dtype(ctx, node))
