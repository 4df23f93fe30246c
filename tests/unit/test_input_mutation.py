"""A program that updates an input in place (a KV cache written with index_copy_): the engine returns the new
value and PyTorch writes it back into the caller's tensor -- also when the engine's size arguments were dropped
(dynamic shapes), which once dead-code-eliminated the write-back."""

from __future__ import annotations

import torch

import torch_tensorrt
from torch_tensorrt.testing import simulate


class WriteCache(torch.nn.Module):
    def forward(self, x: torch.Tensor, start: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[1]) + start
        cache.index_copy_(1, positions, x)
        return cache.sum(1) * 2


def test_input_written_back_with_dynamic_shapes():
    x, start, cache = torch.randn(2, 3, 4), torch.tensor([2]), torch.zeros(2, 8, 4)
    seq = torch.export.Dim("seq", min=1, max=6)
    ep = torch.export.export(WriteCache(), (x, start, cache), dynamic_shapes=({1: seq}, None, None))
    spec = torch_tensorrt.Input(min_shape=(2, 1, 4), opt_shape=(2, 3, 4), max_shape=(2, 6, 4))
    with simulate():
        gm = torch_tensorrt.dynamo.compile(ep, [spec, start, cache], min_block_size=1)
    for length in (3, 5):
        x = torch.randn(2, length, 4)
        mine, theirs = torch.zeros(2, 8, 4), torch.zeros(2, 8, 4)
        torch.testing.assert_close(gm(x, start, mine), WriteCache()(x, start, theirs))
        torch.testing.assert_close(mine, theirs)
        assert mine.abs().sum() > 0
