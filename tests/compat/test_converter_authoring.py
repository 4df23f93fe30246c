"""Converter authoring as the incumbent documents it: ``dynamo_tensorrt_converter`` over a
``(ctx, target, args, kwargs, name)`` function, ``ctx.net`` / ``ctx.compilation_settings``, priorities and
capability validators."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import (
    CONVERTERS,
    ConversionContext,
    ConverterPriority,
    SourceIR,
    dynamo_tensorrt_converter,
)
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.testing import simulate


class _Model(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x * 2) + 1


@pytest.fixture
def registered():
    """Converters registered by a test, removed afterwards (the registry is process-wide)."""
    fns: list[Any] = []
    yield fns.append
    for fn in fns:
        CONVERTERS.remove(fn)


def _network(**kwargs):
    x = torch.randn(2, 3)
    ep = torch.export.export(_Model(), (x,))
    with simulate():
        return torch_tensorrt.dynamo.convert_exported_program(ep, [x], **kwargs).network.network


def _layer_types(net) -> list[Any]:
    return [net.get_layer(i).type for i in range(net.num_layers)]


def _relu_as_max(calls: list[Any]):
    def relu_as_max(ctx: ConversionContext, target, args, kwargs, name: str):
        calls.append((target, name, type(ctx.compilation_settings).__name__))
        zero = ctx.net.add_constant((1, 1), trt.Weights(torch.zeros(1, dtype=torch.float32).numpy())).get_output(0)
        layer = ctx.net.add_elementwise(args[0], zero, trt.ElementWiseOperation.MAX)
        layer.name = f"user_relu_{name}"
        return layer.get_output(0)

    return relu_as_max


def test_high_priority_user_converter_replaces_ours(registered):
    assert trt.LayerType.ACTIVATION in _layer_types(_network())  # ours
    calls: list[Any] = []
    fn = dynamo_tensorrt_converter(
        torch.ops.aten.relu.default, priority=ConverterPriority.HIGH, supports_dynamic_shapes=True
    )(_relu_as_max(calls))
    registered(fn)
    net = _network()
    assert trt.LayerType.ACTIVATION not in _layer_types(net)
    assert trt.LayerType.ELEMENTWISE in _layer_types(net)
    assert calls and calls[0][0] is torch.ops.aten.relu.default
    assert calls[0][2] == "CompilationSettings"
    x = torch.randn(2, 3)
    with simulate():
        gm = torch_tensorrt.compile(_Model(), inputs=[x], min_block_size=1)
        got = gm(x)
    torch.testing.assert_close(got, _Model()(x))
    assert [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]


def test_standard_priority_user_converter_comes_after_ours(registered):
    calls: list[Any] = []
    registered(
        dynamo_tensorrt_converter(torch.ops.aten.relu.default, supports_dynamic_shapes=True)(_relu_as_max(calls))
    )
    net = _network()
    assert trt.LayerType.ACTIVATION in _layer_types(net)
    assert not calls


def test_validator_returning_false_falls_back_to_ours(registered):
    calls: list[Any] = []
    seen: list[Any] = []

    def never(node: torch.fx.Node, settings) -> bool:
        seen.append(node.target)
        return False

    registered(
        dynamo_tensorrt_converter(
            torch.ops.aten.relu.default,
            capability_validator=never,
            priority=ConverterPriority.HIGH,
            supports_dynamic_shapes=True,
        )(_relu_as_max(calls))
    )
    assert trt.LayerType.ACTIVATION in _layer_types(_network())
    assert seen and not calls


def test_validator_false_without_ours_leaves_the_op_to_pytorch_with_the_reason(registered, monkeypatch):
    relu = torch.ops.aten.relu.default
    calls: list[Any] = []

    def one_arg_validator(node: torch.fx.Node) -> bool:  # the older one-argument form
        return False

    registered(
        dynamo_tensorrt_converter(
            torch.ops.aten.relu.default,
            capability_validator=one_arg_validator,
            priority=ConverterPriority.HIGH,
        )(_relu_as_max(calls))
    )
    x = torch.randn(2, 3)
    settings = torch_tensorrt.dynamo.CompilationSettings(torch_executed_ops=set())
    node = next(
        n for n in torch.export.export(_Model(), (x,)).module().graph.nodes if n.target == torch.ops.aten.relu.default
    )
    user_only = [s for s in CONVERTERS.specs_for(relu) if getattr(s.fn, "__wrapped__", None) is not None]
    monkeypatch.setitem(CONVERTERS._specs, relu, user_only)  # take ours away for this check
    decision = CONVERTERS.decide(node, settings)
    assert not decision.supported
    assert "capability_validator" in decision.reason and "one_arg_validator" in decision.reason
    with simulate():
        gm = torch_tensorrt.compile(_Model(), inputs=[x], min_block_size=1)
        torch.testing.assert_close(gm(x), _Model()(x))
    assert not calls


def test_static_only_converter_and_assume_dynamic_shape_support(registered):
    calls: list[Any] = []
    registered(
        dynamo_tensorrt_converter(
            torch.ops.aten.relu.default,
            priority=ConverterPriority.HIGH,
            supports_dynamic_shapes=False,
        )(_relu_as_max(calls))
    )
    dyn = [torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3))]
    ep = torch_tensorrt.dynamo.trace(_Model(), arg_inputs=dyn)
    with simulate():
        torch_tensorrt.dynamo.convert_exported_program(ep, dyn)
        assert not calls, "a static-only converter is skipped for dynamic shapes"
        torch_tensorrt.dynamo.convert_exported_program(ep, dyn, assume_dynamic_shape_support=True)
        assert calls


def test_requires_output_allocator_marks_the_engine(registered):
    calls: list[Any] = []
    registered(
        dynamo_tensorrt_converter(
            torch.ops.aten.relu.default,
            priority=ConverterPriority.HIGH,
            supports_dynamic_shapes=True,
            requires_output_allocator=True,
        )(_relu_as_max(calls))
    )
    x = torch.randn(2, 3)
    with simulate():
        gm = torch_tensorrt.compile(_Model(), inputs=[x], min_block_size=1)
        engines = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
        assert engines and all(e.requires_output_allocator for e in engines)
        torch.testing.assert_close(gm(x), _Model()(x))


def test_enums_and_packet_targets(registered):
    assert {p.name for p in ConverterPriority} == {"STANDARD", "HIGH"}
    assert SourceIR.ATEN.name == "ATEN"
    with pytest.raises(TypeError, match="ConverterPriority"):
        dynamo_tensorrt_converter(torch.ops.aten.relu.default, priority=2)
    calls: list[Any] = []
    registered(
        dynamo_tensorrt_converter(torch.ops.aten.relu, priority=ConverterPriority.HIGH, supports_dynamic_shapes=True)(
            _relu_as_max(calls)
        )
    )
    _network()
    assert calls
