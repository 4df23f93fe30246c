"""Index-driven layers: GATHER, SCATTER, ONE_HOT, NON_ZERO and REVERSE_SEQUENCE."""

from __future__ import annotations

import math
from typing import Any, Optional

import torch

from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import int_list, normalize_axis, out_dtype, require

_INDEX_TYPES = (torch.int32, torch.int64)


def _check_indices(
    layer: Any, ctx: EvalContext, idx: torch.Tensor, bound: int, what: str, negative: bool = False
) -> torch.Tensor:
    """``idx`` as int64, after checking the documented range ``0 <= i < bound`` (``-bound <= i < bound`` with
    ``negative``, a negative index counting from the end)."""
    if idx.dtype not in _INDEX_TYPES:
        raise ctx.unsupported(layer, "indices dtype", idx.dtype)
    low = -bound if negative else 0
    if idx.numel() and (int(idx.min()) < low or int(idx.max()) >= bound):
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: {what} indices must lie in [{low}, {bound}), "
            f"got values in [{int(idx.min())}, {int(idx.max())}]"
        )
    idx = idx.long()
    return torch.where(idx < 0, idx + bound, idx) if negative else idx


def _gather_default(layer: Any, ctx: EvalContext, data: torch.Tensor, idx: torch.Tensor, axis: int) -> torch.Tensor:
    idx = _check_indices(layer, ctx, idx, data.shape[axis], "gather", negative=True)
    picked = data.index_select(axis, idx.reshape(-1))
    return picked.reshape(data.shape[:axis] + idx.shape + data.shape[axis + 1 :])


def _gather_nd(layer: Any, ctx: EvalContext, data: torch.Tensor, idx: torch.Tensor, b: int) -> torch.Tensor:
    k = idx.shape[-1]
    if data.shape[:b] != idx.shape[:b] or b + k > data.dim():
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: GatherND of data {tuple(data.shape)} with indices "
            f"{tuple(idx.shape)} and {b} elementwise dims"
        )
    batch = math.prod(data.shape[:b])
    flat_data = data.reshape((batch,) + data.shape[b:])
    flat_idx = idx.reshape(batch, -1, k).long()
    coords = []
    for j in range(k):
        coords.append(_check_indices(layer, ctx, flat_idx[..., j], data.shape[b + j], "GatherND"))
    rows = torch.arange(batch).reshape(batch, 1).expand(flat_idx.shape[:2])
    picked = flat_data[(rows, *coords)]
    return picked.reshape(idx.shape[:-1] + data.shape[b + k :])


