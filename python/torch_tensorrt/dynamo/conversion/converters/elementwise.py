"""Elementwise binary arithmetic with tensors and scalars (torch type promotion, broadcasting)."""

from __future__ import annotations

from typing import Any

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


def _scaled(ctx: ConversionContext, other: Any, alpha: Any) -> Any:
    if alpha is None or alpha == 1:
        return other
    return T.elementwise(ctx, other, alpha, trt.ElementWiseOperation.PROD)


@converter(aten.add.Tensor, aten.add.Scalar)
def add(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = _scaled(ctx, args[1], kwargs.get("alpha"))
    return T.elementwise(ctx, args[0], other, trt.ElementWiseOperation.SUM)


@converter(aten.sub.Tensor, aten.sub.Scalar)
def sub(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = _scaled(ctx, args[1], kwargs.get("alpha"))
    return T.elementwise(ctx, args[0], other, trt.ElementWiseOperation.SUB)


@converter(aten.rsub.Tensor, aten.rsub.Scalar)
def rsub(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = _scaled(ctx, args[0], kwargs.get("alpha"))
    return T.elementwise(ctx, args[1], other, trt.ElementWiseOperation.SUB)


@converter(aten.mul.Tensor, aten.mul.Scalar)
def mul(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.elementwise(ctx, args[0], args[1], trt.ElementWiseOperation.PROD)


def _true_div_dtype(ctx: ConversionContext, a: Any, b: Any) -> torch.dtype:
    dtype = T.result_dtype(ctx, a, b)
    return dtype if dtype.is_floating_point else ctx.float_dtype(torch.get_default_dtype())


def _div_mode_ok(node: torch.fx.Node, settings: Any) -> Any:
    mode = node.kwargs.get("rounding_mode")
    return None if mode in (None, "trunc", "floor") else f"rounding_mode={mode!r}"


@converter(aten.div.Tensor, aten.div.Scalar, aten.div.Tensor_mode, aten.div.Scalar_mode, validator=_div_mode_ok)
def div(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1]
    mode = kwargs.get("rounding_mode")
    if mode is None:
        return T.elementwise(ctx, a, b, trt.ElementWiseOperation.DIV, _true_div_dtype(ctx, a, b))
    dtype = T.result_dtype(ctx, a, b)
    if mode == "floor":
        if dtype.is_floating_point:
            q = T.elementwise(ctx, a, b, trt.ElementWiseOperation.DIV, dtype)
            return T.unary(ctx, q, trt.UnaryOperation.FLOOR)
        return T.elementwise(ctx, a, b, trt.ElementWiseOperation.FLOOR_DIV, dtype)
    # trunc: sign(q) * floor(|q|) in float; integers divide through float to truncate toward zero
    fdt = dtype if dtype.is_floating_point else torch.float32
    q = T.elementwise(ctx, a, b, trt.ElementWiseOperation.DIV, fdt)
    truncated = T.elementwise(
        ctx,
        T.unary(ctx, q, trt.UnaryOperation.SIGN),
        T.unary(ctx, T.unary(ctx, q, trt.UnaryOperation.ABS), trt.UnaryOperation.FLOOR),
        trt.ElementWiseOperation.PROD,
    )
    return T.cast(ctx, truncated, dtype)
