"""Layout layers: SHUFFLE, SQUEEZE, UNSQUEEZE, CONCATENATION, SHAPE and SLICE."""

from __future__ import annotations

import math
from typing import Any, Optional

import torch

from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import (
    dims,
    int_list,
    normalize_axis,
    optional,
    permutation,
    require,
)


def resolve_reshape(layer: Any, source: tuple[int, ...], spec: list[int], zero_is_placeholder: bool) -> list[int]:
    """Reshape dimensions with TensorRT's placeholders resolved against the ``source`` shape.

    0 copies the source dimension at the same position (when ``zero_is_placeholder``; otherwise it is a
    zero-length dimension); one -1 is inferred so that the volumes match.
    """
    out = []
    for i, d in enumerate(spec):
        if d == 0 and zero_is_placeholder:
            if i >= len(source):
                raise ValueError(f"reference evaluator: layer {layer.name!r}: placeholder 0 at {i} has no source dim")
            out.append(source[i])
        elif d < -1:
            raise ValueError(f"reference evaluator: layer {layer.name!r}: reshape dimension {d}")
        else:
            out.append(d)
    if out.count(-1) > 1:
        raise ValueError(f"reference evaluator: layer {layer.name!r}: more than one -1 in reshape {spec}")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        total = math.prod(source)
        if known == 0 or total % known:
            raise ValueError(f"reference evaluator: layer {layer.name!r}: cannot infer -1 in {spec} from {source}")
        out[out.index(-1)] = total // known
    if math.prod(out) != math.prod(source):
        raise ValueError(f"reference evaluator: layer {layer.name!r}: reshape {spec} of {source} changes the volume")
    return out


