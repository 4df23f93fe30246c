"""torch_tensorrt.save / load and torch.save of compiled programs, checked in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._serialization import SerializationError, detect_format, load, save, validate_exported_program
from torch_tensorrt.testing._engines import graph_module, matmul_relu_module


class _Program(torch.nn.Module):
    """A compiled program's shape: PyTorch ops around an engine submodule."""

    def __init__(self, engine: torch.nn.Module) -> None:
        super().__init__()
        self._run_on_acc_0 = engine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run_on_acc_0(x + 1) * 2


@pytest.fixture(scope="module")
def program():
    engine, w = matmul_relu_module()
    gm = graph_module(_Program(engine))
    return gm, (lambda x: torch.relu((x + 1) @ w) * 2)


def _run_fresh(tmp_path, code: str, *, testing: bool = True, ok: bool = True) -> str:
    """Run ``code`` in a fresh process; ``testing``: import torch_tensorrt.testing first (it registers the
    simulated engine kind the engines here are of). Returns stdout (``ok``) or stderr (``ok=False``)."""
    script = tmp_path / "check.py"
    script.write_text(
        "import torch, torch_tensorrt\n"
        + ("import torch_tensorrt.testing\ntorch_tensorrt.testing.allow_simulated_engines()\n" if testing else "")
        + code
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if not ok:
        assert out.returncode != 0, out.stdout
        return out.stderr
    assert out.returncode == 0, out.stderr[-4000:]
    return out.stdout


def _save_io(tmp_path, fn):
    x = torch.randn(5, 4)
    torch.save({"x": x, "x3": x[:3].clone(), "y": fn(x), "y3": fn(x[:3])}, tmp_path / "io.pt")


CHECK = (
    "io = torch.load('io.pt')\n"
    "torch.testing.assert_close(m(io['x']), io['y'])\n"
    "torch.testing.assert_close(m(io['x3']), io['y3'])\n"
    "print('ok')\n"
)


def test_torch_save_of_graph_module_in_fresh_process(program, tmp_path):
    gm, fn = program
    _save_io(tmp_path, fn)
    torch.save(gm, tmp_path / "gm.pt")
    assert _run_fresh(tmp_path, "m = torch.load('gm.pt', weights_only=False)\n" + CHECK).strip() == "ok"
    assert detect_format(str(tmp_path / "gm.pt")) == "pickle"
    with pytest.raises(SerializationError, match="allow_pickle=True"):
        load(tmp_path / "gm.pt")


def test_simulated_engine_without_testing_is_refused_naming_the_engine(program, tmp_path):
    """The simulated kind is registered by torch_tensorrt.testing: a process that never imported it refuses the
    engine with an error naming the engine and the kind (and never hands the plan to TensorRT)."""
    gm, _ = program
    torch.save(gm, tmp_path / "gm.pt")
    err = _run_fresh(tmp_path, "torch.load('gm.pt', weights_only=False)\n", testing=False, ok=False)
    assert "RecordError: engine 'matmul_relu': unknown engine kind 'simulated'" in err
    assert "registered engine kinds in this process: tensorrt. A 'simulated' plan is not a TensorRT plan" in err


def test_exported_program_dynamic_in_fresh_process(program, tmp_path):
    gm, fn = program
    _save_io(tmp_path, fn)
    dyn = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))
    save(gm, tmp_path / "gm.ep", arg_inputs=[dyn])
    assert detect_format(str(tmp_path / "gm.ep")) == "exported_program"
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]  # the temporary file was moved into place
    code = "ep = torch_tensorrt.load('gm.ep')\nm = ep.module()\n" + CHECK
    assert _run_fresh(tmp_path, code).strip() == "ok"
    ep = load(tmp_path / "gm.ep")
    assert validate_exported_program(ep) == 1


def test_exported_program_with_explicit_dynamic_shapes(program, tmp_path):
    gm, fn = program
    batch = torch.export.Dim("batch", min=1, max=8)
    save(gm, str(tmp_path / "gm2.ep"), arg_inputs=[torch.randn(3, 4)], dynamic_shapes=({0: batch},))
    m = load(tmp_path / "gm2.ep").module()
    x = torch.randn(7, 4)
    torch.testing.assert_close(m(x), fn(x))


def test_torchscript_in_fresh_process(program, tmp_path):
    gm, fn = program
    _save_io(tmp_path, fn)
    save(gm, tmp_path / "gm.ts", output_format="torchscript", arg_inputs=[torch.randn(5, 4)])
    assert detect_format(str(tmp_path / "gm.ts")) == "torchscript"
    assert _run_fresh(tmp_path, "m = torch_tensorrt.load('gm.ts')\n" + CHECK).strip() == "ok"


