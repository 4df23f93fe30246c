"""The C++ runtime (runtime_cpp, libtorchtrt_runtime.so) seen from Python, built against the stand-in TensorRT.

A session fixture builds tests/cpp (incrementally, into build/cpp-tests); a module fixture loads the library
through ``TORCHTRT_RUNTIME_LIBRARY`` and the loader, and reports the C++ runtime unavailable again afterwards
so that later tests keep choosing the Python runtime. With a GPU the stand-in and the runtime work on CUDA
(device memory, the caller's stream, events, graph capture: the ``cuda_`` tests); without one (CI) engines run
on host memory with CPU tensors (see runtime_cpp/include/torchtrt/trt.h).
"""

from __future__ import annotations

import copy
import ctypes
import io
import os
import pickle
import shutil
import subprocess
import sys

import pytest
import torch

from torch_tensorrt.runtime import _plan_pack
from torch_tensorrt.runtime._record import ABI_VERSION, EngineRecord, Field, RecordError
from torch_tensorrt.runtime._record_frame import frame
from torch_tensorrt.testing._simulate import KIND_SIMULATED

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

pytestmark = pytest.mark.cpp
DEVICE = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def on(t: torch.Tensor) -> torch.Tensor:
    """``t`` on the device the engines run on here."""
    return t.to(DEVICE)


# Outputs before inputs and inputs in the opposite order of the record: the runtime must go by name.
ADDER_PLAN = """torchtrt-fake-plan 1
name adder
output out float32 scale_add x y 2
input y float32 1x2 2x2 4x8
input x float32 1x2 2x2 4x8
output pos float32 positives x
"""


def record(plan: str = ADDER_PLAN, inputs=("x", "y"), outputs=("out", "pos"), **kw) -> list[str]:
    return cpp_build.stand_in_record(plan, inputs, outputs, **kw)


@pytest.fixture
def fake(rt):
    """The stand-in's test C API (tests/cpp/fake_tensorrt/include/torchtrt_fake_tensorrt.h) via ctypes."""
    lib = ctypes.CDLL(rt.fake_library)
    lib.torchtrt_fake_enqueue_count.restype = ctypes.c_int64
    lib.torchtrt_fake_live_objects.restype = ctypes.c_int64
    lib.torchtrt_fake_last_enqueue_stream.restype = ctypes.c_ssize_t
    yield lib
    lib.torchtrt_fake_set_enqueue_hook(None, None)


