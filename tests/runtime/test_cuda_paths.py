"""CUDA paths of the Python runtime, with simulated engines: placement on the GPU, the caller's current stream,
CUDA graph capture/replay, device errors. Skipped without a GPU (CI); run on the GPU test machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sim_artifacts import load_or_build  # noqa: E402

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(scope="module")
def models():
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    return load_or_build()


def _engines(gm):
    from torch_tensorrt.runtime import TorchTensorRTModule

    mods = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    assert mods, "no TensorRT submodule in the compiled model"
    return mods


@pytest.mark.parametrize("name", ["mlp", "small_cnn", "transformer_encoder"])
def test_runs_on_cuda_and_matches_eager(models, name):
    gm, x, expected, _ = models[name]
    out = gm(x.cuda())
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-4, atol=1e-4)


def test_engine_runs_on_callers_current_stream(models):
    gm, x, expected, _ = models["small_cnn"]
    (engine_module,) = _engines(gm)
    engine = engine_module.engine
    seen = []
    original = engine.context.execute_async_v3 if engine.is_set_up else None
    gm(x.cuda())  # set up
    ctx = engine.context
    original = ctx.execute_async_v3
    ctx.execute_async_v3 = lambda handle: (seen.append(handle), original(handle))[1]
    side = torch.cuda.Stream()
    xs = x.cuda()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        out = gm(xs)
    side.synchronize()
    assert seen == [side.cuda_stream]
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-4, atol=1e-4)
    ctx.execute_async_v3 = original


def test_cuda_graphs_capture_then_replay(models):
    gm, x, expected, _ = models["mlp_dynamic"]
    (engine_module,) = _engines(gm)
    engine_module.use_cuda_graphs(True)
    states = []
    handle = engine_module.register_post_execution_callback(lambda name, outs, info: states.append(info.cuda_graph))
    try:
        xs = x.cuda()
        first = gm(xs).clone()
        second = gm(xs).clone()
        xs2 = torch.randn(3, 64, device="cuda")
        third = gm(xs2).clone()
        assert states == ["captured", "replayed", "captured"]
        torch.testing.assert_close(first.cpu(), expected, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(second, first)
        model = models["mlp_dynamic"][3]
        torch.testing.assert_close(third.cpu(), model(xs2.cpu()), rtol=1e-4, atol=1e-4)
    finally:
        handle.remove()
        engine_module.use_cuda_graphs(False)


def test_dynamic_batch_on_cuda(models):
    gm, _, _, model = models["mlp_dynamic"]
    for batch in (1, 5, 16):
        x = torch.randn(batch, 64)
        torch.testing.assert_close(gm(x.cuda()).cpu(), model(x), rtol=1e-4, atol=1e-4)


def test_input_on_wrong_device_is_a_clear_error(models):
    gm, x, _, _ = models["mlp"]
    gm(x.cuda())
    (engine_module,) = _engines(gm)
    with pytest.raises(Exception, match=r"input 'x' is on cpu, the engine runs on cuda:0") as err:
        engine_module(x)  # CPU tensor to an engine placed on cuda:0
    assert engine_module.name in str(err.value)
