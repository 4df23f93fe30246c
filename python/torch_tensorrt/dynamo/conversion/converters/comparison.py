"""Comparisons, logical and bitwise ops, and ``where``.

TensorRT compares (EQUAL/GREATER/LESS) int32, int64 and float tensors and produces bool; AND/OR/XOR/NOT take
bool only. Operands are promoted like torch does; bool and 8-bit operands are compared in int32 (:mod:`.._arith`).
``<=`` and ``>=`` are built as ``(a < b) or (a == b)`` so that NaN compares false, as in torch.
Integer bitwise and/or/xor have no TensorRT layer: those nodes stay in PyTorch (validator); integer ``~x`` is
computed exactly as ``-1 - x`` (two's complement).
"""

from __future__ import annotations

from typing import Any, Optional, cast

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import input_dtype, out_dtype
from torch_tensorrt.dynamo.conversion._arith import compare, logical, logical_not_of, select
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
EW = trt.ElementWiseOperation


# -- comparisons -------------------------------------------------------------------------------------------------
@converter(aten.eq.Tensor, aten.eq.Scalar)
def eq(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return compare(ctx, args[0], args[1], EW.EQUAL)


@converter(aten.ne.Tensor, aten.ne.Scalar)
def ne(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return logical_not_of(ctx, compare(ctx, args[0], args[1], EW.EQUAL))


@converter(aten.gt.Tensor, aten.gt.Scalar)
def gt(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return compare(ctx, args[0], args[1], EW.GREATER)


@converter(aten.lt.Tensor, aten.lt.Scalar)
def lt(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return compare(ctx, args[0], args[1], EW.LESS)


def _or_equal(ctx: ConversionContext, a: Any, b: Any, strict: Any) -> Any:
    return T.elementwise(ctx, compare(ctx, a, b, strict), compare(ctx, a, b, EW.EQUAL), EW.OR, torch.bool)


@converter(aten.ge.Tensor, aten.ge.Scalar)
def ge(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _or_equal(ctx, args[0], args[1], EW.GREATER)


@converter(aten.le.Tensor, aten.le.Scalar)
def le(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _or_equal(ctx, args[0], args[1], EW.LESS)


# -- logical -----------------------------------------------------------------------------------------------------
@converter(aten.logical_and.default)
def logical_and(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return logical(ctx, args[0], args[1], EW.AND)


@converter(aten.logical_or.default)
def logical_or(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return logical(ctx, args[0], args[1], EW.OR)


@converter(aten.logical_xor.default)
def logical_xor(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return logical(ctx, args[0], args[1], EW.XOR)


@converter(aten.logical_not.default)
def logical_not(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return logical_not_of(ctx, args[0])


# -- bitwise -----------------------------------------------------------------------------------------------------
def _bool_operands(node: torch.fx.Node, settings: Any) -> Optional[str]:
    for i in (0, 1):
        dtype = input_dtype(node, i)
        if dtype is not None and dtype != torch.bool:
            return f"bitwise ops on {dtype} have no TensorRT layer (bool only)"
    return None


_BITWISE = {
    aten.bitwise_and: EW.AND,
    aten.bitwise_or: EW.OR,
    aten.bitwise_xor: EW.XOR,
}


@converter(
    *(getattr(packet, ov) for packet in _BITWISE for ov in ("Tensor", "Scalar")),
    validator=_bool_operands,
)
def bitwise(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return logical(ctx, args[0], args[1], _BITWISE[cast(Any, node.target).overloadpacket])


def _not_operand(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dtype = input_dtype(node)
    if dtype is not None and dtype not in (torch.bool, torch.int32, torch.int64):
        return f"bitwise_not of {dtype} is not supported"
    return None


@converter(aten.bitwise_not.default, validator=_not_operand)
def bitwise_not(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if T.dtype_of(x) == torch.bool:
        return T.unary(ctx, x, trt.UnaryOperation.NOT)
    return T.elementwise(ctx, -1, x, EW.SUB, T.dtype_of(x))


# -- where -------------------------------------------------------------------------------------------------------
@converter(aten.where.self, aten.where.ScalarOther, aten.where.ScalarSelf, aten.where.Scalar)
def where(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    # the output dtype is torch's promotion of the branches (Python-number branches count as wrapped scalars)
    return select(ctx, args[0], args[1], args[2], out_dtype(ctx, node))
