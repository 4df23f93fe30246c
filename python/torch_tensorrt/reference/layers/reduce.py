"""Reductions over an axes bitmask: REDUCE, TOPK and SOFTMAX.

Also holds the small helpers shared by the compute handlers (axes bitmask decoding, float compute precision).
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles

_FLOATS = (torch.float16, torch.bfloat16, torch.float32)


def axes_from_mask(mask: int, rank: int) -> list[int]:
    """The dimensions selected by a TensorRT axes bitmask (bit i selects dimension i), ascending."""
    if mask < 0 or mask >> rank:
        raise ValueError(f"axes bitmask {mask:#b} selects a dimension outside rank {rank}")
    return [d for d in range(rank) if mask >> d & 1]


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The precision a float layer is evaluated in: reduced-precision floats are computed in float32."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def require_float(layer: Any, ctx: EvalContext, x: torch.Tensor) -> None:
    """Raise the unsupported error for a non-float input of a float-only layer."""
    if x.dtype not in _FLOATS:
        raise ctx.unsupported(layer, "input dtype", x.dtype)


def _reduce_dims(x: torch.Tensor, op: Any, dims: list[int], keep: bool) -> torch.Tensor:
    if op == trt.ReduceOperation.SUM:
        return torch.sum(x, dim=dims, keepdim=keep)
    if op == trt.ReduceOperation.MAX:
        return torch.amax(x, dim=dims, keepdim=keep)
    if op == trt.ReduceOperation.MIN:
        return torch.amin(x, dim=dims, keepdim=keep)
    if op == trt.ReduceOperation.AVG:
        return torch.mean(x, dim=dims, keepdim=keep)
    # PROD: torch.prod takes one dimension at a time; reduce from the last so indices stay valid.
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, dim=d, keepdim=keep)
    return x


@handles("REDUCE", "IReduceLayer")
def reduce(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Reduce over the axes bitmask with SUM/PROD/MAX/MIN/AVG, keeping reduced dims as 1 when keep_dims.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Reduce.html
    """
    (x,) = inputs
    assert x is not None
    op = layer.op
    if op not in (
        trt.ReduceOperation.SUM,
        trt.ReduceOperation.PROD,
        trt.ReduceOperation.MAX,
        trt.ReduceOperation.MIN,
        trt.ReduceOperation.AVG,
    ):
        raise ctx.unsupported(layer, "op", op)
    dims = axes_from_mask(int(layer.axes), x.dim())
    keep = bool(layer.keep_dims)
    if not dims:
        return [x.clone()]
    if x.dtype == torch.bool:
        raise ctx.unsupported(layer, "input dtype", x.dtype)
    if op == trt.ReduceOperation.AVG and x.dtype not in _FLOATS:
        raise ctx.unsupported(layer, "AVG of input dtype", x.dtype)
    if x.dtype in _FLOATS:
        out = _reduce_dims(x.to(compute_dtype(x.dtype)), op, dims, keep)
    else:
        # Integer sums and products stay in the input's integer type (wrapping like the engine's arithmetic).
        out = _reduce_dims(x, op, dims, keep)
    return [out.to(x.dtype)]


@handles("TOPK", "ITopKLayer")
def topk(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The k largest (MAX) or smallest (MIN) values along the single axis of the bitmask, sorted, and their indices.

    k is the ``k`` attribute, or the 0-d shape tensor wired into input slot 1 when present. The indices output
    has the layer's ``indices_type`` (INT32 by default). The page documents no order among equal values; the
    evaluator keeps ``torch.topk``'s (the ONNX oracle compares its tie cases by property). Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/TopK.html
    """
    x = inputs[0]
    assert x is not None
    dims = axes_from_mask(int(layer.axes), x.dim())
    if len(dims) != 1:
        raise ctx.unsupported(layer, "axes", int(layer.axes))
    if layer.op not in (trt.TopKOperation.MAX, trt.TopKOperation.MIN):
        raise ctx.unsupported(layer, "op", layer.op)
    k_input = inputs[1] if len(inputs) > 1 else None
    k = int(k_input.reshape(()).item()) if k_input is not None else int(layer.k)
    largest = layer.op == trt.TopKOperation.MAX
    values, indices = torch.topk(x.to(compute_dtype(x.dtype)), k, dim=dims[0], largest=largest, sorted=True)
    index_dtype = torch.int64 if layer.indices_type == trt.DataType.INT64 else torch.int32
    return [values.to(x.dtype), indices.to(index_dtype)]


@handles("SOFTMAX", "ISoftMaxLayer")
def softmax(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """exp(x) / sum(exp(x)) along the single axis selected by the ``axes`` bitmask.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/SoftMax.html
    """
    (x,) = inputs
    assert x is not None
    require_float(layer, ctx, x)
    dims = axes_from_mask(int(layer.axes), x.dim())
    if len(dims) != 1:
        raise ctx.unsupported(layer, "axes", int(layer.axes))
    return [torch.softmax(x.to(compute_dtype(x.dtype)), dim=dims[0]).to(x.dtype)]
