"""RESIZE: nearest / linear / cubic resampling, separable per resized dimension."""

from __future__ import annotations

import math
from typing import Any, Optional

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers.reduce import compute_dtype


def _output_shape(layer: Any, ctx: EvalContext, x: torch.Tensor, dynamic: Optional[torch.Tensor]) -> tuple[int, ...]:
    """From input slot 1 (an integer shape tensor or float scales), else the ``shape`` or ``scales`` attribute."""
    if dynamic is not None:
        if dynamic.dtype.is_floating_point:
            return tuple(int(math.floor(s * float(f))) for s, f in zip(x.shape, dynamic.tolist()))
        return tuple(int(v) for v in dynamic.tolist())
    scales = list(layer.scales)
    if scales:
        return tuple(int(math.floor(s * float(f))) for s, f in zip(x.shape, scales))
    shape = layer.shape
    if shape is None:
        raise ctx.unsupported(layer, "shape/scales", None)
    return tuple(int(v) for v in shape)


def _source_coords(layer: Any, ctx: EvalContext, n_in: int, n_out: int) -> torch.Tensor:
    """x_original for every x_resized of one dimension (float64)."""
    dst = torch.arange(n_out, dtype=torch.float64)
    mode = layer.coordinate_transformation
    if n_out == 1:
        selector = layer.selector_for_single_pixel
        if selector == trt.ResizeSelector.UPPER:
            return torch.zeros(1, dtype=torch.float64)
        if selector != trt.ResizeSelector.FORMULA:
            raise ctx.unsupported(layer, "selector_for_single_pixel", selector)
        if mode == trt.ResizeCoordinateTransformation.ALIGN_CORNERS:
            return torch.zeros(1, dtype=torch.float64)
    ratio = n_in / n_out
    if mode == trt.ResizeCoordinateTransformation.ASYMMETRIC:
        return dst * ratio
    if mode == trt.ResizeCoordinateTransformation.HALF_PIXEL:
        return (dst + 0.5) * ratio - 0.5
    if mode == trt.ResizeCoordinateTransformation.ALIGN_CORNERS:
        return dst * ((n_in - 1) / (n_out - 1))
    raise ctx.unsupported(layer, "coordinate_transformation", mode)


def _nearest_taps(layer: Any, ctx: EvalContext, src: torch.Tensor, n_in: int) -> tuple[torch.Tensor, None]:
    rounding = layer.nearest_rounding
    if rounding == trt.ResizeRoundMode.FLOOR:
        idx = torch.floor(src)
    elif rounding == trt.ResizeRoundMode.CEIL:
        idx = torch.ceil(src)
    elif rounding == trt.ResizeRoundMode.HALF_UP:
        idx = torch.floor(src + 0.5)
    elif rounding == trt.ResizeRoundMode.HALF_DOWN:
        idx = torch.ceil(src - 0.5)
    else:
        raise ctx.unsupported(layer, "nearest_rounding", rounding)
    return idx.clamp(0, n_in - 1).long().unsqueeze(1), None


def _linear_taps(src: torch.Tensor, n_in: int) -> tuple[torch.Tensor, torch.Tensor]:
    pos = src.clamp(0, n_in - 1)
    lo = torch.floor(pos)
    frac = pos - lo
    lo_i = lo.long()
    hi_i = (lo_i + 1).clamp(max=n_in - 1)
    return torch.stack([lo_i, hi_i], 1), torch.stack([1 - frac, frac], 1)


def _cubic_taps(src: torch.Tensor, n_in: int, a: float, exclude_outside: bool) -> tuple[torch.Tensor, torch.Tensor]:
    base = torch.floor(src)
    taps = base.unsqueeze(1) + torch.tensor([-1.0, 0.0, 1.0, 2.0], dtype=torch.float64)
    t = (src.unsqueeze(1) - taps).abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    w = torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))
    if exclude_outside:
        inside = (taps >= 0) & (taps <= n_in - 1)
        w = torch.where(inside, w, torch.zeros_like(w))
        w = w / w.sum(dim=1, keepdim=True)
    return taps.clamp(0, n_in - 1).long(), w


def _resample(x: torch.Tensor, dim: int, idx: torch.Tensor, w: Optional[torch.Tensor]) -> torch.Tensor:
    """out[..., j, ...] = sum_t w[j, t] * x[..., idx[j, t], ...] along ``dim``."""
    view = [1] * x.dim()
    view[dim] = idx.shape[0]
    out = None
    for t in range(idx.shape[1]):
        term = x.index_select(dim, idx[:, t])
        if w is not None:
            term = term * w[:, t].to(x.dtype).reshape(view)
        out = term if out is None else out + term
    assert out is not None
    return out


@handles("RESIZE", "IResizeLayer")
def resize(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Resample each dimension whose length changes, mapping x_resized to x_original per coordinate_transformation
    (ASYMMETRIC x*len_in/len_out, HALF_PIXEL (x+0.5)*len_in/len_out-0.5, ALIGN_CORNERS x*(len_in-1)/(len_out-1);
    a single-pixel output reads pixel 0 with selector UPPER). NEAREST rounds that coordinate per nearest_rounding
    and clamps it; LINEAR interpolates the two neighbours (coordinate clamped to the input); CUBIC (innermost two
    dims) uses 4 taps with coefficient cubic_coeff, clamping taps to the border, or dropping outside taps and
    renormalizing with exclude_outside. The output shape comes from input slot 1, ``shape`` or floor(len*scale).
    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Resize.html
    """
    x = inputs[0]
    assert x is not None
    out_shape = _output_shape(layer, ctx, x, inputs[1] if len(inputs) > 1 else None)
    if len(out_shape) != x.dim():
        raise ValueError(f"{layer.name!r}: output shape {out_shape} has the wrong rank for input {tuple(x.shape)}")
    mode = layer.resize_mode
    changed = [d for d in range(x.dim()) if out_shape[d] != x.shape[d]]
    inner = {trt.InterpolationMode.NEAREST: 8, trt.InterpolationMode.LINEAR: 3, trt.InterpolationMode.CUBIC: 2}
    if mode not in inner:
        raise ctx.unsupported(layer, "resize_mode", mode)
    if changed and changed[0] < x.dim() - inner[mode]:
        raise ctx.unsupported(layer, f"{mode} resize of dims", changed)
    y = x if mode == trt.InterpolationMode.NEAREST else x.to(compute_dtype(x.dtype))
    if mode != trt.InterpolationMode.NEAREST and not x.dtype.is_floating_point:
        raise ctx.unsupported(layer, "input dtype", x.dtype)
    for d in changed:
        n_in, n_out = int(x.shape[d]), int(out_shape[d])
        src = _source_coords(layer, ctx, n_in, n_out)
        if mode == trt.InterpolationMode.NEAREST:
            idx, w = _nearest_taps(layer, ctx, src, n_in)
        elif mode == trt.InterpolationMode.LINEAR:
            idx, w = _linear_taps(src, n_in)
        else:
            idx, w = _cubic_taps(src, n_in, float(layer.cubic_coeff), bool(layer.exclude_outside))
        y = _resample(y, d, idx, w)
    return [y.to(x.dtype) if changed else x.clone()]
