"""Self-tests of the spatial compute handlers of the reference evaluator: CONVOLUTION, DECONVOLUTION, POOLING,
PADDING, RESIZE.

Networks are built by hand, built with the real builder, evaluated, and compared with independent
formulations: shifted-slice sums for convolution, scatter-then-crop for deconvolution, explicit loops over
output positions for pooling, slice assignment for padding, dense per-element interpolation matrices for
resize (cross-checked against torch.nn.functional.interpolate where it has the same semantics).
"""

from __future__ import annotations

import itertools
import math
import pytest
import torch
import torch.nn.functional as F

from torch_tensorrt._trt import trt

from _compute import Net, close as _close, pads as _pads, rand as _rand, w_ as _w, zero_pad as _zero_pad


# ---------------------------------------------------------------- CONVOLUTION / DECONVOLUTION


def _ref_conv(x, w, b, stride, dilation, groups, mode, pre, post):
    """Sum over kernel offsets of strided input slices times the kernel tap (zero padding by slice assignment)."""
    r = w.dim() - 2
    spec = [_pads(mode, x.shape[2 + i], w.shape[2 + i], stride[i], dilation[i], pre[i], post[i]) for i in range(r)]
    outs = [o for _, _, o in spec]
    # Pad enough on the right for every window (ROUND_UP windows past M read zeros too).
    need = [(o - 1) * s + 1 + d * (k - 1) for o, s, d, k in zip(outs, stride, dilation, w.shape[2:])]
    pads = [(a, max(n - (x.shape[2 + i] + a), 0)) for i, ((a, _, _), n) in enumerate(zip(spec, need))]
    xp = _zero_pad(x.double(), pads)
    n, c = x.shape[:2]
    k_out, cg = w.shape[:2]
    kg = k_out // groups
    out = torch.zeros(n, k_out, *outs, dtype=torch.float64)
    for kk in itertools.product(*[range(k) for k in w.shape[2:]]):
        sl = tuple(
            slice(kk[i] * dilation[i], kk[i] * dilation[i] + stride[i] * (outs[i] - 1) + 1, stride[i]) for i in range(r)
        )
        xs = xp[(slice(None), slice(None)) + sl]
        for g in range(groups):
            tap = w[(slice(g * kg, (g + 1) * kg), slice(None)) + kk].double()
            out[:, g * kg : (g + 1) * kg] += torch.einsum("nc...,kc->nk...", xs[:, g * cg : (g + 1) * cg], tap)
    if b is not None:
        out += b.double().reshape(1, -1, *[1] * r)
    return out


CONV_CASES = [
    # (input shape, K, kernel, stride, dilation, groups, mode, pre, post, bias)
    ((1, 4, 7, 6), 3, (3, 3), (1, 1), (1, 1), 1, "EXPLICIT_ROUND_DOWN", (0, 0), (0, 0), True),
    ((2, 4, 7, 6), 3, (3, 2), (2, 1), (1, 1), 1, "EXPLICIT_ROUND_DOWN", (1, 0), (2, 1), True),
    ((1, 4, 9, 8), 2, (3, 3), (1, 2), (2, 1), 1, "EXPLICIT_ROUND_DOWN", (1, 1), (1, 1), False),
    ((1, 4, 6, 6), 6, (3, 3), (1, 1), (1, 1), 2, "EXPLICIT_ROUND_DOWN", (1, 1), (1, 1), True),
    ((1, 4, 6, 6), 4, (3, 3), (2, 2), (1, 1), 4, "EXPLICIT_ROUND_DOWN", (1, 1), (0, 0), True),
    ((1, 2, 8, 7), 3, (3, 3), (2, 2), (1, 1), 1, "EXPLICIT_ROUND_UP", (1, 0), (0, 1), True),
    ((1, 2, 8, 7), 3, (4, 3), (2, 3), (1, 1), 1, "SAME_UPPER", (0, 0), (0, 0), True),
    ((1, 2, 8, 7), 3, (4, 3), (2, 3), (1, 2), 1, "SAME_LOWER", (0, 0), (0, 0), True),
    ((1, 2, 5, 4, 6), 3, (2, 3, 3), (1, 2, 1), (1, 1, 2), 1, "EXPLICIT_ROUND_DOWN", (1, 0, 1), (0, 1, 1), True),
    ((1, 4, 5, 4, 4), 2, (3, 1, 2), (2, 1, 1), (1, 1, 1), 2, "SAME_UPPER", (0, 0, 0), (0, 0, 0), True),
]


