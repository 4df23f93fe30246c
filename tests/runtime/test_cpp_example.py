"""examples/cpp, the C++ deployment program, built against the test build of the runtime and run on models saved
by this test -- a TorchScript file and an AOTInductor package -- in a process with no Python interpreter.

The runtime is the stand-in build of tests/cpp, installed into a scratch prefix with the wheel's layout
(lib/, include/torchtrt/, share/cmake/torchtrt_runtime/) and found by the example's CMake with
``find_package(torchtrt_runtime)``, as a user's project finds the wheel's. The engines are stand-in TensorRT
plans (tests/cpp/fake_tensorrt/README.md), which the stand-in executes in C++ itself; the records claim the
stand-in's TensorRT (flavour "tensorrt", its version), so the runtime's load-time checks pass as on a real
deployment. With a GPU the whole run is on CUDA (``--device cuda``).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec
from torch_tensorrt.runtime._record import EngineRecord

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

pytestmark = [pytest.mark.cpp, pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:FutureWarning")]

PLAN = """torchtrt-fake-plan 1
name affine
input x float32 2x3 2x3 2x3
input y float32 2x3 2x3 2x3
output out float32 scale_add x y 2
output c float32 copy y
"""
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def stand_in_engine_module() -> torch.nn.Module:
    """A TorchTensorRTModule on the C++ runtime whose plan the stand-in executes: out = 2x + y, c = y."""
    from torch_tensorrt.runtime import TorchTensorRTModule

    spec = lambda n: TensorSpec(n, "float32", [2, 3], [2, 3], [2, 3], [2, 3])  # noqa: E731
    meta = EngineMetadata(inputs=[spec("x"), spec("y")], outputs=[spec("out"), spec("c")])
    record = EngineRecord(
        name="affine",
        engine=PLAN.encode(),
        input_binding_names=["x", "y"],
        output_binding_names=["out", "c"],
        metadata=meta.to_json(),
        target_platform=f"{sys.platform}_{platform.machine().lower()}",
        trt_flavour="tensorrt",
        trt_version=torch.ops.tensorrt.runtime_version(),
        torchtrt_version=torch_tensorrt.__version__,
    )
    module = TorchTensorRTModule(name="affine")
    with torch_tensorrt.runtime.runtime("cpp"):
        module.set_extra_state({"version": 1, "name": "affine", "record": record.to_tensor(), "weight_name_map": None})
    assert module.runtime == "cpp"
    return module


class Deployed(torch.nn.Module):
    """PyTorch work around the engine, as in a partitioned program."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = stand_in_engine_module()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, c = self.engine(x * 0.5, y)
        return out - 1.0, c


@pytest.fixture(scope="module")
def example(rt) -> str:
    why = cpp_build.missing_tools()
    if why:
        pytest.skip(f"cannot build the example: {why}")
    try:
        return cpp_build.build_example()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def saved(rt, tmp_path_factory):
    """The model saved in both formats, its inputs (torch.save of a list) and the expected outputs."""
    out = tmp_path_factory.mktemp("deploy")
    model = Deployed().to(DEVICE)
    x = torch.arange(6, dtype=torch.float32, device=DEVICE).reshape(2, 3)
    y = torch.full((2, 3), 0.25, device=DEVICE)
    with torch.no_grad():
        expected = [t.cpu() for t in model(x, y)]
    torch.testing.assert_close(expected[0], (x - 1.0 + y).cpu())  # 2 * (x / 2) + y - 1
    torch.save([x.cpu(), y.cpu()], out / "inputs.pt")
    torch_tensorrt.save(model, out / "model.ts", output_format="torchscript", arg_inputs=[x, y])
    if os.environ.get("TORCHTRT_SKIP_AOTI"):
        return out, expected, ["model.ts"]
    torch_tensorrt.save(model, out / "model.pt2", output_format="aot_inductor", arg_inputs=[x, y])
    return out, expected, ["model.ts", "model.pt2"]