def test_cpp_unit_tests(cpp_build_dir):
    proc = subprocess.run(
        ["ctest", "--output-on-failure"],
        cwd=cpp_build_dir.build_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "100% tests passed" in proc.stdout


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs binutils' nm")
def test_libraries_carry_no_private_libstdcxx(cpp_build_dir):
    """The runtime (and the stand-in) bind to the process's shared libstdc++: no code of libstdc++ itself is
    linked into them (cmake/SharedLibstdcxx.cmake says why; a private copy crashed formatting error messages)."""
    for lib in (cpp_build_dir.runtime_library, cpp_build_dir.fake_library):
        symbols = subprocess.run(["nm", "-C", "--defined-only", lib], capture_output=True, text=True).stdout
        for marker in ("std::locale::classic()", "std::ios_base::Init::Init()", "read_utf8_code_point"):
            assert marker not in symbols, f"{lib} defines libstdc++'s {marker}"


def test_field_names_and_abi_mirror_python(rt):
    assert torch.ops.tensorrt.record_field_names() == [f.name for f in Field]
    assert torch.ops.tensorrt.abi_version() == ABI_VERSION


def test_engine_accessors(rt):
    e = torch.classes.tensorrt.Engine(record())
    assert e.name() == "adder"
    assert e.input_binding_names() == ["x", "y"]
    assert e.output_binding_names() == ["out", "pos"]
    assert torch.equal(e.serialize(), record())
    assert bytes(e.serialize().numpy()).find(b"torchtrt-fake-plan 1\n") > 0  # the plan verbatim, not base64
    assert e.engine_kind() == "tensorrt"
    assert e.device_id() == 0
    assert not e.requires_output_allocator()
    assert e.device() == str(DEVICE)
    assert (
        e.describe()
        == f"Engine(name='adder', inputs=['x', 'y'], outputs=['out', 'pos'], device={DEVICE}, kind=tensorrt)"
    )
    flat = e.__obj_flatten__()
    assert flat == (("serialized_info", EngineRecord.from_tensor(record()).to_header()),)


def test_execute_outputs_and_binding_order(rt, fake):
    e = torch.classes.tensorrt.Engine(record())
    x = on(torch.arange(-3.0, 9.0).reshape(3, 4))
    y = on(torch.full((3, 4), 0.25))
    before = fake.torchtrt_fake_enqueue_count()
    out, pos = torch.ops.tensorrt.execute_engine([x, y], e)
    assert fake.torchtrt_fake_enqueue_count() == before + 1
    torch.testing.assert_close(out, x * 2 + y)
    torch.testing.assert_close(pos, x[x > 0])  # data-dependent shape through IOutputAllocator
    # Records listing the same engine's bindings in another order get inputs and outputs in that order.
    e2 = torch.classes.tensorrt.Engine(record(inputs=("y", "x"), outputs=("pos", "out")))
    pos2, out2 = torch.ops.tensorrt.execute_engine([y, x], e2)
    torch.testing.assert_close(out2, out)
    torch.testing.assert_close(pos2, pos)


@pytest.mark.parametrize("rows", [1, 3, 4])
def test_dynamic_shapes(rt, rows):
    e = torch.classes.tensorrt.Engine(record())
    x, y = on(torch.randn(rows, 8)), on(torch.randn(rows, 8))
    out, pos = torch.ops.tensorrt.execute_engine([x, y], e)
    torch.testing.assert_close(out, x * 2 + y)
    torch.testing.assert_close(pos, x[x > 0])


def test_requires_output_allocator_record(rt):
    plan = "torchtrt-fake-plan 1\ninput a int64 1 3 8\noutput b int64 scale_add a a 3\n"
    e = torch.classes.tensorrt.Engine(record(plan, ("a",), ("b",), requires_output_allocator=True))
    assert e.requires_output_allocator()
    a = on(torch.arange(6))
    (b,) = torch.ops.tensorrt.execute_engine([a], e)
    assert torch.equal(b, a * 4) and b.dtype == torch.int64 and b.device == DEVICE


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([torch.ones(2, 2)], "engine 'adder' expects 2 input(s) ('x', 'y'), got 1"),
        ([torch.ones(2, 2)] * 3, "engine 'adder' expects 2 input(s) ('x', 'y'), got 3"),
        (
            [torch.ones(2, 2), torch.ones(2, 2, dtype=torch.float16)],
            "engine 'adder': input 1 ('y') has dtype torch.float16 but the engine expects torch.float32",
        ),
        (
            [torch.ones(2), torch.ones(2, 2)],
            "engine 'adder': input 0 ('x') has shape [2] of rank 1 but the engine expects rank 2",
        ),
        (
            [torch.ones(5, 2), torch.ones(5, 2)],
            "engine 'adder': input 0 ('x') has shape [5, 2]: dimension 0 is 5, outside the engine's range [1, 4] "
            "(profile min [1, 2], max [4, 8])",
        ),
        (
            [torch.ones(2, 2), torch.ones(2, 2, device="meta")],
            "engine 'adder': input 1 ('y') is on meta; a TensorRT engine runs on real tensors",
        ),
    ],
    ids=["too-few", "too-many", "dtype", "rank", "range", "device"],
)
def test_input_errors(rt, inputs, message):
    e = torch.classes.tensorrt.Engine(record())
    inputs = [t if t.device.type == "meta" else on(t) for t in inputs]
    with pytest.raises(RuntimeError) as info:
        torch.ops.tensorrt.execute_engine(inputs, e)
    assert message in str(info.value)


def _fields() -> list:
    return EngineRecord.from_tensor(record()).to_fields()


def _framed(fields: list) -> torch.Tensor:
    data = frame([f.encode() if isinstance(f, str) else f for f in fields])
    return torch.frombuffer(data, dtype=torch.uint8) if data else torch.empty(0, dtype=torch.uint8)


