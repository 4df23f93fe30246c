"""``aliased_io`` on engine modules (the incumbent's in-place I/O, documented for KV caches): which output bindings
share memory with which input, as TensorRT reports it (``get_aliased_input_tensor``), and that such an output is
the input tensor itself, updated in place. Under ``simulate()`` with a hand-built ``IKVCacheUpdateLayer`` network."""

from __future__ import annotations

import torch

from torch_tensorrt.testing import simulate
from torch_tensorrt.testing._engines import kv_cache_module


def test_aliased_io_names_the_output_written_into_its_input():
    module = kv_cache_module()
    with simulate():
        assert module.aliased_io == {"cache_out": "cache"}
        cache = torch.zeros(1, 2, 8, 4)
        update = torch.ones(1, 2, 1, 4)
        out, y = module(cache, update, torch.tensor([3], dtype=torch.int32), torch.tensor([1.0, 2.0]))
        assert out is cache  # the aliased output is the input tensor, updated in place
        assert torch.equal(cache[:, :, 3], torch.ones(1, 2, 4)) and cache.sum() == 8
        assert torch.equal(y, torch.tensor([2.0, 4.0]))
        module(cache, update * 2, torch.tensor([5], dtype=torch.int32), torch.tensor([1.0, 2.0]))
        assert torch.equal(cache[:, :, 5], 2 * torch.ones(1, 2, 4)) and cache.sum() == 24  # the next step sees it


def test_engines_without_in_place_outputs_alias_nothing():
    from torch_tensorrt.testing._engines import identity_module

    with simulate():
        assert identity_module((2, 3)).aliased_io == {}
