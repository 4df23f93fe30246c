"""CUDA-graphs mode, per-engine graphs and whole-graph capture: the logic, on the CPU.

Graphs are emulated (:mod:`_emulated_graphs`: a replay reruns the captured work on the static inputs and
overwrites the static outputs, as a CUDA graph does), so these tests check the mode, its restoration, one graph per
shape set, eviction, static buffers, fresh or reused outputs, fallbacks and errors without a GPU. The kernels'
capture itself is checked by ``test_cudagraphs.py`` on the GPU machine.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import runtime
from torch_tensorrt.runtime import _cudagraphs, _graph_capture
from torch_tensorrt.runtime._engine import EngineExecutionError
from torch_tensorrt.runtime._graph_capture import CudaGraphsError, CudaGraphsMode, CudaGraphsUnavailable, GraphCache
from torch_tensorrt.runtime._whole_graph import CudaGraphsModule, uncapturable_part

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cudagraph_models import TwoEngines, load_or_build  # noqa: E402
from _emulated_graphs import EmulatedGraphs  # noqa: E402

WHOLE_LOGGER = "torch_tensorrt.runtime._whole_graph"
ENGINE_LOGGER = "torch_tensorrt.runtime._engine"


@pytest.fixture(scope="module")
def models():
    if torch.cuda.is_available():
        pytest.skip("has a GPU: the emulated-graph tests feed CPU tensors; test_cudagraphs.py covers the GPU")
    return load_or_build()


@pytest.fixture
def emulated(monkeypatch):
    backend = EmulatedGraphs()
    monkeypatch.setattr(_graph_capture, "BACKEND", backend)
    yield backend
    _graph_capture.MODE = CudaGraphsMode.STANDARD.value


def _states(module):
    states: list[str] = []
    handle = module.register_post_execution_callback(lambda name, outs, info: states.append(info.cuda_graph))
    return states, handle


# ------------------------------------------------------------------------------------------------ the mode
@pytest.mark.skipif(torch.cuda.is_available(), reason="has a GPU: the CPU-only error cannot happen here")
def test_mode_on_a_cpu_only_process_is_a_clear_error():
    with pytest.raises(
        CudaGraphsUnavailable, match=r"set_cudagraphs_mode: CUDA graphs need a CUDA GPU.*is_available\(\) is False"
    ):
        runtime.set_cudagraphs_mode(True)
    assert runtime.get_cudagraphs_mode() is False
    with pytest.raises(CudaGraphsUnavailable, match="enable_cudagraphs: CUDA graphs need a CUDA GPU"):
        with runtime.enable_cudagraphs(torch.nn.Identity()):
            pass
    assert runtime.get_cudagraphs_mode() is False
    runtime.set_cudagraphs_mode(False)  # turning it off is always fine


def test_set_and_get_mode(emulated):
    assert runtime.get_cudagraphs_mode() is False
    runtime.set_cudagraphs_mode(True)
    assert runtime.get_cudagraphs_mode() is True and runtime.get_whole_cudagraphs_mode() is False
    assert _cudagraphs.current_mode() == CudaGraphsMode.PER_ENGINE
    runtime.set_cudagraphs_mode(False)
    assert runtime.get_cudagraphs_mode() is False


def test_mode_restored_after_the_block_also_on_errors(emulated, models):
    gm, _ = models["two_engines"]
    runtime.set_cudagraphs_mode(True)
    with runtime.enable_cudagraphs(gm) as m:
        assert runtime.get_whole_cudagraphs_mode() is True
        assert isinstance(m, CudaGraphsModule)
    assert _cudagraphs.current_mode() == CudaGraphsMode.PER_ENGINE
    runtime.set_cudagraphs_mode(False)
    with pytest.raises(ZeroDivisionError):
        with runtime.enable_cudagraphs(gm):
            1 / 0
    assert _cudagraphs.current_mode() == CudaGraphsMode.STANDARD


def test_settings_bound_the_graphs():
    with pytest.raises(ValueError, match="max_cuda_graphs must be an int >= 1, got 0"):
        torch_tensorrt.dynamo.CompilationSettings(max_cuda_graphs=0)
    cache: GraphCache[str] = GraphCache(2)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.keys() == ["b", "c"] and cache.evictions == 1
    assert cache.get("b") == "B" and cache.keys() == ["c", "b"]


# ---------------------------------------------------------------------------------------- per-engine graphs
def test_per_engine_record_replay_rerecord(emulated, models):
    module, w = models["dynamic_engine"]
    engine = module.engine
    states, handle = _states(module)
    runtime.set_cudagraphs_mode(True)
    try:
        x2, x3 = torch.randn(2, 4), torch.randn(3, 4)
        torch.testing.assert_close(module(x2), torch.relu(x2 @ w))
        torch.testing.assert_close(module(x2 + 1), torch.relu((x2 + 1) @ w))  # new values, same graph
        torch.testing.assert_close(module(x3), torch.relu(x3 @ w))
        torch.testing.assert_close(module(x2), torch.relu(x2 @ w))
        assert states == ["captured", "replayed", "captured", "replayed"]
        assert engine.captured_shapes == [(3, 4), (2, 4)]
    finally:
        handle.remove()
        runtime.set_cudagraphs_mode(False)
    assert emulated.replays == 4  # a capture runs nothing: every call replays
    assert engine.captured_shapes == []  # freed when the mode went off
    module(x2)  # off again: plain runs
    assert emulated.replays == 4


def test_per_engine_graphs_are_bounded(emulated, models):
    module, w = models["dynamic_engine"]
    engine = module.engine
    engine.max_cuda_graphs = 2
    runtime.set_cudagraphs_mode(True)
    try:
        for batch in (1, 2, 3, 1):
            x = torch.randn(batch, 4)
            torch.testing.assert_close(module(x), torch.relu(x @ w))
        assert engine.captured_shapes == [(3, 4), (1, 4)]  # 1 was dropped for 3, then captured again
        assert engine._graphs.evictions == 2
    finally:
        engine.max_cuda_graphs = 8
        runtime.set_cudagraphs_mode(False)


def test_outputs_are_new_tensors_on_every_call(emulated, models):
    module, w = models["dynamic_engine"]
    runtime.set_cudagraphs_mode(True)
    try:
        x = torch.randn(2, 4)
        first = module(x)
        second = module(x * 2)
        assert first.data_ptr() != second.data_ptr()
        torch.testing.assert_close(first, torch.relu(x @ w))  # not overwritten by the second replay
        torch.testing.assert_close(second, torch.relu((x * 2) @ w))
    finally:
        runtime.set_cudagraphs_mode(False)


def test_profile_error_is_the_same_inside_the_mode(emulated, models):
    module, _ = models["dynamic_engine"]
    with pytest.raises(EngineExecutionError) as outside:
        module(torch.randn(9, 4))
    runtime.set_cudagraphs_mode(True)
    try:
        with pytest.raises(EngineExecutionError) as inside:
            module(torch.randn(9, 4))
    finally:
        runtime.set_cudagraphs_mode(False)
    assert str(inside.value) == str(outside.value)
    assert "outside the engine's optimization profile" in str(inside.value)
    assert emulated.captures == 0


def test_data_dependent_engine_is_never_graphed_and_says_so_once(emulated, models, caplog):
    module = models["nonzero_engine"]
    states, handle = _states(module)
    runtime.set_cudagraphs_mode(True)
    try:
        x = torch.tensor([[0.0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 0, 4]])
        with caplog.at_level(logging.WARNING, logger=ENGINE_LOGGER):
            first = module(x)
            module(x)
    finally:
        handle.remove()
        runtime.set_cudagraphs_mode(False)
    torch.testing.assert_close(first.long(), torch.nonzero(x).T)
    assert states == ["off", "off"] and emulated.captures == 0
    said = [r for r in caplog.records if "data-dependent output shapes" in r.getMessage()]
    assert len(said) == 1 and "nonzero" in said[0].getMessage()


def test_hot_path_without_observers_builds_no_execution_info(emulated, models, monkeypatch):
    module, w = models["dynamic_engine"]
    engine = module.engine
    checks: list[tuple[int, ...]] = []
    original = engine._check_shape
    monkeypatch.setattr(engine, "_check_shape", lambda name, shape, i: (checks.append(shape), original(name, shape, i)))
    import torch_tensorrt.runtime._engine as engine_module

    monkeypatch.setattr(engine_module, "ExecutionInfo", None)  # any use would fail
    x = torch.randn(5, 4)
    for _ in range(3):
        torch.testing.assert_close(module(x), torch.relu(x @ w))
    assert checks == [(5, 4)]  # the shape checks ran once for the shape set


def test_pre_allocated_outputs(models):
    module, w = models["dynamic_engine"]
    engine = module.engine
    with runtime.enable_pre_allocated_outputs(module) as m:
        assert m is module and module.use_pre_allocated_outputs and engine.pre_allocated_outputs
        x = torch.randn(4, 4)
        a, b = module(x), module(x + 1)
        assert a.data_ptr() != b.data_ptr()
        torch.testing.assert_close(a, torch.relu(x @ w))
        torch.testing.assert_close(b, torch.relu((x + 1) @ w))
        assert engine._shape_sets[x.shape].next_outputs is not None  # ready for the next call
    assert not module.use_pre_allocated_outputs and not engine.pre_allocated_outputs


# --------------------------------------------------------------------------------------- whole-graph capture
def test_whole_graph_two_engines_and_a_pytorch_partition(emulated, models):
    gm, model = models["two_engines"]
    assert uncapturable_part(gm) is None
    with runtime.enable_cudagraphs(gm) as m:
        assert isinstance(m, CudaGraphsModule)
        x = torch.randn(4, 8)
        outs, expected = [], []
        for _step in range(4):
            x.uniform_(-1, 1)  # same tensor, new values: no stale result
            outs.append(m(x))
            expected.append(model(x))
            torch.testing.assert_close(outs[-1], expected[-1], rtol=1e-5, atol=1e-5)
        assert len({o.data_ptr() for o in outs}) == 4  # new tensors each call
        for out, want in zip(outs, expected):  # no later call overwrote a kept result
            torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-5)
        # every result is kept: two graphs lend their outputs, a third replays and copies (_graph_slots)
        assert emulated.captures == 3
        y = torch.randn(2, 8)
        torch.testing.assert_close(m(y), model(y), rtol=1e-5, atol=1e-5)  # new shape set: captured
        assert emulated.captures == 4 and emulated.replays == 5
        assert len(m.captured_shapes) == 2
    torch.testing.assert_close(m(x), model(x), rtol=1e-5, atol=1e-5)  # after the block: plain
    assert emulated.replays == 5


class _Affine(torch.nn.Module):
    """A plain module for the lending tests (any module can be wrapped); ``alias`` returns the input or a buffer."""

    def __init__(self, alias: str = "") -> None:
        super().__init__()
        self.alias = alias
        self.register_buffer("bias", torch.arange(4.0))

    def forward(self, x):
        if self.alias == "input":
            return x, x * 2
        if self.alias == "buffer":
            return self.bias, x * 2
        return x * 2 + self.bias


def test_whole_graph_lends_outputs_nobody_holds(emulated):
    m = CudaGraphsModule(_Affine())
    with runtime.enable_cudagraphs(m):
        x = torch.randn(3, 4)
        ptrs = {m(x + i).data_ptr() for i in range(3)}  # each result dropped before the next call
        assert len(ptrs) == 1 and emulated.captures == 1  # the same buffers, lent again: no copy, no new graph
        torch.testing.assert_close(m(x), x * 2 + torch.arange(4.0))


def test_whole_graph_loop_keeping_the_previous_result_alternates(emulated):
    m = CudaGraphsModule(_Affine())
    with runtime.enable_cudagraphs(m):
        xs = [torch.randn(3, 4) for _ in range(6)]
        prev, ptrs = m(xs[0]), set()
        for i in range(1, 6):
            y = m(xs[i])  # prev is still held here: its graph is not replayed
            torch.testing.assert_close(prev, xs[i - 1] * 2 + torch.arange(4.0))
            torch.testing.assert_close(y, xs[i] * 2 + torch.arange(4.0))
            ptrs.add(y.data_ptr())
            prev = y
        assert len(ptrs) == 2 and emulated.captures == 2  # two graphs, alternating


@pytest.mark.parametrize("keep", ["view", "storage", "detached"])
def test_whole_graph_result_kept_through_a_view_is_not_overwritten(emulated, keep):
    m = CudaGraphsModule(_Affine())
    with runtime.enable_cudagraphs(m):
        x = torch.randn(3, 4)
        out = m(x)
        want = out.clone()
        if keep == "view":
            kept = out[1:]
        elif keep == "storage":
            kept = out.untyped_storage()
        else:
            kept = out.detach()
        del out  # only the view / storage / detached alias is left
        m(x + 1)
        m(x + 2)
        now = want.new_empty(0).set_(kept).view(want.shape) if keep == "storage" else kept
        torch.testing.assert_close(now, want[1:] if keep == "view" else want)


def test_whole_graph_result_of_reuse_mode_is_not_lent_out_again(emulated):
    m = CudaGraphsModule(_Affine(), reuse_output_buffers=True)
    with runtime.enable_cudagraphs(m):
        x = torch.randn(3, 4)
        kept = m(x)  # the static outputs themselves, held by the caller
        m.reuse_output_buffers = False
        fresh = m(x + 1)  # a graph whose outputs the caller holds is never replayed into them
        torch.testing.assert_close(kept, x * 2 + torch.arange(4.0))
        torch.testing.assert_close(fresh, (x + 1) * 2 + torch.arange(4.0))


@pytest.mark.parametrize("alias", ["input", "buffer"])
def test_whole_graph_outputs_aliasing_outside_memory_are_copies(emulated, alias):
    module = _Affine(alias)
    m = CudaGraphsModule(module)
    with runtime.enable_cudagraphs(m):
        x = torch.randn(3, 4)
        first, _ = m(x)
        first.add_(100)  # the caller owns its result: neither the module nor the next call may see this
        second, doubled = m(x)
        torch.testing.assert_close(second, x if alias == "input" else torch.arange(4.0))
        torch.testing.assert_close(module.bias, torch.arange(4.0))
        torch.testing.assert_close(doubled, x * 2)
        assert emulated.captures == 1  # no lending: one graph, results copied


def test_whole_graph_reused_output_buffers(emulated, models):
    gm, model = models["two_engines"]
    with runtime.enable_cudagraphs(gm, reuse_output_buffers=True) as m:
        x = torch.randn(3, 8)
        a = m(x)
        torch.testing.assert_close(a, model(x), rtol=1e-5, atol=1e-5)
        b = m(x + 1)
        assert a.data_ptr() == b.data_ptr()  # the static output, overwritten
        torch.testing.assert_close(a, model(x + 1), rtol=1e-5, atol=1e-5)


def test_whole_graph_input_on_another_device_is_an_error_without_replay(emulated, models):
    gm, model = models["two_engines"]
    with runtime.enable_cudagraphs(gm) as m:
        x = torch.randn(2, 8)
        m(x)
        replays = emulated.replays
        with pytest.raises(
            CudaGraphsError, match=r"input 0 is on meta, and the captured graphs run on cpu.*nothing was replayed"
        ):
            m(torch.empty(2, 8, device="meta"))
        assert emulated.replays == replays


def test_whole_graph_profile_error_is_the_same_as_outside(emulated, models):
    gm, _ = models["two_engines"]
    with pytest.raises(EngineExecutionError) as outside:
        gm(torch.randn(9, 8))
    with runtime.enable_cudagraphs(gm) as m:
        with pytest.raises(EngineExecutionError) as inside:
            m(torch.randn(9, 8))
    assert str(inside.value) == str(outside.value) and emulated.captures == 0


def test_uncapturable_partition_falls_back_to_per_engine_graphs(emulated, models, caplog):
    gm, model = models["nonzero_partition"]
    with caplog.at_level(logging.WARNING, logger=WHOLE_LOGGER):
        with runtime.enable_cudagraphs(gm) as m:
            assert m is gm and _cudagraphs.current_mode() == CudaGraphsMode.PER_ENGINE
            x = torch.randn(3, 8)
            torch.testing.assert_close(m(x), model(x))
            torch.testing.assert_close(m(x), model(x))
    said = [r.getMessage() for r in caplog.records if r.name == WHOLE_LOGGER]
    assert len(said) == 1
    assert "partition '_run_on_gpu_0'" in said[0] and "aten.nonzero" in said[0]
    assert emulated.captures == 1  # the engine's own graph


def test_data_dependent_engine_makes_the_graph_fall_back(emulated, models, caplog):
    gm, w = models["engine_then_nonzero"]
    with caplog.at_level(logging.WARNING, logger=WHOLE_LOGGER):
        with runtime.enable_cudagraphs(gm) as m:
            assert m is gm
            x = torch.randn(3, 4)
            torch.testing.assert_close(m(x).long(), torch.nonzero(torch.relu(x @ w)).T)
    said = [r.getMessage() for r in caplog.records if r.name == WHOLE_LOGGER]
    assert len(said) == 1 and "engine 'second'" in said[0] and "data-dependent output shapes" in said[0]


def test_capture_failure_falls_back_once_torchscript(emulated, models, caplog):
    gm, w = models["engine_then_nonzero"]
    x = torch.randn(3, 4)
    ts = torch.jit.trace(gm, (x,), check_trace=False)  # engines no longer visible as modules
    assert uncapturable_part(ts) is None
    with caplog.at_level(logging.WARNING, logger=WHOLE_LOGGER):
        with runtime.enable_cudagraphs(ts) as m:
            assert isinstance(m, CudaGraphsModule)
            for _ in range(2):
                torch.testing.assert_close(m(x).long(), torch.nonzero(torch.relu(x @ w)).T)
    said = [r.getMessage() for r in caplog.records if r.name == WHOLE_LOGGER]
    assert len(said) == 1 and "could not be captured" in said[0]
    assert "EngineExecutionError: engine 'nonzero' has data-dependent output shapes" in said[0]
    assert m.fallback_reason is not None


def test_whole_graph_on_a_loaded_exported_program(emulated, models, tmp_path):
    gm, model = models["two_engines"]
    path = tmp_path / "two.ep"
    batch = torch_tensorrt.Input(min_shape=(1, 8), opt_shape=(4, 8), max_shape=(8, 8))
    torch_tensorrt.save(gm, str(path), arg_inputs=[batch])
    loaded = torch_tensorrt.load(str(path)).module()
    assert uncapturable_part(loaded) is None
    with runtime.enable_cudagraphs(loaded) as m:
        assert isinstance(m, CudaGraphsModule)
        for batch in (4, 4, 2):
            x = torch.randn(batch, 8)
            torch.testing.assert_close(m(x), model(x), rtol=1e-5, atol=1e-5)
    assert emulated.captures == 2
    runtime.set_cudagraphs_mode(True)  # per-engine graphs through the op of the loaded program
    try:
        x = torch.randn(4, 8)
        torch.testing.assert_close(loaded(x), model(x), rtol=1e-5, atol=1e-5)
        assert emulated.captures == 4
    finally:
        runtime.set_cudagraphs_mode(False)


def test_torch_compile_module_captures_each_graph(emulated):
    from torch_tensorrt.testing import simulate

    model = TwoEngines().eval()
    compiled = torch.compile(
        model, backend="tensorrt", options={"min_block_size": 1, "torch_executed_ops": {"aten.sin.default"}}
    )
    x = torch.randn(4, 8)
    with torch.no_grad(), simulate():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)  # compiles
        with runtime.enable_cudagraphs(compiled) as m:
            assert m is compiled and runtime.get_whole_cudagraphs_mode()
            for _ in range(3):
                x.uniform_(-1, 1)
                torch.testing.assert_close(m(x), model(x), rtol=1e-5, atol=1e-5)
    assert emulated.captures == 1 and emulated.replays == 3
    torch._dynamo.reset()


def test_cpp_engines_refuse_the_mode_until_the_cpp_runtime_supports_it(emulated, models, monkeypatch):
    module, _ = models["dynamic_engine"]
    monkeypatch.setattr(module, "_runtime", "cpp")
    with pytest.raises(
        NotImplementedError, match=r"engine 'matmul_relu' runs on the C\+\+ runtime.*set_cudagraphs_mode"
    ):
        with runtime.enable_cudagraphs(module):
            pass
    assert not runtime.get_cudagraphs_mode()
    runtime.set_cudagraphs_mode(True)
    try:
        with pytest.raises(NotImplementedError, match="engine 'matmul_relu' runs on the C\\+\\+ runtime"):
            _cudagraphs.check_cpp_engine("matmul_relu")
    finally:
        runtime.set_cudagraphs_mode(False)
    _cudagraphs.check_cpp_engine("matmul_relu")  # mode off: nothing to refuse


def test_real_backend_captures_with_the_garbage_collector_off(monkeypatch):
    """``GraphBackend.capture`` (the one that drives ``torch.cuda.graph``) turns Python's cyclic collector off for the
    capture and restores it, also when the captured work raises: a collection in the middle runs finalizers that
    may call CUDA and invalidate the capture. torch.cuda's graph pieces are replaced by recorders here (no GPU on
    this machine)."""
    import contextlib
    import gc

    seen: list[bool] = []

    @contextlib.contextmanager
    def fake_graph(graph):
        seen.append(gc.isenabled())
        yield

    monkeypatch.setattr(torch.cuda, "CUDAGraph", lambda: "graph")
    monkeypatch.setattr(torch.cuda, "graph", fake_graph)
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    backend = _graph_capture.GraphBackend()
    assert gc.isenabled()

    def work():
        seen.append(gc.isenabled())
        return 7

    assert backend.capture(work, torch.device("cuda", 0)) == ("graph", 7)
    assert seen == [False, False] and gc.isenabled()

    def failing():
        raise RuntimeError("not capturable")

    with pytest.raises(RuntimeError, match="not capturable"):
        backend.capture(failing, torch.device("cuda", 0))
    assert gc.isenabled()
    gc.disable()
    try:
        backend.capture(work, torch.device("cuda", 0))
        assert not gc.isenabled()  # a caller's own setting is kept
    finally:
        gc.enable()
