"""``truncate_double`` (alias ``truncate_long_and_double``): TensorRT has no float64, so an engine built with the
setting computes float64 values in float32 -- and the compiled program still takes and returns the eager model's
dtypes, because the graph casts at each engine's boundary. Without the setting, a float64 engine input is a clear
conversion error."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._errors import TorchTensorRTError
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.testing import simulate


class _Mixed(torch.nn.Module):
    def forward(self, x: torch.Tensor, i: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y = torch.tanh(x) * 2 + 1
        return y, i * 3 + 1, y.sum(dim=1)


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(4, 3, dtype=torch.float64), torch.arange(12).reshape(4, 3)


def _compile(**kwargs):
    x, i = _inputs()
    ep = torch.export.export(_Mixed(), (x, i))
    with simulate():
        return torch_tensorrt.dynamo.compile(ep, arg_inputs=[x, i], min_block_size=1, **kwargs)


@pytest.mark.parametrize("key", ["truncate_double", "truncate_long_and_double"])
def test_float64_inputs_and_outputs_cross_the_engine_boundary(key):
    gm = _compile(**{key: True})
    engines = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    assert len(engines) == 1
    assert [str(s.dtype) for s in engines[0].metadata.inputs] == ["float32", "int64"], "the engine computes float32"
    x, i = _inputs()
    want = _Mixed()(x, i)
    with simulate():
        got = gm(x, i)
    assert [g.dtype for g in got] == [w.dtype for w in want] == [torch.float64, torch.int64, torch.float64]
    torch.testing.assert_close(got[0], want[0], rtol=1e-5, atol=1e-5)  # float32 precision inside the engine
    assert torch.equal(got[1], want[1])
    torch.testing.assert_close(got[2], want[2], rtol=1e-5, atol=1e-5)


def test_float64_boundary_survives_save_and_load(tmp_path):
    gm = _compile(truncate_double=True)
    x, i = _inputs()
    with simulate():
        torch_tensorrt.save(gm, str(tmp_path / "m.ep"), arg_inputs=[x, i])
        loaded = torch_tensorrt.load(str(tmp_path / "m.ep")).module()
        got = loaded(x, i)
    assert got[0].dtype == torch.float64
    torch.testing.assert_close(got[0], _Mixed()(x, i)[0], rtol=1e-5, atol=1e-5)


def test_float64_without_the_setting_names_the_input():
    with pytest.raises(TorchTensorRTError, match=r"(?s)float64 input.*truncate_double=True"):
        _compile()
