"""Shared models for the refit and engine-cache tests (all compiled under ``testing.simulate()``, CPU only)."""

from __future__ import annotations

import pytest
import torch

from examples.models import ResNetLike


def make_resnet18_like(seed: int) -> torch.nn.Module:
    """ResNet-18 layout (BasicBlock x [2, 2, 2, 2], BatchNorm after every convolution), narrow for CPU tests,
    with random weights and random BatchNorm statistics drawn from ``seed``."""
    torch.manual_seed(seed)
    model = ResNetLike(num_classes=10, width=8).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    return model


@pytest.fixture
def image() -> torch.Tensor:
    return torch.randn(2, 3, 32, 32)


@pytest.fixture
def resnet18_like():
    """The factory :func:`make_resnet18_like`."""
    return make_resnet18_like
