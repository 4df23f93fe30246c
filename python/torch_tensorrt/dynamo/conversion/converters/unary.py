"""Elementwise unary math: exp/log family, roots, trigonometry, rounding, sign, abs/neg, isnan/isinf, square.

TensorRT's unary layer takes float inputs, except ABS and SIGN (also int8/int32/int64) and NOT (bool). Like
torch, float-only functions of integer or bool tensors compute in the default float dtype; rounding of
integers is the identity; integer ``neg`` is ``0 - x``. ``expm1``/``log1p`` switch to a short Taylor series
near zero, where ``exp(x) - 1`` and ``log(1 + x)`` lose their relative accuracy.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_dtype, out_dtype
from torch_tensorrt.dynamo.conversion._arith import arith, as_float, compare, select
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
EW = trt.ElementWiseOperation
UN = trt.UnaryOperation

#: |x| below which expm1/log1p use their Taylor polynomial (degree 9: truncation error < 1e-10 relative).
#: Above it, exp(x) - 1 and log(1 + x) lose at most ~6e-8 / |x| < 1e-6 relative to cancellation.
_SERIES_BOUND = 1e-1


def _float_op(op: Any) -> Any:
    def convert(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
        return T.unary(ctx, as_float(ctx, args[0], out_dtype(ctx, node)), op)

    convert.__doc__ = f"TensorRT unary {op.name} (integer inputs computed in float)."
    convert.__name__ = convert.__qualname__ = op.name.lower()
    return convert


_FLOAT_OPS = {
    aten.exp.default: UN.EXP,
    aten.log.default: UN.LOG,
    aten.sqrt.default: UN.SQRT,
    aten.reciprocal.default: UN.RECIP,
    aten.sin.default: UN.SIN,
    aten.cos.default: UN.COS,
    aten.tan.default: UN.TAN,
    aten.asin.default: UN.ASIN,
    aten.acos.default: UN.ACOS,
    aten.atan.default: UN.ATAN,
    aten.sinh.default: UN.SINH,
    aten.cosh.default: UN.COSH,
    aten.asinh.default: UN.ASINH,
    aten.acosh.default: UN.ACOSH,
    aten.atanh.default: UN.ATANH,
    aten.erf.default: UN.ERF,
}
for _target, _op in _FLOAT_OPS.items():
    converter(_target)(_float_op(_op))


@converter(aten.rsqrt.default)
def rsqrt(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = as_float(ctx, args[0], out_dtype(ctx, node))
    return T.unary(ctx, T.unary(ctx, x, UN.SQRT), UN.RECIP)


def _scaled_log(ctx: ConversionContext, node: torch.fx.Node, x: Any, base: float) -> Any:
    dtype = out_dtype(ctx, node)
    return arith(ctx, T.unary(ctx, as_float(ctx, x, dtype), UN.LOG), 1.0 / math.log(base), EW.PROD, dtype)


@converter(aten.log2.default)
def log2(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _scaled_log(ctx, node, args[0], 2.0)


@converter(aten.log10.default)
def log10(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _scaled_log(ctx, node, args[0], 10.0)


@converter(aten.exp2.default)
def exp2(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dtype = out_dtype(ctx, node)
    return T.unary(ctx, arith(ctx, as_float(ctx, args[0], dtype), math.log(2.0), EW.PROD, dtype), UN.EXP)


def _polynomial(ctx: ConversionContext, x: Any, coeffs: list[float], dtype: torch.dtype) -> Any:
    """``x * (c0 + x * (c1 + x * (c2 + ...)))`` (Horner)."""
    acc: Any = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = arith(ctx, c, arith(ctx, x, acc, EW.PROD, dtype), EW.SUM, dtype)
    return arith(ctx, x, acc, EW.PROD, dtype)


def _near_zero(ctx: ConversionContext, x: Any) -> Any:
    return compare(ctx, T.unary(ctx, x, UN.ABS), _SERIES_BOUND, EW.LESS)


@converter(aten.expm1.default)
def expm1(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dtype = out_dtype(ctx, node)
    x = as_float(ctx, args[0], dtype)
    direct = arith(ctx, T.unary(ctx, x, UN.EXP), 1.0, EW.SUB, dtype)
    series = _polynomial(ctx, x, [1 / math.factorial(k) for k in range(1, 10)], dtype)
    return select(ctx, _near_zero(ctx, x), series, direct, dtype)


@converter(aten.log1p.default)
def log1p(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dtype = out_dtype(ctx, node)
    x = as_float(ctx, args[0], dtype)
    direct = T.unary(ctx, arith(ctx, x, 1.0, EW.SUM, dtype), UN.LOG)
    series = _polynomial(ctx, x, [(-1) ** (k + 1) / k for k in range(1, 10)], dtype)
    return select(ctx, _near_zero(ctx, x), series, direct, dtype)


# -- sign, abs, neg, square ----------------------------------------------------------------------------------------
def _signed_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dtype = input_dtype(node)
    if dtype is not None and dtype in (torch.uint8, torch.int8, torch.int16):
        return f"{node.target} of {dtype} is not supported"
    return None


@converter(aten.abs.default, validator=_signed_ok)
def abs_(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if T.dtype_of(x) == torch.bool:
        return x
    return T.unary(ctx, x, UN.ABS)


@converter(aten.sign.default, aten.sgn.default, validator=_signed_ok)
def sign(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if T.dtype_of(x) == torch.bool:
        return x
    return T.unary(ctx, x, UN.SIGN)


@converter(aten.neg.default, validator=_signed_ok)
def neg(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if T.dtype_of(x).is_floating_point:
        return T.unary(ctx, x, UN.NEG)
    return arith(ctx, 0, x, EW.SUB, T.dtype_of(x))


@converter(aten.square.default)
def square(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    return arith(ctx, x, x, EW.PROD, T.dtype_of(x))


# -- rounding ------------------------------------------------------------------------------------------------------
def _rounding(op: Any) -> Any:
    def convert(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
        x = T.to_trt(ctx, args[0])
        if not T.dtype_of(x).is_floating_point:
            return x  # integers are already integral
        return T.unary(ctx, x, op)

    convert.__doc__ = f"TensorRT unary {op.name}; identity on integers."
    convert.__name__ = convert.__qualname__ = op.name.lower()
    return convert


converter(aten.floor.default)(_rounding(UN.FLOOR))
converter(aten.ceil.default)(_rounding(UN.CEIL))
# TensorRT ROUND rounds half to even, like torch.round
converter(aten.round.default)(_rounding(UN.ROUND))


@converter(aten.trunc.default)
def trunc(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``floor(|x|) * sign(x)``."""
    x = T.to_trt(ctx, args[0])
    if not T.dtype_of(x).is_floating_point:
        return x
    mag = T.unary(ctx, T.unary(ctx, x, UN.ABS), UN.FLOOR)
    return arith(ctx, mag, T.unary(ctx, x, UN.SIGN), EW.PROD, T.dtype_of(x))


