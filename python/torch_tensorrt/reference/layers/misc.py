"""Sources and conversions: CONSTANT, IDENTITY, CAST, FILL, ASSERTION and CUMULATIVE."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from torch_tensorrt._dtypes import torch_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import (
    FLOATS,
    host_weights,
    compute_in,
    dims,
    int_list,
    normalize_axis,
    optional,
    out_dtype,
    require,
)


@handles("CONSTANT", "IConstantLayer")
def constant(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The layer's weights, read back as a numpy array, in the layer's ``shape``.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Constant.html
    """
    weights = layer.weights
    if not isinstance(weights, np.ndarray):
        raise ctx.unsupported(layer, "weights", type(weights).__name__)
    shape = dims(layer.shape) or ()
    value = host_weights(weights).reshape(shape)
    target = out_dtype(layer)
    if value.dtype != target:
        raise ctx.unsupported(layer, "weights dtype", (value.dtype, target))
    return [value]


def convert(x: torch.Tensor, target: torch.dtype) -> torch.Tensor:
    """TensorRT's type conversion: float -> integer truncates toward zero; anything -> bool is ``!= 0``."""
    if target == torch.bool:
        return x != 0
    if x.dtype in FLOATS and target not in FLOATS and target != torch.float8_e4m3fn:
        return torch.trunc(x.float()).to(target)
    return x.to(target)


@handles("CAST", "ICastLayer")
def cast(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Convert to ``to_type``. Float -> integer truncates toward zero (1.2 -> 1, 8.9 -> 8 in the doc's example).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Cast.html
    """
    x = require(inputs, 0)
    target = torch_dtype_of(layer.to_type)
    return [convert(x, target)]


@handles("IDENTITY", "IIdentityLayer")
def identity(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The input unchanged, converted to the declared output type when it differs (as CAST converts).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Identity.html
    """
    x = require(inputs, 0)
    return [convert(x, out_dtype(layer))]


@handles("FILL", "IFillLayer")
def fill(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """LINSPACE: ``output[a_0..a_n] = alpha + sum_i beta[i] * a_i`` in ``to_type``. RANDOM_UNIFORM: values drawn
    uniformly from [alpha, beta] (min, max); RANDOM_NORMAL: drawn from a normal distribution with mean alpha and
    standard deviation beta; both in float16 or float32.

    Shape, alpha and beta come from inputs 0..2 or the attributes. For LINSPACE alpha is a scalar and beta is 1-D,
    one delta per dimension (an attribute beta is one scalar delta and is only modelled for 1-D outputs); for the
    random operations both are scalars. TensorRT's random values are not reproducible: the evaluator draws from
    its own generator (``evaluate_network(..., seed=)``), so only their distribution is TensorRT's.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Fill.html
    """
    shape_t = optional(inputs, 0)
    shape = int_list(shape_t) if shape_t is not None else list(dims(layer.shape) or ())
    if layer.operation in (trt.FillOperation.RANDOM_UNIFORM, trt.FillOperation.RANDOM_NORMAL):
        return [_random_fill(layer, inputs, ctx, shape)]
    if layer.operation != trt.FillOperation.LINSPACE:
        raise ctx.unsupported(layer, "operation", layer.operation)
    alpha_t, beta_t = optional(inputs, 1), optional(inputs, 2)
    target = out_dtype(layer)
    integral = target in (torch.int32, torch.int64)
    acc = torch.int64 if integral else torch.float64
    if alpha_t is not None:
        alpha = alpha_t.reshape(()).to(acc)
    else:
        alpha = torch.tensor(layer.alpha, dtype=acc)
    if beta_t is not None:
        beta = beta_t.reshape(-1).to(acc)
    else:
        if len(shape) != 1:
            raise ctx.unsupported(layer, "beta attribute with output rank", len(shape))
        beta = torch.tensor([layer.beta], dtype=acc)
    if beta.numel() != len(shape):
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: beta has {beta.numel()} deltas for rank {len(shape)}"
        )
    out = alpha.expand(shape).clone()
    for d, n in enumerate(shape):
        view = [1] * len(shape)
        view[d] = n
        out = out + (torch.arange(n, dtype=acc) * beta[d]).reshape(view)
    return [out.to(target)]


def _random_fill(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext, shape: list[int]) -> torch.Tensor:
    """RANDOM_UNIFORM / RANDOM_NORMAL of ``shape`` from the evaluation's generator (drawn in float64 on the CPU,
    then rounded to the output type on the evaluation device)."""
    target = out_dtype(layer)
    if target not in (torch.float16, torch.float32):
        raise ctx.unsupported(layer, "random fill output type", target)

    def scalar(slot: int, attribute: float) -> float:
        t = optional(inputs, slot)
        if t is None:
            return float(attribute)
        if t.numel() != 1:
            raise ValueError(
                f"reference evaluator: layer {layer.name!r}: a random fill's input {slot} must be a scalar, "
                f"got shape {tuple(t.shape)}"
            )
        return float(t.reshape(()).item())

    alpha, beta = scalar(1, layer.alpha), scalar(2, layer.beta)
    generator = ctx.random()
    if layer.operation == trt.FillOperation.RANDOM_UNIFORM:
        if beta < alpha:
            raise ValueError(f"reference evaluator: layer {layer.name!r}: uniform range [{alpha}, {beta}] is empty")
        draw = torch.rand(shape, generator=generator, dtype=torch.float64, device="cpu") * (beta - alpha) + alpha
    else:
        if beta < 0:
            raise ValueError(f"reference evaluator: layer {layer.name!r}: negative standard deviation {beta}")
        draw = torch.randn(shape, generator=generator, dtype=torch.float64, device="cpu") * beta + alpha
    return draw.to(device=torch.get_default_device(), dtype=target)


@handles("ASSERTION", "IAssertionLayer")
def assertion(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Raise ``AssertionError(message)`` unless every element of the bool condition is true.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Assertion.html
    """
    cond = require(inputs, 0)
    if cond.dtype != torch.bool:
        raise ctx.unsupported(layer, "condition dtype", cond.dtype)
    if not bool(cond.all()):
        raise AssertionError(f"reference evaluator: layer {layer.name!r} assertion failed: {layer.message}")
    return []


@handles("CUMULATIVE", "ICumulativeLayer")
def cumulative(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Running SUM along the axis of input 1 (0-D); ``exclusive`` leaves out the element itself, ``reverse``
    runs from the end.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Cumulative.html
    """
    x, axis_t = require(inputs, 0), require(inputs, 1)
    if layer.op != trt.CumulativeOperation.SUM:
        raise ctx.unsupported(layer, "op", layer.op)
    (axis,) = int_list(axis_t)
    axis = normalize_axis(layer, ctx, axis, x.dim())
    v = compute_in(x)
    if layer.reverse:
        v = v.flip(axis)
    total = torch.cumsum(v, dim=axis)
    if layer.exclusive:
        # Shift by one along the axis: element j sums elements 0..j-1 (an empty sum is 0).
        zeros = torch.zeros_like(total.narrow(axis, 0, min(1, total.shape[axis])))
        total = torch.cat([zeros, total.narrow(axis, 0, max(total.shape[axis] - 1, 0))], dim=axis)
    if layer.reverse:
        total = total.flip(axis)
    return [total.to(x.dtype)]
