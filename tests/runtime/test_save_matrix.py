"""Every save format, saved with each runtime, loaded in a fresh process with each runtime.

One dynamic model is compiled once (under ``simulate()``) for the module. For each saved-with runtime its engines
are switched to that runtime and the model is written in every format; each (format, saved-with, loaded-with) cell
then loads the file in its own fresh process -- with the C++ runtime (the test build against the stand-in
TensorRT) or with none -- runs it inside ``simulate()`` at the smallest, a middle and the largest batch of the
compiled range, and compares with eager PyTorch. The cells check which runtime actually ran (the stand-in's
simulator counts its executions). A ``.pt2`` saved with the C++ runtime has the C++ engine calls compiled in:
loading it without the C++ runtime must fail with a clear error, which its cell checks instead.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime import TorchTensorRTModule
from torch_tensorrt.testing import simulate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

pytestmark = pytest.mark.cpp

BATCHES = (1, 7, 16)  # min, a middle, max of the compiled range
FORMATS = {"ep": "exported_program", "ts": "torchscript", "pt2": "aot_inductor", "pickle": None}
RUNTIMES = ("python", "cpp")
CELLS = [(f, s, l) for f in FORMATS for s in RUNTIMES for l in RUNTIMES]


class Model(torch.nn.Module):
    """Two inputs sharing the dynamic batch, one by keyword; PyTorch ops around the engine."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(8, 6)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x + y)) * 2.0 + x.sum(dim=1, keepdim=True)


def _inputs():
    return (
        torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(16, 8), name="x"),
        torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(16, 8), name="y"),
    )


@pytest.fixture(scope="module")
def artifacts(rt, tmp_path_factory):
    """{saved-with runtime: {format: path}} and the io file (inputs and eager outputs at each batch)."""
    torch.manual_seed(0)
    model = Model().eval()
    x, y = _inputs()
    with simulate():
        gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[x], kwarg_inputs={"y": y}, min_block_size=1)
    engines = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    assert engines
    root = tmp_path_factory.mktemp("matrix")
    g = torch.Generator().manual_seed(1)
    io = {b: (torch.randn(b, 8, generator=g), torch.randn(b, 8, generator=g)) for b in BATCHES}
    with torch.no_grad():
        torch.save({b: (a, k, model(a, k)) for b, (a, k) in io.items()}, root / "io.pt")
    out: dict[str, dict[str, str]] = {}
    with simulate(), torch._inductor.config.patch({"aot_inductor.compile_wrapper_opt_level": "O0"}):
        for saved in RUNTIMES:
            for e in engines:
                e.set_runtime(saved)
            out[saved] = {}
            for short, fmt in FORMATS.items():
                path = str(root / f"{saved}.{short}")
                if fmt is None:
                    torch.save(gm, path)
                else:
                    torch_tensorrt.save(gm, path, output_format=fmt, arg_inputs=[x], kwarg_inputs={"y": y})
                out[saved][short] = path
    return out, str(root / "io.pt")


LOAD = """
import sys, torch, torch_tensorrt, torch_tensorrt.testing
from torch_tensorrt import runtime
from torch_tensorrt.testing import _cpp_hook, simulate
fmt, path, io_path, loaded = sys.argv[1:5]
assert runtime.cpp_runtime_available() == (loaded == 'cpp'), runtime.cpp_runtime_reason()
if loaded == 'cpp':
    runtime.set_runtime('cpp')  # simulated engines stay on Python unless asked
if fmt == 'pickle':
    m = torch.load(path, weights_only=False)
else:
    try:
        # a .pt2 is native code: loading it needs trust_code=True (this test wrote it)
        m = torch_tensorrt.load(path, trust_code=(fmt == 'pt2'))
    except Exception as exc:
        print('REFUSED', type(exc).__name__, exc)
        raise SystemExit(0)
    if fmt == 'ep':
        m = m.module()
io = torch.load(io_path)
before = _cpp_hook.calls[_cpp_hook.EXECUTE]
with simulate(), torch.no_grad():
    for batch, (x, y, expected) in io.items():
        torch.testing.assert_close(m(x, y=y), expected, rtol=1e-4, atol=1e-4)
        print('ok', batch)
print('cpp executions', _cpp_hook.calls[_cpp_hook.EXECUTE] - before)
"""


@pytest.mark.parametrize("fmt, saved, loaded", CELLS, ids=[f"{f}-saved_{s}-loaded_{l}" for f, s, l in CELLS])
def test_cell(artifacts, rt, tmp_path, fmt, saved, loaded):
    paths, io_path = artifacts
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([cpp_build.REPO + "/python", os.environ.get("PYTHONPATH", "")]))
    env["TORCHTRT_RUNTIME_LIBRARY"] = rt.runtime_library if loaded == "cpp" else str(tmp_path / "no-runtime.so")
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, fmt, paths[saved][fmt], io_path, loaded],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    if (fmt, saved, loaded) == ("pt2", "cpp", "python"):
        assert "REFUSED SerializationError" in out and "C++ runtime" in out and "not available here" in out, out
        return
    assert "REFUSED" not in out, out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("ok ")] == [str(b) for b in BATCHES]
    executions = int(out.strip().splitlines()[-1].split()[-1])
    assert (executions > 0) == (loaded == "cpp"), out  # the C++ runtime ran every engine call, or none
