"""Padding: ``pad`` (constant / reflect / replicate / circular), ``constant_pad_nd``, ``reflection_pad{1,2,3}d``,
``replication_pad{1,2,3}d`` and ``_pad_circular``.

Every mode is one ``ISliceLayer`` that starts ``pre`` elements before each padded dimension and reads
``pre + L + post`` elements, with the slice mode handling the out-of-bounds coordinates: FILL (constant), REFLECT
(reflection about the edge element, torch's ``reflect``), CLAMP (``replicate``) and WRAP (``circular``). Negative
amounts crop. Works with dynamic shapes (the output size is computed from the input's shape).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val, node_arg
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten

MODES = {
    "constant": trt.SampleMode.FILL,
    "reflect": trt.SampleMode.REFLECT,
    "replicate": trt.SampleMode.CLAMP,
    "circular": trt.SampleMode.WRAP,
}
REFLECT = (aten.reflection_pad1d.default, aten.reflection_pad2d.default, aten.reflection_pad3d.default)
REPLICATE = (aten.replication_pad1d.default, aten.replication_pad2d.default, aten.replication_pad3d.default)


def pad_tensor(ctx: ConversionContext, x: Any, pad: Sequence[int], mode: str = "constant", value: Any = 0) -> Any:
    """torch's ``F.pad(x, pad, mode, value)``: ``pad`` holds (before, after) pairs from the last dimension backwards."""
    x = T.to_trt(ctx, x)
    rank = len(x.shape)
    if len(pad) % 2 or len(pad) // 2 > rank:
        raise ValueError(f"padding {list(pad)} does not fit a rank-{rank} tensor")
    start: list[int] = [0] * rank
    size: list[Any] = T.sizes(ctx, x)
    for j in range(len(pad) // 2):
        d = rank - 1 - j
        pre, post = int(pad[2 * j]), int(pad[2 * j + 1])
        start[d] = -pre
        if pre + post:
            size[d] = T.scalar_arith(ctx, size[d], pre + post, "+")
    fill = T.to_trt(ctx, 0 if value is None else value, T.dtype_of(x)) if mode == "constant" else None
    return T.slice_tensor(ctx, x, start, size, [1] * rank, MODES[mode], fill)


def _pad_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    mode = node_arg(node, 2, "mode", "constant")
    if mode not in MODES:
        return f"padding mode {mode!r} is not supported"
    x = input_val(node)
    if mode != "constant" and x is not None and x.numel() == 0:
        return f"{mode} padding of an empty tensor"
    return None


@converter(aten.pad.default, validator=_pad_ok)
def pad(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    mode, value = arg(args, kwargs, 2, "mode", "constant"), arg(args, kwargs, 3, "value")
    return pad_tensor(ctx, args[0], args[1], mode, value)


@converter(aten.constant_pad_nd.default)
def constant_pad_nd(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    value = arg(args, kwargs, 2, "value", 0)
    return pad_tensor(ctx, args[0], args[1], "constant", value)


@converter(*REFLECT)
def reflection_pad(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return pad_tensor(ctx, args[0], args[1], "reflect")


@converter(*REPLICATE)
def replication_pad(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return pad_tensor(ctx, args[0], args[1], "replicate")


@converter(aten._pad_circular.default)
def pad_circular(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return pad_tensor(ctx, args[0], args[1], "circular")
