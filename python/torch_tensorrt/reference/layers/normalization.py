"""NORMALIZATION (layer / instance / group norm), SCALE and LRN."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference.layers._core_util import host_weights
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers.reduce import axes_from_mask, compute_dtype, require_float


def _standardize(x: torch.Tensor, dims: list[int], eps: float) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


@handles("NORMALIZATION", "INormalizationLayer")
def normalization(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Y = (X - Mean(X, axes)) / sqrt(Var(X, axes) + epsilon) * S + B, Var the biased (population) variance.

    With num_groups G > 1 the channels (dim 1) are split into G groups and each group is normalized over its
    C/G channels and the ``axes`` (which must not include dims 0 or 1). The scale/bias then are per group,
    shape [1, G, 1, ...], for a layer from add_normalization, and per channel, shape [1, C, 1, ...], for one
    from add_normalization_v2 (``is_v2``). Computed in float32 for reduced-precision inputs. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Normalization.html
    """
    x, scale, bias = inputs
    assert x is not None and scale is not None and bias is not None
    require_float(layer, ctx, x)
    cdt = compute_dtype(x.dtype)
    xf, sf, bf = x.to(cdt), scale.to(cdt), bias.to(cdt)
    dims = axes_from_mask(int(layer.axes), x.dim())
    eps = float(layer.epsilon)
    groups = int(layer.num_groups)
    if groups == 1:
        return [(_standardize(xf, dims, eps) * sf + bf).to(x.dtype)]
    if groups < 1 or x.dim() < 2 or int(x.shape[1]) % groups or any(d < 2 for d in dims):
        raise ctx.unsupported(layer, "num_groups with axes", (groups, int(layer.axes)))
    n, c = int(x.shape[0]), int(x.shape[1])
    grouped = xf.reshape(n, groups, c // groups, *x.shape[2:])
    normed = _standardize(grouped, [2] + [d + 1 for d in dims], eps)
    if bool(layer.is_v2):
        return [(normed.reshape(x.shape) * sf + bf).to(x.dtype)]
    # Per-group scale/bias [1, G, 1, ...]: give it the grouped view's channel-in-group axis.
    sg, bg = sf.unsqueeze(2), bf.unsqueeze(2)
    return [(normed * sg + bg).reshape(x.shape).to(x.dtype)]


def _scale_weights(layer: Any, attr: str, shape: tuple[int, ...], default: float, dtype: torch.dtype) -> torch.Tensor:
    array = np.asarray(getattr(layer, attr))
    if array.size == 0:
        return torch.full((), default, dtype=dtype)
    return host_weights(array).to(dtype).reshape(shape)


@handles("SCALE", "IScaleLayer")
def scale(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Y = (X * scale + shift) ^ power, with coefficients per tensor (UNIFORM), per channel along channel_axis
    (CHANNEL), or per element of the dims from channel_axis on (ELEMENTWISE). Empty weights mean scale 1,
    shift 0, power 1. Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Scale.html
    """
    x = inputs[0]
    assert x is not None
    require_float(layer, ctx, x)
    axis = int(layer.channel_axis)
    mode = layer.mode
    trailing = x.dim() - axis - 1
    if mode == trt.ScaleMode.UNIFORM:
        shape: tuple[int, ...] = ()
    elif mode == trt.ScaleMode.CHANNEL:
        shape = (int(x.shape[axis]),) + (1,) * trailing
    elif mode == trt.ScaleMode.ELEMENTWISE:
        shape = tuple(int(s) for s in x.shape[axis:])
    else:
        raise ctx.unsupported(layer, "mode", mode)
    cdt = compute_dtype(x.dtype)
    s = _scale_weights(layer, "scale", shape, 1.0, cdt)
    b = _scale_weights(layer, "shift", shape, 0.0, cdt)
    p = _scale_weights(layer, "power", shape, 1.0, cdt)
    return [torch.pow(x.to(cdt) * s + b, p).to(x.dtype)]


@handles("LRN", "ILRNLayer")
def lrn(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Cross-channel local response normalization along dimension ``rank - 3`` (C of NCHW):
    ``x / (k + alpha / w * sum(x_j^2 over the w channels centred on c, clipped at the ends)) ^ beta``.

    The operators page writes the window as c - w .. c + w and alpha unscaled; NVIDIA's ONNX parser maps ONNX
    LRN (window ``size``, ``alpha / size``) onto this layer one to one, and the ONNX oracle
    (tests/oracle) agrees with this reading: a window of w channels, alpha divided by w. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/LRN.html
    """
    (x,) = inputs
    assert x is not None
    require_float(layer, ctx, x)
    if x.dim() < 3:
        raise ctx.unsupported(layer, "input rank", x.dim())
    w = int(layer.window_size)
    axis = x.dim() - 3
    xf = x.to(compute_dtype(x.dtype))
    sq = (xf * xf).movedim(axis, -1)
    half_lo, half_hi = (w - 1) // 2, w // 2
    padded = torch.nn.functional.pad(sq, (half_lo, half_hi))
    window = padded.unfold(-1, w, 1).sum(dim=-1).movedim(-1, axis)
    out = xf / torch.pow(float(layer.k) + float(layer.alpha) / w * window, float(layer.beta))
    return [out.to(x.dtype)]
