"""What save and load refuse or warn about: simulated engines outside simulate(), torch.compile()d modules,
engines built for something else (versions, flavour, platform), damaged files; and ir="ts"."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import testing
from torch_tensorrt._serialization import SerializationError, load, save
from torch_tensorrt.runtime import TorchTensorRTModule, _compat
from torch_tensorrt.runtime._engine import EngineExecutionError
from torch_tensorrt.runtime._record import EngineRecord
from torch_tensorrt.testing._engines import graph_module, matmul_relu_module


class _Program(torch.nn.Module):
    def __init__(self, engine: torch.nn.Module) -> None:
        super().__init__()
        self._run_on_acc_0 = engine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run_on_acc_0(x + 1) * 2


@pytest.fixture
def no_opt_in():
    """Withdraw the suite's opt-in: simulated engines run only inside simulate() again."""
    previous = testing.allow_simulated_engines(False)
    yield
    testing.allow_simulated_engines(previous)


@pytest.fixture(scope="module")
def program():
    engine, w = matmul_relu_module()
    return graph_module(_Program(engine)), (lambda x: torch.relu((x + 1) @ w) * 2)


# ------------------------------------------------------------------------------------ simulated engines
def test_simulated_engine_runs_only_inside_simulate(program, no_opt_in):
    gm, fn = program
    x = torch.randn(3, 4)
    with pytest.raises(
        EngineExecutionError,
        match=r"engine 'matmul_relu' \(engine kind 'simulated'\) cannot run "
        r"now: it was compiled under torch_tensorrt.testing.simulate\(\).*cannot run on TensorRT",
    ):
        gm(x)
    with testing.simulate():
        torch.testing.assert_close(gm(x), fn(x))
    testing.allow_simulated_engines(True)  # the explicit opt-in
    torch.testing.assert_close(gm(x), fn(x))


def test_simulated_engine_refused_on_the_cpp_path_too(program, rt, no_opt_in):
    engine, w = matmul_relu_module(name="on_cpp")
    engine.set_runtime("cpp")
    x = torch.randn(2, 4)
    with pytest.raises(RuntimeError, match=r"engine 'on_cpp' \(engine kind 'simulated'\) cannot run now"):
        engine(x)
    with testing.simulate():
        torch.testing.assert_close(engine(x), torch.relu(x @ w))


