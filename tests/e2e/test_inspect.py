"""``torchtrt inspect``: every artifact kind, read without running code from the file, and corrupted files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import cli
from torch_tensorrt._serialization import save
from torch_tensorrt.runtime import _plan_pack
from torch_tensorrt.runtime._record import Field
from torch_tensorrt.runtime._record_frame import MAGIC, frame, unframe
from torch_tensorrt.testing import simulate
from torch_tensorrt.tools.inspect_file import InspectError, inspect_file


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.lin(x)) + 1.0


DYN = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(4, 4), max_shape=(16, 4))
X = torch.randn(4, 4)


def _compile(**settings):
    ep = torch.export.export(Net().eval(), (X,), dynamic_shapes=({0: torch.export.Dim("b", min=1, max=16)},))
    return torch_tensorrt.dynamo.compile(ep, [DYN], min_block_size=1, **settings)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """name -> (path, engine kind, weights stripped). Real engines come from the CPU builder (TensorRT-RTX),
    simulated ones from testing.simulate(); stripped engines need the simulated builder on a GPU-less machine."""
    d = tmp_path_factory.mktemp("artifacts")
    real = _compile()
    with simulate():
        sim = _compile()
        stripped = _compile(strip_engine_weights=True, immutable_weights=False)
    out = {}
    save(real, d / "real.ep", arg_inputs=[DYN])
    out["real.ep"] = (d / "real.ep", "tensorrt", False)
    save(sim, d / "sim.ep", arg_inputs=[DYN])
    out["sim.ep"] = (d / "sim.ep", "simulated", False)
    save(sim, d / "sim.pt2", arg_inputs=[DYN])  # the PT2 archive of an ExportedProgram
    out["sim.pt2"] = (d / "sim.pt2", "simulated", False)
    save(stripped, d / "stripped.ep", arg_inputs=[DYN])
    out["stripped.ep"] = (d / "stripped.ep", "simulated", True)
    save(sim, d / "sim.ts", output_format="torchscript", arg_inputs=[X])
    out["sim.ts"] = (d / "sim.ts", "simulated", False)
    torch.save(real, d / "real_module.pt")
    out["real_module.pt"] = (d / "real_module.pt", "tensorrt", False)
    torch.save(stripped.state_dict(), d / "stripped_state.pt")
    out["stripped_state.pt"] = (d / "stripped_state.pt", "simulated", True)
    return out


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("real.ep", "exported_program"),
        ("sim.ep", "exported_program"),
        ("sim.pt2", "exported_program"),
        ("stripped.ep", "exported_program"),
        ("sim.ts", "torchscript"),
        ("real_module.pt", "pickle"),
        ("stripped_state.pt", "pickle"),
    ],
)
def test_inspect_every_saved_kind(artifacts, name, fmt):
    path, kind, stripped = artifacts[name]
    result = inspect_file(str(path))
    assert result.format == fmt and result.size == path.stat().st_size
    (engine,) = result.engines
    assert engine.name == "_run_on_acc_0" and engine.kind == kind
    assert engine.weights_stripped is stripped and engine.refittable is stripped
    assert engine.hardware_compatible is False and engine.version_compatible is False
    assert engine.precision == "float32" and engine.checksum.startswith("ok")
    assert engine.trt.startswith("tensorrt") and engine.torchtrt_version == torch_tensorrt.__version__
    (x, out) = engine.bindings
    assert (x.name, x.kind, x.dtype, x.min, x.opt, x.max) == ("x", "input", "float32", "1x4", "4x4", "16x4")
    assert out.kind == "output" and out.max == "16x4"
    assert len(engine.sha256) == 64 and engine.plan_bytes > 1000
    assert result.versions["torch_tensorrt"] == torch_tensorrt.__version__
    if fmt == "exported_program":
        assert result.versions["torch"] == torch.__version__


def test_plan_hash_is_the_engine_bytes_hash(artifacts):
    gm = torch.load(artifacts["real_module.pt"][0], weights_only=False)  # our own file, in the test only
    plan = gm._run_on_acc_0.record.engine
    assert inspect_file(str(artifacts["real.ep"][0])).engines[0].sha256 == hashlib.sha256(plan).hexdigest()


def test_raw_engine_file(tmp_path):
    engine = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(
        torch.export.export(Net(), (X,)), [X]
    )
    path = tmp_path / "net.engine"
    path.write_bytes(engine)
    result = inspect_file(str(path))
    assert result.format == "tensorrt_plan" and result.versions["TensorRT flavour (plan magic)"] == "tensorrt_rtx"
    (e,) = result.engines
    assert e.plan_bytes == len(engine) and e.sha256 == hashlib.sha256(engine).hexdigest() and not e.bindings
    assert any("no torch_tensorrt record" in n for n in result.notes)


@pytest.mark.skipif(
    not os.environ.get("TORCHTRT_SLOW_TESTS"), reason="AOTInductor compiles C++ (~2 min); set TORCHTRT_SLOW_TESTS=1"
)
def test_aot_inductor_package(tmp_path):
    with simulate():
        gm = torch_tensorrt.dynamo.compile(torch.export.export(Net(), (X,)), [X], min_block_size=1)
    save(gm, tmp_path / "net.pt2", output_format="aot_inductor", arg_inputs=[X])
    result = inspect_file(str(tmp_path / "net.pt2"))
    assert result.format == "aot_inductor"
    (e,) = result.engines
    assert e.name == "_run_on_acc_0" and e.kind == "simulated" and e.member.endswith(".so")


def test_cli_json_and_table(artifacts, capsys):
    path = str(artifacts["stripped.ep"][0])
    assert cli.main(["inspect", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "exported_program" and data["engines"][0]["weights_stripped"] is True
    assert data["engines"][0]["bindings"][0]["max"] == "16x4"
    assert cli.main(["inspect", path]) == 0
    text = capsys.readouterr().out
    assert "engine _run_on_acc_0" in text and "weights stripped: yes" in text and "checksum: ok" in text


def test_inspect_runs_no_code_from_the_file_and_needs_no_tensorrt(tmp_path):
    """A pickle whose unpickling would run a command: inspect reads it and nothing runs; TensorRT is never
    imported (no runtime, no GPU)."""
    marker = tmp_path / "pwned"
    script = tmp_path / "check.py"
    script.write_text(
        "import os, sys, torch\n"
        "class Evil:\n"
        f"    def __reduce__(self): return (os.system, ('touch {marker}',))\n"
        f"torch.save({{'payload': Evil()}}, {str(tmp_path / 'evil.pt')!r})\n"
        "from torch_tensorrt.tools.inspect_file import inspect_file\n"
        f"r = inspect_file({str(tmp_path / 'evil.pt')!r})\n"
        "print(r.format, len(r.engines), sorted(m for m in sys.modules if m.split('.')[0] in ('tensorrt', 'tensorrt_rtx')))\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "pickle 0 []"
    assert not marker.exists()


def _rewrite_member(src: Path, dst: Path, suffix: str, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, change(data) if info.filename.endswith(suffix) else data)


def _flip_first_engine_byte(data: bytes) -> bytes:
    """``data`` (a framed record) with the first byte of its plan changed, the plan packed again: a well-framed
    record with a valid packed plan, only not the plan its SHA-256 is of."""
    fields = [bytes(f) for f in unframe(data, [f.name for f in Field])]
    plan = bytearray(_plan_pack.unpack(fields[Field.ENGINE], "")[0])
    plan[0] ^= 1
    fields[Field.ENGINE] = b"".join(bytes(p) for p in _plan_pack.pieces(plan, _plan_pack.pack(plan)))
    return bytes(frame(fields))


def test_corrupted_files_are_clear_errors(artifacts, tmp_path):
    good = artifacts["sim.ep"][0]
    cases = {}
    trunc = tmp_path / "truncated.ep"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases[trunc] = "truncated or corrupted (its central directory is missing)"
    garbage = tmp_path / "garbage.engine"
    garbage.write_bytes(b"\x00\x01not an engine")
    cases[garbage] = "neither a PyTorch zip archive nor a TensorRT plan"
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    cases[empty] = "(empty file)"
    cut_blob = tmp_path / "cut_blob.ep"
    _rewrite_member(good, cut_blob, "tensor_0", lambda d: d[: len(d) // 2])
    cases[cut_blob] = "the engine record is not complete (truncated or corrupted)"
    bad_crc = tmp_path / "bad_crc.ep"
    data = bytearray(good.read_bytes())
    at = data.find(MAGIC) + 40
    assert at > 40, "the engine record is stored uncompressed in the archive"
    data[at : at + 4] = b"AAAA" if data[at : at + 4] != b"AAAA" else b"BBBB"
    bad_crc.write_bytes(bytes(data))
    cases[bad_crc] = "cannot be read (Bad CRC-32"
    flipped = tmp_path / "flipped_engine.ep"  # a well-framed record, other plan bytes: only the SHA-256 can tell
    _rewrite_member(good, flipped, "tensor_0", _flip_first_engine_byte)
    cases[flipped] = "field SHA256: the engine bytes do not match their checksum"
    bad_pickle = tmp_path / "bad_pickle.pt"
    _rewrite_member(artifacts["stripped_state.pt"][0], bad_pickle, "data.pkl", lambda d: d[: len(d) // 3])
    cases[bad_pickle] = "the pickle is corrupted"
    for path, message in cases.items():
        with pytest.raises(InspectError) as info:
            inspect_file(str(path))
        assert str(info.value).startswith(f"{path}: ") and message in str(info.value), (path, str(info.value))
    assert cli.main(["inspect", str(tmp_path / "missing.ep")]) == 1


def test_cli_error_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.ep"
    bad.write_bytes(b"PK\x03\x04 broken")
    res = subprocess.run(
        [sys.executable, "-m", "torch_tensorrt.cli", "inspect", str(bad)], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert (
        res.stderr.strip()
        == f"torchtrt inspect: {bad}: a zip archive that is truncated or corrupted (its central directory is missing)"
    )


def test_simulated_engine_inspected_where_its_kind_is_not_registered(artifacts, tmp_path):
    """A process that never imported torch_tensorrt.testing refuses to *run* simulated engines, but inspects them;
    the kind is registered only while the record decodes."""
    script = tmp_path / "check.py"
    script.write_text(
        "from torch_tensorrt.runtime._kinds import is_registered\n"
        "from torch_tensorrt.tools.inspect_file import inspect_file\n"
        f"r = inspect_file({str(artifacts['sim.ep'][0])!r})\n"
        "print(r.engines[0].kind, is_registered('simulated'))\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "simulated False"