@converter(aten.round.decimals)
def round_decimals(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """torch: ``round(x * 10**d) / 10**d`` for ``d >= 0``, ``round(x / 10**-d) * 10**-d`` otherwise."""
    x = T.to_trt(ctx, args[0])
    decimals = int(arg(args, kwargs, 1, "decimals", 0))
    dtype = T.dtype_of(x)
    if not dtype.is_floating_point:
        return x
    if decimals == 0:
        return T.unary(ctx, x, UN.ROUND)
    scale = float(10 ** abs(decimals))
    there, back = (EW.PROD, EW.DIV) if decimals > 0 else (EW.DIV, EW.PROD)
    rounded = T.unary(ctx, arith(ctx, x, scale, there, dtype), UN.ROUND)
    return arith(ctx, rounded, scale, back, dtype)


# -- classification ------------------------------------------------------------------------------------------------
def _never(ctx: ConversionContext, x: Any) -> Any:
    """An all-false bool tensor shaped like the integer tensor ``x`` (x != x)."""
    eq = compare(ctx, x, x, EW.EQUAL)
    return T.unary(ctx, eq, UN.NOT)


@converter(aten.isnan.default)
def isnan(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return T.unary(ctx, x, UN.ISNAN) if T.dtype_of(x).is_floating_point else _never(ctx, x)


@converter(aten.isinf.default)
def isinf(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    return T.unary(ctx, x, UN.ISINF) if T.dtype_of(x).is_floating_point else _never(ctx, x)


# -- core-ATen composites without a TensorRT layer -------------------------------------------------------------------
@converter(aten.erfc.default)
def erfc(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``1 - erf(x)`` (absolute, not relative, accuracy in the far tail)."""
    dtype = out_dtype(ctx, node)
    return arith(ctx, 1.0, T.unary(ctx, as_float(ctx, args[0], dtype), UN.ERF), EW.SUB, dtype)


@converter(aten.atan2.default)
def atan2(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``atan(y / x)`` moved to the right quadrant: ``+-pi`` where ``x < 0``; 0 at the origin."""
    dtype = out_dtype(ctx, node)
    y, x = T.to_trt(ctx, args[0], dtype), T.to_trt(ctx, args[1], dtype)
    base = T.unary(ctx, arith(ctx, y, x, EW.DIV, dtype), UN.ATAN)
    upper = T.elementwise(ctx, compare(ctx, y, 0.0, EW.GREATER), compare(ctx, y, 0.0, EW.EQUAL), EW.OR, torch.bool)
    turn = select(ctx, upper, math.pi, -math.pi, dtype)
    out = select(ctx, compare(ctx, x, 0.0, EW.LESS), arith(ctx, base, turn, EW.SUM, dtype), base, dtype)
    origin = T.elementwise(ctx, compare(ctx, x, 0.0, EW.EQUAL), compare(ctx, y, 0.0, EW.EQUAL), EW.AND, torch.bool)
    return select(ctx, origin, 0.0, out, dtype)


@converter(aten.hypot.default)
def hypot(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``sqrt(a * a + b * b)``."""
    dtype = out_dtype(ctx, node)
    a, b = T.to_trt(ctx, args[0], dtype), T.to_trt(ctx, args[1], dtype)
    total = arith(ctx, arith(ctx, a, a, EW.PROD, dtype), arith(ctx, b, b, EW.PROD, dtype), EW.SUM, dtype)
    return T.unary(ctx, total, UN.SQRT)


@converter(aten.copysign.Tensor, aten.copysign.Scalar)
def copysign(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``|a|`` with the sign of ``b`` (``b < 0``; a negative zero ``b`` counts as positive here)."""
    dtype = out_dtype(ctx, node)
    magnitude = T.unary(ctx, T.to_trt(ctx, args[0], dtype), UN.ABS)
    negative = T.unary(ctx, magnitude, UN.NEG)
    return select(ctx, compare(ctx, args[1], 0, EW.LESS), negative, magnitude, dtype)