def test_saved_simulated_program_refused_in_a_fresh_process(program, tmp_path):
    gm, _ = program
    save(gm, tmp_path / "sim.ep", arg_inputs=[torch.randn(3, 4)])
    code = (
        "import torch, torch_tensorrt, torch_tensorrt.testing\n"
        "m = torch_tensorrt.load('sim.ep').module()  # loading is fine: nothing runs\n"
        "m(torch.randn(3, 4))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "engine 'matmul_relu' (engine kind 'simulated') cannot run now: it was compiled under" in out.stderr


def test_save_refuses_simulated_engines_outside_simulate(program, tmp_path, no_opt_in):
    gm, _ = program
    target = tmp_path / "sim.ep"
    with pytest.raises(SerializationError, match=r"engine 'matmul_relu' is of kind 'simulated'.*allow_simulated=True"):
        save(gm, target, arg_inputs=[torch.randn(3, 4)])
    assert not target.exists() and os.listdir(tmp_path) == []
    save(gm, target, arg_inputs=[torch.randn(3, 4)], allow_simulated=True)
    with testing.simulate():
        save(gm, tmp_path / "inside.ts", output_format="torchscript", arg_inputs=[torch.randn(3, 4)])
    assert target.exists() and (tmp_path / "inside.ts").exists()


# ------------------------------------------------------------------------------------------ torch.compile
def test_save_of_a_torch_compiled_module_points_to_the_aot_path(tmp_path):
    compiled = torch.compile(torch.nn.Linear(2, 2), backend="eager")
    with pytest.raises(SerializationError, match=r"torch.compile\(\)d module.*ir='dynamo'.*torch_tensorrt.save"):
        save(compiled, tmp_path / "jit.ep", arg_inputs=[torch.randn(1, 2)])
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------------------------- versions
def _with(record: EngineRecord, **changes) -> torch.Tensor:
    values = EngineRecord.from_bytes(record.to_bytes())
    for k, v in changes.items():
        setattr(values, k, v)
    return values.to_tensor()


def _real_engine_module() -> TorchTensorRTModule:
    """A module holding a real TensorRT(-RTX) plan built here (never run)."""
    module, _ = matmul_relu_module(build=True, name="real")
    rec = module.record
    meta = dict(rec.metadata, engine_kind="tensorrt", network=None)
    return TorchTensorRTModule(
        rec.engine,
        rec.input_binding_names,
        rec.output_binding_names,
        name="real",
        metadata=meta,
        settings=torch_tensorrt.dynamo.CompilationSettings(use_python_runtime=True),
    )


def test_records_carry_the_versions():
    record = _real_engine_module().record
    from torch_tensorrt import _trt
    from torch_tensorrt._version import __version__

    assert record.torchtrt_version == __version__ and record.metadata["torch_version"] == torch.__version__
    assert (record.trt_flavour, record.trt_version) == (_trt.info().flavour, _trt.info().version)
    assert record.target_platform == _compat.this_platform()
    assert "version_compatible" in record.metadata["settings"] and record.engine_kind == "tensorrt"


def test_version_mismatch_warns_once_per_artifact(tmp_path, caplog):
    module = _real_engine_module()
    record = EngineRecord.from_bytes(module.record.to_bytes())
    record.torchtrt_version = "0.0.1"
    record.metadata = dict(record.metadata, torch_version="2.0.0")
    with torch_tensorrt.runtime.runtime("python"):  # a real plan: never handed to the stand-in C++ runtime
        old = TorchTensorRTModule()
        old.set_extra_state({"version": 1, "name": "real", "record": record.to_tensor(), "weight_name_map": None})
        gm = graph_module(_Program(old))
        save(gm, tmp_path / "old.ep", arg_inputs=[torch.randn(3, 4)])
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="torch_tensorrt"):
            load(tmp_path / "old.ep")
    warnings = [r.getMessage() for r in caplog.records if "was built with" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert str(tmp_path / "old.ep") in warnings[0]
    assert "engine 'real' was built with torch_tensorrt 0.0.1, torch 2.0.0" in warnings[0]
    assert f"(here: torch_tensorrt {torch_tensorrt.__version__}, torch {torch.__version__})" in warnings[0]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"trt_flavour": "tensorrt"}, r"built with TensorRT .*, this process uses TensorRT-RTX"),
        ({"target_platform": "win32_amd64"}, r"built for platform win32_amd64, this is "),
        ({"trt_version": "0.9.0"}, r"built with TensorRT-RTX 0.9.0, this process uses .* not version-compatible"),
    ],
)
def test_incompatible_engine_is_refused_on_load(tmp_path, change, message):
    record = EngineRecord.from_bytes(_real_engine_module().record.to_bytes())
    for k, v in change.items():
        setattr(record, k, v)
    state = {"version": 1, "name": "real", "record": record.to_tensor(), "weight_name_map": None}
    # a real plan, on the Python runtime (the C++ runtime checks its own library when it installs a record)
    with (
        torch_tensorrt.runtime.runtime("python"),
        pytest.raises(_compat.EngineCompatibilityError, match=r"engine 'real' cannot run here: it was " + message),
    ):
        TorchTensorRTModule().set_extra_state(state)


def test_version_compatible_engine_from_an_older_tensorrt_only_warns(caplog):
    record = EngineRecord.from_bytes(_real_engine_module().record.to_bytes())
    from torch_tensorrt import _trt

    major = _trt.info().version.split(".")[0]
    record.trt_version = f"{major}.0.0"
    record.metadata = dict(record.metadata, settings=dict(record.metadata["settings"], version_compatible=True))
    caplog.clear()
    with torch_tensorrt.runtime.runtime("python"), caplog.at_level(logging.WARNING, logger="torch_tensorrt"):
        TorchTensorRTModule().set_extra_state({"version": 1, "name": "real", "record": record.to_tensor()})
    assert any(f"{major}.0.0 (version-compatible)" in r.getMessage() for r in caplog.records)


def test_incompatible_gpu_is_refused_when_gpus_are_visible(monkeypatch):
    record = EngineRecord.from_bytes(_real_engine_module().record.to_bytes())
    record.device_capability = "8.6"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=0: (9, 0))
    with pytest.raises(
        _compat.EngineCompatibilityError, match=r"built for SM 8.6; no GPU here is compatible \(0: SM 9.0\)"
    ):
        _compat.check_records([record], "x.ep")
    record.hardware_compatible = True  # Ampere-plus engines run on SM 9.0
    _compat.check_records([record], "x.ep")


