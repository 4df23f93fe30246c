"""``aliased_io`` on engine modules (the incumbent's in-place I/O, documented for KV caches): which output bindings
share memory with which input, as TensorRT reports it (``get_aliased_input_tensor``), and that such an output is
the input tensor itself, updated in place. Under ``simulate()`` with a hand-built ``IKVCacheUpdateLayer`` network."""

from __future__ import annotations

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.testing import simulate
from torch_tensorrt.testing._engines import add_input, new_network, simulated_module, spec


def _kv_cache_module():
    builder, network = new_network()
    cache = add_input(network, spec("cache", torch.float32, [1, 2, 8, 4]))
    update = add_input(network, spec("update", torch.float32, [1, 2, 1, 4]))
    where = add_input(network, spec("where", torch.int32, [1]))
    x = add_input(network, spec("x", torch.float32, [2]))
    layer = network.add_kv_cache_update(cache, update, where, trt.KVCacheMode.LINEAR)
    layer.get_output(0).name = "cache_out"
    network.mark_output(layer.get_output(0))
    doubled = network.add_elementwise(x, x, trt.ElementWiseOperation.SUM).get_output(0)
    doubled.name = "y"
    network.mark_output(doubled)
    ins = [
        spec("cache", torch.float32, [1, 2, 8, 4]),
        spec("update", torch.float32, [1, 2, 1, 4]),
        spec("where", torch.int32, [1]),
        spec("x", torch.float32, [2]),
    ]
    outs = [spec("cache_out", torch.float32, [1, 2, 8, 4]), spec("y", torch.float32, [2])]
    return simulated_module(builder, network, ins, outs, name="kv", build=False, settings=None)


def test_aliased_io_names_the_output_written_into_its_input():
    module = _kv_cache_module()
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
