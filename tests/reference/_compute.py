"""Shared helpers of the compute-layer self-tests (test_layers_compute*.py): a value-carrying network builder,
deterministic random tensors, a float64 comparison, and the documented padding-mode arithmetic."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from torch_tensorrt._trt import trt

from _net import NetBuilder


class Net:
    """A :class:`NetBuilder` whose inputs are added together with their values; ``run`` marks, builds, evaluates."""

    def __init__(self) -> None:
        self.nb = NetBuilder()
        self.network = self.nb.network
        self.values: dict[str, torch.Tensor] = {}

    def input(self, name: str, value: torch.Tensor, dynamic: Sequence[int] = ()) -> "trt.ITensor":
        """A network input holding ``value``; dims listed in ``dynamic`` are -1 with profile range [1, 2*len]."""
        shape = tuple(-1 if d in dynamic else int(s) for d, s in enumerate(value.shape))
        lo = tuple(1 if d in dynamic else int(s) for d, s in enumerate(value.shape))
        hi = tuple(2 * int(s) if d in dynamic else int(s) for d, s in enumerate(value.shape))
        self.values[name] = value
        if not dynamic:
            return self.nb.input(name, shape, value.dtype)
        return self.nb.input(name, shape, value.dtype, min=lo, opt=tuple(value.shape), max=hi)

    def const(self, value: torch.Tensor) -> "trt.ITensor":
        return self.nb.const(value)

    def run(self, *outputs: "trt.ITensor") -> list[torch.Tensor]:
        for out in outputs:
            self.nb.mark(out)
        result = self.nb.run(self.values)
        return [result[o.name] for o in outputs]


def w_(array: torch.Tensor) -> "trt.Weights":
    return trt.Weights(np.ascontiguousarray(array.numpy()))


def rand(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def close(actual: torch.Tensor, expected: torch.Tensor, tol: float = 1e-5) -> None:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    torch.testing.assert_close(actual.double(), expected.double(), rtol=tol, atol=tol)


def pads(mode: str, size: int, k: int, s: int, d: int, pre: int, post: int) -> tuple[int, int, int]:
    """(pre, post, output length) of one spatial dim of a convolution/pooling."""
    dk = 1 + d * (k - 1)
    if mode.startswith("SAME"):
        total = max((size - 1) // s * s + dk - size, 0)
        small = total // 2
        pre, post = (small, total - small) if mode == "SAME_UPPER" else (total - small, small)
        return pre, post, -(-size // s)
    m = size + pre + post
    out = (m - dk) // s + 1 if mode == "EXPLICIT_ROUND_DOWN" else -(-(m - dk) // s) + 1
    return pre, post, out


def zero_pad(x: torch.Tensor, pads: list[tuple[int, int]], fill: float = 0.0) -> torch.Tensor:
    """Pad the trailing len(pads) dims by slice assignment into a filled tensor."""
    r = len(pads)
    shape = list(x.shape[:-r]) + [n + a + b for n, (a, b) in zip(x.shape[-r:], pads)]
    out = torch.full(shape, fill, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(a, a + n) for n, (a, _) in zip(x.shape[-r:], pads))] = x
    return out
