"""The incumbent's top-level API names: ``ir="torch_compile"``, the enums, ``ENABLED_FEATURES``,
``dynamo.export``, ``convert_method_to_trt_engine`` and the plugin/kernel names that fail clearly."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.testing import simulate


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x)) + 1


def test_ir_torch_compile_returns_a_torch_compiled_module():
    torch._dynamo.reset()
    model = _Net()
    x = torch.randn(2, 4)
    before = torch_tensorrt.dynamo.backend_stats().graphs_compiled
    with simulate():
        compiled = torch_tensorrt.compile(model, ir="torch_compile", min_block_size=1)
        got = compiled(x)
    torch.testing.assert_close(got, model(x))
    assert torch_tensorrt.dynamo.backend_stats().graphs_compiled > before
    torch._dynamo.reset()


def test_ir_torch_compile_checks_settings_at_once():
    with pytest.raises(TypeError, match="min_blok_size"):
        torch_tensorrt.compile(_Net(), ir="torch_compile", min_blok_size=1)


def test_dtype_enum_converts_and_is_accepted_as_precision_and_input_dtype():
    dt = torch_tensorrt.dtype
    assert dt.f16.to(torch.dtype) is torch.float16
    assert dt._from(torch.bfloat16) is dt.bf16 is dt.bfloat16
    assert dt.half is dt.f16 and dt.float32 is dt.f32
    settings = torch_tensorrt.dynamo.CompilationSettings.from_kwargs(enabled_precisions={dt.f16})
    assert settings.compute_dtype == torch.float16
    spec = torch_tensorrt.Input(shape=(2, 4), dtype=dt.f32, format=torch_tensorrt.memory_format.contiguous)
    assert spec.dtype is torch.float32 and spec.format == torch.contiguous_format
    x = torch.randn(2, 4)
    with simulate():
        gm = torch_tensorrt.compile(_Net(), inputs=[spec], enabled_precisions={dt.f32}, min_block_size=1)
        assert gm(x).shape == (2, 3)
    with pytest.raises(TypeError, match="no TensorRT equivalent"):
        dt._from(torch.complex64)


def test_other_enums():
    assert torch_tensorrt.memory_format.channels_last.to(torch.memory_format) is torch.channels_last
    assert torch_tensorrt.memory_format.linear is torch_tensorrt.memory_format.contiguous
    with pytest.raises(TypeError, match="no torch equivalent"):
        torch_tensorrt.memory_format.chw32.to(torch.memory_format)
    assert {m.name for m in torch_tensorrt.DeviceType} == {"UNKNOWN", "GPU", "DLA"}
    assert torch_tensorrt.EngineCapability.STANDARD.name == "STANDARD"
    assert isinstance(torch_tensorrt.Platform.current_platform(), torch_tensorrt.Platform)


def test_enabled_features():
    features = torch_tensorrt.ENABLED_FEATURES
    assert features.dynamo_frontend and features.refit and features.tensorrt_rtx
    assert not features.qdp_plugin and not features.windows_cross_compile
    assert isinstance(features.torch_tensorrt_runtime, bool)
    # ir="ts" (TorchScript out of the dynamo path) needs the C++ runtime
    assert features.torchscript_frontend == features.torch_tensorrt_runtime


def test_dynamo_export_of_a_compiled_module():
    model, x = _Net(), torch.randn(2, 4)
    with simulate():
        gm = torch_tensorrt.compile(model, inputs=[x], min_block_size=1)
        ep = torch_tensorrt.dynamo.export(gm, [x])
        assert isinstance(ep, torch.export.ExportedProgram)
        got = ep.module()(x)
    torch.testing.assert_close(got, model(x))
    targets = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    assert any("execute_engine" in t for t in targets)


def test_convert_method_to_trt_engine_gives_the_whole_program_engine():
    model, x = _Net(), torch.randn(2, 4)
    engine = torch_tensorrt.convert_method_to_trt_engine(model, "forward", inputs=[torch_tensorrt.Input((2, 4))])
    ep = torch.export.export(model, (x,))
    direct = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(ep, [x])
    assert isinstance(engine, bytes) and len(engine) > 1000
    assert engine[:4] == direct[:4] and abs(len(engine) - len(direct)) < len(direct) // 10
    with pytest.raises(ValueError, match="method_name='forward'"):
        torch_tensorrt.convert_method_to_trt_engine(model, "encode", inputs=[x])


def test_plugins_and_kernels_fail_clearly():
    from torch_tensorrt._unsupported import NotSupportedInThisBuild
    from torch_tensorrt.dynamo.conversion import plugins

    with pytest.raises(NotSupportedInThisBuild, match="not supported in this build"):
        plugins.custom_op("my::op", supports_dynamic_shapes=True)
    with pytest.raises(NotImplementedError, match="kernels.*not supported in this build"):
        torch_tensorrt.kernels.triton_kernel
