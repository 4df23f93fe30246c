"""CUDA graphs in the C++ runtime (runtime_cpp/src/cudagraphs.cpp), from Python, with the stand-in build.

The Python mode API pushes the mode to the library (``tensorrt::set_cudagraphs_mode``); C++-runtime engines then
record one graph per input shape set and replay it (with the stand-in TensorRT the "graph" is the launch on the
engine's static buffers, so what is checked is the bookkeeping and the buffer semantics; the capture itself needs
a real TensorRT build on a GPU). Graphs on the Python side are emulated (:mod:`_emulated_graphs`), so the mode can
be entered on this CPU-only machine.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch

from torch_tensorrt import runtime
from torch_tensorrt.runtime import _cudagraphs, _graph_capture
from torch_tensorrt.runtime._graph_capture import CudaGraphsMode
from torch_tensorrt.runtime._module import TorchTensorRTModule

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpp_build  # noqa: E402
from _cudagraph_models import load_or_build  # noqa: E402
from _emulated_graphs import EmulatedGraphs  # noqa: E402

pytestmark = pytest.mark.cpp


@pytest.fixture(scope="module")
def models():
    if torch.cuda.is_available():
        pytest.skip("has a GPU: these tests feed CPU tensors to the stand-in build")
    return load_or_build()


@pytest.fixture
def emulated(rt, monkeypatch):
    monkeypatch.setattr(_graph_capture, "BACKEND", EmulatedGraphs())
    yield
    runtime.set_cudagraphs_mode(False)
    _graph_capture.MODE = CudaGraphsMode.STANDARD.value


def _on_cpp(module: torch.nn.Module) -> torch.nn.Module:
    module = copy.deepcopy(module)
    for m in [module, *module.modules()]:
        if isinstance(m, TorchTensorRTModule):
            m.set_runtime("cpp")
    return module


def test_the_mode_reaches_the_cpp_runtime(emulated):
    assert _cudagraphs.cpp_supports_cudagraphs()
    assert torch.ops.tensorrt.get_cudagraphs_mode() == 0
    runtime.set_cudagraphs_mode(True)
    assert torch.ops.tensorrt.get_cudagraphs_mode() == 1
    with runtime.enable_cudagraphs(torch.nn.Identity()):
        assert torch.ops.tensorrt.get_cudagraphs_mode() == 2
    assert torch.ops.tensorrt.get_cudagraphs_mode() == 1
    runtime.set_cudagraphs_mode(False)
    assert torch.ops.tensorrt.get_cudagraphs_mode() == 0
    with pytest.raises(ValueError, match=r"mode must be 0 \(standard\), 1 \(per-engine graphs\) or 2"):
        torch.ops.tensorrt.set_cudagraphs_mode(5)


def test_cpp_engine_records_replays_and_rerecords(emulated, models):
    module, w = models["dynamic_engine"]
    module = _on_cpp(module)
    module.settings = module.settings.replace(max_cuda_graphs=2)
    module._engine = None  # set up again with the setting
    engine = module.engine
    runtime.set_cudagraphs_mode(True)
    x = torch.randn(4, 4)
    first = module(x)
    for _ in range(2):
        x.uniform_(-1, 1)  # the same tensor with new values: never a stale result
        torch.testing.assert_close(module(x), torch.relu(x @ w))
    assert engine.cuda_graph_stats() == [1, 2, 1]
    assert first.data_ptr() != module(x).data_ptr()  # outputs are new tensors
    for batch in (2, 8, 4):  # two new shape sets; at most 2 kept, so batch 4 is recorded again
        xb = torch.randn(batch, 4)
        torch.testing.assert_close(module(xb), torch.relu(xb @ w))
    assert engine.cuda_graph_stats() == [4, 3, 2]
    with pytest.raises(
        RuntimeError, match=r"engine 'matmul_relu': input 0 \('x'\) has shape \[9, 4\].*outside the engine's range"
    ):
        module(torch.randn(9, 4))  # the same error as without the mode
    runtime.set_cudagraphs_mode(False)
    assert engine.cuda_graph_stats() == [4, 3, 0]  # freed with the mode
    torch.testing.assert_close(module(x), torch.relu(x @ w))
    assert engine.cuda_graph_stats() == [4, 3, 0]


def test_cpp_engine_with_data_dependent_outputs_runs_without_a_graph(emulated, capfd):
    # A stand-in plan (the stand-in does not simulate data-dependent shapes of simulated engines).
    plan = "torchtrt-fake-plan 1\nname positives\ninput x float32 1 4 8\noutput pos float32 positives x\n"
    record = cpp_build.stand_in_record(plan, ("x",), ("pos",), name="positives")
    engine = torch.classes.tensorrt.Engine(record)
    runtime.set_cudagraphs_mode(True)
    x = torch.tensor([0.5, -1.0, 2.0, -3.0])
    for _ in range(3):
        (out,) = torch.ops.tensorrt.execute_engine([x], engine)
        torch.testing.assert_close(out, x[x > 0])
    said = capfd.readouterr().err
    assert said.count("has outputs with data-dependent shapes: it runs without a CUDA graph") == 1
    assert "engine 'positives'" in said
    assert engine.cuda_graph_stats() == [0, 0, 0]


def test_whole_graph_capture_of_cpp_engines(emulated, models):
    gm, model = models["two_engines"]
    gm = _on_cpp(gm)
    x = torch.randn(4, 8)
    with torch.no_grad(), runtime.enable_cudagraphs(gm) as m:
        for _ in range(3):
            x.uniform_(-1, 1)
            torch.testing.assert_close(m(x), model(x), rtol=1e-5, atol=1e-5)
    assert torch.ops.tensorrt.get_cudagraphs_mode() == 0


def test_eager_calls_skip_the_dispatcher_traced_calls_use_the_op(rt, models, monkeypatch):
    module, w = models["dynamic_engine"]
    module = _on_cpp(module)
    x = torch.randn(3, 4)
    torch.testing.assert_close(module(x), torch.relu(x @ w))
    assert module._cpp_execute is not None  # eager: Engine.execute, no torch.ops call
    calls = []
    op = torch.ops.tensorrt.execute_engine
    monkeypatch.setattr(torch.ops.tensorrt, "execute_engine", lambda *a: calls.append(1) or op(*a))
    module(x)
    assert calls == []

    class PassThrough(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    with PassThrough():  # a mode is on: the dispatcher path, as for tracing
        torch.testing.assert_close(module(x), torch.relu(x @ w))
    assert calls  # (the mode may see the call more than once)


def test_eager_calls_refuse_the_mode_on_a_library_without_cuda_graphs(emulated, models, monkeypatch):
    # The mode check comes before the eager Engine.execute shortcut: a library that cannot honour the mode is
    # refused on every call path, not only through the op.
    module, w = models["dynamic_engine"]
    module = _on_cpp(module)
    x = torch.randn(3, 4)
    runtime.set_cudagraphs_mode(True)
    with (
        monkeypatch.context() as patch,
        pytest.raises(
            NotImplementedError, match="engine 'matmul_relu' runs on the C\\+\\+ runtime.*does not support CUDA"
        ),
    ):
        patch.setattr(_cudagraphs, "cpp_supports_cudagraphs", lambda: False)
        module(x)
    torch.testing.assert_close(module(x), torch.relu(x @ w))