def _set_geometry(layer, stride, dilation, groups, mode, pre, post) -> None:
    layer.stride_nd = stride
    layer.dilation_nd = dilation
    layer.num_groups = groups
    layer.padding_mode = getattr(trt.PaddingMode, mode)
    layer.pre_padding = pre
    layer.post_padding = post


@pytest.mark.parametrize("shape, k, ks, stride, dil, groups, mode, pre, post, has_bias", CONV_CASES)
def test_convolution(shape, k, ks, stride, dil, groups, mode, pre, post, has_bias) -> None:
    x = _rand(*shape, seed=11)
    w = _rand(k, shape[1] // groups, *ks, seed=12)
    b = _rand(k, seed=13) if has_bias else None
    net = Net()
    layer = net.network.add_convolution_nd(net.input("x", x), k, ks, _w(w), _w(b) if has_bias else trt.Weights())
    _set_geometry(layer, stride, dil, groups, mode, pre, post)
    (out,) = net.run(layer.get_output(0))
    _close(out, _ref_conv(x, w, b, stride, dil, groups, mode, pre, post))


def test_convolution_kernel_from_tensors_dynamic_half() -> None:
    x = _rand(2, 3, 6, 5, seed=14).half()
    w, b = _rand(4, 3, 3, 3, seed=15).half(), _rand(4, seed=16).half()
    net = Net()
    wt, bt = net.const(w), net.const(b)  # added first: the evaluator walks layers in insertion order
    layer = net.network.add_convolution_nd(net.input("x", x, dynamic=[0]), 4, (3, 3), trt.Weights(trt.float16))
    layer.set_input(1, wt)
    layer.set_input(2, bt)
    layer.padding_nd = (1, 1)
    (out,) = net.run(layer.get_output(0))
    assert out.dtype == torch.float16
    _close(out, _ref_conv(x, w, b, (1, 1), (1, 1), 1, "EXPLICIT_ROUND_DOWN", (1, 1), (1, 1)), tol=1e-2)


def _ref_deconv(x, w, b, stride, dilation, groups, mode, pre, post):
    """Scatter every input element times the kernel into the full output, then crop the padding."""
    r = w.dim() - 2
    n, c = x.shape[:2]
    kg = w.shape[1]
    cg = c // groups
    full = [(x.shape[2 + i] - 1) * stride[i] + 1 + dilation[i] * (w.shape[2 + i] - 1) for i in range(r)]
    out = torch.zeros(n, kg * groups, *full, dtype=torch.float64)
    for kk in itertools.product(*[range(k) for k in w.shape[2:]]):
        sl = tuple(
            slice(kk[i] * dilation[i], kk[i] * dilation[i] + stride[i] * (x.shape[2 + i] - 1) + 1, stride[i])
            for i in range(r)
        )
        for g in range(groups):
            tap = w[(slice(g * cg, (g + 1) * cg), slice(None)) + kk].double()
            out[(slice(None), slice(g * kg, (g + 1) * kg)) + sl] += torch.einsum(
                "nc...,ck->nk...", x[:, g * cg : (g + 1) * cg].double(), tap
            )
    if b is not None:
        out += b.double().reshape(1, -1, *[1] * r)
    crop = []
    for i in range(r):
        if mode.startswith("SAME"):
            total = max(1 + dilation[i] * (w.shape[2 + i] - 1) - stride[i], 0)
            small = total // 2
            a, z = (small, total - small) if mode == "SAME_UPPER" else (total - small, small)
        else:
            a, z = pre[i], post[i]
        crop.append(slice(a, full[i] - z))
    return out[(slice(None), slice(None)) + tuple(crop)]


DECONV_CASES = [
    ((1, 4, 4, 3), 3, (3, 3), (2, 2), (1, 1), 1, "EXPLICIT_ROUND_DOWN", (0, 0), (0, 0), True),
    ((2, 4, 4, 3), 2, (3, 2), (2, 3), (1, 1), 1, "EXPLICIT_ROUND_DOWN", (1, 0), (0, 1), True),
    (
        (1, 4, 3, 4),
        4,
        (3, 3),
        (1, 1),
        (2, 1),
        2,
        "EXPLICIT_ROUND_UP",
        (1, 1),
        (1, 1),
        False,
    ),  # no stride+dilation (builder)
    ((1, 2, 4, 3), 3, (4, 3), (2, 2), (1, 1), 1, "SAME_UPPER", (0, 0), (0, 0), True),
    ((1, 2, 4, 3), 3, (3, 5), (2, 2), (1, 1), 1, "SAME_LOWER", (0, 0), (0, 0), True),
    ((1, 2, 3, 2, 3), 2, (2, 3, 2), (2, 1, 2), (1, 1, 1), 1, "EXPLICIT_ROUND_DOWN", (0, 1, 0), (1, 0, 0), True),
]


@pytest.mark.parametrize("shape, k, ks, stride, dil, groups, mode, pre, post, has_bias", DECONV_CASES)
def test_deconvolution(shape, k, ks, stride, dil, groups, mode, pre, post, has_bias) -> None:
    x = _rand(*shape, seed=17)
    w = _rand(shape[1], k // groups, *ks, seed=18)  # CKRS
    b = _rand(k, seed=19) if has_bias else None
    net = Net()
    layer = net.network.add_deconvolution_nd(net.input("x", x), k, ks, _w(w), _w(b) if has_bias else trt.Weights())
    _set_geometry(layer, stride, dil, groups, mode, pre, post)
    (out,) = net.run(layer.get_output(0))
    _close(out, _ref_deconv(x, w, b, stride, dil, groups, mode, pre, post))


# ---------------------------------------------------------------- POOLING / PADDING


def _ref_pool(x, kind, window, stride, mode, pre, post, excl, blend):
    """Explicit loop over output positions: each window clipped to the input (MAX, SUM) and counted."""
    r = len(window)
    spec = [_pads(mode, x.shape[-r + i], window[i], stride[i], 1, pre[i], post[i]) for i in range(r)]
    outs = [o for _, _, o in spec]
    out = torch.zeros(*x.shape[:-r], *outs, dtype=torch.float64)
    xd = x.double()
    for pos in itertools.product(*[range(o) for o in outs]):
        lo = [pos[i] * stride[i] - spec[i][0] for i in range(r)]
        hi = [lo[i] + window[i] for i in range(r)]
        inside = tuple(slice(max(lo[i], 0), min(hi[i], x.shape[-r + i])) for i in range(r))
        vals = xd[(Ellipsis,) + inside].flatten(-r)
        if excl:
            count = vals.shape[-1]
        else:  # overlap with the padded input [-pre, size + post)
            count = math.prod(min(hi[i], x.shape[-r + i] + spec[i][1]) - max(lo[i], -spec[i][0]) for i in range(r))
        mx, avg = vals.amax(-1), vals.sum(-1) / count
        out[(Ellipsis,) + pos] = mx if kind == "MAX" else avg if kind == "AVERAGE" else (1 - blend) * mx + blend * avg
    return out


POOL_CASES = [
    # (input shape, window, stride, mode, pre, post)
    ((1, 2, 6, 7), (2, 2), (2, 2), "EXPLICIT_ROUND_DOWN", (0, 0), (0, 0)),
    ((2, 2, 6, 7), (3, 2), (1, 2), "EXPLICIT_ROUND_DOWN", (1, 0), (2, 1)),
    ((1, 2, 7, 6), (3, 3), (2, 2), "EXPLICIT_ROUND_UP", (1, 0), (0, 0)),
    ((1, 2, 7, 5), (2, 3), (2, 2), "EXPLICIT_ROUND_UP", (0, 1), (1, 1)),
    ((1, 2, 7, 6), (4, 3), (2, 3), "SAME_UPPER", (0, 0), (0, 0)),
    ((1, 2, 7, 6), (4, 3), (2, 3), "SAME_LOWER", (0, 0), (0, 0)),
    ((1, 2, 5, 4, 6), (2, 3, 2), (2, 1, 2), "EXPLICIT_ROUND_DOWN", (1, 1, 0), (0, 1, 1)),
]


@pytest.mark.parametrize(
    "kind, excl", [("MAX", True), ("AVERAGE", True), ("AVERAGE", False), ("MAX_AVERAGE_BLEND", False)]
)
@pytest.mark.parametrize("shape, window, stride, mode, pre, post", POOL_CASES)
def test_pooling(kind, excl, shape, window, stride, mode, pre, post) -> None:
    x = _rand(*shape, seed=20)
    net = Net()
    layer = net.network.add_pooling_nd(net.input("x", x), getattr(trt.PoolingType, kind), window)
    layer.stride_nd = stride
    layer.padding_mode = getattr(trt.PaddingMode, mode)
    layer.pre_padding = pre
    layer.post_padding = post
    layer.average_count_excludes_padding = excl
    layer.blend_factor = 0.3
    (out,) = net.run(layer.get_output(0))
    _close(out, _ref_pool(x, kind, window, stride, mode, pre, post, excl, 0.3))


def test_pooling_dynamic_half() -> None:
    x = _rand(3, 2, 6, 6, seed=21).half()
    net = Net()
    layer = net.network.add_pooling_nd(net.input("x", x, dynamic=[0]), trt.PoolingType.AVERAGE, (3, 3))
    layer.stride_nd = (2, 2)
    layer.padding_nd = (1, 1)
    (out,) = net.run(layer.get_output(0))
    assert out.dtype == torch.float16
    _close(
        out, _ref_pool(x.float(), "AVERAGE", (3, 3), (2, 2), "EXPLICIT_ROUND_DOWN", (1, 1), (1, 1), True, 0), tol=2e-3
    )


@pytest.mark.parametrize(
    "shape, pre, post, dtype",
    [
        ((1, 2, 3, 4), (1, 2), (0, 1), torch.float32),
        ((2, 1, 3, 4), (2, 0), (1, 3), torch.float16),  # 2-D padding of rank >= 4 float inputs only (builder)
        ((1, 2, 5, 6), (-1, 0), (1, -2), torch.float32),  # negative = crop
        ((1, 1, 4, 4, 3), (0, 1), (2, -1), torch.float32),
    ],
)
def test_padding(shape, pre, post, dtype) -> None:
    x = (torch.arange(math.prod(shape)) + 1).reshape(shape).to(dtype)
    net = Net()
    layer = net.network.add_padding_nd(net.input("x", x), pre, post)
    (out,) = net.run(layer.get_output(0))
    r = len(pre)
    # Pad by the positive amounts, then crop by the negative ones.
    grown = _zero_pad(x, [(max(a, 0), max(b, 0)) for a, b in zip(pre, post)])
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, a, b in zip(grown.shape[-r:], pre, post))
    expected = grown[(Ellipsis,) + crop]
    assert out.dtype == dtype and torch.equal(out, expected)


# ---------------------------------------------------------------- RESIZE


def _resize_matrix(
    n_in: int, n_out: int, mode: str, coord: str, rounding: str, a: float, exclude: bool
) -> torch.Tensor:
    """Dense [n_out, n_in] interpolation matrix built element by element from the documented formulas."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for j in range(n_out):
        if coord == "ALIGN_CORNERS":
            x = j * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        elif coord == "HALF_PIXEL":
            x = (j + 0.5) * n_in / n_out - 0.5
        else:
            x = j * n_in / n_out
        if mode == "NEAREST":
            i = {
                "FLOOR": math.floor(x),
                "CEIL": math.ceil(x),
                "HALF_UP": math.floor(x + 0.5),
                "HALF_DOWN": math.ceil(x - 0.5),
            }[rounding]
            m[j, min(max(i, 0), n_in - 1)] = 1.0
        elif mode == "LINEAR":
            x = min(max(x, 0.0), n_in - 1.0)
            i = math.floor(x)
            m[j, i] += 1 - (x - i)
            m[j, min(i + 1, n_in - 1)] += x - i
        else:
            taps = [math.floor(x) + o for o in (-1, 0, 1, 2)]
            ws = []
            for t in taps:
                d = abs(x - t)
                ws.append(
                    (a + 2) * d**3 - (a + 3) * d**2 + 1
                    if d <= 1
                    else a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
                    if d < 2
                    else 0.0
                )
            if exclude:
                ws = [w if 0 <= t < n_in else 0.0 for t, w in zip(taps, ws)]
                ws = [w / sum(ws) for w in ws]
            for t, w in zip(taps, ws):
                m[j, min(max(t, 0), n_in - 1)] += w
    return m


def _ref_resize(x: torch.Tensor, out_shape: tuple, **kw) -> torch.Tensor:
    y = x.double()
    for d, (n_in, n_out) in enumerate(zip(x.shape, out_shape)):
        if n_in != n_out:
            y = torch.movedim(torch.tensordot(_resize_matrix(n_in, n_out, **kw), torch.movedim(y, d, 0), dims=1), 0, d)
    return y


RESIZE_CASES = [
    # (input shape, output shape, mode, coordinate transformation, nearest rounding, torch.nn.functional equivalent)
    ((1, 2, 4, 5), (1, 2, 8, 7), "NEAREST", "ASYMMETRIC", "FLOOR", "nearest"),
    ((1, 2, 4, 5), (1, 2, 7, 3), "NEAREST", "HALF_PIXEL", "HALF_UP", "nearest-exact"),
    ((1, 2, 4, 5), (1, 2, 7, 9), "NEAREST", "ALIGN_CORNERS", "HALF_DOWN", None),
    ((1, 2, 4, 5), (1, 2, 7, 9), "NEAREST", "ASYMMETRIC", "CEIL", None),
    ((2, 4, 5), (3, 4, 2), "NEAREST", "HALF_PIXEL", "FLOOR", None),  # nearest on all dims incl. the outermost
    ((1, 2, 4, 5), (1, 2, 8, 7), "LINEAR", "ALIGN_CORNERS", "FLOOR", "bilinear:ac"),
    ((1, 2, 4, 5), (1, 2, 9, 3), "LINEAR", "HALF_PIXEL", "FLOOR", "bilinear"),
    ((1, 2, 4, 5), (1, 2, 6, 8), "LINEAR", "ASYMMETRIC", "FLOOR", None),
    ((1, 1, 3, 4, 5), (1, 1, 5, 4, 7), "LINEAR", "ALIGN_CORNERS", "FLOOR", "trilinear:ac"),
    ((1, 2, 4, 5), (1, 2, 8, 7), "CUBIC", "HALF_PIXEL", "FLOOR", "bicubic"),
    ((1, 2, 4, 5), (1, 2, 9, 3), "CUBIC", "ALIGN_CORNERS", "FLOOR", "bicubic:ac"),
    ((1, 2, 4, 5), (1, 2, 6, 9), "CUBIC", "ASYMMETRIC", "FLOOR", None),
]


@pytest.mark.parametrize("shape, out_shape, mode, coord, rounding, torch_mode", RESIZE_CASES)
def test_resize(shape, out_shape, mode, coord, rounding, torch_mode) -> None:
    x = _rand(*shape, seed=28)
    net = Net()
    layer = net.network.add_resize(net.input("x", x))
    layer.shape = out_shape
    layer.resize_mode = getattr(trt.InterpolationMode, mode)
    layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, coord)
    layer.nearest_rounding = getattr(trt.ResizeRoundMode, rounding)
    (out,) = net.run(layer.get_output(0))
    kw = dict(mode=mode, coord=coord, rounding=rounding, a=-0.75, exclude=False)
    _close(out, _ref_resize(x, out_shape, **kw))
    if torch_mode is not None:  # cross-check the formula-level reference against PyTorch
        name, _, ac = torch_mode.partition(":")
        extra = {"align_corners": bool(ac)} if name in ("bilinear", "trilinear", "bicubic") else {}
        _close(out, F.interpolate(x.double(), size=out_shape[2:], mode=name, **extra))


@pytest.mark.parametrize("exclude, coeff", [(True, -0.5), (False, -0.5), (True, -0.75)])
def test_resize_cubic_coeff_exclude_outside(exclude: bool, coeff: float) -> None:
    x = _rand(1, 1, 5, 4, seed=29)
    net = Net()
    layer = net.network.add_resize(net.input("x", x))
    layer.shape = (1, 1, 8, 3)
    layer.resize_mode = trt.InterpolationMode.CUBIC
    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    layer.cubic_coeff = coeff
    layer.exclude_outside = exclude
    (out,) = net.run(layer.get_output(0))
    _close(
        out, _ref_resize(x, (1, 1, 8, 3), mode="CUBIC", coord="HALF_PIXEL", rounding="FLOOR", a=coeff, exclude=exclude)
    )


def test_resize_scales_attribute() -> None:
    x = _rand(1, 2, 5, 4, seed=30)
    net = Net()
    layer = net.network.add_resize(net.input("x", x))
    layer.scales = [1.0, 1.0, 1.5, 0.5]
    layer.resize_mode = trt.InterpolationMode.LINEAR
    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    (out,) = net.run(layer.get_output(0))
    assert tuple(out.shape) == (1, 2, 7, 2)  # floor(len * scale)
    _close(
        out, _ref_resize(x, (1, 2, 7, 2), mode="LINEAR", coord="HALF_PIXEL", rounding="FLOOR", a=-0.75, exclude=False)
    )


@pytest.mark.parametrize("selector", ["FORMULA", "UPPER"])
def test_resize_single_pixel_selector(selector: str) -> None:
    x = _rand(1, 2, 4, 5, seed=31)
    net = Net()
    layer = net.network.add_resize(net.input("x", x))
    layer.shape = (1, 2, 1, 1)
    layer.resize_mode = trt.InterpolationMode.LINEAR
    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    layer.selector_for_single_pixel = getattr(trt.ResizeSelector, selector)
    (out,) = net.run(layer.get_output(0))
    if selector == "UPPER":
        expected = x[:, :, :1, :1].double()
    else:  # HALF_PIXEL centre: rows (0+0.5)*4-0.5 = 1.5, cols (0+0.5)*5-0.5 = 2
        expected = ((x[:, :, 1, 2] + x[:, :, 2, 2]) / 2).double().reshape(1, 2, 1, 1)
    _close(out, expected)


def test_resize_dynamic_shape_input() -> None:
    x = _rand(2, 3, 4, 4, seed=32)
    net = Net()
    xt = net.input("x", x, dynamic=[0])
    size = torch.tensor([2, 3, 6, 2], dtype=torch.int32)
    st = net.nb.input("size", (4,), torch.int32, values=((1, 3, 1, 1), (2, 3, 6, 2), (4, 3, 8, 8)))
    net.values["size"] = size
    layer = net.network.add_resize(xt)
    layer.set_input(1, st)
    layer.resize_mode = trt.InterpolationMode.NEAREST
    (out,) = net.run(layer.get_output(0))
    _close(out, F.interpolate(x.double(), size=(6, 2), mode="nearest"))
