"""Per-element layers: ELEMENTWISE (binary ops with broadcasting), UNARY and SELECT."""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch

from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import (
    FLOATS,
    INTS,
    check_broadcast,
    compute_in,
    out_dtype,
    require,
)

_Binary = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Integer DIV rounds toward zero (C semantics, as TensorRT's kDIV does); floats divide exactly.
    return torch.div(a, b, rounding_mode="trunc") if a.dtype in INTS else a / b


def _floor_div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.div(a, b, rounding_mode="floor") if a.dtype in INTS else torch.floor(a / b)


_ARITH: dict[str, _Binary] = {
    "SUM": torch.add,
    "PROD": torch.mul,
    "MAX": torch.maximum,
    "MIN": torch.minimum,
    "SUB": torch.sub,
    "DIV": _div,
    "POW": torch.pow,
    "FLOOR_DIV": _floor_div,
}
_LOGIC: dict[str, _Binary] = {"AND": torch.logical_and, "OR": torch.logical_or, "XOR": torch.logical_xor}
_COMPARE: dict[str, _Binary] = {"EQUAL": torch.eq, "GREATER": torch.gt, "LESS": torch.lt}


@handles("ELEMENTWISE", "IElementWiseLayer")
def elementwise(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Binary op with TensorRT broadcasting (equal ranks; a dimension of length 1 stretches).

    Arithmetic ops keep the input type; integer DIV truncates toward zero and FLOOR_DIV rounds toward minus
    infinity; AND/OR/XOR take bool; EQUAL/GREATER/LESS produce bool.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/ElementWise.html
    """
    a, b = require(inputs, 0), require(inputs, 1)
    if a.dtype != b.dtype:
        raise ctx.unsupported(layer, "input dtypes", (a.dtype, b.dtype))
    check_broadcast(layer, (a, b))
    name = layer.op.name
    if name in _LOGIC:
        if a.dtype != torch.bool:
            raise ctx.unsupported(layer, "input dtype", a.dtype)
        return [_LOGIC[name](a, b)]
    if a.dtype == torch.bool:
        raise ctx.unsupported(layer, "input dtype", a.dtype)
    if name in _COMPARE:
        return [_COMPARE[name](a, b)]
    if name not in _ARITH:
        raise ctx.unsupported(layer, "op", layer.op)
    if name == "POW" and a.dtype in INTS and bool((b < 0).any()):
        raise ValueError(f"reference evaluator: layer {layer.name!r}: integer POW with a negative exponent")
    return [_ARITH[name](compute_in(a), compute_in(b)).to(a.dtype)]


def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x)


_UNARY_FLOAT: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "EXP": torch.exp,
    "LOG": torch.log,
    "SQRT": torch.sqrt,
    "RECIP": torch.reciprocal,
    "SIN": torch.sin,
    "COS": torch.cos,
    "TAN": torch.tan,
    "SINH": torch.sinh,
    "COSH": torch.cosh,
    "ASIN": torch.asin,
    "ACOS": torch.acos,
    "ATAN": torch.atan,
    "ASINH": torch.asinh,
    "ACOSH": torch.acosh,
    "ATANH": torch.atanh,
    "CEIL": torch.ceil,
    "FLOOR": torch.floor,
    "ERF": torch.erf,
    "ROUND": torch.round,  # round half to even, as documented for floating-point types
}
# Ops that are also defined on integer types.
_UNARY_NUMERIC: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"ABS": torch.abs, "NEG": torch.neg, "SIGN": _sign}


@handles("UNARY", "IUnaryLayer")
def unary(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """One-input math op. ROUND is half-to-even; SIGN gives -1/0/1; NOT takes bool; ISINF/ISNAN give bool.

    Float16/bfloat16 are computed in float32 and rounded back.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Unary.html
    """
    x = require(inputs, 0)
    name = layer.op.name
    if name == "NOT":
        if x.dtype != torch.bool:
            raise ctx.unsupported(layer, "input dtype", x.dtype)
        return [torch.logical_not(x)]
    if name in ("ISINF", "ISNAN"):
        if x.dtype not in FLOATS:
            raise ctx.unsupported(layer, "input dtype", x.dtype)
        return [torch.isinf(x) if name == "ISINF" else torch.isnan(x)]
    if name in _UNARY_NUMERIC:
        if x.dtype == torch.bool or x.dtype == torch.uint8 and name == "NEG":
            raise ctx.unsupported(layer, "input dtype", x.dtype)
        return [_UNARY_NUMERIC[name](compute_in(x)).to(x.dtype)]
    if name not in _UNARY_FLOAT:
        raise ctx.unsupported(layer, "op", layer.op)
    if x.dtype not in FLOATS:
        raise ctx.unsupported(layer, "input dtype", x.dtype)
    return [_UNARY_FLOAT[name](compute_in(x)).to(x.dtype)]


@handles("SELECT", "ISelectLayer")
def select(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """``condition ? then : else`` per element, all three broadcast together (equal ranks, 1s stretch).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Select.html
    """
    cond, then, other = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    if cond.dtype != torch.bool:
        raise ctx.unsupported(layer, "condition dtype", cond.dtype)
    if then.dtype != other.dtype:
        raise ctx.unsupported(layer, "input dtypes", (then.dtype, other.dtype))
    check_broadcast(layer, (cond, then, other))
    return [torch.where(cond, then, other).to(out_dtype(layer))]
