"""The model zoo (examples/zoo.py) end to end: every model converts into ONE engine with
``require_full_compilation=True`` -- fp32 and fp16, static and with a dynamic batch (and sequence length for text
models) -- and the reference evaluation of that engine's network matches eager PyTorch at the opt shapes and, when
dynamic, at the min and max shapes: relative-norm error <= 1e-3 (fp32) / 2e-2 (fp16), and elementwise
|ref - eager| <= rtol * (|eager| + 4 RMS(eager)): the rounding noise of a whole network spreads over the
output, and its largest element is a few times its RMS (the converter tests use 1 RMS).

Sizes are small for CI (examples/zoo.py: 64 or 96 px images, swin_t/CLIP at 224, batch 2, 16 tokens; text models
at their full depth; a tiny diffusers UNet2DModel at 32 px). Run with ``pytest -m zoo -n 2 tests/zoo``.
"""

from __future__ import annotations

from typing import Optional

import pytest
import torch

from examples.zoo import BY_NAME, ZOO
from torch_tensorrt.testing import assert_converts

pytestmark = pytest.mark.zoo

#: rtol of both checks (relative norm ||ref - eager|| <= atol + tol * ||eager||, and elementwise)
TOLERANCE = {None: 1e-3, torch.float16: 2e-2}
NAMES = [m.name for m in ZOO]


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
@pytest.mark.parametrize("precision", [None, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("name", NAMES)
def test_zoo_converts_and_matches(name: str, precision: Optional[torch.dtype], dynamic: bool) -> None:
    entry = BY_NAME[name]
    pytest.importorskip(entry.requires)
    model, inputs = entry.build()
    ranges = entry.input_ranges(inputs) if dynamic else None
    tol = TOLERANCE[precision]
    result = assert_converts(
        model,
        list(inputs),
        input_ranges=ranges,
        precision=precision,
        rtol=tol,
        atol_rms=4.0,
        require_full_compilation=True,
        no_expected_ops="a whole model: every operator must convert (require_full_compilation)",
    )
    network = result.converted.network.network
    for i, spec in enumerate(ranges or [None] * len(inputs)):
        shape = tuple(network.get_input(i).shape)
        if spec is None:
            assert shape == tuple(inputs[i].shape)
        else:  # the dynamic dims are dynamic in the engine, and were evaluated at min/opt/max
            assert [d for d, s in enumerate(shape) if s < 0] == sorted(entry.dynamic[i])
    assert result.points == (["opt", "min", "max"] if dynamic else ["opt"])
    assert result.max_rel_error <= tol


@pytest.mark.parametrize("name", NAMES)
def test_zoo_partitions_into_one_engine(name: str) -> None:
    """The partitioner (torch_tensorrt.dynamo.compile's path) also finds every operator convertible: one
    projected engine, nothing left to PyTorch."""
    from torch_tensorrt.dynamo import coverage

    entry = BY_NAME[name]
    pytest.importorskip(entry.requires)
    model, inputs = entry.build()
    report = coverage(model, list(inputs), require_full_compilation=True)
    missing = sorted({f"{n.op}: {n.reason}" for n in report.nodes if not n.converts})
    assert not missing, missing
    assert len(report.engines) == 1 and not report.left_in_pytorch, report.summary()
