"""Cross-serialization between the Python and the C++ runtime, each side in its own fresh process.

The engine is a simulated identity engine whose plan bytes are also a stand-in TensorRT plan (``copy x``), so the
C++ test build (tests/cpp, stand-in TensorRT) and the Python simulated runtime both execute the same record.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

PLAN = b"torchtrt-fake-plan 1\nname identity\ninput x float32 1x4 2x4 8x4\noutput y float32 copy x\n"
MAKE = (
    "from torch_tensorrt.testing._engines import identity_module\n"
    f"m = identity_module(['s0', 4], min_shape=[1, 4], max_shape=[8, 4], engine={PLAN!r})\n"
)


@pytest.fixture(scope="module")
def library():
    why = cpp_build.missing_tools()
    if why:
        pytest.skip(f"cannot build the C++ runtime: {why}")
    return cpp_build.build().runtime_library


def _run(tmp_path, code: str, library: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TORCHTRT_RUNTIME_LIBRARY"}
    if library:
        env["TORCHTRT_RUNTIME_LIBRARY"] = library
    else:
        env["TORCHTRT_RUNTIME_LIBRARY"] = str(tmp_path / "no-such-library.so")
    script = tmp_path / "step.py"
    # torch_tensorrt.testing registers the simulated engine kind (and the stand-in's simulator) in the process
    script.write_text(
        "import torch, torch_tensorrt, torch_tensorrt.testing\ntorch_tensorrt.testing.allow_simulated_engines()\n"
        "from torch_tensorrt import runtime\n" + code
    )
    out = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return out.stdout


def test_cpp_saved_python_loaded(library, tmp_path):
    x = torch.randn(3, 4)
    torch.save(x, tmp_path / "x.pt")
    saved = _run(
        tmp_path,
        MAKE
        + (
            "m.set_runtime('cpp')\n"
            "x = torch.load('x.pt')\n"
            "assert m.runtime == 'cpp' and torch.equal(m(x), x)\n"
            "torch.save(m.state_dict(), 'sd.pt')\n"
            "torch.save(m, 'module.pt')\n"
            "torch_tensorrt.save(m, 'cpp.ep', arg_inputs=[x])\n"
            "print('saved')\n"
        ),
        library,
    )
    assert "saved" in saved
    loaded = _run(
        tmp_path,
        (
            "from torch_tensorrt.runtime import TorchTensorRTModule\n"
            "assert not runtime.cpp_runtime_available()\n"
            "x = torch.load('x.pt')\n"
            "e = TorchTensorRTModule(); e.load_state_dict(torch.load('sd.pt'))\n"
            "assert e.runtime == 'python' and torch.equal(e(x), x)\n"
            "p = torch.load('module.pt', weights_only=False)\n"
            "assert p.runtime == 'python' and torch.equal(p(x), x)\n"
            "ep = torch_tensorrt.load('cpp.ep')  # names tensorrt::execute_engine + Engine: rewritten for Python\n"
            "assert 'execute_engine_python' in str(ep.graph)\n"
            "assert torch.equal(ep.module()(x), x)\n"
            "print('loaded')\n"
        ),
        None,
    )
    assert "loaded" in loaded


def test_python_saved_cpp_loaded(library, tmp_path):
    x = torch.randn(5, 4)
    torch.save(x, tmp_path / "x.pt")
    _run(
        tmp_path,
        MAKE
        + (
            "x = torch.load('x.pt')\n"
            "assert m.runtime == 'python' and torch.equal(m(x), x)\n"
            "torch.save(m.state_dict(), 'sd.pt')\n"
            "torch_tensorrt.save(m, 'py.ep', arg_inputs=[torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))])\n"
        ),
        None,
    )
    out = _run(
        tmp_path,
        (
            "from torch_tensorrt.runtime import TorchTensorRTModule\n"
            "assert runtime.cpp_runtime_available(), runtime.cpp_runtime_reason()\n"
            "x = torch.load('x.pt')\n"
            "runtime.set_runtime('cpp')\n"
            "e = TorchTensorRTModule(); e.load_state_dict(torch.load('sd.pt'))\n"
            "assert e.runtime == 'cpp' and torch.equal(e(x), x)\n"
            "m = torch_tensorrt.load('py.ep').module()  # the Python op: runs wherever this package is installed\n"
            "assert torch.equal(m(x), x) and torch.equal(m(x[:2]), x[:2])\n"
            "print('ok')\n"
        ),
        library,
    )
    assert out.strip().endswith("ok")
