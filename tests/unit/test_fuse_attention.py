"""Lowering rewrites hand-written attention (matmul, softmax, matmul) as scaled_dot_product_attention, and
leaves everything that only looks like it alone."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program, run_passes

aten = torch.ops.aten
SDPA = aten.scaled_dot_product_attention.default


class HandAttention(nn.Module):
    """Swin/ViT-style attention: q scaled (before or after q k^T), a learned bias and an optional mask added."""

    def __init__(self, variant: str) -> None:
        super().__init__()
        self.variant = variant
        self.bias = nn.Parameter(torch.randn(3, 5, 5))
        self.register_buffer("mask", torch.where(torch.rand(5, 5) > 0.3, 0.0, -100.0))

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        c = 1 / math.sqrt(q.shape[-1])
        kind = self.variant
        if kind == "scale_q":
            s = (q * c) @ k.transpose(-2, -1) + self.bias
        elif kind == "scale_scores":
            s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        elif kind == "two_masks":
            s = q @ k.permute(0, 1, 3, 2) * c + self.bias + self.mask
        elif kind == "scale_after_mask":  # (qk + bias) * c: the bias is scaled too -- not sdpa's order
            s = (q @ k.transpose(-2, -1) + self.bias) * c
        elif kind == "bool_added":  # a bool mask *added* to the scores counts 0/1 -- not sdpa's keep-mask
            s = q @ k.transpose(-2, -1) * c + (self.mask == 0)
        elif kind == "softmax_dim2":
            return torch.softmax(q @ k.transpose(-2, -1) * c, dim=2) @ v
        elif kind == "probs_reused":
            p = torch.softmax(q @ k.transpose(-2, -1) * c, dim=-1)
            return p @ v + p.sum()
        else:
            raise ValueError(kind)
        return torch.softmax(s, dim=-1) @ v


def _lowered(variant: str):
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8)
    model = HandAttention(variant).eval()
    ep = torch.export.export(model, (q, k, v))
    gm = run_passes(lower_exported_program(ep, CompilationSettings()).module(), CompilationSettings())
    return gm, model, (q, k, v)


@pytest.mark.parametrize("variant", ["scale_q", "scale_scores", "two_masks"])
def test_hand_written_attention_becomes_sdpa(variant):
    gm, model, inputs = _lowered(variant)
    targets = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    assert targets.count(SDPA) == 1
    assert aten.softmax.int not in targets and aten.matmul.default not in targets
    torch.testing.assert_close(gm(*inputs), model(*inputs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", ["scale_after_mask", "bool_added", "softmax_dim2", "probs_reused"])
def test_look_alikes_stay(variant):
    gm, model, inputs = _lowered(variant)
    assert SDPA not in [n.target for n in gm.graph.nodes]
    torch.testing.assert_close(gm(*inputs), model(*inputs))


def test_fused_attention_converts():
    from torch_tensorrt.testing import assert_converts

    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8)
    assert_converts(HandAttention("two_masks"), [q, k, v], expected_ops={SDPA}, fold_constants=True)
