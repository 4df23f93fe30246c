"""Casts (``_to_copy``, ``to``, ``type_as``, functional ``copy``) and ops that return their input unchanged in an engine (clone,
contiguous, eval-mode dropout, device moves, tensor-metadata assertions).

Casts follow the precision policy: a float32/float64 target dtype means the compute dtype
(:meth:`ConversionContext.value_dtype`); integer and bool targets are exact (int64 is native in TensorRT 10+).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, node_arg
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


def cast_to(ctx: ConversionContext, value: Any, dtype: Optional[torch.dtype]) -> Any:
    """``value`` as an ITensor of the graph dtype ``dtype`` under the precision policy (None keeps it)."""
    x = T.to_trt(ctx, value)
    if dtype is None:
        return x
    return T.cast(ctx, x, ctx.value_dtype(dtype))


def _dtype_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dtype = node.kwargs.get("dtype")
    if dtype is None and node.target in (aten.to.dtype, aten.to.other) and len(node.args) > 1:
        dtype = node.args[1] if node.target == aten.to.dtype else None
    if dtype is not None and dtype in (torch.complex64, torch.complex128, torch.complex32):
        return f"TensorRT has no {dtype}"
    return None


@converter(aten._to_copy.default, validator=_dtype_ok)
def to_copy(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``_to_copy(x, dtype=..., device=..., ...)``: a cast, or the identity for a pure device/layout move."""
    return cast_to(ctx, args[0], kwargs.get("dtype"))


@converter(aten.to.dtype, validator=_dtype_ok)
def to_dtype(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return cast_to(ctx, args[0], arg(args, kwargs, 1, "dtype"))


@converter(aten.to.device, aten.to.dtype_layout, validator=_dtype_ok)
def to_device(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dtype = kwargs.get("dtype")
    if node.target == aten.to.device and len(args) > 2:
        dtype = args[2]
    return cast_to(ctx, args[0], dtype)


@converter(aten.type_as.default)
def type_as(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    other = node.args[1].meta["val"].dtype if isinstance(node.args[1], torch.fx.Node) else T.dtype_of(args[1])
    return cast_to(ctx, args[0], other)


@converter(aten.clone.default, aten.contiguous.default, aten.alias.default, aten.detach.default)
def identity(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Memory-format and aliasing ops: an engine's tensors have no strides, so the value passes through."""
    return T.to_trt(ctx, args[0])


@converter(aten.copy.default)
def copy(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Functional ``copy(self, src)``: ``src`` cast to ``self``'s dtype and broadcast to ``self``'s shape (what
    functionalization leaves of an in-place ``self.copy_(src)`` / ``self[...] = src``)."""
    self_val = node.args[0].meta["val"] if isinstance(node.args[0], torch.fx.Node) else args[0]
    target = T.sizes(ctx, T.to_trt(ctx, args[0])) if T.is_trt(args[0]) else list(args[0].shape)
    src = cast_to(ctx, args[1], self_val.dtype)
    return T.expand(ctx, src, target)


def _eval_dropout(node: torch.fx.Node, settings: Any) -> Optional[str]:
    train, p = node_arg(node, 2, "train", False), node_arg(node, 1, "p", 0.5)
    return "training-mode dropout is random" if train and p > 0 else None


@converter(aten.dropout.default, aten.native_dropout.default, validator=_eval_dropout)
def dropout(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0])
    if node.target == aten.native_dropout.default:
        # (output, mask): the mask of an eval-mode dropout keeps everything
        ones = T.expand(ctx, ctx.constant(torch.ones((1,) * len(x.shape), dtype=torch.bool)), T.sizes(ctx, x))
        return (x, ones)
    return x


@converter(aten._assert_tensor_metadata.default)
def assert_tensor_metadata(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Export's check of a tensor's dtype/device before a ``.to``: already guaranteed in the engine."""
    return None
