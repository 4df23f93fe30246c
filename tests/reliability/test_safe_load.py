"""The defects of issue 9, one test each: hostile files refused (and proof that they would run code), strict format
detection, checksums, install-time validation of .ts records, no engine aliasing, materialized inputs, the
C++-runtime .ep, save errors naming the target, temporaries of killed writers removed."""

from __future__ import annotations

import struct
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime import _plan_pack
from torch_tensorrt.runtime._record import Field
from torch_tensorrt.runtime._record_frame import unframe
from torch_tensorrt._errors import SerializationError
from torch_tensorrt._serialization import save
from torch_tensorrt.runtime import TorchTensorRTModule

import _fuzz_worker as W
from _fuzz_cases import HOSTILE, Context, hostile_case, make_zip, zip_members


@pytest.fixture(scope="module")
def art(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifacts")
    info = W.build_artifacts(str(out), with_cpp=False)
    os.makedirs(out / "cases")
    ctx = Context({n: (out / n).read_bytes() for n in info["files"]}, info["record"], str(out / "cases"))
    return out, ctx


EXPECTED_REFUSAL = {
    "use_pickle_constant": "constant 'evil' (member py/data/constants/tensor_9) is stored as a pickle (use_pickle)",
    "use_pickle_weight": "weight 'evil' (member py/data/weights/weight_9) is stored as a pickle (use_pickle)",
    "sample_inputs": "member py/data/sample_inputs/model.pt (sample inputs) does not load with weights_only=True",
    "opaque_object": "is an opaque object, which torch loads with pickle.loads",
    "so_member": "does not belong to an ExportedProgram archive",
    "aoti_so": "is an AOTInductor package: loading it loads native code from the file (py/data/aotinductor/model/evil.so)",
    "sympy_eval": "is not a symbolic shape expression (torch would eval it with sympify)",
    "guards_exec": "guards_code[0]",
    "target": "is not an operator (torch would resolve it to an arbitrary callable)",
    "pickle_module": "is a torch.save pickle of a whole module, and unpickling runs code from the file",
    "ts_global": "refers to 'builtins.exec', which unpickling would import and call",
    "custom_obj_class": "member py/data/constants/custom_obj_0:archive/data.pkl refers to",
    "legacy_ep": "is a torch.export archive of the pre-2.8 format",
}


@pytest.mark.parametrize("variant", HOSTILE)
def test_hostile_files_are_refused_naming_the_member(art, variant):
    _, ctx = art
    case = hostile_case(ctx, random.Random(1), variant)
    with pytest.raises(SerializationError) as err:
        torch_tensorrt.load(case["path"])
    assert repr(case["path"]) in str(err.value) and EXPECTED_REFUSAL[variant] in str(err.value), str(err.value)
    assert "trust_code=True" in str(err.value)
    assert not os.path.exists(case["marker"])


def test_the_refused_files_do_run_code_when_trusted(art):
    """What the refusals prevent: with trust_code=True (documented as running code from the file) torch runs the
    payloads. In one fresh process, so that nothing they do outlives the test."""
    _, ctx = art
    variants = ["use_pickle_constant", "opaque_object", "sample_inputs", "guards_exec"]
    cases = {v: hostile_case(ctx, random.Random(2), v) for v in variants}
    code = (
        "import torch, torch_tensorrt, torch_tensorrt.testing\ntorch_tensorrt.testing.allow_simulated_engines(True)\n"
        + "".join(
            "try:\n"
            f"    torch_tensorrt.load({c['path']!r}, trust_code=True).module()(torch.randn(3, 4), torch.randn(3, 4))\n"
            "except Exception:\n"
            "    pass\n"
            for c in cases.values()
        )
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=600)
    ran = {v: os.path.exists(c["marker"]) for v, c in cases.items()}
    assert all(ran.values()), f"payloads that did not run even when trusted: {ran}"


def test_a_pt2_with_an_extra_so_member_is_not_an_aoti_package(art, tmp_path):
    """Detection is by layout: a genuine .ep plus one `.so` member is an ExportedProgram with a foreign member."""
    out, ctx = art
    members = zip_members(ctx.artifacts["py.ep"]) + [("py/evil.so", b"\x7fELF")]
    path = tmp_path / "extra.ep"
    path.write_bytes(make_zip(members))
    assert torch_tensorrt._serialization.detect_format(str(path)) == "exported_program"
    with pytest.raises(SerializationError, match=r"member py/evil\.so does not belong to an ExportedProgram archive"):
        torch_tensorrt.load(path)


def _replace_in_member(data: bytes, suffix: str, old: bytes, new: bytes) -> bytes:
    members = zip_members(data)
    i = next(i for i, (n, _) in enumerate(members) if n.endswith(suffix))
    assert old in members[i][1] and len(old) == len(new)
    members[i] = (members[i][0], members[i][1].replace(old, new, 1))
    return make_zip(members)  # CRCs recomputed: only the record's own checks can notice


def test_engine_bit_flip_is_caught_by_the_checksum(art, tmp_path):
    _, ctx = art
    blob = zip_members(ctx.artifacts["py.ep"])[
        [n for n, _ in zip_members(ctx.artifacts["py.ep"])].index("py/data/constants/tensor_0")
    ][1]
    field = bytes(unframe(blob, [f.name for f in Field])[Field.ENGINE])
    packing = _plan_pack.unpack(field, "")[1]
    assert packing == _plan_pack.stored(packing.plan_size)
    at = _plan_pack._HEAD.size + _plan_pack._CHUNK.size  # the packed field's one stored chunk: the plan verbatim
    engine = field[at : at + 32]
    flipped = bytes([engine[0] ^ 0x20]) + engine[1:]  # other plan bytes, a well-framed record
    path = tmp_path / "flipped.ep"
    path.write_bytes(_replace_in_member(ctx.artifacts["py.ep"], "data/constants/tensor_0", engine, flipped))
    with pytest.raises(
        SerializationError, match=r"flipped\.ep.*engine 'pair': field SHA256: the engine bytes do not match"
    ):
        torch_tensorrt.load(path)


def test_torchscript_records_are_validated_at_load(art, tmp_path):
    _, ctx = art
    path = tmp_path / "bad.ts"
    one = struct.pack("<Q", 1)  # the framed DEVICE_ID field after NAME: length 1, "0"
    path.write_bytes(
        _replace_in_member(ctx.artifacts["py.ts"], "constants/2", b"pair" + one + b"0", b"pair" + one + b"x")
    )
    with pytest.raises(SerializationError) as err:
        torch_tensorrt.load(path)  # at load, not at the first forward
    assert "bad.ts" in str(err.value) and "engine 'pair': field DEVICE_ID must be an integer" in str(err.value)


def test_corrupted_zip_is_a_clean_error(art, tmp_path):
    _, ctx = art
    path = tmp_path / "cut.ep"
    path.write_bytes(ctx.artifacts["py.ep"][: len(ctx.artifacts["py.ep"]) // 2])
    with pytest.raises(SerializationError, match=r"cut\.ep' is a corrupted zip archive"):
        torch_tensorrt.load(path)


def test_engines_are_identified_by_content_not_by_a_key_from_the_file(tmp_path):
    """Two programs whose engine_info carries the same key run their own engines (formerly the second ran the
    first one's engine)."""
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.testing._engines import graph_module

    x, y = W.std_inputs()
    a, b = W.pair_engine(seed=1), W.pair_engine(seed=2)
    want_a, want_b = graph_module(W._Program(a))(x, y), graph_module(W._Program(b))(x, y)
    save(graph_module(W._Program(a)), tmp_path / "a.ep", arg_inputs=[x, y])
    save(graph_module(W._Program(b)), tmp_path / "b.ep", arg_inputs=[x, y])
    key_a = _execute_op.parse_info(a._info)["key"].encode()
    key_b = _execute_op.parse_info(b._info)["key"].encode()
    data_b = (tmp_path / "b.ep").read_bytes()
    members = zip_members(data_b)
    members = [(n, c.replace(key_b, key_a) if n.endswith("model.json") else c) for n, c in members]
    (tmp_path / "b_with_a_key.ep").write_bytes(make_zip(members))
    torch.save({"x": x, "y": y, "a": list(want_a), "b": list(want_b)}, tmp_path / "io.pt")
    code = (
        "import torch, torch_tensorrt, torch_tensorrt.testing\n"  # the engines are simulated: run under simulate()
        "io = torch.load('io.pt')\n"
        "with torch_tensorrt.testing.simulate():\n"
        "    a = torch_tensorrt.load('a.ep').module()(io['x'], io['y'])\n"
        "    b = torch_tensorrt.load('b_with_a_key.ep').module()(io['x'], io['y'])\n"
        "for got, want in ((a, io['a']), (b, io['b'])):\n"
        "    for g, w in zip(got, want): torch.testing.assert_close(g, w)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-3000:]
    # In-process too: a blob run under another live module's key gets its own engine.
    out = torch.ops.tensorrt.execute_engine_python([x + 1, y], b._blob, a._info)
    torch.testing.assert_close(out[0], b(x + 1, y)[0])


@pytest.mark.parametrize("runtime", ["python", "cpp"])
def test_neg_conj_and_strided_inputs_are_materialized(art, runtime, request):
    if runtime == "cpp":
        request.getfixturevalue("rt")
    out, _ = art
    module = TorchTensorRTModule()
    module.load_state_dict(torch.load(out / "sd.pt", weights_only=True))
    if runtime == "cpp":
        module.set_runtime("cpp")
    x, y = W.std_inputs()
    want = module(x, y)
    for xv, yv in [
        (torch._neg_view(-x), y),
        (x, torch._neg_view(-y)),
        (x.t().contiguous().t(), y[:, :]),
        (torch.stack([x, 2 * x], 2)[:, :, 0], y),
        (x.contiguous(memory_format=torch.contiguous_format), y.t().contiguous().t()),
    ]:
        got = module(xv, yv)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w)
    with pytest.raises(Exception, match="engine 'pair'.*complex64"):
        module(x.to(torch.complex64).conj(), y)


def test_cpp_runtime_exported_program_loads(rt, tmp_path):
    from torch_tensorrt.testing._engines import graph_module

    with torch_tensorrt.runtime.runtime("cpp"):
        engine = W.pair_engine()
    assert engine.runtime == "cpp"
    x, y = W.std_inputs()
    gm = graph_module(W._Program(engine))
    save(gm, tmp_path / "cpp.ep", arg_inputs=[x, y])
    ep = torch_tensorrt.load(tmp_path / "cpp.ep")
    for g, w in zip(ep.module()(x, y), gm(x, y)):
        torch.testing.assert_close(g, w)


def test_save_errors_name_the_target_not_the_temporary(art, tmp_path, monkeypatch):
    out, _ = art
    from torch_tensorrt.testing._engines import graph_module

    gm = graph_module(W._Program(W.pair_engine()))

    def failing(ep, path):
        raise RuntimeError(f"could not write {path}: device full")

    monkeypatch.setattr(torch.export, "save", failing)
    target = tmp_path / "m.ep"
    with pytest.raises(RuntimeError) as err:
        save(gm, target, arg_inputs=list(W.std_inputs()))
    assert str(target) in str(err.value) and ".tmp" not in str(err.value)
    assert os.listdir(tmp_path) == []


def test_temporaries_of_killed_writers_are_removed_by_the_next_save(tmp_path):
    from torch_tensorrt._io import atomic_write_bytes

    target = tmp_path / "m.ep"
    code = (
        "import os, sys, time\n"
        "from torch_tensorrt._io import atomic_write\n"
        "def slow(tmp):\n"
        "    open(tmp, 'wb').write(b'partial'); print('writing', flush=True); time.sleep(120)\n"
        f"atomic_write({str(target)!r}, slow)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p for p in os.listdir(tmp_path) if p.startswith(".m.ep.")]
    assert left and not target.exists()
    legacy = tmp_path / ".m.abcd1234.tmp.ep"  # the naming before this change (no PID): removed once old
    legacy.write_bytes(b"partial")
    os.utime(legacy, (time.time() - 3600, time.time() - 3600))
    alive = tmp_path / f".m.ep.{os.getppid()}-live.tmp"  # a writer that is still running: left alone
    alive.mkdir()
    atomic_write_bytes(str(target), b"complete")
    assert target.read_bytes() == b"complete"
    assert sorted(os.listdir(tmp_path)) == sorted(["m.ep", alive.name])


def test_recorded_enums_come_from_an_explicit_table():
    from torch_tensorrt.testing._recording import RecordingError, enum_member

    assert enum_member("ActivationType", "RELU", "here").name == "RELU"
    for type_name, member in [
        ("Runtime", "x"),
        ("ActivationType", "__class__"),
        ("__builtins__", "eval"),
        ("DataType", "__reduce__"),
        (["x"], "RELU"),
        ("ActivationType", None),
    ]:
        with pytest.raises(RecordingError, match="here: unknown enum value"):
            enum_member(type_name, member, "here")