# ----------------------------------------------------------------------------------------------- bad files
def _truncate(path, tmp_path, name):
    bad = tmp_path / name
    data = path.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    return bad


@pytest.mark.parametrize("fmt, suffix", [("exported_program", "ep"), ("torchscript", "ts")])
def test_truncated_and_corrupted_files_are_named(program, tmp_path, fmt, suffix):
    gm, _ = program
    good = tmp_path / f"good.{suffix}"
    save(gm, good, output_format=fmt, arg_inputs=[torch.randn(3, 4)])
    bad = _truncate(good, tmp_path, f"half.{suffix}")
    with pytest.raises(SerializationError, match=rf"{bad.name}"):
        load(bad)
    flipped = tmp_path / f"flipped.{suffix}"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith((".json", "data.pkl")))
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + o : info.header_offset + o + 2], "little") for o in (26, 28)
    )
    start = info.header_offset + 30 + name_len + extra_len  # the member's stored bytes
    data[start : start + 16] = b"\x00" * 16
    flipped.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=rf"{flipped.name}"):
        load(flipped)


def test_missing_engine_constant_and_newer_abi_are_named(program, tmp_path):
    gm, _ = program
    ep = torch.export.export(gm, (torch.randn(3, 4),), strict=False)
    name = next(iter(ep.constants))
    blob = ep.constants.pop(name)
    from torch_tensorrt._serialization import validate_exported_program

    with pytest.raises(
        SerializationError, match=r"x.ep: engine node 'execute_engine_python': its engine blob constant is missing"
    ):
        validate_exported_program(ep, "x.ep")
    from torch_tensorrt.runtime._record_frame import frame

    fields = EngineRecord.from_tensor(blob).to_fields()
    fields[0] = b"99"
    ep.constants[name] = torch.frombuffer(frame(fields), dtype=torch.uint8)
    with pytest.raises(SerializationError, match=r"x.ep: .*record ABI 99 is newer than this runtime"):
        validate_exported_program(ep, "x.ep")


def test_truncated_pt2_and_engine_files_are_named(tmp_path):
    bad = tmp_path / "model.pt2"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    with pytest.raises(SerializationError, match="model.pt2"):
        load(bad)
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"\x00" * 64)
    with pytest.raises(SerializationError, match=r"model.engine.*not a PyTorch archive"):
        load(engine)


# ------------------------------------------------------------------------------------------------ ir="ts"
class _Small(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ x.transpose(0, 1)) + 1.0


def test_ir_ts_needs_the_cpp_runtime(tmp_path):
    """Without the C++ runtime (a fresh process, whatever this one loaded): one clear error, before compiling."""
    script = (
        "import torch, torch_tensorrt\n"
        "try:\n"
        "    torch_tensorrt.compile(torch.nn.ReLU(), ir='ts', arg_inputs=[torch.randn(4, 4)])\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    env = dict(os.environ, TORCHTRT_RUNTIME_LIBRARY=str(tmp_path / "none.so"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ir='ts'" in out.stdout and "C++ runtime" in out.stdout and "not available" in out.stdout, out.stdout


def test_ir_ts_round_trip_in_a_fresh_process(rt, tmp_path):
    dyn = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(4, 4), max_shape=(8, 4))
    with testing.simulate():
        ts = torch_tensorrt.compile(_Small(), ir="ts", arg_inputs=[dyn], min_block_size=1)
    assert isinstance(ts, torch.jit.ScriptModule)
    code = "\n".join(m.code for _, m in ts.named_modules() if hasattr(m, "code"))  # EngineWeights has no forward
    assert "ops.tensorrt.execute_engine(" in code
    torch.jit.save(ts, str(tmp_path / "trt_model.ts"))
    torch.save({b: torch.randn(b, 4) for b in (1, 4, 8)}, tmp_path / "x.pt")
    script = (
        "import torch, torch_tensorrt, torch_tensorrt.testing\n"
        "m = torch.jit.load('trt_model.ts')  # import torch_tensorrt loaded the C++ runtime\n"
        "with torch_tensorrt.testing.simulate():\n"
        "    for b, x in torch.load('x.pt').items():\n"
        "        torch.testing.assert_close(m(x), torch.relu(x @ x.t()) + 1.0)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, TORCHTRT_RUNTIME_LIBRARY=rt.runtime_library)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
