"""Data-dependent sampling and selection: GRID_SAMPLE and NMS."""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F

from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import FLOATS, compute_in, optional, out_dtype, require

_INTERPOLATION = {"NEAREST": "nearest", "LINEAR": "bilinear", "CUBIC": "bicubic"}
_PADDING = {"FILL": "zeros", "CLAMP": "border", "REFLECT": "reflection"}


@handles("GRID_SAMPLE", "IGridSampleLayer")
def grid_sample(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Sample input [N, C, H, W] (or [N, C, D, H, W]) at the grid's normalized coordinates [N, H_out, W_out, 2]
    (x then y, in [-1, 1]; the last dimension 3 for volumes).

    ``align_corners``: -1 and 1 are the centers of the corner pixels (else their outer edges).
    ``interpolation_mode`` NEAREST / LINEAR / CUBIC; ``sample_mode`` for locations outside the input: FILL
    (0), CLAMP (the nearest border value), REFLECT (reflected by the borders until inside). Computed in
    float32 for reduced-precision inputs.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/GridSample.html
    """
    x, grid = require(inputs, 0), require(inputs, 1)
    if x.dtype not in FLOATS or grid.dtype != x.dtype:
        raise ctx.unsupported(layer, "input/grid dtypes", (x.dtype, grid.dtype))
    mode = _INTERPOLATION.get(layer.interpolation_mode.name)
    padding = _PADDING.get(layer.sample_mode.name)
    if mode is None:
        raise ctx.unsupported(layer, "interpolation_mode", layer.interpolation_mode)
    if padding is None:
        raise ctx.unsupported(layer, "sample_mode", layer.sample_mode)
    if x.dim() not in (4, 5) or grid.dim() != x.dim() or grid.shape[-1] != x.dim() - 2:
        raise ctx.unsupported(layer, "input/grid shapes", (tuple(x.shape), tuple(grid.shape)))
    if x.dim() == 5 and mode == "bicubic":
        raise ctx.unsupported(layer, "CUBIC interpolation of a volume", tuple(x.shape))
    out = F.grid_sample(
        compute_in(x), compute_in(grid), mode=mode, padding_mode=padding, align_corners=bool(layer.align_corners)
    )
    return [out.to(x.dtype)]


def _corners(boxes: torch.Tensor, center: bool) -> torch.Tensor:
    """Boxes [..., 4] as (y_min, x_min, y_max, x_max)-free corner pairs: (lo0, lo1, hi0, hi1)."""
    if center:
        c0, c1, s0, s1 = boxes.unbind(-1)
        return torch.stack([c0 - s0 / 2, c1 - s1 / 2, c0 + s0 / 2, c1 + s1 / 2], dim=-1)
    a0, a1, b0, b1 = boxes.unbind(-1)
    return torch.stack([torch.minimum(a0, b0), torch.minimum(a1, b1), torch.maximum(a0, b0), torch.maximum(a1, b1)], -1)


def _iou(box: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    lo = torch.maximum(box[:2], others[:, :2])
    hi = torch.minimum(box[2:], others[:, 2:])
    inter = (hi - lo).clamp(min=0).prod(dim=-1)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    union = area(box) + area(others) - inter
    return torch.where(union > 0, inter / union, torch.zeros_like(inter))


@handles("NMS", "INMSLayer")
def nms(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Non-maximum suppression per batch item and class.

    Boxes [B, N, 4] (shared by the classes) or [B, N, C, 4], scores [B, N, C], in CORNER_PAIRS (any two
    diagonal corners) or CENTER_SIZES format. Per batch item the (box, class) candidates whose score is above
    the score threshold (input 4, default 0) are sorted by decreasing score, without regard to class, and at
    most ``topk_box_limit`` are considered; a candidate is selected when its class has fewer than
    ``max_output_boxes_per_class`` (input 2) selections and its IoU with every selected box of its class is at
    most the IoU threshold (input 3, default 0). Outputs: the selected (batch, class, box) triples in selection
    order, and their count. Equal scores keep their box order here; the documentation leaves that order
    unspecified.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/NMS.html
    """
    boxes, scores, limit_t = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    iou_t, score_t = optional(inputs, 3), optional(inputs, 4)
    if scores.dim() != 3 or boxes.dim() not in (3, 4) or boxes.shape[-1] != 4:
        raise ctx.unsupported(layer, "boxes/scores shapes", (tuple(boxes.shape), tuple(scores.shape)))
    per_class = int(limit_t.reshape(()).item())
    iou_threshold = float(iou_t.reshape(()).item()) if iou_t is not None else 0.0
    score_threshold = float(score_t.reshape(()).item()) if score_t is not None else 0.0
    center = layer.bounding_box_format == trt.BoundingBoxFormat.CENTER_SIZES
    corners = _corners(boxes.double(), center)
    top = int(layer.topk_box_limit)
    rows: list[tuple[int, int, int]] = []
    batch, n_boxes, n_classes = scores.shape
    for b in range(batch):
        flat = scores[b].double().reshape(-1)  # index = box * C + class
        order = sorted(range(flat.numel()), key=lambda i: -float(flat[i]))
        order = [i for i in order if float(flat[i]) > score_threshold][:top]
        chosen: dict[int, list[int]] = {}
        for i in order:
            box, cls = divmod(i, n_classes)
            picked = chosen.setdefault(cls, [])
            if len(picked) >= per_class:
                continue
            coords = corners[b, box] if boxes.dim() == 3 else corners[b, box, cls]
            if picked:
                others = corners[b, picked] if boxes.dim() == 3 else corners[b, picked, cls]
                if bool((_iou(coords, others) > iou_threshold).any()):
                    continue
            picked.append(box)
            rows.append((b, cls, box))
    selected = torch.tensor(rows, dtype=torch.int64).reshape(len(rows), 3)
    return [selected.to(out_dtype(layer, 0)), torch.tensor(len(rows), dtype=out_dtype(layer, 1))]