@handles("SHUFFLE", "IShuffleLayer")
def shuffle(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """first_transpose, then reshape (``reshape_dims`` or input 1), then second_transpose.

    The reshape's 0 placeholders copy dimensions of the first transpose's result (the tensor being reshaped).
    Without reshape dimensions (attribute unset and no input 1) there is no reshape.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Shuffle.html
    """
    x = require(inputs, 0)
    x = x.permute(permutation(layer.first_transpose, x.dim()))
    dynamic = optional(inputs, 1)
    spec = (
        int_list(dynamic)
        if dynamic is not None
        else (None if layer.reshape_dims is None else list(dims(layer.reshape_dims) or ()))
    )
    if spec is not None:
        x = x.reshape(resolve_reshape(layer, tuple(x.shape), spec, bool(layer.zero_is_placeholder)))
    return [x.permute(permutation(layer.second_transpose, x.dim())).contiguous()]


def _axes(layer: Any, ctx: EvalContext, inputs: list[Optional[torch.Tensor]], rank: int) -> list[int]:
    axes_t = require(inputs, 1)
    axes = [normalize_axis(layer, ctx, a, rank, "axes") for a in int_list(axes_t)]
    if len(set(axes)) != len(axes):
        raise ctx.unsupported(layer, "axes", int_list(axes_t))
    return sorted(axes)


@handles("SQUEEZE", "ISqueezeLayer")
def squeeze(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Remove the dimensions listed in input 1 (negative axes count from the end); each must have length 1.
    Without input 1, remove every dimension whose length is 1 in the network definition (dynamic ones stay).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Squeeze.html
    """
    x = require(inputs, 0)
    if optional(inputs, 1) is None:
        axes = [d for d, n in enumerate(layer.get_input(0).shape) if n == 1]
    else:
        axes = _axes(layer, ctx, inputs, x.dim())
    if any(x.shape[a] != 1 for a in axes):
        raise ValueError(f"reference evaluator: layer {layer.name!r}: squeezing axes {axes} of shape {tuple(x.shape)}")
    return [x.reshape([d for i, d in enumerate(x.shape) if i not in axes])]


@handles("UNSQUEEZE", "IUnsqueezeLayer")
def unsqueeze(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Insert length-1 dimensions at the output positions listed in input 1 (negative: from the output's end).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Unsqueeze.html
    """
    x = require(inputs, 0)
    n_new = require(inputs, 1).numel()
    axes = _axes(layer, ctx, inputs, x.dim() + n_new)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return [x.reshape(shape)]


@handles("CONCATENATION", "IConcatenationLayer")
def concatenation(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Join the inputs along ``axis``; the other dimensions must match.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Concatenation.html
    """
    values = [require(inputs, i) for i in range(len(inputs))]
    axis = int(layer.axis)
    if not 0 <= axis < values[0].dim():
        raise ctx.unsupported(layer, "axis", axis)
    return [torch.cat(values, dim=axis)]


@handles("SHAPE", "IShapeLayer")
def shape(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The input's dimensions as a 1-D int64 tensor.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Shape.html
    """
    x = require(inputs, 0)
    return [torch.tensor(list(x.shape), dtype=torch.int64)]


def _slice_params(
    layer: Any, ctx: EvalContext, inputs: list[Optional[torch.Tensor]], rank: int, full: tuple[int, ...]
) -> tuple[list[int], list[int], list[int]]:
    """Full-rank start/size/stride from the attributes or inputs 1..3, expanded over axes (attribute or input 5)."""

    def param(slot: int, attr: Any) -> Optional[list[int]]:
        t = optional(inputs, slot)
        return int_list(t) if t is not None else (None if attr is None else list(dims(attr) or ()))

    start, size, stride = param(1, layer.start), param(2, layer.shape), param(3, layer.stride)
    axes_spec = param(5, layer.axes)
    if start is None or size is None or stride is None:
        raise ctx.unsupported(layer, "start/shape/stride", (start, size, stride))
    if axes_spec is None:
        if not len(start) == len(size) == len(stride) == rank:
            raise ValueError(f"reference evaluator: layer {layer.name!r}: slice parameters of rank != {rank}")
        return start, size, stride
    if not len(start) == len(size) == len(stride) == len(axes_spec):
        raise ValueError(f"reference evaluator: layer {layer.name!r}: slice parameters do not match axes {axes_spec}")
    f_start, f_size, f_stride = [0] * rank, list(full), [1] * rank
    for k, a in enumerate(axes_spec):
        a = normalize_axis(layer, ctx, a, rank, "axes")
        f_start[a], f_size[a], f_stride[a] = start[k], size[k], stride[k]
    return f_start, f_size, f_stride


def _coords(
    layer: Any, ctx: EvalContext, mode: str, x: torch.Tensor, d: int, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Map raw coordinates ``x`` of a dimension of length ``length`` per ``mode``; also a validity mask."""
    valid = (x >= 0) & (x < length)
    if mode == "STRICT_BOUNDS":
        if not bool(valid.all()):
            raise ValueError(
                f"reference evaluator: layer {layer.name!r}: slice coordinates {x.tolist()} out of bounds "
                f"[0, {length}) in dimension {d} (STRICT_BOUNDS)"
            )
        return x, valid
    if length == 0:
        if x.numel():
            raise ValueError(f"reference evaluator: layer {layer.name!r}: slicing {x.numel()} items of an empty dim")
        return x, valid
    if mode == "WRAP":
        return torch.remainder(x, length), valid
    if mode == "CLAMP":
        return x.clamp(0, length - 1), valid
    if mode == "FILL":
        return x.clamp(0, length - 1), valid
    if mode == "REFLECT":
        if length == 1:
            return torch.zeros_like(x), valid
        period = 2 * length - 2
        c = torch.remainder(x.abs(), period)
        return torch.where(c >= length, period - c, c), valid
    raise ctx.unsupported(layer, "mode", mode)


@handles("SLICE", "ISliceLayer")
def slice_(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """``output[y] = input[f(y * stride + start)]`` per dimension, ``f`` given by the sample mode.

    start/shape/stride come from the attributes or from inputs 1..3; axes (attribute or input 5) restrict
    them to some dimensions, the others being taken whole. Modes: STRICT_BOUNDS (out of bounds is an
    error), WRAP (modulo), CLAMP, FILL (input 4's value where any coordinate is out of bounds; 0 without
    input 4, as NVIDIA's ONNX parser uses it for zero padding -- the ONNX oracle confirms it), REFLECT
    (``c = |x| mod (2d-2)``, ``2d-2-c`` when ``c >= d``).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Slice.html
    """
    data = require(inputs, 0)
    rank = data.dim()
    start, size, stride = _slice_params(layer, ctx, inputs, rank, tuple(data.shape))
    mode = layer.mode.name
    fill = optional(inputs, 4)
    out = data
    valid_all = torch.ones(size, dtype=torch.bool)
    for d in range(rank):
        raw = torch.arange(size[d], dtype=torch.int64) * stride[d] + start[d]
        idx, valid = _coords(layer, ctx, mode, raw, d, data.shape[d])
        out = out.index_select(d, idx) if data.shape[d] else out.narrow(d, 0, 0)
        view = [1] * rank
        view[d] = size[d]
        valid_all = valid_all & valid.reshape(view)
    if mode == "FILL":
        value = fill.reshape(()).to(data.dtype) if fill is not None else torch.zeros((), dtype=data.dtype)
        out = torch.where(valid_all, out, value)
    return [out.contiguous()]
