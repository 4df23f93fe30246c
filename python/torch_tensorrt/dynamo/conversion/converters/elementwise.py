"""Elementwise binary arithmetic with tensors and scalars (torch type promotion, broadcasting).

add/sub/rsub/mul, div in all rounding modes, floor_divide, fmod, remainder, pow, maximum/minimum, clamp/clip,
lerp, addcmul, addcdiv. TensorRT's arithmetic takes int32/int64/float tensors; bool and 8-bit operands compute
in int32 and are cast back (bool + bool is a logical or in torch, which the cast reproduces). Integer division
modes are exact (built on FLOOR_DIV, never through float).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_dtype, out_dtype
from torch_tensorrt.dynamo.conversion._arith import NATIVE, arith, clamp_to, compare
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
EW = trt.ElementWiseOperation
UN = trt.UnaryOperation


# -- helpers -----------------------------------------------------------------------------------------------------
def floor_div(ctx: ConversionContext, a: Any, b: Any, dtype: torch.dtype) -> Any:
    """``floor(a / b)`` in ``dtype`` (exact for integers)."""
    if dtype.is_floating_point:
        return T.unary(ctx, arith(ctx, a, b, EW.DIV, dtype), UN.FLOOR)
    return arith(ctx, a, b, EW.FLOOR_DIV, dtype)


def trunc_div(ctx: ConversionContext, a: Any, b: Any, dtype: torch.dtype) -> Any:
    """``a / b`` rounded toward zero in ``dtype``.

    Floats: ``floor(|q|) * sign(q)``. Integers, exactly: the floor quotient plus one where the floor remainder
    is non-zero and the operands' signs differ.
    """
    if dtype.is_floating_point:
        q = arith(ctx, a, b, EW.DIV, dtype)
        mag = T.unary(ctx, T.unary(ctx, q, UN.ABS), UN.FLOOR)
        return arith(ctx, mag, T.unary(ctx, q, UN.SIGN), EW.PROD, dtype)
    work = dtype if dtype in NATIVE else torch.int32
    ta, tb = T.to_trt(ctx, a, work), T.to_trt(ctx, b, work)
    q = T.elementwise(ctx, ta, tb, EW.FLOOR_DIV, work)
    rem = T.elementwise(ctx, ta, T.elementwise(ctx, q, tb, EW.PROD, work), EW.SUB, work)
    inexact = T.unary(ctx, compare(ctx, rem, 0, EW.EQUAL), UN.NOT)
    opposite = T.elementwise(ctx, compare(ctx, ta, 0, EW.LESS), compare(ctx, tb, 0, EW.LESS), EW.XOR, torch.bool)
    fix = T.elementwise(ctx, inexact, opposite, EW.AND, torch.bool)
    out = T.elementwise(ctx, q, T.cast(ctx, fix, work), EW.SUM, work)
    return T.cast(ctx, out, dtype)


def _remainder_from(ctx: ConversionContext, a: Any, b: Any, q: Any, dtype: torch.dtype) -> Any:
    """``a - q * b``."""
    return arith(ctx, a, arith(ctx, q, b, EW.PROD, dtype), EW.SUB, dtype)


def _scaled(ctx: ConversionContext, other: Any, alpha: Any) -> Any:
    if alpha is None or alpha == 1:
        return other
    return arith(ctx, other, alpha, EW.PROD)


# -- add / sub / mul ---------------------------------------------------------------------------------------------
@converter(aten.add.Tensor, aten.add.Scalar)
def add(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = _scaled(ctx, args[1], kwargs.get("alpha"))
    return arith(ctx, args[0], other, EW.SUM, out_dtype(ctx, node))


@converter(aten.sub.Tensor, aten.sub.Scalar)
def sub(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = _scaled(ctx, args[1], kwargs.get("alpha"))
    return arith(ctx, args[0], other, EW.SUB, out_dtype(ctx, node))


@converter(aten.rsub.Tensor, aten.rsub.Scalar)
def rsub(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = _scaled(ctx, args[0], kwargs.get("alpha"))
    return arith(ctx, args[1], other, EW.SUB, out_dtype(ctx, node))


@converter(aten.mul.Tensor, aten.mul.Scalar)
def mul(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return arith(ctx, args[0], args[1], EW.PROD, out_dtype(ctx, node))


# -- division family ---------------------------------------------------------------------------------------------
def _div_mode_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    mode = node.kwargs.get("rounding_mode")
    return None if mode in (None, "trunc", "floor") else f"rounding_mode={mode!r}"


@converter(aten.div.Tensor, aten.div.Scalar, aten.div.Tensor_mode, aten.div.Scalar_mode, validator=_div_mode_ok)
def div(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1]
    dtype = out_dtype(ctx, node)
    mode = kwargs.get("rounding_mode")
    if mode is None:  # true division: integers divide as floats (the output dtype says which)
        return arith(ctx, a, b, EW.DIV, dtype)
    if mode == "floor":
        return floor_div(ctx, a, b, dtype)
    return trunc_div(ctx, a, b, dtype)


@converter(aten.floor_divide.default, aten.floor_divide.Scalar)
def floor_divide(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return floor_div(ctx, args[0], args[1], out_dtype(ctx, node))


@converter(aten.fmod.Tensor, aten.fmod.Scalar)
def fmod(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """C ``fmod``: the remainder of truncated division (sign of the dividend)."""
    dtype = out_dtype(ctx, node)
    q = trunc_div(ctx, args[0], args[1], dtype)
    return _remainder_from(ctx, args[0], args[1], q, dtype)


@converter(aten.remainder.Tensor, aten.remainder.Scalar, aten.remainder.Scalar_Tensor)
def remainder(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Python ``%``: the remainder of floor division (sign of the divisor)."""
    dtype = out_dtype(ctx, node)
    q = floor_div(ctx, args[0], args[1], dtype)
    return _remainder_from(ctx, args[0], args[1], q, dtype)


