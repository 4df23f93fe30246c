"""Example models for the README's main job, the benchmarks and the end-to-end tests.

Each factory returns ``(model, example_inputs)`` with random weights in eval mode (no downloads).
"""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, sizes: tuple[int, ...] = (64, 256, 256, 10)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNetLike(nn.Module):
    """ResNet-18 layout: BasicBlock x [2, 2, 2, 2]."""

    def __init__(self, num_classes: int = 1000, width: int = 64, blocks: tuple[int, ...] = (2, 2, 2, 2)) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1)
        )
        layers = []
        cin = width
        for i, n in enumerate(blocks):
            cout = width * 2**i
            for j in range(n):
                layers.append(BasicBlock(cin, cout, 2 if (j == 0 and i > 0) else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


class SmallCNN(nn.Module):
    """A small CNN with one residual block (the end-to-end test model)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.block = BasicBlock(16, 16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.block(self.stem(x))), 1))


class FNetLayer(nn.Module):
    """An FNet encoder layer (Lee-Thorp et al.): Fourier token mixing instead of attention, then a feed-forward
    block. The FFT has no TensorRT converter: a model with PyTorch partitions between its engines."""

    def __init__(self, dim: int = 256, hidden: int = 1024) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.fft.fft2(x.float()).real
        x = self.norm1(x + mixed)
        return self.norm2(x + self.ff(x))


class FNet(nn.Module):
    def __init__(self, layers: int = 4, dim: int = 256, vocab: int = 1000) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.Sequential(*[FNetLayer(dim) for _ in range(layers)])
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(self.embed(ids)))


def mlp() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    return MLP().eval(), (torch.randn(8, 64),)


def resnet_like() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    return ResNetLike().eval(), (torch.randn(1, 3, 224, 224),)


def small_cnn() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    return SmallCNN().eval(), (torch.randn(2, 3, 32, 32),)


def transformer_encoder() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    layer = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    return layer.eval(), (torch.randn(2, 32, 256),)


def fnet() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    return FNet().eval(), (torch.randint(0, 1000, (2, 128)),)


def resnet50() -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """torchvision's ResNet-50 with random weights (no download)."""
    import torchvision

    return torchvision.models.resnet50(weights=None).eval(), (torch.randn(1, 3, 224, 224),)
