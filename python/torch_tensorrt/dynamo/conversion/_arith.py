"""Elementwise arithmetic, comparison, truth values and selection with torch's semantics, for every converter
family.

:func:`torch_tensorrt.dynamo.conversion._tensors.elementwise` adds one layer in the dtype it is given; the
helpers here first choose a dtype TensorRT accepts. TensorRT's arithmetic and EQUAL/GREATER/LESS take int32,
int64 and float tensors: bool and 8-bit operands compute in int32 (arithmetic casts the result back, which
reproduces torch's bool + bool = logical or). AND/OR/XOR/NOT take bool only, so logical ops first take truth
values (``x != 0``).
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext

EW = trt.ElementWiseOperation

#: dtypes TensorRT's elementwise layer computes in directly (arithmetic and EQUAL/GREATER/LESS)
NATIVE = (torch.int32, torch.int64, torch.float16, torch.float32, torch.bfloat16)


def arith(ctx: ConversionContext, a: Any, b: Any, op: Any, dtype: Optional[torch.dtype] = None) -> Any:
    """``a <op> b`` in ``dtype`` (default: torch promotion); bool/8-bit compute in int32 and cast back."""
    dtype = dtype or T.result_dtype(ctx, a, b)
    if dtype in NATIVE:
        return T.elementwise(ctx, a, b, op, dtype)
    return T.cast(ctx, T.elementwise(ctx, a, b, op, torch.int32), dtype)


def compare(ctx: ConversionContext, a: Any, b: Any, op: Any) -> Any:
    """``a <op> b`` for op in EQUAL/GREATER/LESS after torch promotion; bool result."""
    dtype = T.result_dtype(ctx, a, b)
    if dtype not in NATIVE:
        dtype = torch.int32
    return T.elementwise(ctx, a, b, op, dtype)


def as_bool(ctx: ConversionContext, x: Any) -> Any:
    """Truth value of ``x`` (``x != 0``, compared in x's own dtype) as a bool ITensor; bool tensors pass
    through, Python scalars become constants."""
    if isinstance(x, (bool, int, float)):
        return T.to_trt(ctx, bool(x), torch.bool)
    x = T.to_trt(ctx, x)
    dtype = T.dtype_of(x)
    if dtype == torch.bool:
        return x
    zero = T.elementwise(ctx, x, 0, EW.EQUAL, dtype if dtype in NATIVE else torch.int32)
    return T.unary(ctx, zero, trt.UnaryOperation.NOT)


def logical(ctx: ConversionContext, a: Any, b: Any, op: Any) -> Any:
    """AND/OR/XOR of the truth values of ``a`` and ``b``."""
    return T.elementwise(ctx, as_bool(ctx, a), as_bool(ctx, b), op, torch.bool)


def logical_not_of(ctx: ConversionContext, x: Any) -> Any:
    """NOT of the truth value of ``x``."""
    return T.unary(ctx, as_bool(ctx, x), trt.UnaryOperation.NOT)


def select(ctx: ConversionContext, cond: Any, a: Any, b: Any, dtype: Optional[torch.dtype] = None) -> Any:
    """``where(cond, a, b)``: ``a``/``b`` promoted to ``dtype`` (default: torch's result type), ranks aligned."""
    dtype = dtype or T.result_dtype(ctx, a, b)
    c, ta, tb = T.broadcast(ctx, as_bool(ctx, cond), T.to_trt(ctx, a, dtype), T.to_trt(ctx, b, dtype))
    return ctx.network.add_select(c, ta, tb).get_output(0)


def as_float(ctx: ConversionContext, x: Any, dtype: Optional[torch.dtype] = None) -> Any:
    """``x`` as a float ITensor: floats keep their dtype, others take ``dtype`` (default float32 -> compute)."""
    x = T.to_trt(ctx, x)
    if T.dtype_of(x).is_floating_point:
        return x
    return T.cast(ctx, x, dtype or ctx.float_dtype(torch.float32))


def clamp_to(ctx: ConversionContext, x: Any, lo: Any, hi: Any, dtype: torch.dtype) -> Any:
    """``min(max(x, lo), hi)`` in ``dtype`` (torch order: ``hi`` wins when ``lo > hi``); None bounds are skipped."""
    out = T.to_trt(ctx, x, dtype)
    if lo is not None:
        out = arith(ctx, out, lo, EW.MAX, dtype)
    if hi is not None:
        out = arith(ctx, out, hi, EW.MIN, dtype)
    return out
