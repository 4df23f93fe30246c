"""The C++ runtime's execution paths that depend on the device: shape tensors, aligned copies, load-time checks
(everywhere) and, with a GPU, the caller's stream, the side stream of default-stream callers, CUDA graph capture
of a module on the C++ runtime and device selection.

The runtime is the build against the stand-in TensorRT (tests/cpp). On a machine with a GPU the stand-in works
with CUDA (device memory, copies on the stream enqueueV3 is given, tests/cpp/fake_tensorrt/src/fake_cuda.h) and
the runtime's real CUDA code runs: device count and selection, CUDAGuard, stream lookup, events, allocations and
the output allocator. ``torchtrt_fake_last_enqueue_stream`` tells which stream TensorRT was given.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import warnings

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec
from torch_tensorrt.runtime._record import EngineRecord

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

pytestmark = pytest.mark.cpp
DEVICE = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

ADDER = """torchtrt-fake-plan 1
name adder
output out float32 scale_add x y 2
input y float32 1x2 2x2 4x8
input x float32 1x2 2x2 4x8
output pos float32 positives x
"""
GRAPHED = """torchtrt-fake-plan 1
input x float32 2x4 2x4 2x4
input y float32 2x4 2x4 2x4
output out float32 scale_add x y 3
output c float32 copy x
"""
DYNAMIC = """torchtrt-fake-plan 1
input x float32 1x4 2x4 8x4
input y float32 1x4 2x4 8x4
output out float32 scale_add x y 3
output c float32 copy x
"""
RESHAPER = """torchtrt-fake-plan 1
input x float32 1x6 2x6 4x6
input s int64 2 2 2 shape
output r float32 reshape x s
"""


def record(plan: str = ADDER, inputs=("x", "y"), outputs=("out", "pos"), **kw) -> list[str]:
    return cpp_build.stand_in_record(plan, inputs, outputs, **kw)


def graphed_module(**record_kw):
    """A TorchTensorRTModule on the C++ runtime holding the GRAPHED stand-in engine."""
    from torch_tensorrt.runtime import TorchTensorRTModule

    module = TorchTensorRTModule(name="graphed")
    with torch_tensorrt.runtime.runtime("cpp"):
        module.set_extra_state(
            {
                "version": 1,
                "name": "graphed",
                "weight_name_map": None,
                "record": record(GRAPHED, ("x", "y"), ("out", "c"), name="graphed", **record_kw),
            }
        )
    return module


def on(t: torch.Tensor) -> torch.Tensor:
    return t.to(DEVICE)


@pytest.fixture
def fake(rt):
    lib = ctypes.CDLL(rt.fake_library)
    lib.torchtrt_fake_last_enqueue_stream.restype = ctypes.c_ssize_t
    lib.torchtrt_fake_cuda_mode.restype = ctypes.c_int32
    return lib


def test_stand_in_mode_matches_the_machine(fake):
    assert fake.torchtrt_fake_cuda_mode() == int(torch.cuda.is_available())
    assert torch.classes.tensorrt.Engine(record()).device() == str(DEVICE)


def test_shape_tensor_inputs(rt):
    e = torch.classes.tensorrt.Engine(record(RESHAPER, ("x", "s"), ("r",), name="reshaper"))
    x = on(torch.arange(12.0).reshape(2, 6))
    (r,) = torch.ops.tensorrt.execute_engine([x, torch.tensor([3, 4])], e)  # a host tensor, as TensorRT reads it
    assert r.device == DEVICE and torch.equal(r, x.reshape(3, 4))
    (r,) = torch.ops.tensorrt.execute_engine([x, on(torch.tensor([4, 3]))], e)  # on the device: copied to the host
    assert torch.equal(r, x.reshape(4, 3))
    with pytest.raises(
        RuntimeError,
        match=r"engine 'reshaper': TensorRT could not infer the output shapes; "
        r"TensorRT said: .*'s' for 12 elements of 'x'",
    ):
        torch.ops.tensorrt.execute_engine([x, torch.tensor([5, 3])], e)


def test_misaligned_input_is_copied(rt):
    e = torch.classes.tensorrt.Engine(record())
    base = on(torch.randn(17))
    x = base[1:].view(2, 8)  # 4 bytes into its storage: TensorRT wants 256-byte aligned device addresses
    y = on(torch.randn(2, 8))
    assert x.is_contiguous() and x.data_ptr() % 256 != 0
    out, pos = torch.ops.tensorrt.execute_engine([x, y], e)
    torch.testing.assert_close(out, x * 2 + y)
    torch.testing.assert_close(pos, x[x > 0])


def _record_fields(**changes) -> torch.Tensor:
    r = EngineRecord.from_tensor(record())
    for k, v in changes.items():
        setattr(r, k, v)
    return r.to_tensor()


def test_load_time_checks(rt):
    here = torch.ops.tensorrt.runtime_version()
    with pytest.raises(
        RuntimeError,
        match=rf"engine 'adder' was built with TensorRT-RTX 1.7.1.116 but this runtime "
        rf"is TensorRT {here}; TensorRT-RTX engines run only on a TensorRT-RTX",
    ):
        torch.classes.tensorrt.Engine(_record_fields(trt_flavour="tensorrt_rtx", trt_version="1.7.1.116"))
    with pytest.raises(RuntimeError, match=rf"built with TensorRT 99.1.0, newer than this runtime's TensorRT {here}"):
        torch.classes.tensorrt.Engine(_record_fields(trt_flavour="tensorrt", trt_version="99.1.0"))
    with pytest.raises(RuntimeError, match=r"was built for platform win32_amd64 but this is linux_"):
        torch.classes.tensorrt.Engine(_record_fields(target_platform="win32_amd64"))
    same = _record_fields(
        trt_flavour="tensorrt", trt_version=here, target_platform=f"{sys.platform}_{platform.machine().lower()}"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.classes.tensorrt.Engine(same)


# ------------------------------------------------------------------------------------------------ CUDA only
@needs_cuda
def test_cuda_callers_stream(rt, fake):
    e = torch.classes.tensorrt.Engine(record())
    x, y = on(torch.randn(2, 8)), on(torch.randn(2, 8))
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out, pos = torch.ops.tensorrt.execute_engine([x, y], e)
        assert fake.torchtrt_fake_last_enqueue_stream() == side.cuda_stream
        assert out.device == DEVICE and pos.device == DEVICE  # the output allocator's buffer too
    side.synchronize()
    torch.testing.assert_close(out, x * 2 + y)
    torch.testing.assert_close(pos, x[x > 0])


@needs_cuda
def test_cuda_default_stream_runs_on_a_side_stream(rt, fake):
    assert torch.cuda.current_stream() == torch.cuda.default_stream()
    e = torch.classes.tensorrt.Engine(record(GRAPHED, ("x", "y"), ("out", "c"), name="graphed"))
    for _ in range(3):
        x = on(torch.randn(2, 4))
        y = on(torch.randn(2, 4))
        out, c = torch.ops.tensorrt.execute_engine([x, y], e)
        used = fake.torchtrt_fake_last_enqueue_stream()
        assert used not in (0, torch.cuda.default_stream().cuda_stream)
        # Work the caller then queues on the default stream sees the results: no synchronization by the caller.
        torch.testing.assert_close((out + c).cpu(), (x * 4 + y).cpu())


@needs_cuda
def test_cuda_graph_capture_of_a_cpp_runtime_module(rt, fake):
    module = graphed_module()
    assert module.runtime == "cpp"
    x, y = on(torch.randn(2, 4)), on(torch.randn(2, 4))
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):  # warm-up outside the capture, as torch.cuda.graph's documentation asks
            module(x, y)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out, c = module(x, y)
    for _ in range(3):
        x.copy_(torch.randn(2, 4))
        y.copy_(torch.randn(2, 4))
        graph.replay()
        torch.testing.assert_close(out, x * 3 + y)
        torch.testing.assert_close(c, x)
    # An engine with data-dependent outputs refuses the capture with a reason instead of recording garbage.
    e = torch.classes.tensorrt.Engine(record())
    a, b = on(torch.randn(2, 8)), on(torch.randn(2, 8))
    torch.ops.tensorrt.execute_engine([a, b], e)
    bad = torch.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="output 'pos' has a data-dependent shape"):
        with torch.cuda.graph(bad):
            torch.ops.tensorrt.execute_engine([a, b], e)


@needs_cuda
def test_cuda_per_engine_graphs_record_replay_rerecord(rt, fake):
    """Per-engine CUDA graphs in the C++ runtime, captured for real (ATen's CUDAGraph around the stand-in's
    stream-ordered launches): one graph per shape set, replays read new input values, outputs are new tensors,
    default-stream callers and other streams are ordered, and leaving the mode frees the graphs."""
    from torch_tensorrt import runtime

    e = torch.classes.tensorrt.Engine(record(DYNAMIC, ("x", "y"), ("out", "c"), name="dynamic"))
    runtime.set_cudagraphs_mode(True)
    try:
        kept = []
        for batch in (2, 2, 2, 4, 2, 4):
            x, y = on(torch.randn(batch, 4)), on(torch.randn(batch, 4))
            out, c = torch.ops.tensorrt.execute_engine([x, y], e)
            kept.append((out, c, x * 3 + y, x))
        recorded, replays, entries = e.cuda_graph_stats()
        assert (recorded, replays, entries) == (2, 4, 2)  # a graph per shape set, replayed afterwards
        assert len({out.data_ptr() for out, *_ in kept}) == len(kept)  # new output tensors every call
        for out, c, want_out, want_c in kept:  # read on the default stream without synchronizing
            torch.testing.assert_close(out, want_out)
            torch.testing.assert_close(c, want_c)
        # A replay on another stream, then an eager call on the default stream: ordered by the engine's event.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        x, y = on(torch.randn(2, 4)), on(torch.randn(2, 4))
        with torch.cuda.stream(side):
            out, _ = torch.ops.tensorrt.execute_engine([x, y], e)
        torch.cuda.current_stream().wait_stream(side)
        torch.testing.assert_close(out, x * 3 + y)
        assert e.cuda_graph_stats()[1] == 5
    finally:
        runtime.set_cudagraphs_mode(False)
    assert e.cuda_graph_stats()[2] == 0  # leaving the mode freed the graphs
    x, y = on(torch.randn(8, 4)), on(torch.randn(8, 4))
    out, c = torch.ops.tensorrt.execute_engine([x, y], e)  # plain again
    torch.testing.assert_close(out, x * 3 + y)


@needs_cuda
def test_cuda_per_engine_graphs_of_a_data_dependent_engine_run_plainly(rt, capfd):
    from torch_tensorrt import runtime

    e = torch.classes.tensorrt.Engine(record())  # 'pos' has a data-dependent shape
    runtime.set_cudagraphs_mode(True)
    try:
        capfd.readouterr()
        for _ in range(3):
            x, y = on(torch.randn(2, 8)), on(torch.randn(2, 8))
            out, pos = torch.ops.tensorrt.execute_engine([x, y], e)
            torch.testing.assert_close(pos, x[x > 0])
        # TORCH_WARN from the library (on stderr when called through torch.ops), said once
        assert capfd.readouterr().err.count("has outputs with data-dependent shapes") == 1
        assert e.cuda_graph_stats()[:2] == [0, 0]
    finally:
        runtime.set_cudagraphs_mode(False)


@needs_cuda
def test_cuda_device_selection(rt, capfd):
    major, minor = torch.cuda.get_device_capability(0)
    name = torch.cuda.get_device_name(0)
    here = f"{major}.{minor}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.classes.tensorrt.Engine(_record_fields(device_capability=here)).device() == "cuda:0"
    capfd.readouterr()
    count = torch.cuda.device_count()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        e = torch.classes.tensorrt.Engine(_record_fields(device_capability=here, device_id=count + 2))
    assert e.device() == "cuda:0" and e.device_id() == count + 2  # the record keeps what it was built for
    # A TORCH_WARN from a TorchBind constructor reaches Python's warnings or (torch 2.11) c10's handler: stderr.
    said = f"engine adder was built for device {count + 2}; running it on compatible device 0"
    assert any(said in str(w.message) for w in seen) or said in capfd.readouterr().err
    listing = ", ".join(
        f"{i}: {torch.cuda.get_device_name(i)} \\(SM {'.'.join(map(str, torch.cuda.get_device_capability(i)))}\\)"
        for i in range(count)
    )
    with pytest.raises(
        RuntimeError,
        match=rf"engine 'adder' was built for SM 7.5 \({name}\); no compatible GPU "
        rf"among: {listing}",
    ):
        torch.classes.tensorrt.Engine(_record_fields(device_capability="7.5", device_name=name))
    if major >= 8:  # hardware-compatible (Ampere-plus) engines run on any SM >= 8.0
        hw = torch.classes.tensorrt.Engine(_record_fields(device_capability="7.5", hardware_compatible=True))
        assert hw.device() == "cuda:0"


@needs_cuda
def test_cuda_export_of_a_cpp_runtime_module(rt):
    """A TorchTensorRTModule on the C++ runtime, run eagerly, then exported and run through the dispatcher."""
    spec = lambda n: TensorSpec(n, "float32", [2, 4], [2, 4], [2, 4], [2, 4])  # noqa: E731
    meta = EngineMetadata(inputs=[spec("x"), spec("y")], outputs=[spec("out"), spec("c")]).to_json()
    module = graphed_module(metadata=meta)
    x, y = on(torch.randn(2, 4)), on(torch.randn(2, 4))
    torch.testing.assert_close(module(x, y)[0], x * 3 + y)  # eager: Engine.execute, no dispatcher
    ep = torch.export.export(module, (x, y), strict=False)
    out, c = ep.module()(x, y)
    torch.testing.assert_close(out, x * 3 + y)
    torch.testing.assert_close(c, x)
