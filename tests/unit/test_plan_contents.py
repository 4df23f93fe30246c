"""What a built plan holds besides its weights (torch_tensorrt.tools._plan_contents), on real CPU-built engines:
generated kernels are stored as sources (~130 KB each with TensorRT-RTX 1.7), library kernels carry none, and
every weight is stored once (no transposed or widened copy): plan - kernel sources stays within weights + a few KB.
"""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import _trt
from torch_tensorrt.tools._plan_contents import KERNEL_SOURCE_START, KernelSources, kernel_sources
from torch_tensorrt.tools.inspect_file import inspect_file

rtx_only = pytest.mark.skipif(not _trt.info().is_rtx, reason="kernel sources are embedded by TensorRT-RTX plans only")


def _plans(model: torch.nn.Module, *inputs: torch.Tensor) -> list[bytes]:
    ep = torch.export.export(model.eval(), inputs)
    gm = torch_tensorrt.dynamo.compile(ep, list(inputs), min_block_size=1)
    plans = [m.record.engine for m in gm.modules() if getattr(m, "record", None) is not None]
    assert len(plans) == 1
    return plans


def _weight_bytes(model: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


class _SqueezeExcite(torch.nn.Module):
    """x * sigmoid(avg_pool(x)): a reduction then a broadcast product -- generated kernels, no library kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(torch.nn.functional.adaptive_avg_pool2d(x, 1))


class _ConvLinear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(64, 128, 3, padding=1)
        self.fc = torch.nn.Linear(128, 512)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean((2, 3)))


def test_scan_counts_each_source_to_its_first_binary_byte() -> None:
    source = KERNEL_SOURCE_START + b"using T = int;\n"
    plan = b"\x00\x01head" + source + b"\x00weights" + source + b"\xff"
    assert kernel_sources(plan) == KernelSources(2, 2 * len(source))
    assert kernel_sources(b"\x00" * 64) == KernelSources(0, 0)


@rtx_only
def test_generated_kernels_are_stored_as_sources() -> None:
    one, four = (
        kernel_sources(_plans(torch.nn.Sequential(*[_SqueezeExcite() for _ in range(n)]), torch.randn(2, 8, 6, 6))[0])
        for n in (1, 4)
    )
    assert one.count >= 1
    assert four.count > one.count  # more generated kernels, more sources
    assert one.bytes / one.count > 50_000  # each source carries the common prelude


@rtx_only
def test_plan_stores_each_weight_once() -> None:
    model = _ConvLinear()
    (plan,) = _plans(model, torch.randn(2, 64, 8, 8))
    weights = _weight_bytes(model)
    beyond_weights = len(plan) - kernel_sources(plan).bytes - weights
    # a second copy of any weight (a transposed kernel, a float32 copy) would add >= 128 KB here
    assert beyond_weights < 32 * 1024, (len(plan), weights, beyond_weights)


@rtx_only
def test_inspect_reports_the_kernel_sources(tmp_path) -> None:
    (plan,) = _plans(torch.nn.Sequential(_SqueezeExcite(), _SqueezeExcite()), torch.randn(2, 8, 6, 6))
    path = tmp_path / "model.engine"
    path.write_bytes(plan)
    (engine,) = inspect_file(str(path)).engines
    expected = kernel_sources(plan)
    assert expected.count >= 1
    assert (engine.kernel_sources, engine.kernel_source_bytes) == (expected.count, expected.bytes)


@rtx_only
def test_a_record_stores_the_kernel_sources_compressed_and_the_weights_verbatim(tmp_path) -> None:
    """What ``_plan_pack`` is for: a real plan's repeated kernel-source prelude costs about one copy in the record."""
    model = torch.nn.Sequential(_ConvLinear(), torch.nn.Unflatten(1, (8, 8, 8)), _SqueezeExcite(), _SqueezeExcite())
    ep = torch.export.export(model.eval(), (torch.randn(2, 64, 8, 8),))
    gm = torch_tensorrt.dynamo.compile(ep, [torch.randn(2, 64, 8, 8)], min_block_size=1)
    (record,) = [m.record for m in gm.modules() if getattr(m, "record", None) is not None]
    plan, sources = bytes(record.engine), kernel_sources(record.engine)
    assert sources.count >= 2
    data = record.to_bytes()
    # every source but (at most) one is gone; the rest of the plan -- its weights -- is all there
    assert len(data) < len(plan) - (sources.count - 1) * (sources.bytes // sources.count) + 16 * 1024, (
        len(data),
        len(plan),
    )
    assert len(data) > _weight_bytes(model)
    assert record.packing.compressed
    back = type(record).from_bytes(data)
    assert bytes(back.engine) == plan
    path = tmp_path / "record.pt"
    torch.save({"record": record.to_tensor()}, path)
    (engine,) = inspect_file(str(path)).engines  # torchtrt inspect reports both sizes
    assert (engine.plan_bytes, engine.stored_bytes) == (len(plan), record.packing.stored_size)
    assert engine.stored_bytes < len(data) < engine.plan_bytes