def _corrupt(field: Field, value: str | bytes) -> torch.Tensor:
    r = _fields()
    r[field] = value.encode() if isinstance(value, str) else value
    return _framed(r)


def _packed(plan: bytes) -> bytes:
    """``plan`` as an ABI 4 ``ENGINE`` field (one stored chunk)."""
    return b"".join(_plan_pack.pieces(plan, _plan_pack.stored(len(plan))))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(_framed(_fields()[:5]), id="truncated"),
        pytest.param(_framed(_fields() + [b"extra"]), id="too-many-fields"),
        pytest.param(record()[:-3], id="truncated-frame"),
        pytest.param(_corrupt(Field.ABI_VERSION, str(int(ABI_VERSION) + 1)), id="newer-abi"),
        pytest.param(_corrupt(Field.ABI_VERSION, "0"), id="older-abi"),
        pytest.param(_corrupt(Field.ABI_VERSION, "v1"), id="abi-not-a-number"),
        pytest.param(_corrupt(Field.ENGINE, _packed(b"@@@@")), id="engine-bytes-not-matching-the-checksum"),
        pytest.param(_corrupt(Field.ENGINE, ADDER_PLAN), id="engine-not-packed"),
        pytest.param(_corrupt(Field.ENGINE, _packed(b"@@@@")[:-1]), id="engine-packing-truncated"),
        pytest.param(_corrupt(Field.ABI_VERSION, "3"), id="abi3-engine-packed"),
        pytest.param(_corrupt(Field.ENGINE, ""), id="engine-empty"),
        pytest.param(_corrupt(Field.DEVICE_ID, "cuda:0"), id="device-id"),
        pytest.param(_corrupt(Field.HW_COMPATIBLE, "true"), id="bad-flag"),
        pytest.param(_corrupt(Field.REQUIRES_OUTPUT_ALLOCATOR, "2"), id="bad-flag-2"),
        pytest.param(_corrupt(Field.SERIALIZED_METADATA, "!!"), id="metadata"),
        pytest.param(_corrupt(Field.INPUT_BINDING_NAMES, "x\x1f"), id="empty-binding-name"),
        pytest.param(_corrupt(Field.ENGINE_KIND, "onnx"), id="engine-kind"),
        pytest.param(_framed([]), id="empty"),
    ],
)
def test_bad_records_give_the_python_message(rt, bad):
    with pytest.raises(RecordError) as py:
        EngineRecord.from_tensor(bad)
    with pytest.raises(ValueError) as cpp:
        torch.classes.tensorrt.Engine(bad)
    with pytest.raises(ValueError) as check:
        torch.ops.tensorrt.check_record(bad)
    # The same words on both runtimes (tests/reliability/test_bad_records.py runs the whole shared table).
    assert str(cpp.value).startswith(str(py.value)), (str(cpp.value), str(py.value))
    assert str(check.value).startswith(str(py.value))


def test_abi3_records_run_and_are_saved_as_abi4(rt):
    """An ABI 3 record (``ENGINE`` the plan raw) is still read; serialize() writes it as ABI 4."""
    fields = _fields()
    fields[Field.ABI_VERSION] = b"3"
    fields[Field.ENGINE] = ADDER_PLAN.encode()
    e = torch.classes.tensorrt.Engine(_framed(fields))
    x, y = on(torch.randn(2, 2)), on(torch.randn(2, 2))
    torch.testing.assert_close(torch.ops.tensorrt.execute_engine([x, y], e)[0], x * 2 + y)
    saved = EngineRecord.from_tensor(e.serialize())
    assert saved.abi_version == ABI_VERSION == "4"
    assert torch.equal(e.serialize(), record())  # what Python writes for the same record


def test_binding_mismatch(rt):
    with pytest.raises(RuntimeError, match="the record lists input binding 'z' but the TensorRT engine has no such"):
        torch.classes.tensorrt.Engine(record(inputs=("x", "z")))
    with pytest.raises(RuntimeError, match="the TensorRT engine has output 'pos' that the record does not list"):
        torch.classes.tensorrt.Engine(record(outputs=("out",)))


