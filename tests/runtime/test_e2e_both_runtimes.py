"""The foundation models, compiled under ``simulate()``, on BOTH runtimes: Python and C++ (the test build).

The C++ runtime here is the build of runtime_cpp against the stand-in TensorRT (tests/cpp). For a simulated
record it hands the stand-in the simulated plan (the record's metadata with the recorded network); the stand-in
asks the Python simulator (torch_tensorrt.testing._cpp_hook, registered by torch_tensorrt.testing through the C++
loader's load callbacks) for output shapes and values, so the numbers come from the same recorded network the
Python runtime evaluates -- but the input checks, shape handling, output allocation and the enqueue are the C++
runtime's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from examples import models
from torch_tensorrt.runtime import _cpp
from torch_tensorrt.testing import _cpp_hook, simulate
from torch_tensorrt.testing._simulate import KIND_SIMULATED

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

pytestmark = pytest.mark.cpp

MODELS = ["mlp", "small_cnn", "transformer_encoder"]
CASES = [(m, d) for m in MODELS for d in ("static", "dynamic")]
TOL = dict(rtol=1e-4, atol=1e-4)
MAX_BATCH = 16


@pytest.fixture(scope="module", autouse=True)
def _simulator_installed(rt):
    assert _cpp_hook.is_installed()


def _batches(x: torch.Tensor, dynamic: bool) -> list[torch.Tensor]:
    if not dynamic:
        return [x]
    g = torch.Generator().manual_seed(1)
    return [x] + [torch.randn((b,) + tuple(x.shape[1:]), generator=g) for b in (1, 5)]


@pytest.fixture(scope="module")
def compiled():
    """(name, kind) -> (eager model, compiled GraphModule, test inputs); each case compiled once, on demand."""
    cache: dict[tuple[str, str], tuple[torch.nn.Module, torch.fx.GraphModule, list[torch.Tensor]]] = {}

    def get(name: str, kind: str):
        if (name, kind) not in cache:
            torch.manual_seed(0)
            model, (x,) = getattr(models, name)()
            dynamic = kind == "dynamic"
            spec = (
                torch_tensorrt.Input(
                    min_shape=(1,) + tuple(x.shape[1:]),
                    opt_shape=tuple(x.shape),
                    max_shape=(MAX_BATCH,) + tuple(x.shape[1:]),
                    dtype=x.dtype,
                )
                if dynamic
                else x
            )
            with simulate():
                gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[spec], min_block_size=1)
            cache[(name, kind)] = (model, gm, _batches(x, dynamic))
        return cache[(name, kind)]

    return get


def _engines(gm: torch.nn.Module) -> list:
    mods = [m for m in gm.modules() if isinstance(m, torch_tensorrt.runtime.TorchTensorRTModule)]
    assert mods, "nothing was compiled to TensorRT"
    return mods


def _check(model, gm, inputs) -> None:
    with torch.no_grad():
        for x in inputs:
            torch.testing.assert_close(gm(x), model(x), **TOL)


@pytest.mark.parametrize("name, kind", CASES, ids=[f"{m}-{d}" for m, d in CASES])
def test_both_runtimes_match_eager(rt, compiled, name, kind):
    model, gm, inputs = compiled(name, kind)
    engines = _engines(gm)
    assert all(e.record.engine_kind == KIND_SIMULATED for e in engines)
    for runtime in ("python", "cpp", "python"):
        for e in engines:
            e.set_runtime(runtime)
            assert e.runtime == runtime
        before = _cpp_hook.calls[_cpp_hook.EXECUTE]
        _check(model, gm, inputs)
        ran_in_cpp = _cpp_hook.calls[_cpp_hook.EXECUTE] - before
        # On the C++ path every engine call went through execute_engine -> the stand-in -> the simulator.
        assert ran_in_cpp == (len(engines) * len(inputs) if runtime == "cpp" else 0)
        if runtime == "cpp":
            assert all(isinstance(e.engine, torch.ScriptObject) for e in engines)


def test_cpp_input_checks_apply_to_simulated_engines(rt, compiled):
    model, gm, _ = compiled("mlp", "dynamic")
    (engine,) = _engines(gm)
    engine.set_runtime("cpp")
    with pytest.raises(RuntimeError, match=r"dimension 0 is 17, outside the engine's range \[1, 16\]"):
        gm(torch.randn(MAX_BATCH + 1, 64))
    with pytest.raises(RuntimeError, match="has dtype torch.float64 but the engine expects torch.float32"):
        gm(torch.randn(2, 64, dtype=torch.float64))


def test_cpp_without_simulator_says_so(rt, compiled):
    model, gm, inputs = compiled("mlp", "static")
    (engine,) = _engines(gm)
    engine.set_runtime("cpp")
    _cpp_hook.uninstall()
    try:
        with pytest.raises(RuntimeError, match="needs a simulator and none is registered"):
            gm(inputs[0])
    finally:
        assert _cpp_hook.install()
    _check(model, gm, inputs)


def test_real_runtime_still_refuses_compiled_simulated_records(rt, compiled):
    _, gm, _ = compiled("mlp", "static")
    record = _engines(gm)[0].record.to_tensor()
    with pytest.raises(ValueError, match=r"built under torch_tensorrt.testing.simulate\(\); cannot run on a real"):
        torch.ops.tensorrt.check_record(record, real_runtime=True)
    torch.ops.tensorrt.check_record(record, real_runtime=False)


def _run(tmp_path, code: str, library: str | None) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([cpp_build.REPO, os.environ.get("PYTHONPATH", "")]))
    env[_cpp.ENV_VAR] = library or str(tmp_path / "no-such-library.so")
    # torch_tensorrt.testing registers the simulated engine kind (and the stand-in's simulator) in the process
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import torch, torch_tensorrt, torch_tensorrt.testing\ntorch_tensorrt.testing.allow_simulated_engines()\n"
            + code,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


LOAD_AND_CHECK = """
from torch_tensorrt import runtime
runtime.set_runtime({runtime!r})
saved = torch.load('models.pt', weights_only=False)
for key, (gm, inputs, expected) in saved.items():
    engines = [m for m in gm.modules() if isinstance(m, runtime.TorchTensorRTModule)]
    assert engines and all(e.runtime == {runtime!r} for e in engines), (key, [e.runtime for e in engines])
    with torch.no_grad():
        for x, y in zip(inputs, expected):
            torch.testing.assert_close(gm(x), y, rtol=1e-4, atol=1e-4)
    print('ok', key)
"""


@pytest.mark.parametrize("saved_on, loaded_on", [("python", "cpp"), ("cpp", "python")])
def test_save_and_load_in_a_fresh_process_on_the_other_runtime(rt, compiled, tmp_path, saved_on, loaded_on):
    bundle = {}
    for name in MODELS:
        model, gm, inputs = compiled(name, "dynamic")
        for e in _engines(gm):
            e.set_runtime(saved_on)
        with torch.no_grad():
            expected = [model(x) for x in inputs]
            for x, y in zip(inputs, expected):
                torch.testing.assert_close(gm(x), y, **TOL)
        bundle[name] = (gm, inputs, expected)
    torch.save(bundle, tmp_path / "models.pt")
    library = rt.runtime_library if loaded_on == "cpp" else None
    out = _run(tmp_path, LOAD_AND_CHECK.format(runtime=loaded_on), library)
    assert sorted(line.split()[1] for line in out.splitlines() if line.startswith("ok ")) == sorted(MODELS)
