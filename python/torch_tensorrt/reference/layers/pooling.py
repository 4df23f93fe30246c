"""POOLING (max, average, max-average blend) and PADDING."""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.nn.functional as F

from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers.conv import SpatialPadding, forward_padding, nd
from torch_tensorrt.reference.layers.reduce import compute_dtype, require_float


def _windows(x: torch.Tensor, window: tuple[int, ...], stride: tuple[int, ...]) -> torch.Tensor:
    """All pooling windows of the trailing ``len(window)`` dims: shape [..., O1, ..., On, w1 * ... * wn]."""
    r = len(window)
    # Unfold each spatial dim in turn; the window extents accumulate as trailing dims.
    lead = x.dim() - r
    for i in range(r):
        x = x.unfold(lead + i, window[i], stride[i])
    return x.reshape(*x.shape[: lead + r], math.prod(window))


def _pad_value(x: torch.Tensor, pads: list[SpatialPadding], value: float, inner: float, extra: float) -> torch.Tensor:
    """Pad the trailing dims: explicit padding filled with ``inner``, round-up extra with ``extra``."""
    flat: list[int] = []
    for p in reversed(pads):
        flat += [p.pre, p.post]
    y = F.pad(x, flat, value=inner)
    flat = []
    for p in reversed(pads):
        flat += [0, p.extra]
    return F.pad(y, flat, value=extra)


@handles("POOLING", "IPoolingLayer")
def pooling(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Per-channel MAX / AVERAGE / MAX_AVERAGE_BLEND pooling over 2-D or 3-D windows.

    Windows, stride and padding follow padding_mode (see :mod:`.conv`). MAX ignores padding. AVERAGE divides
    the window sum by its overlap with the padded input (M = I + B + A; EXPLICIT_ROUND_UP's extra window tail
    is outside it), or with the unpadded input when average_count_excludes_padding. MAX_AVERAGE_BLEND is
    (1 - blend_factor) * MAX + blend_factor * AVERAGE. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Pooling.html
    """
    (x,) = inputs
    assert x is not None
    require_float(layer, ctx, x)
    kind = layer.type  # IPoolingLayer.type is the PoolingType
    if kind not in (trt.PoolingType.MAX, trt.PoolingType.AVERAGE, trt.PoolingType.MAX_AVERAGE_BLEND):
        raise ctx.unsupported(layer, "type", kind)
    window, stride = nd(layer.window_size_nd), nd(layer.stride_nd)
    r = len(window)
    if r not in (1, 2, 3) or x.dim() < r + 1:
        raise ctx.unsupported(layer, "window_size_nd for input rank", (window, x.dim()))
    lead = x.dim() - r
    pads = [forward_padding(layer, ctx, int(x.shape[lead + i]), i, window[i], stride[i], 1) for i in range(r)]
    xf = x.to(compute_dtype(x.dtype))

    def maxpool() -> torch.Tensor:
        padded = _pad_value(xf, pads, 0.0, -math.inf, -math.inf)
        return _windows(padded, window, stride).amax(dim=-1)

    def avgpool() -> torch.Tensor:
        total = _windows(_pad_value(xf, pads, 0.0, 0.0, 0.0), window, stride).sum(dim=-1)
        ones = torch.ones(x.shape[lead:], dtype=xf.dtype)
        inner = 0.0 if layer.average_count_excludes_padding else 1.0
        count = _windows(_pad_value(ones, pads, 0.0, inner, 0.0), window, stride).sum(dim=-1)
        return total / count

    if kind == trt.PoolingType.MAX:
        out = maxpool()
    elif kind == trt.PoolingType.AVERAGE:
        out = avgpool()
    else:
        blend = float(layer.blend_factor)
        out = (1.0 - blend) * maxpool() + blend * avgpool()
    return [out.to(x.dtype)]


@handles("PADDING", "IPaddingLayer")
def padding(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Zero padding of the trailing len(pre_padding_nd) dimensions; negative amounts crop. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Padding.html
    """
    (x,) = inputs
    assert x is not None
    pre, post = nd(layer.pre_padding_nd), nd(layer.post_padding_nd)
    if len(pre) != len(post) or len(pre) > x.dim():
        raise ctx.unsupported(layer, "pre/post_padding_nd", (pre, post))
    flat: list[int] = []
    for b, a in zip(reversed(pre), reversed(post)):
        flat += [b, a]
    return [F.pad(x, flat, value=0)]
