"""Converters of upsampling (nearest / nearest-exact / linear / bicubic), pixel (un)shuffle and padding."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten

VEC_OPS = {
    ("nearest", 1): aten.upsample_nearest1d.vec,
    ("nearest", 2): aten.upsample_nearest2d.vec,
    ("nearest", 3): aten.upsample_nearest3d.vec,
    ("nearest-exact", 1): aten._upsample_nearest_exact1d.vec,
    ("nearest-exact", 2): aten._upsample_nearest_exact2d.vec,
    ("nearest-exact", 3): aten._upsample_nearest_exact3d.vec,
    ("linear", 1): aten.upsample_linear1d.vec,
    ("bilinear", 2): aten.upsample_bilinear2d.vec,
    ("trilinear", 3): aten.upsample_trilinear3d.vec,
    ("bicubic", 2): aten.upsample_bicubic2d.vec,
}
ALIGNABLE = {"linear", "bilinear", "trilinear", "bicubic"}


def _x(dims: int, size: int = 5, batch: int = 2, channels: int = 3) -> torch.Tensor:
    return torch.randn(batch, channels, *([size] * dims))


def _interp(mode: str, dims: int, align, **kw):
    extra = {"align_corners": align} if mode in ALIGNABLE else {}
    return lambda x: F.interpolate(x, mode=mode, **extra, **kw)


SCALE_CASES = [(mode, dims, False if mode in ALIGNABLE else None) for (mode, dims) in VEC_OPS] + [("bilinear", 2, True)]
SIZE_CASES = [
    ("nearest", 1, None),
    ("nearest", 2, None),
    ("nearest", 3, None),
    ("nearest-exact", 2, None),
    ("linear", 1, False),
    ("bilinear", 2, False),
    ("bilinear", 2, True),
    ("trilinear", 3, True),
    ("bicubic", 2, False),
    ("bicubic", 2, True),
]


@pytest.mark.parametrize("mode,dims,align", SCALE_CASES)
def test_upsample_scale(mode, dims, align):
    assert_converts(_interp(mode, dims, align, scale_factor=2), [_x(dims, 4)], expected_ops={VEC_OPS[mode, dims]})


@pytest.mark.parametrize("mode,dims,align", SIZE_CASES)
def test_upsample_size(mode, dims, align):
    """Non-integer ratios (up and down) by output size."""
    size = {1: (7,), 2: (7, 3), 3: (7, 3, 6)}[dims]
    assert_converts(_interp(mode, dims, align, size=size), [_x(dims, 5)], expected_ops={VEC_OPS[mode, dims]})


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "nearest-exact"])
def test_upsample_dynamic(mode):
    x = _x(2, 6)
    rng = [((1, 3, 2, 3), tuple(x.shape), (4, 3, 9, 8))]
    align = False if mode in ALIGNABLE else None
    assert_converts(_interp(mode, 2, align, scale_factor=2), [x], input_ranges=rng, expected_ops={VEC_OPS[mode, 2]})
    batch_only = [((1, 3, 6, 6), tuple(x.shape), (4, 3, 6, 6))]
    assert_converts(_interp(mode, 2, align, size=(9, 4)), [x], input_ranges=batch_only, expected_ops={VEC_OPS[mode, 2]})


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_upsample_fp16(mode):
    align = False if mode in ALIGNABLE else None
    assert_converts(
        _interp(mode, 2, align, scale_factor=2), [_x(2, 6)], precision=torch.float16, expected_ops={VEC_OPS[mode, 2]}
    )


def test_upsample_fractional_scale():
    """5 * 1.5 is not an integer: torch's 1/scale mapping differs from size ratio -> falls back (validator)."""
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    ep = torch.export.export(torch.nn.Upsample(scale_factor=1.5), (_x(2, 5),))
    node = next(n for n in ep.graph.nodes if n.op == "call_function")
    assert "scale factor" in CONVERTERS.decide(node, CompilationSettings()).reason
    # ... but a scale that maps the size to an integer converts, align_corners too
    assert_converts(torch.nn.Upsample(scale_factor=1.5), [_x(2, 4)], expected_ops={aten.upsample_nearest2d.vec})
    assert_converts(
        torch.nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        [_x(2, 5)],
        expected_ops={aten.upsample_bilinear2d.vec},
    )


