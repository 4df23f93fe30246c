"""reference.compare: the layer-by-layer accuracy report."""

import pytest
import torch

import torch_tensorrt
from examples import models


@pytest.mark.parametrize(
    "factory", [models.resnet_like, models.transformer_encoder], ids=["resnet_like", "transformer"]
)
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
        None,
        True,
        99,
        False,
    )
    monkeypatch.setitem(_registry.CONVERTERS._specs, torch.ops.aten.relu.default, [broken, *relu_specs])
    report = torch_tensorrt.reference.compare(M(), [torch.randn(4, 8)], print_table=False)
    assert report.first_divergence is not None
    assert report.first_divergence.node == "relu"
    assert "test_compare.py" in report.first_divergence.source and "torch.relu(y)" in report.first_divergence.source
    assert "first divergence: relu" in str(report)


def test_compare_detr():
    """DETR (transformers, a tiny random config, no backbone download): its first decoder self-attention runs on
    constants only, whose folded values once lost their layout so that the lowered graph failed eagerly."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = transformers.DetrConfig(
        use_pretrained_backbone=False,
        use_timm_backbone=False,
        backbone_config=transformers.ResNetConfig(
            depths=[1, 1, 1, 1], hidden_sizes=[16, 32, 64, 128], embedding_size=16, out_features=["stage4"]
        ),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        num_queries=10,
    )
    detr = transformers.DetrForObjectDetection(cfg).eval()

    class Detections(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.detr = detr

        def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = self.detr(pixel_values=pixels)
            return out.logits, out.pred_boxes

    report = torch_tensorrt.reference.compare(Detections().eval(), [torch.randn(1, 3, 64, 64)], print_table=False)
    assert len(report.rows) > 100
    assert report.first_divergence is None, str(report)
