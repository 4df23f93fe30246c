"""reference.compare: the layer-by-layer accuracy report."""

import pytest
import torch

import torch_tensorrt
from examples import models


@pytest.mark.parametrize("factory", [models.resnet_like, models.transformer_encoder], ids=["resnet_like", "transformer"])
def test_compare_benchmark_models(factory, capsys):
    model, (x,) = factory()
    report = torch_tensorrt.reference.compare(model, [x])
    assert report.first_divergence is None, str(report)
    assert len(report.rows) > 20
    assert all(r.rel_norm <= 1e-4 for r in report.rows)
    printed = capsys.readouterr().out
    assert "reference vs eager" in printed and "no divergence" in printed and "rel norm err" in printed


def test_compare_points_at_first_divergence(monkeypatch):
    """A deliberately wrong converter is reported as the first divergence, with its source line."""
    from torch_tensorrt.dynamo.conversion import _registry
    from torch_tensorrt.dynamo.conversion import _tensors as T
    from torch_tensorrt._trt import trt

    class M(torch.nn.Module):
        def forward(self, x):
            y = x * 2
            z = torch.relu(y)  # the broken converter below turns this into a sigmoid
            return z + 1

    relu_specs = _registry.CONVERTERS.specs_for(torch.ops.aten.relu.default)  # (loads the registry)
    broken = _registry.ConverterSpec(
        torch.ops.aten.relu.default,
        lambda ctx, node, args, kwargs: T.activation(ctx, args[0], trt.ActivationType.SIGMOID),
        None, True, 99, False,
    )
    monkeypatch.setitem(_registry.CONVERTERS._specs, torch.ops.aten.relu.default, [broken, *relu_specs])
    report = torch_tensorrt.reference.compare(M(), [torch.randn(4, 8)], print_table=False)
    assert report.first_divergence is not None
    assert report.first_divergence.node == "relu"
    assert "test_compare.py" in report.first_divergence.source and "torch.relu(y)" in report.first_divergence.source
    assert "first divergence: relu" in str(report)
