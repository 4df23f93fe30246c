"""The names-only TensorRT stand-in runs simulated compiled models where TensorRT cannot be imported."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent

SCRIPT = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('tensorrt', 'tensorrt_rtx', 'tensorrt_rtx_bindings', 'tensorrt_rtx_libs'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
from torch_tensorrt.testing import _names_only_trt
assert _names_only_trt.install()
import torch
import torch_tensorrt.testing
torch_tensorrt.testing.allow_simulated_engines()  # the models run outside simulate() here
models = torch.load(sys.argv[1], weights_only=False)
for name, (gm, x, expected, model) in models.items():
    torch.testing.assert_close(gm(x), expected, rtol=1e-4, atol=1e-4)
    print("OK", name)
"""


def test_simulated_models_run_without_tensorrt(tmp_path):
    sys.path.insert(0, str(HERE))
    from _sim_artifacts import build

    path = tmp_path / "models.pt"
    torch.save(build(), path)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("OK ") == 4


def test_install_refuses_to_shadow_real_tensorrt():
    from torch_tensorrt.testing import _names_only_trt

    assert _names_only_trt.install() is False


def test_stand_in_values():
    from torch_tensorrt.testing import _names_only_trt as fake

    assert fake.ElementWiseOperation.SUM == fake.ElementWiseOperation.SUM
    assert fake.ElementWiseOperation.SUM != fake.ElementWiseOperation.SUB
    assert fake.DataType.FLOAT != fake.ActivationType.FLOAT
    assert fake.Dims([2, 3]) == (2, 3)
    data = torch.arange(6, dtype=torch.float32)
    w = fake.Weights(fake.DataType.FLOAT, data.data_ptr(), 6)
    assert w.numpy().tolist() == data.tolist()
    with pytest.raises(AttributeError, match="names-only"):
        fake.volume
