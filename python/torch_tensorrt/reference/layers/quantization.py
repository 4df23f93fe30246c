"""Explicit quantization: QUANTIZE and DEQUANTIZE (per tensor, per axis, or per block)."""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import FLOATS, compute_in, optional, out_dtype, require

#: Saturation bounds of the quantized types the evaluator models.
_BOUNDS = {torch.int8: (-128.0, 127.0), torch.float8_e4m3fn: (-448.0, 448.0)}


def _broadcast_scale(layer: Any, ctx: EvalContext, scale: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The scale (or zero point) broadcast to ``x``: a scalar (per tensor), 1-D along ``axis`` (per axis), or
    of ``x``'s rank with each dimension dividing ``x``'s (per block: every block of the quotient shares one)."""
    if scale.dim() == 0 or scale.numel() == 1 and scale.dim() <= 1:
        return scale.reshape(())
    if scale.dim() == 1:
        axis = int(layer.axis) % x.dim()
        if scale.shape[0] != x.shape[axis]:
            raise ValueError(
                f"reference evaluator: layer {layer.name!r}: {scale.shape[0]} scales for axis {axis} of {tuple(x.shape)}"
            )
        view = [1] * x.dim()
        view[axis] = -1
        return scale.reshape(view)
    if scale.dim() != x.dim() or any(n % s for n, s in zip(x.shape, scale.shape)):
        raise ctx.unsupported(layer, "block scale shape", (tuple(scale.shape), tuple(x.shape)))
    out = scale
    for d, (n, s) in enumerate(zip(x.shape, scale.shape)):
        out = out.repeat_interleave(n // s, dim=d)
    return out


@handles("QUANTIZE", "IQuantizeLayer")
def quantize(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """``clamp(round(x / scale) + zero_point)`` in ``to_type``: INT8 rounds half to even and clamps to
    [-128, 127]; FP8 (E4M3) rounds to the nearest representable value and saturates at +-448. The zero point
    (input 2) is optional and 0 by default.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Quantize.html
    """
    x, scale, zero = require(inputs, 0), require(inputs, 1), optional(inputs, 2)
    target = out_dtype(layer)
    if x.dtype not in FLOATS or target not in _BOUNDS:
        raise ctx.unsupported(layer, "input/output dtypes", (x.dtype, target))
    lo, hi = _BOUNDS[target]
    q = compute_in(x) / compute_in(_broadcast_scale(layer, ctx, scale, x)).float()
    if target == torch.int8:
        q = torch.round(q)
    if zero is not None:
        q = q + _broadcast_scale(layer, ctx, zero, x).float()
    return [q.clamp(lo, hi).to(target)]


@handles("DEQUANTIZE", "IDequantizeLayer")
def dequantize(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """``(x - zero_point) * scale`` in ``to_type`` (the zero point, input 2, is optional and 0 by default).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Dequantize.html
    """
    x, scale, zero = require(inputs, 0), require(inputs, 1), optional(inputs, 2)
    target = out_dtype(layer)
    if x.dtype not in _BOUNDS or target not in FLOATS:
        raise ctx.unsupported(layer, "input/output dtypes", (x.dtype, target))
    v = x.float()
    if zero is not None:
        v = v - _broadcast_scale(layer, ctx, zero, x).float()
    return [(v * compute_in(_broadcast_scale(layer, ctx, scale, x)).float()).to(target)]