def test_upsample_default_overloads():
    x = _x(2, 4)
    assert_converts(
        lambda x: aten.upsample_nearest2d.default(x, [8, 6]), [x], expected_ops={aten.upsample_nearest2d.default}
    )
    # upsample_bilinear2d.default is decomposed by torch's own Autograd-key kernel during lowering, so it is not
    # asserted here; the .vec overload (what F.interpolate emits) is preserved.


@pytest.mark.parametrize("r", [2, 3])
def test_pixel_shuffle(r):
    x = torch.randn(2, 2 * r * r, 3, 4)
    rng = [((1, 2 * r * r, 1, 2), tuple(x.shape), (3, 2 * r * r, 5, 6))]
    assert_converts(lambda x: F.pixel_shuffle(x, r), [x], input_ranges=rng, expected_ops={aten.pixel_shuffle.default})
    y = torch.randn(2, 2, 3 * r, 2 * r)
    assert_converts(lambda y: F.pixel_unshuffle(y, r), [y], expected_ops={aten.pixel_unshuffle.default})


def test_pixel_shuffle_batch_dims_fp16():
    assert_converts(
        lambda x: F.pixel_shuffle(x, 2),
        [torch.randn(2, 3, 8, 2, 3)],
        precision=torch.float16,
        expected_ops={aten.pixel_shuffle.default},
    )
    assert_converts(
        lambda x: F.pixel_unshuffle(x, 2),
        [torch.randn(2, 3, 4, 6)],
        input_ranges=[((1, 3, 4, 6), (2, 3, 4, 6), (3, 3, 4, 6))],
        expected_ops={aten.pixel_unshuffle.default},
    )


# -- padding ------------------------------------------------------------------------------------------------------

PAD_CASES = [
    ("constant", (1, 2)),
    ("constant", (1, 2, 0, 3)),
    ("constant", (-1, 2, 1, -2)),
    ("constant", (1, 1, 2, 0, 0, 1)),
    ("reflect", (2, 1)),
    ("reflect", (1, 2, 3, 0)),
    ("reflect", (1, 1, 2, 0, 0, 1)),
    ("replicate", (3, 1)),
    ("replicate", (1, 2, 0, 3)),
    ("replicate", (1, 1, 2, 0, 0, 1)),
    ("circular", (2, 1)),
    ("circular", (1, 2, 3, 0)),
    ("circular", (1, 1, 2, 0, 0, 1)),
]


@pytest.mark.parametrize("mode,pad", PAD_CASES)
def test_pad(mode, pad):
    dims = len(pad) // 2
    x = torch.randn(2, 3, *([5] * dims))
    assert_converts(lambda x: F.pad(x, pad, mode=mode), [x], expected_ops={aten.pad.default})


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_dynamic(mode):
    x = torch.randn(2, 3, 6, 5)
    rng = [((1, 3, 4, 4), tuple(x.shape), (4, 3, 9, 8))]
    assert_converts(lambda x: F.pad(x, (1, 2, 3, 1), mode=mode), [x], input_ranges=rng, expected_ops={aten.pad.default})


def test_pad_value_and_dtypes():
    x = torch.randn(2, 3, 4)
    assert_converts(lambda x: F.pad(x, (1, 2, 1, 0), value=-2.5), [x], expected_ops={aten.pad.default})
    assert_converts(
        lambda x: F.pad(x, (1, 2), value=7),
        [torch.randint(0, 5, (2, 3), dtype=torch.int32)],
        expected_ops={aten.pad.default},
    )
    assert_converts(
        lambda x: F.pad(x, (2, 1), mode="reflect"),
        [x],
        precision=torch.float16,
        expected_ops={aten.pad.default},
    )