# -- pow ---------------------------------------------------------------------------------------------------------
_MAX_INT_EXPONENT = 16


def _pow_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dtype = node.meta["val"].dtype
    if dtype.is_floating_point:
        return None
    exponent = node.args[1]
    if node.target == aten.pow.Tensor_Scalar and isinstance(exponent, int) and 0 <= exponent <= _MAX_INT_EXPONENT:
        return None
    return f"integer pow ({dtype}) only converts with a constant exponent in [0, {_MAX_INT_EXPONENT}]"


def _int_power(ctx: ConversionContext, x: Any, n: int, dtype: torch.dtype) -> Any:
    """``x ** n`` by repeated squaring (exact for integers)."""
    x = T.to_trt(ctx, x, dtype)
    if n == 0:
        return arith(ctx, arith(ctx, x, 0, EW.PROD, dtype), 1, EW.SUM, dtype)
    result: Any = None
    square = x
    while n:
        if n & 1:
            result = square if result is None else arith(ctx, result, square, EW.PROD, dtype)
        n >>= 1
        if n:
            square = arith(ctx, square, square, EW.PROD, dtype)
    return result


@converter(aten.pow.Tensor_Tensor, aten.pow.Tensor_Scalar, aten.pow.Scalar, validator=_pow_ok)
def pow_(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    base, exponent = args[0], args[1]
    dtype = out_dtype(ctx, node)
    if node.target == aten.pow.Tensor_Scalar:
        if not dtype.is_floating_point:
            return _int_power(ctx, base, int(exponent), dtype)
        x = T.to_trt(ctx, base, dtype)
        if exponent in (1, 2, 3):
            return _int_power(ctx, x, int(exponent), dtype)
        if exponent == 0.5:
            return T.unary(ctx, x, UN.SQRT)
        if exponent == -1:
            return T.unary(ctx, x, UN.RECIP)
        if exponent == -0.5:
            return T.unary(ctx, T.unary(ctx, x, UN.SQRT), UN.RECIP)
    return T.elementwise(ctx, base, exponent, EW.POW, dtype)


# -- min / max / clamp -------------------------------------------------------------------------------------------
@converter(aten.maximum.default)
def maximum(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return arith(ctx, args[0], args[1], EW.MAX, out_dtype(ctx, node))


@converter(aten.minimum.default)
def minimum(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return arith(ctx, args[0], args[1], EW.MIN, out_dtype(ctx, node))


@converter(aten.clamp.default, aten.clamp.Tensor, aten.clip.default, aten.clip.Tensor)
def clamp(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    lo, hi = arg(args, kwargs, 1, "min"), arg(args, kwargs, 2, "max")
    return clamp_to(ctx, args[0], lo, hi, out_dtype(ctx, node))


@converter(aten.clamp_min.default, aten.clamp_min.Tensor)
def clamp_min(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return clamp_to(ctx, args[0], args[1], None, out_dtype(ctx, node))


@converter(aten.clamp_max.default, aten.clamp_max.Tensor)
def clamp_max(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return clamp_to(ctx, args[0], None, args[1], out_dtype(ctx, node))


# -- fused arithmetic --------------------------------------------------------------------------------------------
@converter(aten.lerp.Scalar, aten.lerp.Tensor)
def lerp(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``start + weight * (end - start)``."""
    start, end, weight = args[0], args[1], args[2]
    dtype = out_dtype(ctx, node)
    step = arith(ctx, weight, arith(ctx, end, start, EW.SUB, dtype), EW.PROD, dtype)
    return arith(ctx, start, step, EW.SUM, dtype)


def _addc(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict, op: Any) -> Any:
    dtype = out_dtype(ctx, node)
    value = arg(args, kwargs, 3, "value", 1)
    term = arith(ctx, args[1], args[2], op, dtype)
    if value != 1:
        term = arith(ctx, term, value, EW.PROD, dtype)
    return arith(ctx, args[0], term, EW.SUM, dtype)


@converter(aten.addcmul.default)
def addcmul(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``self + value * t1 * t2``."""
    return _addc(ctx, node, args, kwargs, EW.PROD)


def _addcdiv_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dtype = input_dtype(node, 1)
    if dtype is not None and not dtype.is_floating_point:
        return "addcdiv of integer tensors (torch rejects it)"
    return None


@converter(aten.addcdiv.default, validator=_addcdiv_ok)
def addcdiv(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``self + value * t1 / t2``."""
    return _addc(ctx, node, args, kwargs, EW.DIV)