def _run(example: str, *args: str) -> subprocess.CompletedProcess:
    # No Python settings reach the program: it loads libtorch and the runtime through its RPATH alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "TORCHTRT_RUNTIME_LIBRARY"}
    return subprocess.run([example, *args], env=env, capture_output=True, text=True, timeout=600)


def _outputs(stdout: str) -> list[tuple[str, list[int], torch.Tensor]]:
    found = []
    for line in stdout.splitlines():
        m = re.fullmatch(r"output (\d+): (\w+) \[([\d, ]*)\] =(.*)", line)
        if m:
            shape = [int(d) for d in m.group(3).split(",") if d.strip()]
            values = torch.tensor([float(v) for v in m.group(4).split()], dtype=torch.float64)
            found.append((m.group(2), shape, values.reshape(shape)))
    return found


def test_example_is_a_program_without_python(example):
    ldd = subprocess.run(["ldd", example], capture_output=True, text=True)
    assert ldd.returncode == 0, ldd.stderr
    assert "libtorchtrt_runtime.so" in ldd.stdout and cpp_build.INSTALL_DIR in ldd.stdout  # the installed copy
    assert "libpython" not in ldd.stdout and "libtorch_python" not in ldd.stdout
    usage = _run(example)
    assert usage.returncode == 2 and "usage: torchtrt_example MODEL INPUTS" in usage.stderr


@pytest.mark.parametrize("name", ["model.ts", "model.pt2"])
def test_example_runs_saved_models(example, saved, name):
    out, expected, formats = saved
    if name not in formats:
        pytest.skip("TORCHTRT_SKIP_AOTI is set")
    proc = _run(example, str(out / name), str(out / "inputs.pt"), "--device", DEVICE, "--repeat", "20")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        f"torchtrt runtime: stand-in, TensorRT {torch.ops.tensorrt.runtime_version()}, "
        f"record ABI {torch.ops.tensorrt.abi_version()}"
    ), lines[0]
    kind = "AOTInductor package" if name.endswith(".pt2") else "TorchScript module"
    assert f"loaded {kind} {out / name} and 2 input(s)" in proc.stdout
    got = _outputs(proc.stdout)
    assert [(dtype, shape) for dtype, shape, _ in got] == [("float32", [2, 3]), ("float32", [2, 3])], proc.stdout
    for (_, _, values), want in zip(got, expected):
        torch.testing.assert_close(values, want.to(torch.float64))
    assert re.search(r"mean [\d.e+-]+ us per call over 20 calls", proc.stdout)


def test_example_reports_a_bad_model(example, saved, tmp_path):
    out, _, _ = saved
    (tmp_path / "bad.ts").write_bytes(b"not a model")
    proc = _run(example, str(tmp_path / "bad.ts"), str(out / "inputs.pt"), "--device", DEVICE)
    assert proc.returncode == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert "Exception raised from" not in proc.stderr  # the message, not c10's C++ backtrace


def test_cmake_prefix_path_points_into_the_package():
    assert torch_tensorrt.cmake_prefix_path == os.path.join(os.path.dirname(torch_tensorrt.__file__), "share", "cmake")


def test_installed_package_layout(example):
    prefix = cpp_build.INSTALL_DIR
    for path in (
        "lib/libtorchtrt_runtime.so",
        "include/torchtrt/torchtrt.h",
        "include/torchtrt/engine.h",
        "share/cmake/torchtrt_runtime/torchtrt_runtimeConfig.cmake",
        "share/cmake/torchtrt_runtime/torchtrt_runtimeConfigVersion.cmake",
        "share/cmake/torchtrt_runtime/torchtrt_runtimeTargets.cmake",
    ):
        assert os.path.isfile(os.path.join(prefix, path)), path
    config = open(os.path.join(prefix, "share/cmake/torchtrt_runtime/torchtrt_runtimeConfig.cmake")).read()
    assert 'set(torchtrt_runtime_FLAVOUR "stand-in")' in config
    targets = open(os.path.join(prefix, "share/cmake/torchtrt_runtime/torchtrt_runtimeTargets.cmake")).read()
    assert "torchtrt::runtime" in targets and cpp_build.REPO not in targets  # relocatable: no build-tree paths