def test_undeserializable_plan(rt):
    with pytest.raises(
        RuntimeError,
        match=r"engine 'adder': TensorRT could not deserialize the engine .*"
        r"TensorRT said: .*not a stand-in TensorRT plan",
    ):
        torch.classes.tensorrt.Engine(record(plan="\x00\x01garbage"))


def test_simulated_records(rt):
    sim = record(engine_kind=KIND_SIMULATED)
    # What a real TensorRT build does (the check the real build runs in the Engine constructor):
    with pytest.raises(
        ValueError,
        match=r"engine 'adder': built under torch_tensorrt.testing.simulate\(\); "
        r"cannot run on a real TensorRT runtime",
    ):
        torch.ops.tensorrt.check_record(sim, real_runtime=True)
    torch.ops.tensorrt.check_record(sim, real_runtime=False)
    torch.ops.tensorrt.check_record(record(), real_runtime=True)
    # The stand-in build plays the simulated runtime's part and accepts it.
    assert torch.classes.tensorrt.Engine(sim).engine_kind() == "simulated"


def test_pickle_round_trip(rt):
    e = torch.classes.tensorrt.Engine(record())
    for clone in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert torch.equal(clone.serialize(), e.serialize())
        x, y = on(torch.randn(2, 2)), on(torch.randn(2, 2))
        torch.testing.assert_close(torch.ops.tensorrt.execute_engine([x, y], clone)[0], x * 2 + y)


class _Holder(torch.nn.Module):
    def __init__(self, rec: list[str]):
        super().__init__()
        self.engine = torch.classes.tensorrt.Engine(rec)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        return torch.ops.tensorrt.execute_engine([x, y], self.engine)


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:FutureWarning")
def test_jit_script_and_save(rt, tmp_path):
    scripted = torch.jit.script(_Holder(record()))
    x, y = on(torch.randn(3, 2)), on(torch.randn(3, 2))
    torch.testing.assert_close(scripted(x, y)[0], x * 2 + y)
    path = tmp_path / "holder.ts"
    torch.jit.save(scripted, str(path))
    loaded = torch.jit.load(str(path))
    out, pos = loaded(x, y)
    torch.testing.assert_close(out, x * 2 + y)
    torch.testing.assert_close(pos, x[x > 0])
    assert torch.equal(loaded.engine.serialize(), record())


def test_torch_save_of_module_and_engine(rt):
    buf = io.BytesIO()
    torch.save({"engine": torch.classes.tensorrt.Engine(record())}, buf)
    buf.seek(0)
    engine = torch.load(buf, weights_only=False)["engine"]
    assert torch.equal(engine.serialize(), record())


def test_enqueue_hook_from_python(rt, fake):
    """The stand-in calls a registered hook from enqueueV3 (how a Python simulated runtime can compute outputs)."""
    HOOK = ctypes.CFUNCTYPE(
        ctypes.c_int32,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int32,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.POINTER(ctypes.c_int32),
        ctypes.POINTER(ctypes.c_int32),
        ctypes.POINTER(ctypes.c_int32),
        ctypes.POINTER(ctypes.c_int64),
        ctypes.POINTER(ctypes.c_void_p),
    )
    seen = []

    def hook(user, plan, n, names, is_input, dtypes, nb_dims, dims, addrs):
        tensors = {}
        for i in range(n):
            shape = [dims[i * 8 + d] for d in range(nb_dims[i])]
            numel = int(torch.tensor(shape).prod()) if shape else 1
            buf = (ctypes.c_float * numel).from_address(addrs[i])
            tensors[names[i].decode()] = torch.frombuffer(buf, dtype=torch.float32).view(shape)
        seen.append((plan.decode(), sorted(tensors)))
        tensors["o"].copy_(tensors["i"].sin())
        return 0

    callback = HOOK(hook)
    fake.torchtrt_fake_set_enqueue_hook(callback, None)
    plan = "torchtrt-fake-plan 1\nname sine\ninput i float32 1 2 4\noutput o float32 hook i\n"
    e = torch.classes.tensorrt.Engine(record(plan, ("i",), ("o",), name="sine"))
    i = on(torch.tensor([0.0, 1.0, 2.0]))
    (o,) = torch.ops.tensorrt.execute_engine([i], e)
    torch.testing.assert_close(o, i.sin())
    assert seen == [("sine", ["i", "o"])]


