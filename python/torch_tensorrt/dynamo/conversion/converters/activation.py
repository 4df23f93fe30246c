"""Activation functions, mapped onto TensorRT's activation layer where it has the function and composed from
elementwise/unary layers otherwise.

TensorRT activations (doc: operators/Activation): RELU, SIGMOID, TANH, LEAKY_RELU (alpha = slope), ELU (alpha),
SELU (alpha, beta = scale), SOFTPLUS (``alpha * log(exp(beta * x) + 1)``), CLIP (alpha = low, beta = high),
HARD_SIGMOID (``max(0, min(1, alpha * x + beta))``), GELU_ERF, GELU_TANH. They take float tensors only; integer
inputs to ops torch allows on integers (relu, relu6, hardtanh) clamp with elementwise MAX/MIN instead.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_dtype, out_dtype
from torch_tensorrt.dynamo.conversion._arith import arith, as_float, clamp_to, compare, select
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
ACT = trt.ActivationType
EW = trt.ElementWiseOperation
UN = trt.UnaryOperation

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(ctx: ConversionContext, node: torch.fx.Node, args: tuple) -> Any:
    return as_float(ctx, args[0], out_dtype(ctx, node))


def _float_only(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dtype = input_dtype(node)
    if dtype is not None and not dtype.is_floating_point:
        return f"{node.target} of {dtype} (torch supports float inputs only)"
    return None


# -- piecewise linear --------------------------------------------------------------------------------------------
def _clip(ctx: ConversionContext, node: torch.fx.Node, x: Any, lo: float, hi: float) -> Any:
    x = T.to_trt(ctx, x)
    if T.dtype_of(x).is_floating_point:
        return T.activation(ctx, x, ACT.CLIP, lo, hi)
    return clamp_to(ctx, x, lo, hi, out_dtype(ctx, node))


@converter(aten.relu.default)
def relu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if T.dtype_of(x).is_floating_point:
        return T.activation(ctx, x, ACT.RELU)
    return clamp_to(ctx, x, 0, None, out_dtype(ctx, node))


@converter(aten.relu6.default)
def relu6(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _clip(ctx, node, args[0], 0.0, 6.0)


@converter(aten.hardtanh.default)
def hardtanh(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    lo = arg(args, kwargs, 1, "min_val", -1.0)
    hi = arg(args, kwargs, 2, "max_val", 1.0)
    return _clip(ctx, node, args[0], lo, hi)


@converter(aten.leaky_relu.default, validator=_float_only)
def leaky_relu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    slope = arg(args, kwargs, 1, "negative_slope", 0.01)
    return T.activation(ctx, _float_input(ctx, node, args), ACT.LEAKY_RELU, slope)


@converter(aten.prelu.default, validator=_float_only)
def prelu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``x`` where ``x > 0`` else ``weight * x``; a per-channel ``weight`` applies along dimension 1."""
    x = T.to_trt(ctx, args[0])
    dtype = T.dtype_of(x)
    weight = args[1]
    rank = len(x.shape)
    count = weight.numel() if isinstance(weight, torch.Tensor) else int(weight.shape[0]) if len(weight.shape) else 1
    shape = [1] * rank
    if count > 1:
        shape[1] = count
    if isinstance(weight, torch.Tensor):
        w = ctx.constant(weight.detach().reshape(shape), dtype)
    else:
        w = T.reshape(ctx, T.to_trt(ctx, weight, dtype), shape)
    return select(ctx, compare(ctx, x, 0.0, EW.GREATER), x, arith(ctx, x, w, EW.PROD, dtype), dtype)


# -- exponential family ------------------------------------------------------------------------------------------
@converter(aten.elu.default, validator=_float_only)
def elu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1))``."""
    x = _float_input(ctx, node, args)
    alpha = float(arg(args, kwargs, 1, "alpha", 1.0))
    scale = float(arg(args, kwargs, 2, "scale", 1.0))
    input_scale = float(arg(args, kwargs, 3, "input_scale", 1.0))
    if input_scale == 1.0:
        if scale == 1.0:
            return T.activation(ctx, x, ACT.ELU, alpha)
        return T.activation(ctx, x, ACT.SELU, alpha, scale)
    dtype = T.dtype_of(x)
    neg = arith(ctx, T.unary(ctx, arith(ctx, x, input_scale, EW.PROD, dtype), UN.EXP), 1.0, EW.SUB, dtype)
    neg = arith(ctx, neg, alpha, EW.PROD, dtype)
    out = select(ctx, compare(ctx, x, 0.0, EW.GREATER), x, neg, dtype)
    return out if scale == 1.0 else arith(ctx, out, scale, EW.PROD, dtype)


@converter(aten.selu.default, validator=_float_only)
def selu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.activation(ctx, _float_input(ctx, node, args), ACT.SELU, _SELU_ALPHA, _SELU_SCALE)


def softplus_of(ctx: ConversionContext, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """torch softplus: ``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    dtype = T.dtype_of(x)
    smooth = T.activation(ctx, x, ACT.SOFTPLUS, 1.0 / beta, beta)
    scaled = x if beta == 1.0 else arith(ctx, x, beta, EW.PROD, dtype)
    return select(ctx, compare(ctx, scaled, float(threshold), EW.GREATER), x, smooth, dtype)


