"""Resampling: upsample nearest / nearest-exact / (bi,tri)linear / bicubic (``.vec`` and ``.default``),
grid_sampler (2-D and 3-D), pixel_shuffle and pixel_unshuffle.

One ``IResizeLayer`` per upsample. Coordinate mapping (torch -> TensorRT):

* nearest: src = floor(dst * scale) -> ASYMMETRIC + FLOOR;
* nearest-exact: src = floor((dst + 0.5) * scale) -> HALF_PIXEL + HALF_UP;
* linear / cubic: ALIGN_CORNERS when ``align_corners`` else HALF_PIXEL; cubic with coefficient -0.75 and
  border-clamped taps, as torch.

TensorRT maps coordinates with the ratio input/output size; torch uses 1/scale_factor when a scale factor is
given. The two agree when input * scale is an integer, which the validator requires (for dynamic dimensions:
an integer scale factor), except with ``align_corners`` where scales do not enter the mapping.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten

NEAREST, NEAREST_EXACT, LINEAR, CUBIC = "nearest", "nearest-exact", "linear", "cubic"

#: op -> (kind, number of resized trailing dims)
UPSAMPLE_VEC = {
    aten.upsample_nearest1d.vec: (NEAREST, 1),
    aten.upsample_nearest2d.vec: (NEAREST, 2),
    aten.upsample_nearest3d.vec: (NEAREST, 3),
    aten._upsample_nearest_exact1d.vec: (NEAREST_EXACT, 1),
    aten._upsample_nearest_exact2d.vec: (NEAREST_EXACT, 2),
    aten._upsample_nearest_exact3d.vec: (NEAREST_EXACT, 3),
    aten.upsample_linear1d.vec: (LINEAR, 1),
    aten.upsample_bilinear2d.vec: (LINEAR, 2),
    aten.upsample_trilinear3d.vec: (LINEAR, 3),
    aten.upsample_bicubic2d.vec: (CUBIC, 2),
}
#: the same ops with explicit output sizes (``.default``)
UPSAMPLE_DEFAULT = {op.overloadpacket.default: spec for op, spec in UPSAMPLE_VEC.items()}


def _parse(node_or_args: Any, target: Any, kwargs: dict) -> tuple[str, int, Any, bool, Any]:
    """(kind, spatial dims, output_size, align_corners, per-dim scales or None) of an upsample call."""
    args = node_or_args.args if isinstance(node_or_args, torch.fx.Node) else node_or_args
    if target in UPSAMPLE_VEC:
        kind, n = UPSAMPLE_VEC[target]
        takes_align = kind in (LINEAR, CUBIC)
        # (input, output_size, [align_corners,] scale_factors)
        align = bool(arg(args, kwargs, 2, "align_corners")) if takes_align else False
        factors = arg(args, kwargs, 3 if takes_align else 2, "scale_factors")
        scales = None if factors is None else [float(f) for f in (factors if len(factors) == n else list(factors) * n)]
        return kind, n, arg(args, kwargs, 1, "output_size"), align, scales
    kind, n = UPSAMPLE_DEFAULT[target]
    takes_align = kind in (LINEAR, CUBIC)
    first_scale = 3 if takes_align else 2
    align = bool(arg(args, kwargs, 2, "align_corners", False)) if takes_align else False
    scale_names = {1: ["scales"], 2: ["scales_h", "scales_w"], 3: ["scales_d", "scales_h", "scales_w"]}[n]
    scales = [arg(args, kwargs, first_scale + i, name) for i, name in enumerate(scale_names)]
    return kind, n, args[1], align, scales if any(s is not None for s in scales) else None


def _upsample_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    kind, n, output_size, align, scales = _parse(node, node.target, dict(node.kwargs))
    x = input_val(node)
    if x is None:
        return "input is not a tensor"
    if kind != NEAREST and kind != NEAREST_EXACT and not x.dtype.is_floating_point:
        return f"{kind} interpolation of {x.dtype} is not supported"
    if x.dim() < n + 1:
        return "input rank too small"
    if scales is None or align:
        return None
    out = node.meta["val"].shape
    for i, s in enumerate(scales):
        if s is None:
            continue
        size, o = x.shape[x.dim() - n + i], out[x.dim() - n + i]
        if isinstance(size, int) and isinstance(o, int):
            if abs(size * s - o) > 1e-9 * max(1.0, abs(o)):
                return f"scale factor {s} does not map size {size} to an integer size (torch and TensorRT coordinates differ)"
        elif s != int(s):
            return f"non-integer scale factor {s} on a dynamic dimension"
    return None


def resize(
    ctx: ConversionContext,
    x: Any,
    kind: str,
    out_spatial: Optional[Sequence[Any]],
    scales: Optional[Sequence[float]],
    align: bool,
) -> Any:
    """Resize the trailing spatial dims of ``x`` to ``out_spatial`` (ints/ITensors) or by ``scales``."""
    x = T.to_trt(ctx, x)
    n = len(out_spatial) if out_spatial is not None else len(scales or [])
    lead = len(x.shape) - n
    layer = ctx.network.add_resize(x)
    if out_spatial is not None:
        dims = T.sizes(ctx, x)[:lead] + list(out_spatial)
        if all(isinstance(d, int) for d in dims):
            layer.shape = tuple(dims)
        else:
            layer.set_input(1, T.shape_tensor_from(ctx, dims))
    else:
        assert scales is not None
        layer.scales = [1.0] * lead + [float(s) for s in scales]
    layer.selector_for_single_pixel = trt.ResizeSelector.FORMULA
    if kind == NEAREST:
        layer.resize_mode = trt.InterpolationMode.NEAREST
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.ASYMMETRIC
        layer.nearest_rounding = trt.ResizeRoundMode.FLOOR
    elif kind == NEAREST_EXACT:
        layer.resize_mode = trt.InterpolationMode.NEAREST
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
        layer.nearest_rounding = trt.ResizeRoundMode.HALF_UP
    else:
        layer.resize_mode = trt.InterpolationMode.LINEAR if kind == LINEAR else trt.InterpolationMode.CUBIC
        layer.coordinate_transformation = (
            trt.ResizeCoordinateTransformation.ALIGN_CORNERS if align else trt.ResizeCoordinateTransformation.HALF_PIXEL
        )
        if kind == CUBIC:
            layer.cubic_coeff = -0.75
            layer.exclude_outside = False
    return layer.get_output(0)


@converter(*UPSAMPLE_VEC, *UPSAMPLE_DEFAULT, validator=_upsample_ok)
def upsample(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    kind, n, output_size, align, scales = _parse(args, node.target, kwargs)
    if output_size is not None:
        return resize(ctx, args[0], kind, list(output_size), None, align)
    # scales: TensorRT's output size is floor(size * scale), as torch's
    return resize(ctx, args[0], kind, None, scales, align)


# -- pixel shuffle ------------------------------------------------------------------------------------------------


@converter(aten.pixel_shuffle.default)
def pixel_shuffle(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """(*, C*r*r, H, W) -> (*, C, r, r, H, W) -> (*, C, H, r, W, r) -> (*, C, H*r, W*r)."""
    x, r = T.to_trt(ctx, args[0]), int(args[1])
    sizes = T.sizes(ctx, x)
    lead, (c, h, w) = sizes[:-3], sizes[-3:]
    k = len(lead)
    channels = T.scalar_arith(ctx, c, r * r, "//")
    y = T.reshape(ctx, x, lead + [channels, r, r, h, w])
    y = T.permute(ctx, y, list(range(k)) + [k + i for i in (0, 3, 1, 4, 2)])
    return T.reshape(ctx, y, lead + [channels, T.scalar_arith(ctx, h, r, "*"), T.scalar_arith(ctx, w, r, "*")])


@converter(aten.pixel_unshuffle.default)
def pixel_unshuffle(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """(*, C, H*r, W*r) -> (*, C, H, r, W, r) -> (*, C, r, r, H, W) -> (*, C*r*r, H, W)."""
    x, r = T.to_trt(ctx, args[0]), int(args[1])
    sizes = T.sizes(ctx, x)
    lead, (c, h, w) = sizes[:-3], sizes[-3:]
    k = len(lead)
    height, width = T.scalar_arith(ctx, h, r, "//"), T.scalar_arith(ctx, w, r, "//")
    y = T.reshape(ctx, x, lead + [c, height, r, width, r])
    y = T.permute(ctx, y, list(range(k)) + [k + i for i in (0, 2, 4, 1, 3)])
    return T.reshape(ctx, y, lead + [T.scalar_arith(ctx, c, r * r, "*"), height, width])


# -- grid sample --------------------------------------------------------------------------------------------------

#: torch's interpolation_mode / padding_mode codes (``torch.nn.functional.grid_sample``) -> TensorRT's
GRID_INTERPOLATION = {0: "LINEAR", 1: "NEAREST", 2: "CUBIC"}
GRID_PADDING = {0: "FILL", 1: "CLAMP", 2: "REFLECT"}
GRID_SAMPLERS: dict[Any, Optional[int]] = {
    aten.grid_sampler.default: None,
    aten.grid_sampler_2d.default: 2,
    aten.grid_sampler_3d.default: 3,
}


def _grid_sample_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    from torch_tensorrt import _trt

    x, grid = input_val(node, 0), input_val(node, 1)
    if x is None or grid is None:
        return "input and grid must be tensors"
    n = GRID_SAMPLERS[node.target] or x.dim() - 2
    if x.dim() != n + 2 or grid.dim() != n + 2 or n not in (2, 3):
        return f"input rank {x.dim()} / grid rank {grid.dim()}: a {n}-D grid sample needs both of rank {n + 2}"
    if not x.dtype.is_floating_point:
        return f"grid sample of {x.dtype}"
    interpolation, padding = int(cast(int, node.args[2])), int(cast(int, node.args[3]))
    if interpolation not in GRID_INTERPOLATION or padding not in GRID_PADDING:
        return f"interpolation_mode {interpolation} / padding_mode {padding}"
    if n == 3:
        if interpolation == 2:
            return "bicubic interpolation of a volume"
        if not _trt.info().is_rtx:
            return "3-D grid sample: TensorRT's grid-sample layer takes rank-4 tensors (TensorRT-RTX also rank 5)"
    return None


@converter(*GRID_SAMPLERS, validator=_grid_sample_ok, fp32=True)
def grid_sample(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """One ``IGridSampleLayer``. torch's modes map one to one: bilinear/nearest/bicubic -> LINEAR/NEAREST/CUBIC,
    zeros/border/reflection -> FILL/CLAMP/REFLECT, ``align_corners`` as is. Computed in float32 under reduced
    precision: the grid holds sampling *coordinates*, and a float16 coordinate is off by up to 1/2048 of the
    image side -- a visible shift on large images.

    3-D (rank-5 input, grid [N, D, H, W, 3]) on TensorRT-RTX only: the operator documentation lists rank-4
    shapes, while RTX 1.7's builder and NVIDIA's own ONNX parser accept volumes; full TensorRT keeps 3-D grid
    sampling in PyTorch.
    """
    x = T.to_trt(ctx, args[0])
    grid = T.to_trt(ctx, args[1])
    if T.dtype_of(grid) != T.dtype_of(x):
        grid = T.cast(ctx, grid, T.dtype_of(x))
    layer = ctx.network.add_grid_sample(x, grid)
    layer.interpolation_mode = getattr(trt.InterpolationMode, GRID_INTERPOLATION[int(args[2])])
    layer.sample_mode = getattr(trt.SampleMode, GRID_PADDING[int(args[3])])
    layer.align_corners = bool(args[4])
    return layer.get_output(0)
