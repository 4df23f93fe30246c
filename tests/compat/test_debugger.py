"""``torch_tensorrt.dynamo.Debugger`` as the incumbent documents it: graphs after each stage, the log, and per-engine
layer information written to a directory."""

from __future__ import annotations

import json

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.testing import simulate


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x)) * 2


def test_debugger_writes_graphs_log_and_layer_info(tmp_path):
    model, x = _Net(), torch.randn(2, 4)
    with simulate():
        with torch_tensorrt.dynamo.Debugger(
            log_level="debug", logging_dir=str(tmp_path), save_layer_info=True, capture_fx_graph_before=["partitioned"]
        ):
            gm = torch_tensorrt.compile(model, inputs=[x], min_block_size=1)
        torch.testing.assert_close(gm(x), model(x))
    graphs = sorted(p.name for p in (tmp_path / "graphs").iterdir())
    stages = [name.split("_", 2)[2].removesuffix(".py") for name in graphs if "_after_" in name]
    assert stages[:2] == ["exported", "lowered"] and stages[-2:] == ["partitioned", "compiled"]
    assert "fold_constants" in stages
    assert any("_before_partitioned" in name for name in graphs)
    compiled = next(p for p in (tmp_path / "graphs").iterdir() if p.name.endswith("after_compiled.py"))
    assert "_run_on_acc_0" in compiled.read_text()
    (layers_file,) = (tmp_path / "engines").iterdir()
    layers = json.loads(layers_file.read_text())
    assert any(layer["type"] == "ACTIVATION" and layer["node"] == "relu" for layer in layers)
    assert all({"name", "type", "inputs", "outputs"} <= set(layer) for layer in layers)
    log = (tmp_path / "torch_tensorrt.log").read_text()
    assert "DEBUG" in log


def test_debugger_only_named_stages_and_cleanup(tmp_path):
    from torch_tensorrt.dynamo import _stages

    model, x = _Net(), torch.randn(2, 4)
    with simulate():
        with torch_tensorrt.dynamo.Debugger(logging_dir=str(tmp_path), capture_fx_graph_after=["lowered"]):
            torch_tensorrt.compile(model, inputs=[x], min_block_size=1)
        assert not _stages._observers
        torch_tensorrt.compile(model, inputs=[x], min_block_size=1)  # outside: nothing more is written
    assert [p.name for p in (tmp_path / "graphs").iterdir()] == ["01_after_lowered.py"]
    assert not list((tmp_path / "engines").iterdir())


def test_engine_profile_request_warns(tmp_path):
    with pytest.warns(UserWarning, match="save_engine_profile"):
        with torch_tensorrt.dynamo.Debugger(logging_dir=str(tmp_path), save_engine_profile=True):
            pass