@handles("GATHER", "IGatherLayer")
def gather(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """DEFAULT (ONNX Gather), ELEMENT (ONNX GatherElements) or ND (ONNX GatherND, ``num_elementwise_dims``
    leading batch dimensions shared by data and indices).

    DEFAULT with ``num_elementwise_dims = 1`` gathers per leading index (the leading dims broadcast). The
    operators page asks for ``0 <= i < dim``; DEFAULT and ELEMENT also take ``-dim <= i < 0``, counting from the
    end, which NVIDIA's ONNX parser relies on since TensorRT 8.2 ("Gather and GatherElements implementations
    natively support negative indices", onnx-tensorrt docs/Changelog.md). Anything else is reported as an error.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Gather.html
    """
    data, idx = require(inputs, 0), require(inputs, 1)
    mode = layer.mode.name
    e = int(layer.num_elementwise_dims)
    if mode == "ND":
        return [_gather_nd(layer, ctx, data, idx, e)]
    axis = normalize_axis(layer, ctx, int(layer.axis), data.dim())
    if mode == "ELEMENT":
        if e != 0 or idx.dim() != data.dim():
            raise ctx.unsupported(layer, "num_elementwise_dims", e)
        idx = _check_indices(layer, ctx, idx, data.shape[axis], "gather", negative=True)
        return [torch.gather(data, axis, idx)]
    if mode != "DEFAULT":
        raise ctx.unsupported(layer, "mode", layer.mode)
    if e == 0:
        return [_gather_default(layer, ctx, data, idx, axis)]
    if e != 1 or axis == 0 or idx.dim() == 0:
        raise ctx.unsupported(layer, "num_elementwise_dims", e)
    n = max(data.shape[0], idx.shape[0])
    if {data.shape[0], idx.shape[0]} - {1, n}:
        raise ValueError(f"reference evaluator: layer {layer.name!r}: leading dims {data.shape[0]}, {idx.shape[0]}")
    parts = [
        _gather_default(layer, ctx, data[i if data.shape[0] > 1 else 0], idx[i if idx.shape[0] > 1 else 0], axis - 1)
        for i in range(n)
    ]
    return [
        torch.stack(parts)
        if parts
        else data.new_empty((0,) + data.shape[1:axis] + idx.shape[1:] + data.shape[axis + 1 :])
    ]


def _require_unique(layer: Any, flat_targets: torch.Tensor) -> None:
    if flat_targets.numel() != torch.unique(flat_targets).numel():
        raise ValueError(f"reference evaluator: layer {layer.name!r}: scatter writes one location twice (undefined)")


@handles("SCATTER", "IScatterLayer")
def scatter(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """A copy of data with updates written at indices: ELEMENT (ONNX ScatterElements along ``axis``) or ND
    (ONNX ScatterND). Two writes to one location are undefined and reported as an error.

    The page states no index range. ELEMENT takes ``-dim <= i < dim``, a negative index counting from the end,
    as for GATHER: NVIDIA's ONNX parser hands ONNX ScatterElements' negative indices to this layer unchanged
    (the ONNX oracle checks it); ND indices must lie in ``[0, dim)``.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Scatter.html
    """
    data, idx, updates = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    out = data.clone()
    mode = layer.mode.name
    if mode == "ELEMENT":
        axis = normalize_axis(layer, ctx, int(layer.axis), data.dim())
        idx = _check_indices(layer, ctx, idx, data.shape[axis], "scatter", negative=True)
        grids = torch.meshgrid([torch.arange(n) for n in idx.shape], indexing="ij")
        coords = [idx if d == axis else grids[d] for d in range(data.dim())]
        flat = torch.zeros_like(idx)
        for d, c in enumerate(coords):
            flat = flat * data.shape[d] + c
        _require_unique(layer, flat)
        return [out.scatter_(axis, idx, updates)]
    if mode != "ND":
        raise ctx.unsupported(layer, "mode", layer.mode)
    k = idx.shape[-1]
    rows = idx.reshape(-1, k)
    coords = [_check_indices(layer, ctx, rows[:, j], data.shape[j], "ScatterND") for j in range(k)]
    flat = torch.zeros(rows.shape[0], dtype=torch.int64)
    for j, c in enumerate(coords):
        flat = flat * data.shape[j] + c
    _require_unique(layer, flat)
    out[tuple(coords)] = updates.reshape((rows.shape[0],) + data.shape[k:])
    return [out]


@handles("ONE_HOT", "IOneHotLayer")
def one_hot(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """``values = [off, on]``; the output gets a new dimension of length ``depth`` at ``axis`` (negative axes
    count from the output's end) holding ``on`` at each index and ``off`` elsewhere.

    An index in ``[-depth, -1]`` counts from the end; an index outside ``[-depth, depth)`` yields all ``off``
    (the page's example feeds -1..-5 and 4 with depth 4; ONNX OneHot semantics).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/OneHot.html
    """
    idx, values, depth_t = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    (depth,) = int_list(depth_t)
    rank = idx.dim()
    axis = int(layer.axis)
    if not -rank - 1 <= axis <= rank:
        raise ctx.unsupported(layer, "axis", axis)
    axis = axis % (rank + 1)
    i = idx.long()
    i = torch.where(i < 0, i + depth, i)
    hot = i.unsqueeze(-1) == torch.arange(depth)  # out-of-range indices match nothing
    off, on = values.reshape(-1)[0], values.reshape(-1)[1]
    out = torch.where(hot, on, off).movedim(-1, axis)
    return [out.contiguous()]


@handles("NON_ZERO", "INonZeroLayer")
def non_zero(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Coordinates of the non-zero elements, shape ``[rank, count]``, in row-major order, as ``indices_type``.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/NonZero.html
    """
    x = require(inputs, 0)
    coords = torch.nonzero(x).T
    return [coords.to(out_dtype(layer)).contiguous()]


@handles("REVERSE_SEQUENCE", "IReverseSequenceLayer")
def reverse_sequence(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """For batch ``i`` (along ``batch_axis``) reverse the first ``sequence_lens[i]`` elements along
    ``sequence_axis``; the rest stay in place.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/ReverseSequence.html
    """
    x, lens_t = require(inputs, 0), require(inputs, 1)
    b_axis = normalize_axis(layer, ctx, int(layer.batch_axis), x.dim(), "batch_axis")
    s_axis = normalize_axis(layer, ctx, int(layer.sequence_axis), x.dim(), "sequence_axis")
    lens = int_list(lens_t)
    seq = x.shape[s_axis]
    if len(lens) != x.shape[b_axis] or any(not 0 <= n <= seq for n in lens):
        raise ValueError(f"reference evaluator: layer {layer.name!r}: sequence_lens {lens} for shape {tuple(x.shape)}")
    out = x.clone()
    for i, n in enumerate(lens):
        order = torch.cat([torch.arange(n - 1, -1, -1), torch.arange(n, seq)]).long()
        src = x.select(b_axis, i)
        out.select(b_axis, i).copy_(src.index_select(s_axis - (1 if s_axis > b_axis else 0), order))
    return [out]