@converter(aten.softplus.default, validator=_float_only)
def softplus(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    beta = float(arg(args, kwargs, 1, "beta", 1.0))
    threshold = float(arg(args, kwargs, 2, "threshold", 20.0))
    return softplus_of(ctx, _float_input(ctx, node, args), beta, threshold)


@converter(aten.mish.default, validator=_float_only)
def mish(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``x * tanh(softplus(x))``."""
    x = _float_input(ctx, node, args)
    return arith(ctx, x, T.activation(ctx, softplus_of(ctx, x), ACT.TANH), EW.PROD, T.dtype_of(x))


# -- sigmoid family ----------------------------------------------------------------------------------------------
@converter(aten.sigmoid.default)
def sigmoid(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.activation(ctx, _float_input(ctx, node, args), ACT.SIGMOID)


@converter(aten.tanh.default)
def tanh(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.activation(ctx, _float_input(ctx, node, args), ACT.TANH)


@converter(aten.silu.default, validator=_float_only)
def silu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``x * sigmoid(x)``."""
    x = _float_input(ctx, node, args)
    return arith(ctx, x, T.activation(ctx, x, ACT.SIGMOID), EW.PROD, T.dtype_of(x))


@converter(aten.hardsigmoid.default, validator=_float_only)
def hardsigmoid(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``relu6(x + 3) / 6`` = HARD_SIGMOID with alpha 1/6, beta 1/2."""
    return T.activation(ctx, _float_input(ctx, node, args), ACT.HARD_SIGMOID, 1.0 / 6.0, 0.5)


@converter(aten.hardswish.default, validator=_float_only)
def hardswish(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``x * hardsigmoid(x)``."""
    x = _float_input(ctx, node, args)
    return arith(ctx, x, T.activation(ctx, x, ACT.HARD_SIGMOID, 1.0 / 6.0, 0.5), EW.PROD, T.dtype_of(x))


@converter(aten.log_sigmoid.default, aten.log_sigmoid_forward.default, validator=_float_only)
def log_sigmoid(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``min(x, 0) - log(1 + exp(-|x|))`` (no overflow for large ``|x|``)."""
    x = _float_input(ctx, node, args)
    dtype = T.dtype_of(x)
    tail = T.unary(ctx, T.unary(ctx, T.unary(ctx, x, UN.ABS), UN.NEG), UN.EXP)
    out = arith(
        ctx,
        arith(ctx, x, 0.0, EW.MIN, dtype),
        T.unary(ctx, arith(ctx, tail, 1.0, EW.SUM, dtype), UN.LOG),
        EW.SUB,
        dtype,
    )
    if node.target == aten.log_sigmoid_forward.default:
        # (output, buffer): the buffer is only used by the backward pass
        return out, tail
    return out


@converter(aten.gelu.default, validator=_float_only)
def gelu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    approximate = kwargs.get("approximate", "none")
    kind = ACT.GELU_TANH if approximate == "tanh" else ACT.GELU_ERF
    return T.activation(ctx, _float_input(ctx, node, args), kind)


@converter(aten.glu.default, validator=_float_only)
def glu(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """First half of ``dim`` times the sigmoid of the second half."""
    x = T.to_trt(ctx, args[0])
    rank = len(x.shape)
    dim = T.normalize_dim(arg(args, kwargs, 1, "dim", -1), rank)
    size = T.sizes(ctx, x)
    half = T.scalar_arith(ctx, size[dim], 2, "//")
    part = list(size)
    part[dim] = half
    start = [0] * rank
    first = T.slice_tensor(ctx, x, start, part, [1] * rank)
    second_start: list[Any] = list(start)
    second_start[dim] = half
    second = T.slice_tensor(ctx, x, second_start, part, [1] * rank)
    return arith(ctx, first, T.activation(ctx, second, ACT.SIGMOID), EW.PROD, T.dtype_of(x))