def test_state_dict_in_fresh_process(program, tmp_path):
    gm, fn = program
    _save_io(tmp_path, fn)
    torch.save(gm._run_on_acc_0.state_dict(), tmp_path / "sd.pt")
    code = (
        "from torch_tensorrt.runtime import TorchTensorRTModule\n"
        "e = TorchTensorRTModule()\n"
        "e.load_state_dict(torch.load('sd.pt', weights_only=False))\n"
        "class P(torch.nn.Module):\n"
        "    def __init__(s): super().__init__(); s.e = e\n"
        "    def forward(s, x): return s.e(x + 1) * 2\n"
        "m = P()\n" + CHECK
    )
    assert _run_fresh(tmp_path, code).strip() == "ok"


def test_save_errors_leave_nothing_behind(program, tmp_path, monkeypatch):
    gm, _ = program
    target = tmp_path / "keep.ep"
    target.write_bytes(b"previous")
    with pytest.raises(ValueError, match="output_format must be one of"):
        save(gm, target, output_format="onnx")
    with pytest.raises(ValueError, match="arg_inputs"):
        save(gm, target)
    with pytest.raises(Exception, match=r"input 'x' has shape \(3, 5\), the engine expects \['s0', 4\]"):
        save(gm, target, arg_inputs=[torch.randn(3, 5)])  # the fake kernel checks the engine's inputs

    def partial_then_fail(ep, path):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch.export, "save", partial_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save(gm, target, arg_inputs=[torch.randn(3, 4)])
    assert target.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["keep.ep"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(gm, tmp_path / "missing_dir" / "m.ep", arg_inputs=[torch.randn(3, 4)])


def test_load_validates(program, tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.ep")
    bad = tmp_path / "bad.ep"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SerializationError, match="not a zip file"):
        load(bad)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(SerializationError, match="no known PyTorch format"):
        load(other)


def test_load_rejects_corrupted_engine_record(program, tmp_path):
    gm, _ = program
    ep = torch.export.export(gm, (torch.randn(3, 4),), strict=False)
    name = next(iter(ep.constants))
    ep.constants[name] = torch.tensor(list(b'["9"]'), dtype=torch.uint8)  # a record from a newer ABI
    with pytest.raises(SerializationError, match="newer than this runtime"):
        validate_exported_program(ep, "x.ep")


def test_exported_program_object_is_saved_as_is(program, tmp_path):
    gm, fn = program
    ep = torch.export.export(gm, (torch.randn(3, 4),), strict=False)
    save(ep, tmp_path / "ep.pt2")
    x = torch.randn(3, 4)
    torch.testing.assert_close(load(tmp_path / "ep.pt2").module()(x), fn(x))


def test_refit_helper_decodes_then_needs_gpu():
    import base64

    from torch_tensorrt.dynamo._refit import get_engine_from_encoded_engine

    with pytest.raises(ValueError, match="not valid base64"):
        get_engine_from_encoded_engine("@@@")
    with pytest.raises(ValueError, match="empty"):
        get_engine_from_encoded_engine("")
    if not torch.cuda.is_available():
        engine, _ = matmul_relu_module(build=True)
        with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
            get_engine_from_encoded_engine(base64.b64encode(engine.record.engine).decode())


def test_compiled_program_round_trip_in_fresh_process(tmp_path):
    """A program compiled under simulate(): torch_tensorrt.save as an ExportedProgram, load in a new process."""
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
    from torch_tensorrt.testing import simulate

    class M(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x @ x.t()) + 1.0

    x = torch.randn(4, 4)
    with simulate():
        gm = torch_tensorrt.dynamo.compile(torch.export.export(M(), (x,)), [x], min_block_size=1)
    assert any(isinstance(m, TorchTensorRTModule) for m in gm.modules()), "compile produced no engine"
    _save_io_static = {"x": x, "y": M()(x)}
    torch.save(_save_io_static, tmp_path / "io.pt")
    save(gm, tmp_path / "compiled.ep", arg_inputs=[x])
    code = (
        "io = torch.load('io.pt')\n"
        "m = torch_tensorrt.load('compiled.ep').module()\n"
        "torch.testing.assert_close(m(io['x']), io['y'])\n"
        "print('ok')\n"
    )
    assert _run_fresh(tmp_path, code).strip() == "ok"
    # torch.save pickles the module: compile's GraphModule must not carry ep.module()'s lambda forward hooks
    torch.save(gm, tmp_path / "compiled.pt")
    code = (
        "io = torch.load('io.pt')\n"
        "g = torch.load('compiled.pt', weights_only=False)\n"
        "torch.testing.assert_close(g(io['x']), io['y'])\n"
        "print('ok')\n"
    )
    assert _run_fresh(tmp_path, code).strip() == "ok"


# The AOTInductor round trip runs in the default suite: tests/runtime/test_save_matrix.py (pt2 cells).
