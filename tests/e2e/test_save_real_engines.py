"""A real (not simulated) compile on this CPU-only machine, saved in every format and loaded back in a fresh
process (the engines are TensorRT-RTX plans: nothing here can run them, and nothing needs to); and dynamic
shapes given the saving page's first way (explicit ``torch.export.Dim``) and with ``retrace=False``."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._serialization import load, save
from torch_tensorrt.runtime import TorchTensorRTModule


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x)) + 1.0


DYN = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(16, 8))


@pytest.fixture(scope="module")
def real_gm():
    torch.manual_seed(0)
    with torch_tensorrt.runtime.runtime("python"):
        gm = torch_tensorrt.compile(Model().eval(), ir="dynamo", arg_inputs=[DYN], min_block_size=1)
    engines = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    assert engines and all(e.record.engine_kind == "tensorrt" for e in engines)
    return gm


LOAD_ONLY = """
import sys, torch, torch_tensorrt
from torch_tensorrt._artifacts import engine_records
path, fmt = sys.argv[1:3]
if fmt == "pickle":
    m = torch.load(path, weights_only=False)
    records = list(engine_records(m))
elif fmt == "aot_inductor":
    m = torch_tensorrt.load(path, trust_code=True)  # native code: loading it needs trust (this test wrote it)
    records = [None]  # compiled into the package; loading it is the check
else:
    m = torch_tensorrt.load(path)  # decodes and checks every engine record
    records = list(engine_records(m))
assert records, 'no engine found'
assert all(r is None or r.engine_kind == 'tensorrt' for r in records)
print('loaded', len(records))
"""


@pytest.mark.parametrize(
    "fmt, suffix",
    [
        ("exported_program", "ep"),
        ("torchscript", "ts"),
        ("aot_inductor", "pt2"),
        ("pickle", "pt"),
    ],
)
def test_real_engines_save_and_load_on_a_cpu_machine(real_gm, tmp_path, fmt, suffix):
    path = tmp_path / f"real.{suffix}"
    if fmt == "pickle":
        torch.save(real_gm, path)
    else:
        with torch._inductor.config.patch({"aot_inductor.compile_wrapper_opt_level": "O0"}):
            save(real_gm, path, output_format=fmt, arg_inputs=[DYN])
    env_free = {"TORCHTRT_RUNTIME_LIBRARY": str(tmp_path / "none.so")}
    import os

    out = subprocess.run(
        [sys.executable, "-c", LOAD_ONLY, str(path), fmt],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, **env_free),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("loaded")


@pytest.mark.parametrize("fmt", ["exported_program", "torchscript", "aot_inductor"])
def test_explicit_dims_and_retrace_false(tmp_path, fmt):
    """Method 1 of the saving page (explicit Dim), and retrace=False (the compiled ranges, no inputs needed);
    for .pt2 the explicit Dim only (one AOTInductor compile keeps the suite's time in check)."""
    from torch_tensorrt.testing import simulate

    model = Model().eval()
    x = torch.randn(2, 8)
    batch = torch.export.Dim("batch", min=1, max=32)
    ep = torch.export.export(model, (x,), dynamic_shapes={"x": {0: batch}}, strict=False)
    spec = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(8, 8), max_shape=(32, 8))
    names = ("dims.pt2",) if fmt == "aot_inductor" else ("dims", "noretrace")  # AOTInductor wants the suffix
    with simulate(), torch._inductor.config.patch({"aot_inductor.compile_wrapper_opt_level": "O0"}):
        gm = torch_tensorrt.dynamo.compile(ep, arg_inputs=[spec], min_block_size=1)
        save(gm, tmp_path / names[0], output_format=fmt, arg_inputs=[x], dynamic_shapes={"x": {0: batch}})
        if "noretrace" in names:
            save(gm, tmp_path / "noretrace", output_format=fmt, retrace=False)
        for name in names:
            loaded = load(tmp_path / name, trust_code=fmt == "aot_inductor")  # a .pt2 is native code
            m = loaded.module() if fmt == "exported_program" else loaded
            for b in (1, 13, 32):
                xb = torch.randn(b, 8)
                torch.testing.assert_close(m(xb), model(xb), rtol=1e-4, atol=1e-4)
    if fmt == "exported_program":  # the compiled range travelled with retrace=False (torch keeps sizes >= 2)
        ranges = [(int(r.lower), int(r.upper)) for r in load(tmp_path / "noretrace").range_constraints.values()]
        assert ranges == [(2, 32)], ranges
