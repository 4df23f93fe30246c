"""Converters of max/avg pooling 1-3d and adaptive avg/max pooling."""

from __future__ import annotations

import operator

import pytest
import torch
import torch.nn.functional as F

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten

MAX_OPS = {1: aten.max_pool1d.default, 2: aten.max_pool2d.default, 3: aten.max_pool3d.default}
AVG_OPS = {1: aten.avg_pool1d.default, 2: aten.avg_pool2d.default, 3: aten.avg_pool3d.default}
MAX_FN = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_FN = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _x(dims: int, size: int = 9, batch: int = 2, channels: int = 3) -> torch.Tensor:
    return torch.randn(batch, channels, *([size] * dims))


POOL_KW = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),  # the last ceil window starts in the padding
    dict(kernel_size=3, stride=3, padding=1, ceil_mode=True),
]


def _max_op(dims: int, kw: dict):
    return MAX_OPS[dims]


AVG_KW = [
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
]
# every option in 2-D; the padding / ceil_mode corner cases in 1-D and 3-D
CASES = [(2, kw) for kw in POOL_KW] + [(d, POOL_KW[i]) for d in (1, 3) for i in (1, 4, 5)]


@pytest.mark.parametrize("dims,kw", CASES)
def test_max_pool(dims, kw):
    size = 8 if dims == 3 else 9
    assert_converts(lambda x: MAX_FN[dims](x, **kw), [_x(dims, size)], expected_ops={_max_op(dims, kw)})


@pytest.mark.parametrize("dims,kw", CASES + [(2, kw) for kw in AVG_KW] + [(d, AVG_KW[2]) for d in (1, 3)])
def test_avg_pool(dims, kw):
    size = 8 if dims == 3 else 9
    assert_converts(lambda x: AVG_FN[dims](x, **kw), [_x(dims, size)], expected_ops={AVG_OPS[dims]})


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_dynamic(dims, ceil_mode):
    """Dynamic batch; dynamic spatial sizes too where torch.export does not specialize them (no ceil_mode, 2-D+)."""
    x = _x(dims, 8)
    spatial = dims > 1 and not ceil_mode
    lo = (1, 3) + ((4,) * dims if spatial else x.shape[2:])
    hi = (3, 3) + ((11,) * dims if spatial else x.shape[2:])
    kw = dict(kernel_size=2, stride=2, padding=1, ceil_mode=ceil_mode)
    rng = [(lo, tuple(x.shape), hi)]
    assert_converts(lambda x: MAX_FN[dims](x, **kw), [x], input_ranges=rng, expected_ops={_max_op(dims, kw)})
    assert_converts(lambda x: AVG_FN[dims](x, **kw), [x], input_ranges=rng, expected_ops={AVG_OPS[dims]})


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_pool_fp16(dims):
    x = _x(dims, 8)
    assert_converts(lambda x: MAX_FN[dims](x, 3, 2, 1), [x], precision=torch.float16, expected_ops={_max_op(dims, {})})
    assert_converts(lambda x: AVG_FN[dims](x, 3, 2, 1), [x], precision=torch.float16, expected_ops={AVG_OPS[dims]})


def test_pool_unbatched():
    assert_converts(lambda x: F.max_pool2d(x, 2), [torch.randn(3, 8, 8)], expected_ops={aten.max_pool2d.default})
    assert_converts(lambda x: F.avg_pool1d(x, 3, 2, 1), [torch.randn(3, 9)], expected_ops={aten.avg_pool1d.default})


def test_max_pool_indices_rejected():
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    x.meta["val"] = torch.empty(1, 3, 8, 8)
    pool = graph.call_function(aten.max_pool2d_with_indices.default, (x, [2, 2]))
    values = graph.call_function(operator.getitem, (pool, 0))
    assert CONVERTERS.decide(pool, CompilationSettings()).supported
    graph.call_function(operator.getitem, (pool, 1))
    assert "indices" in CONVERTERS.decide(pool, CompilationSettings()).reason
    del values
    dil = graph.call_function(aten.max_pool2d_with_indices.default, (x, [2, 2], [], [0, 0], [2, 2]))
    assert "dilation" in CONVERTERS.decide(dil, CompilationSettings()).reason
    avg = graph.call_function(aten.avg_pool2d.default, (x, [2, 2], [], [0, 0], False, True, 3))
    assert "divisor_override" in CONVERTERS.decide(avg, CompilationSettings()).reason


ADAPTIVE_AVG_FN = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX_FN = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
ADAPTIVE_AVG_OPS = {
    1: aten.adaptive_avg_pool1d.default,
    2: aten.adaptive_avg_pool2d.default,
    3: aten.adaptive_avg_pool3d.default,
}
ADAPTIVE_MAX_OPS = {
    1: aten.adaptive_max_pool1d.default,
    2: aten.adaptive_max_pool2d.default,
    3: aten.adaptive_max_pool3d.default,
}


@pytest.mark.parametrize("out", [1, 2, 3, 4, 5])  # 8 -> 2, 4 divide; 3, 5 need uneven windows
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_adaptive_pool(dims, out):
    x = _x(dims, 8 if dims < 3 else 4 if out < 4 else 8)
    assert_converts(lambda x: ADAPTIVE_AVG_FN[dims](x, out), [x], expected_ops={ADAPTIVE_AVG_OPS[dims]})
    assert_converts(lambda x: ADAPTIVE_MAX_FN[dims](x, out), [x], expected_ops={ADAPTIVE_MAX_OPS[dims]})


def test_adaptive_pool_mixed_sizes():
    x = _x(2, 8)
    assert_converts(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), [x], expected_ops={aten.adaptive_avg_pool2d.default})
    assert_converts(lambda x: F.adaptive_max_pool2d(x, (8, 1)), [x], expected_ops={aten.adaptive_max_pool2d.default})


def test_adaptive_pool_dynamic():
    x = _x(2, 8)
    assert_converts(
        lambda x: F.adaptive_avg_pool2d(x, 1),
        [x],
        input_ranges=[((1, 3, 2, 2), (2, 3, 8, 8), (4, 3, 13, 9))],
        expected_ops={aten.adaptive_avg_pool2d.default},
    )
    assert_converts(
        lambda x: F.adaptive_max_pool2d(x, (2, 3)),
        [x],
        input_ranges=[((1, 3, 8, 8), (2, 3, 8, 8), (5, 3, 8, 8))],
        expected_ops={aten.adaptive_max_pool2d.default},
    )


def test_adaptive_pool_fp16():
    x = _x(2, 8)
    assert_converts(
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
        [x],
        precision=torch.float16,
        expected_ops={aten.adaptive_avg_pool2d.default},
    )
    assert_converts(
        lambda x: F.adaptive_max_pool2d(x, 3),
        [x],
        precision=torch.float16,
        expected_ops={aten.adaptive_max_pool2d.default},
    )
