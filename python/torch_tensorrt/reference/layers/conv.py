"""CONVOLUTION and DECONVOLUTION, plus the padding-mode arithmetic shared with POOLING.

Padding-mode formulas (per spatial dimension; I input, B pre-padding, A post-padding, S stride, F filter,
D dilation, DK = 1 + D*(F-1), M = I + B + A), from the operators' documentation:

* EXPLICIT_ROUND_DOWN: O = floor((M - DK) / S) + 1
* EXPLICIT_ROUND_UP:   O = ceil((M - DK) / S) + 1
* SAME_UPPER / SAME_LOWER: O = ceil(I / S), P = floor((I - 1) / S) * S + DK - I, the smaller half of P before
  the data for SAME_UPPER (B = floor(P/2)) and after it for SAME_LOWER (A = floor(P/2)).

Deconvolution: O = (I - 1) * S + DK - (B + A) in both EXPLICIT modes, the padding cropping the full
transposed-convolution output; SAME_*: P = max(DK - S, 0) split as above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, cast

import numpy as np
import torch
import torch.nn.functional as F

from torch_tensorrt._trt import trt
from torch_tensorrt.reference.layers._core_util import host_weights
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers.reduce import compute_dtype, require_float


@dataclass(frozen=True)
class SpatialPadding:
    """Padding of one spatial dimension: ``pre``/``post`` from the layer (explicit or SAME), ``extra`` added after
    ``post`` so that EXPLICIT_ROUND_UP's last (partial) window exists; ``extra`` is not padding of the input."""

    pre: int
    post: int
    extra: int = 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def forward_padding(
    layer: Any, ctx: EvalContext, size: int, dim: int, window: int, stride: int, dilation: int
) -> SpatialPadding:
    """Padding of spatial dimension ``dim`` (index into the layer's nd attributes) for convolution/pooling."""
    mode = layer.padding_mode
    dk = 1 + dilation * (window - 1)
    if mode in (trt.PaddingMode.SAME_UPPER, trt.PaddingMode.SAME_LOWER):
        total = max((size - 1) // stride * stride + dk - size, 0)
        small = total // 2
        if mode == trt.PaddingMode.SAME_UPPER:
            return SpatialPadding(small, total - small)
        return SpatialPadding(total - small, small)
    pre, post = int(layer.pre_padding[dim]), int(layer.post_padding[dim])
    if pre < 0 or post < 0:
        raise ctx.unsupported(layer, "negative padding", (tuple(layer.pre_padding), tuple(layer.post_padding)))
    m = size + pre + post
    if mode == trt.PaddingMode.EXPLICIT_ROUND_DOWN:
        return SpatialPadding(pre, post)
    if mode == trt.PaddingMode.EXPLICIT_ROUND_UP:
        out = _ceil_div(m - dk, stride) + 1
        return SpatialPadding(pre, post, max((out - 1) * stride + dk - m, 0))
    raise ctx.unsupported(layer, "padding_mode", mode)


def nd(dims: Any) -> tuple[int, ...]:
    """A TensorRT Dims (or tuple) as a tuple of ints."""
    return tuple(int(d) for d in dims)


def _weights(
    layer: Any, ctx: EvalContext, attr: str, wired: Optional[torch.Tensor], shape: tuple[int, ...]
) -> Optional[torch.Tensor]:
    """Weights given as layer attribute ``attr`` or as the tensor wired into the matching input slot."""
    if wired is not None:
        return wired.reshape(shape)
    array = np.asarray(getattr(layer, attr))
    if array.size == 0:
        return None
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{layer.name!r}: {attr} has {array.size} weights, expected shape {shape}")
    return host_weights(array).reshape(shape)


def _conv_fn(rank: int, transpose: bool) -> Any:
    table = {
        (1, False): F.conv1d,
        (2, False): F.conv2d,
        (3, False): F.conv3d,
        (1, True): F.conv_transpose1d,
        (2, True): F.conv_transpose2d,
        (3, True): F.conv_transpose3d,
    }
    return table.get((rank, transpose))


def _common(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext, transpose: bool):
    x = inputs[0]
    assert x is not None
    require_float(layer, ctx, x)
    ks = nd(layer.kernel_size_nd)
    r = len(ks)
    if _conv_fn(r, transpose) is None or x.dim() != r + 2:
        raise ctx.unsupported(layer, "kernel_size_nd for input rank", (ks, x.dim()))
    groups, k_out, c_in = int(layer.num_groups), int(layer.num_output_maps), int(x.shape[1])
    if c_in % groups or k_out % groups:
        raise ValueError(f"{layer.name!r}: channels {c_in}->{k_out} not divisible by num_groups {groups}")
    # Kernel layouts: KCRS for convolution, CKRS for deconvolution (C input channels, K output maps, per group).
    kshape = (c_in, k_out // groups) + ks if transpose else (k_out, c_in // groups) + ks
    slot = lambda i: inputs[i] if len(inputs) > i else None  # noqa: E731
    kernel = _weights(layer, ctx, "kernel", slot(1), kshape)
    if kernel is None:
        raise ValueError(f"{layer.name!r}: no kernel weights")
    bias = _weights(layer, ctx, "bias", slot(2), (k_out,))
    cdt = compute_dtype(x.dtype)
    return x.to(cdt), kernel.to(cdt), None if bias is None else bias.to(cdt), ks, groups


@handles("CONVOLUTION", "IConvolutionLayer")
def convolution(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Cross-correlation of NC(D)HW input with a KCRS kernel (per group), zero padded per padding_mode, plus bias.

    Kernel and bias come from the layer's weights or from input slots 1 and 2. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Convolution.html
    """
    x, kernel, bias, ks, groups = _common(layer, inputs, ctx, transpose=False)
    stride, dilation = nd(layer.stride_nd), nd(layer.dilation_nd)
    pads = [forward_padding(layer, ctx, int(x.shape[2 + i]), i, ks[i], stride[i], dilation[i]) for i in range(len(ks))]
    flat: list[int] = []
    for p in reversed(pads):
        flat += [p.pre, p.post + p.extra]
    padded = F.pad(x, flat)
    out = _conv_fn(len(ks), False)(padded, kernel, bias, stride=stride, dilation=dilation, groups=groups)
    return [out.to(cast(torch.Tensor, inputs[0]).dtype)]  # back from the compute dtype


@handles("DECONVOLUTION", "IDeconvolutionLayer")
def deconvolution(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Transposed convolution with a CKRS kernel (per group): the full output (I-1)*S + DK, cropped by the pre/post
    padding (explicit, or SAME_* with P = max(DK - S, 0)), plus bias. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Deconvolution.html
    """
    x, kernel, bias, ks, groups = _common(layer, inputs, ctx, transpose=True)
    stride, dilation = nd(layer.stride_nd), nd(layer.dilation_nd)
    full = _conv_fn(len(ks), True)(x, kernel, bias, stride=stride, dilation=dilation, groups=groups)
    mode = layer.padding_mode
    index: list[slice] = [slice(None), slice(None)]
    for i, k in enumerate(ks):
        if mode in (trt.PaddingMode.SAME_UPPER, trt.PaddingMode.SAME_LOWER):
            total = max(1 + dilation[i] * (k - 1) - stride[i], 0)
            small = total // 2
            pre, post = (small, total - small) if mode == trt.PaddingMode.SAME_UPPER else (total - small, small)
        elif mode in (trt.PaddingMode.EXPLICIT_ROUND_DOWN, trt.PaddingMode.EXPLICIT_ROUND_UP):
            pre, post = int(layer.pre_padding[i]), int(layer.post_padding[i])
            if pre < 0 or post < 0:
                raise ctx.unsupported(layer, "negative padding", (tuple(layer.pre_padding), tuple(layer.post_padding)))
        else:
            raise ctx.unsupported(layer, "padding_mode", mode)
        index.append(slice(pre, int(full.shape[2 + i]) - post))
    return [full[tuple(index)].to(cast(torch.Tensor, inputs[0]).dtype)]
