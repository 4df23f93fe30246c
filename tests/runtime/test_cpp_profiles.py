"""Multiple optimization profiles on the C++ runtime (the test build against the stand-in TensorRT, which reads the
profiles of a simulated record's metadata): the same default rule, explicit selection and messages as the Python
runtime, and a saved program round trip."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime import TorchTensorRTModule, optimization_profile
from torch_tensorrt.testing import _cpp_hook, simulate

pytestmark = pytest.mark.cpp

PROFILES = [
    {"min_shape": (1, 1, 8), "opt_shape": (1, 1, 8), "max_shape": (1, 1, 8)},
    {"min_shape": (1, 4, 8), "opt_shape": (1, 16, 8), "max_shape": (1, 32, 8)},
]


class Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.proj(x)) * 2


@pytest.fixture(scope="module")
def compiled(rt):
    torch.manual_seed(0)
    model = Block().eval()
    spec = torch_tensorrt.Input(profiles=PROFILES)
    with simulate():
        gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[spec], min_block_size=1)
    return model, gm, spec


def _module(gm) -> TorchTensorRTModule:
    (m,) = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    return m


def _error(gm, x) -> str:
    with pytest.raises(RuntimeError) as err:
        gm(x)
    return str(err.value).splitlines()[0]


def test_cpp_engine_reads_and_selects_profiles(compiled):
    model, gm, _ = compiled
    module = _module(gm)
    module.set_runtime("cpp")
    engine = module.engine
    assert isinstance(engine, torch.ScriptObject) and engine.num_optimization_profiles() == 2
    before = _cpp_hook.calls[_cpp_hook.EXECUTE]
    with simulate(), torch.no_grad():
        for seq in (1, 20, 1, 4):
            x = torch.randn(1, seq, 8)
            torch.testing.assert_close(gm(x), model(x))
        assert _cpp_hook.calls[_cpp_hook.EXECUTE] - before == 4  # every call went through the C++ runtime
        with optimization_profile(gm, 1):
            assert engine.optimization_profile() == 1
            x = torch.randn(1, 20, 8)
            torch.testing.assert_close(gm(x), model(x))
        assert engine.optimization_profile() == -1


def test_cpp_and_python_runtimes_give_the_same_profile_errors(compiled):
    _, gm, _ = compiled
    module = _module(gm)
    cases = [(None, torch.randn(1, 2, 8)), (1, torch.randn(1, 1, 8))]
    with simulate():
        for pinned, x in cases:
            messages = []
            for runtime in ("cpp", "python"):
                module.set_runtime(runtime)
                if pinned is None:
                    messages.append(_error(gm, x))
                else:
                    with optimization_profile(gm, pinned):
                        messages.append(_error(gm, x))
            assert "optimization profile" in messages[0] and "input 'x'" in messages[0]
            assert messages[0] == messages[1]
    module.set_runtime("cpp")
    with pytest.raises(IndexError, match="has 2 optimization profile"):
        module.engine.set_optimization_profile(2)


def test_cpp_profiles_survive_save_and_load(compiled, tmp_path):
    model, gm, spec = compiled
    _module(gm).set_runtime("cpp")
    path = str(tmp_path / "cpp_profiles.ep")
    torch_tensorrt.save(gm, path, arg_inputs=[spec], allow_simulated=True)
    loaded = torch_tensorrt.load(path).module()
    with simulate(), torch.no_grad():
        for seq in (1, 32):
            x = torch.randn(1, seq, 8)
            torch.testing.assert_close(loaded(x), model(x))
        with optimization_profile(loaded, 0):
            assert "optimization profile 0" in _error(loaded, torch.randn(1, 8, 8))