def test_engines_release_tensorrt_objects(rt, fake):
    live = fake.torchtrt_fake_live_objects()
    e = torch.classes.tensorrt.Engine(record())
    torch.ops.tensorrt.execute_engine([on(torch.ones(1, 2)), on(torch.ones(1, 2))], e)
    assert fake.torchtrt_fake_live_objects() == live + 3  # runtime, engine, execution context
    del e
    assert fake.torchtrt_fake_live_objects() == live


def test_export_lifts_the_engine(rt, caplog):
    """torch.export with the Python fake class/kernel (runtime/_execute_op.py) and save/load; the fake class
    implements every method of the C++ class (torch warns about each one it lacks)."""
    from torch_tensorrt.runtime import _execute_op
    from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec

    spec = dict(dtype="float32", shape=["s0", 2], min=[1, 2], opt=[2, 2], max=[4, 2])
    meta = EngineMetadata(
        inputs=[TensorSpec("x", **spec), TensorSpec("y", **spec)],
        outputs=[TensorSpec("out", "float32", ["s0", 2])],
        symbols={"s0": ["x", 0]},
    ).to_json()
    plan = (
        "torchtrt-fake-plan 1\ninput x float32 1x2 2x2 4x8\ninput y float32 1x2 2x2 4x8\n"
        "output out float32 scale_add x y 2\n"
    )
    assert _execute_op.register_cpp_fakes()
    module = _Holder(record(plan, ("x", "y"), ("out",), metadata=meta))
    x, y = on(torch.randn(2, 2)), on(torch.randn(2, 2))
    with caplog.at_level("WARNING", logger="torch._library.fake_class_registry"):
        ep = torch.export.export(module, (x, y), strict=False)
    assert not [r.getMessage() for r in caplog.records if "doesn't implement method" in r.getMessage()]
    assert any(n.target is torch.ops.tensorrt.execute_engine.default for n in ep.graph.nodes)
    buf = io.BytesIO()
    torch.export.save(ep, buf)
    buf.seek(0)
    loaded = torch.export.load(buf)
    torch.testing.assert_close(loaded.module()(x, y)[0], x * 2 + y)


def test_loader_without_library_never_raises():
    """In a fresh process: importing the loader touches no CUDA; a missing library gives False and a reason."""
    code = (
        "import os, torch\n"
        "os.environ['TORCHTRT_RUNTIME_LIBRARY'] = '/nonexistent/libtorchtrt_runtime.so'\n"
        "from torch_tensorrt.runtime import _cpp\n"
        "assert not torch.cuda.is_initialized()\n"
        "assert _cpp.load() is False and _cpp.is_available() is False\n"
        "assert '/nonexistent/libtorchtrt_runtime.so' in _cpp.reason(), _cpp.reason()\n"
        "assert not torch.cuda.is_initialized()\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout


def test_stand_in_headers_refused_by_a_release_build(tmp_path):
    """Compiling the runtime against tests/cpp/fake_tensorrt without TORCHTRT_FAKE_TENSORRT is an #error, so a
    misconfigured TENSORRT_ROOT cannot produce a release library backed by the stand-in."""
    cxx = os.environ.get("CXX") or "c++"
    cuda_include = "/usr/local/cuda/include"
    if cpp_build.missing_tools() or not os.path.exists(os.path.join(cuda_include, "cuda_runtime_api.h")):
        pytest.skip("needs a C++ compiler and the CUDA headers")
    repo = cpp_build.REPO
    cmd = [
        cxx,
        "-std=c++20",
        "-fsyntax-only",
        f"-I{repo}/runtime_cpp/include",
        f"-I{repo}/tests/cpp/fake_tensorrt/include",
        f"-I{cuda_include}",
        f"{repo}/runtime_cpp/src/trt.cpp",
    ]
    release = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert release.returncode != 0 and "compiled against the stand-in TensorRT headers" in release.stdout
    test_build = subprocess.run(
        cmd + ["-DTORCHTRT_FAKE_TENSORRT=1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert test_build.returncode == 0, test_build.stdout
