"""CUDA graphs on a GPU, with simulated engines: per-engine record -> replay -> re-record, whole-graph capture of a
model with two engines and a PyTorch partition, fallbacks for data-dependent outputs, the mode restored after
``enable_cudagraphs``, device and profile errors. Skipped without a GPU (CI); run on the GPU test machine
(``scripts/gpu_check.sh``), where the models come from ``TORCHTRT_CUDAGRAPH_MODELS``. The same logic runs on the
CPU, with emulated graphs, in ``test_cudagraphs_logic.py``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import torch

from torch_tensorrt import runtime
from torch_tensorrt.runtime import _cudagraphs
from torch_tensorrt.runtime._engine import EngineExecutionError
from torch_tensorrt.runtime._graph_capture import CudaGraphsError, CudaGraphsMode
from torch_tensorrt.runtime._whole_graph import CudaGraphsModule

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cudagraph_models import load_or_build  # noqa: E402

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

TOL = dict(rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def models():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return load_or_build()


@pytest.fixture(autouse=True)
def mode_off():
    yield
    runtime.set_cudagraphs_mode(False)


def _states(module):
    states: list[str] = []
    return states, module.register_post_execution_callback(lambda name, outs, info: states.append(info.cuda_graph))


def test_per_engine_record_replay_rerecord(models):
    module, w = models["dynamic_engine"]
    w = w.cuda()
    states, handle = _states(module)
    runtime.set_cudagraphs_mode(True)
    try:
        x2, x3 = torch.randn(2, 4, device="cuda"), torch.randn(3, 4, device="cuda")
        first = module(x2)
        x2.uniform_(-1, 1)  # new values in the same tensor: the replay must see them
        second = module(x2)
        third = module(x3)
        fourth = module(x2)
        assert states == ["captured", "replayed", "captured", "replayed"]
        assert module.engine.captured_shapes == [(3, 4), (2, 4)]
        torch.testing.assert_close(second, torch.relu(x2 @ w), **TOL)
        torch.testing.assert_close(third, torch.relu(x3 @ w), **TOL)
        torch.testing.assert_close(fourth, second)
        assert first.data_ptr() != second.data_ptr()  # new output tensors, the first one not overwritten
        assert not torch.equal(first, second)
    finally:
        handle.remove()
        runtime.set_cudagraphs_mode(False)
    assert module.engine.captured_shapes == []


def test_profile_error_is_the_same_inside_the_mode(models):
    module, _ = models["dynamic_engine"]
    x = torch.randn(9, 4, device="cuda")
    with pytest.raises(EngineExecutionError) as outside:
        module(x)
    runtime.set_cudagraphs_mode(True)
    with pytest.raises(EngineExecutionError) as inside:
        module(x)
    assert str(inside.value) == str(outside.value) and "optimization profile" in str(inside.value)


def test_whole_graph_two_engines_and_a_pytorch_partition(models):
    gm, model = models["two_engines"]
    model = model.cuda()
    with runtime.enable_cudagraphs(gm) as m:
        assert isinstance(m, CudaGraphsModule) and runtime.get_whole_cudagraphs_mode()
        x = torch.randn(4, 8, device="cuda")
        outs = []
        for _ in range(4):
            x.uniform_(-2, 2)  # same tensor, new values every call
            outs.append(m(x))
            torch.testing.assert_close(outs[-1], model(x), **TOL)
        assert len({o.data_ptr() for o in outs}) == len(outs)
        for batch in (2, 8, 2):  # new shape sets are captured, known ones replayed
            y = torch.randn(batch, 8, device="cuda")
            torch.testing.assert_close(m(y), model(y), **TOL)
        assert sorted(k[0][0] for k in m.captured_shapes) == [2, 4, 8]
    assert not runtime.get_cudagraphs_mode()
    torch.testing.assert_close(m(x), model(x), **TOL)  # after the block: runs plainly


def test_whole_graph_lends_free_outputs_and_never_overwrites_kept_ones(models):
    gm, model = models["two_engines"]
    model = model.cuda()
    with runtime.enable_cudagraphs(gm) as m:
        x = torch.randn(4, 8, device="cuda")
        ptrs = {m(x * i).data_ptr() for i in range(3)}  # dropped results: the same buffers lent again
        assert len(ptrs) == 1
        prev, prev_x = m(x), x.clone()
        for _ in range(4):  # a loop holding the previous result: two graphs alternate
            xi = torch.randn(4, 8, device="cuda")
            y = m(xi)
            torch.testing.assert_close(prev, model(prev_x), **TOL)
            torch.testing.assert_close(y, model(xi), **TOL)
            prev, prev_x = y, xi
        kept = [(m(x + i), model(x + i)) for i in range(4)]  # all kept: the third graph copies
        for out, want in kept:
            torch.testing.assert_close(out, want, **TOL)
        view = m(x + 7)[1:]
        m(x + 8)
        torch.testing.assert_close(view, model(x + 7)[1:], **TOL)


def test_whole_graph_reused_output_buffers(models):
    gm, model = models["two_engines"]
    model = model.cuda()
    with runtime.enable_cudagraphs(gm, reuse_output_buffers=True) as m:
        x = torch.randn(3, 8, device="cuda")
        a = m(x)
        b = m(x * 0.5)
        assert a.data_ptr() == b.data_ptr()
        torch.testing.assert_close(b, model(x * 0.5), **TOL)


def test_whole_graph_input_on_another_device_is_an_error(models):
    gm, model = models["two_engines"]
    with runtime.enable_cudagraphs(gm) as m:
        x = torch.randn(4, 8, device="cuda")
        m(x)
        with pytest.raises(
            CudaGraphsError, match=r"input 0 is on cpu, and the captured graphs run on cuda:0.*nothing was replayed"
        ):
            m(x.cpu())
        torch.testing.assert_close(m(x), model.cuda()(x), **TOL)


def test_mode_restored_after_the_block(models):
    gm, _ = models["two_engines"]
    runtime.set_cudagraphs_mode(True)
    with runtime.enable_cudagraphs(gm):
        assert _cudagraphs.current_mode() == CudaGraphsMode.WHOLE_GRAPH
    assert _cudagraphs.current_mode() == CudaGraphsMode.PER_ENGINE
    runtime.set_cudagraphs_mode(False)
    with pytest.raises(RuntimeError, match="boom"):
        with runtime.enable_cudagraphs(gm):
            raise RuntimeError("boom")
    assert _cudagraphs.current_mode() == CudaGraphsMode.STANDARD


def test_data_dependent_engine_runs_without_a_graph(models, caplog):
    module = models["nonzero_engine"]
    states, handle = _states(module)
    x = torch.tensor([[0.0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 0, 4]], device="cuda")
    runtime.set_cudagraphs_mode(True)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                torch.testing.assert_close(module(x).long(), torch.nonzero(x).T)
    finally:
        handle.remove()
    assert states == ["off", "off"]
    assert len([r for r in caplog.records if "data-dependent output shapes" in r.getMessage()]) == 1


def test_uncapturable_partition_falls_back_to_per_engine_graphs(models, caplog):
    gm, model = models["nonzero_partition"]
    model = model.cuda()
    with caplog.at_level(logging.WARNING, logger="torch_tensorrt.runtime._whole_graph"):
        with runtime.enable_cudagraphs(gm) as m:
            assert m is gm and _cudagraphs.current_mode() == CudaGraphsMode.PER_ENGINE
            x = torch.randn(3, 8, device="cuda")
            for _ in range(2):
                torch.testing.assert_close(m(x), model(x))
    said = [r.getMessage() for r in caplog.records if r.name == "torch_tensorrt.runtime._whole_graph"]
    assert len(said) == 1 and "_run_on_gpu_0" in said[0] and "nonzero" in said[0]


def test_data_dependent_engine_in_a_graph_falls_back(models, caplog):
    gm, w = models["engine_then_nonzero"]
    with caplog.at_level(logging.WARNING, logger="torch_tensorrt.runtime._whole_graph"):
        with runtime.enable_cudagraphs(gm) as m:
            assert m is gm
            x = torch.randn(3, 4, device="cuda")
            for _ in range(2):
                torch.testing.assert_close(m(x).long(), torch.nonzero(torch.relu(x @ w.cuda())).T)
    said = [r.getMessage() for r in caplog.records if r.name == "torch_tensorrt.runtime._whole_graph"]
    assert len(said) == 1 and "engine 'second'" in said[0]
