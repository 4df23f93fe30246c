import torch
import torch.fx

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.conversion._registry import (
    ConverterRegistry,
    ConverterSpec,
    Priority,
    CONVERTERS,
    node_has_dynamic_shape,
)


def _graph_node(target):
    g = torch.fx.Graph()
    x = g.placeholder("x")
    x.meta["val"] = torch.empty(2)
    n = g.call_function(target, (x,))
    n.meta["val"] = torch.empty(2)
    return n


def _spec(target, fn, validator=None, priority=Priority.STANDARD, dynamic=True):
    return ConverterSpec(target, fn, validator, dynamic, int(priority), False)


def test_priority_and_validator_fallthrough():
    reg = ConverterRegistry()
    reg._loaded = True
    target = torch.ops.aten.relu.default
    low = lambda *a: "low"  # noqa: E731
    high = lambda *a: "high"  # noqa: E731
    reg.register(_spec(target, low, priority=Priority.LOW))
    reg.register(_spec(target, high, validator=lambda n, s: "needs X", priority=Priority.HIGH))
    node = _graph_node(target)
    decision = reg.decide(node, CompilationSettings())
    assert decision.spec.fn is low
    reg2 = ConverterRegistry()
    reg2._loaded = True
    reg2.register(_spec(target, high, validator=lambda n, s: "needs X"))
    d2 = reg2.decide(node, CompilationSettings())
    assert not d2.supported and d2.reason == "needs X"


def test_missing_converter_and_torch_executed_ops():
    reg = ConverterRegistry()
    reg._loaded = True
    node = _graph_node(torch.ops.aten.relu.default)
    assert reg.decide(node, CompilationSettings()).reason == "no converter for aten.relu.default"
    reg.register(_spec(torch.ops.aten.relu.default, lambda *a: None))
    for excluded in (
        {torch.ops.aten.relu.default},
        {torch.ops.aten.relu},
        {"aten.relu"},
        {"torch.ops.aten.relu.default"},
    ):
        d = reg.decide(node, CompilationSettings(torch_executed_ops=excluded))
        assert not d.supported and "torch_executed_ops" in d.reason, excluded


def test_static_only_converter_rejects_dynamic_nodes():
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    from torch._subclasses.fake_tensor import FakeTensorMode

    mode = FakeTensorMode(shape_env=ShapeEnv())
    with mode:
        dyn = mode.from_tensor(torch.empty(3, 2), symbolic_context=None)
    reg = ConverterRegistry()
    reg._loaded = True
    reg.register(_spec(torch.ops.aten.relu.default, lambda *a: None, dynamic=False))
    node = _graph_node(torch.ops.aten.relu.default)
    assert reg.decide(node, CompilationSettings()).supported
    sym = torch.export.export(torch.nn.ReLU(), (torch.randn(3, 2),), dynamic_shapes=({0: torch.export.Dim("b")},))
    relu = next(n for n in sym.graph.nodes if n.op == "call_function")
    assert node_has_dynamic_shape(relu)
    d = reg.decide(relu, CompilationSettings())
    assert not d.supported and "dynamic" in d.reason
    del dyn


def test_global_registry_has_foundation_families():
    targets = CONVERTERS.targets()
    for op in (torch.ops.aten.add.Tensor, torch.ops.aten.view.default, torch.ops.aten.sym_size.int):
        assert op in targets