def test_pad_aten_ops():
    x = torch.randn(2, 3, 5, 5)
    cases = [
        (lambda x: aten.constant_pad_nd.default(x, [1, 2, 0, 1], 0.5), aten.constant_pad_nd.default),
        (lambda x: aten.reflection_pad2d.default(x, [1, 2, 2, 1]), aten.reflection_pad2d.default),
        (lambda x: aten.replication_pad2d.default(x, [1, 2, 2, 1]), aten.replication_pad2d.default),
        (lambda x: aten.replication_pad3d.default(x, [1, 0, 2, 1, 1, 1]), aten.replication_pad3d.default),
        (lambda x: aten._pad_circular.default(x, [1, 2, 2, 1]), aten._pad_circular.default),
    ]
    for fn, op in cases:
        assert_converts(fn, [x], expected_ops={op})
    fn = lambda x: aten.reflection_pad1d.default(x, [2, 3])  # noqa: E731
    assert_converts(fn, [torch.randn(2, 3, 5)], expected_ops={aten.reflection_pad1d.default})


# -- grid sample --------------------------------------------------------------------------------------------------

#: F.grid_sample exports as the dispatching grid_sampler; decomposition or a direct call gives the 2d/3d ops
GRID_OPS = {frozenset({aten.grid_sampler.default, aten.grid_sampler_2d.default, aten.grid_sampler_3d.default})}


def _grid(batch: int, *out: int, spread: float = 1.2) -> torch.Tensor:
    """Sampling coordinates in [-spread, spread] (a little outside [-1, 1]: the padding modes matter)."""
    return (torch.rand(batch, *out, len(out)) * 2 - 1) * spread


def _sampler(mode: str, padding: str, align: bool):
    return lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)


@pytest.mark.parametrize("align", [False, True], ids=["edges", "centers"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_2d(mode, padding, align):
    result = assert_converts(
        _sampler(mode, padding, align), [torch.randn(2, 3, 6, 7), _grid(2, 5, 4)], expected_ops=GRID_OPS
    )
    layers = [result.converted.network.network.get_layer(i) for i in range(result.converted.network.network.num_layers)]
    assert [l.type.name for l in layers].count("GRID_SAMPLE") == 1


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d(mode, padding):
    assert_converts(
        _sampler(mode, padding, False), [torch.randn(1, 2, 4, 5, 3), _grid(1, 3, 2, 4)], expected_ops=GRID_OPS
    )


def test_grid_sample_dynamic_batch_and_grid():
    x, g = torch.randn(2, 3, 6, 6), _grid(2, 4, 5)
    ranges = [((1, 3, 6, 6), tuple(x.shape), (4, 3, 6, 6)), ((1, 2, 3, 2), tuple(g.shape), (4, 7, 8, 2))]
    assert_converts(_sampler("bilinear", "zeros", False), [x, g], input_ranges=ranges, expected_ops=GRID_OPS)


def test_grid_sample_fp16_computes_coordinates_in_fp32():
    result = assert_converts(
        _sampler("bilinear", "border", True),
        [torch.randn(2, 3, 16, 16), _grid(2, 8, 8)],
        precision=torch.float16,
        expected_ops=GRID_OPS,
    )
    net = result.converted.network.network
    (layer,) = [net.get_layer(i) for i in range(net.num_layers) if net.get_layer(i).type.name == "GRID_SAMPLE"]
    assert layer.get_output(0).dtype.name == "FLOAT"


def test_grid_sample_constant_grid_from_affine_grid():
    """A grid computed from constants (affine_grid of a fixed transform) is folded and fed as a constant."""
    theta = torch.tensor([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]]])

    class Warp(torch.nn.Module):
        def forward(self, x):
            grid = F.affine_grid(theta, [1, 3, 5, 6], align_corners=False)
            return F.grid_sample(x, grid, align_corners=False)

    assert_converts(Warp(), [torch.randn(1, 3, 8, 8)], expected_ops=GRID_OPS)


@pytest.mark.parametrize(
    "op, x, g",
    [
        (aten.grid_sampler_2d.default, torch.randn(2, 3, 6, 7), _grid(2, 5, 4)),
        (aten.grid_sampler_3d.default, torch.randn(1, 2, 4, 5, 3), _grid(1, 3, 2, 4)),
    ],
    ids=["2d", "3d"],
)
def test_grid_sampler_nd_ops(op, x, g):
    """The dimension-specific ops themselves (what decomposition leaves): reflection, corners aligned."""
    assert_converts(lambda a, b: op(a, b, 0, 2, True), [x, g], expected_ops={op})
