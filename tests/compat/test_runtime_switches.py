"""The incumbent's runtime switches over a compiled module, under ``simulate()``: output allocator, weight
streaming budget, RuntimeSettings (IRuntimeConfig), pre-allocated outputs and multi-device safe mode."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.runtime import RuntimeSettings
from torch_tensorrt.runtime._runtime_config import runtime_config_for
from torch_tensorrt.testing import simulate


@pytest.fixture
def compiled():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(2, 4)
    with simulate():
        gm = torch_tensorrt.compile(
            model, inputs=[x], min_block_size=1, use_python_runtime=True, enable_weight_streaming=True
        )
        yield model, gm, x


def _python_engines(gm) -> list[Any]:
    return [m.engine for m in gm.modules() if isinstance(m, TorchTensorRTModule)]


def test_enable_output_allocator_runs_engines_with_an_allocator(compiled):
    model, gm, x = compiled
    gm(x)
    (engine,) = _python_engines(gm)
    assert engine._allocator is None
    with torch_tensorrt.runtime.enable_output_allocator(gm):
        got = gm(x)
        assert engine._allocator is not None and set(engine._allocator.shapes) == set(engine.output_names)
    torch.testing.assert_close(got, model(x))
    gm(x)
    assert engine._allocator is None and not engine.requires_output_allocator


def test_weight_streaming_budget_is_split_over_the_engines(compiled):
    model, gm, x = compiled
    (engine,) = _python_engines(gm)
    engine.setup()
    engine.engine.streamable_weights_size = 1000  # what TensorRT reports for a weight-streaming engine
    engine.engine.weight_streaming_budget_v2 = 1000
    with torch_tensorrt.runtime.weight_streaming(gm) as ctx:
        assert ctx.total_device_budget == 1000 and ctx.device_budget == 1000
        ctx.device_budget = 400
        assert engine.engine.weight_streaming_budget_v2 == 400
        assert ctx.get_automatic_weight_streaming_budget() == 1000
        with pytest.raises(ValueError, match="device_budget must be an int in 0..1000"):
            ctx.device_budget = 2000
        torch.testing.assert_close(gm(x), model(x))
    assert engine.engine.weight_streaming_budget_v2 == 1000


def test_weight_streaming_needs_a_weight_streaming_engine():
    model, x = torch.nn.Linear(4, 3), torch.randn(2, 4)
    with simulate():
        gm = torch_tensorrt.compile(model, inputs=[x], min_block_size=1, use_python_runtime=True)
        with pytest.raises(RuntimeError, match="enable_weight_streaming=True"):
            with torch_tensorrt.runtime.weight_streaming(gm):
                pass


def test_runtime_config_recreates_the_context_with_the_settings(compiled):
    model, gm, x = compiled
    (engine,) = _python_engines(gm)
    gm(x)
    first = engine.context
    with torch_tensorrt.runtime.runtime_config(gm, dynamic_shapes_kernel_specialization_strategy="eager"):
        assert engine.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "eager"
        torch.testing.assert_close(gm(x), model(x))
        assert engine.context is not first
    assert torch_tensorrt.runtime._switches.get_runtime_settings(gm) == RuntimeSettings()
    torch_tensorrt.runtime.set_dynamic_shapes_kernel_strategy(gm, "none")
    assert engine.runtime_settings.dynamic_shapes_kernel_specialization_strategy == "none"
    with pytest.raises(ValueError, match="dynamic_shapes_kernel_specialization_strategy"):
        torch_tensorrt.runtime.set_dynamic_shapes_kernel_strategy(gm, "sometimes")


class _Config:
    def __init__(self) -> None:
        self.cache_set = None

    def create_runtime_cache(self):
        return _Cache()

    def set_runtime_cache(self, cache) -> bool:
        self.cache_set = cache
        return True


class _Cache:
    data = None

    def deserialize(self, data: bytes) -> None:
        self.data = data


class _RtxEngine:
    """What a TensorRT-RTX engine offers for context creation (IRuntimeConfig)."""

    def __init__(self) -> None:
        self.config = _Config()

    def create_runtime_config(self):
        return self.config


def test_runtime_settings_go_through_an_iruntime_config(tmp_path):
    from torch_tensorrt._trt import trt

    cache = tmp_path / "jit.bin"
    cache.write_bytes(b"kernels")
    engine = _RtxEngine()
    config = runtime_config_for(
        engine,
        RuntimeSettings(
            dynamic_shapes_kernel_specialization_strategy="eager",
            cuda_graph_strategy="whole_graph_capture",
            runtime_cache=str(cache),
        ),
    )
    assert config is engine.config
    assert (
        engine.config.dynamic_shapes_kernel_specialization_strategy
        == trt.DynamicShapesKernelSpecializationStrategy.EAGER
    )
    assert engine.config.cuda_graph_strategy == trt.CudaGraphStrategy.WHOLE_GRAPH_CAPTURE
    assert engine.config.cache_set.data == b"kernels"
    assert runtime_config_for(engine, None) is None
    assert runtime_config_for(object(), RuntimeSettings()) is None  # not TensorRT-RTX: no runtime config


def test_pre_allocated_outputs_switch_the_engines_for_the_block(compiled):
    model, gm, x = compiled
    (engine,) = _python_engines(gm)
    with torch_tensorrt.runtime.enable_pre_allocated_outputs(gm) as m:
        assert m is gm and engine.pre_allocated_outputs
        a, b = gm(x), gm(x + 1)
        assert a.data_ptr() != b.data_ptr()  # each call's outputs are its own
        torch.testing.assert_close(a, model(x))
        torch.testing.assert_close(b, model(x + 1))
    assert not engine.pre_allocated_outputs


def test_multi_device_mode_is_accepted_with_a_warning(compiled):
    model, gm, x = compiled
    with pytest.warns(UserWarning, match="set_multi_device_safe_mode"):
        with torch_tensorrt.runtime.set_multi_device_safe_mode(True):
            assert torch_tensorrt.runtime.get_multi_device_safe_mode()
            torch.testing.assert_close(gm(x), model(x))
    assert not torch_tensorrt.runtime.get_multi_device_safe_mode()


def test_switches_need_a_compiled_module():
    with pytest.raises(ValueError, match="holds no TensorRT engine"):
        with torch_tensorrt.runtime.enable_output_allocator(torch.nn.Linear(2, 2)):
            pass
