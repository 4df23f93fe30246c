"""The weight map: recipes recorded by the WeightTracker, their JSON form and their evaluation."""

from __future__ import annotations

import json

import pytest
import torch

from torch_tensorrt.dynamo.conversion._provenance import MapWriter, NetworkWeight, WeightTracker
from torch_tensorrt.runtime._weight_map import WeightMap, WeightMapError, digest, resolve_op


def _map_of(tracker: WeightTracker, values: dict[str, torch.Tensor]) -> WeightMap:
    """A weight map whose weights are ``values`` (as conversion would hand them to TensorRT)."""
    writer = MapWriter(tracker)
    weights = {}
    for name, value in values.items():
        node = writer.recipe(tracker.recipe(value))
        weights[name] = {
            "node": node,
            "dtype": str(value.dtype).replace("torch.", ""),
            "shape": list(value.shape),
            "locations": [],
        }
    wmap = WeightMap(
        weights=weights, nodes=writer.nodes, consts=writer.consts, sources=writer.sources, baked=dict(tracker.baked)
    )
    return WeightMap.from_json(json.loads(json.dumps(wmap.to_json())))  # what travels in the metadata


def test_recipes_recompute_derived_weights_from_new_sources():
    w, scale = torch.randn(4, 3), torch.rand(4) + 0.5
    tracker = WeightTracker()
    tracker.seed("fc.weight", w)
    tracker.seed("bn.weight", scale)
    with tracker.active():
        kernel = (w * scale.reshape(-1, 1)).t().contiguous().to(torch.float16)
        shift = torch.tensor([1.0, 2.0, 3.0])  # from no source: a constant
        biased = w[0] + shift
    wmap = _map_of(tracker, {"kernel": kernel, "biased": biased})
    assert wmap.sources_of(wmap.weights["kernel"]["node"]) == {"fc.weight", "bn.weight"}
    assert wmap.name_map()["biased"] == "fc.weight" and sorted(wmap.name_map()["kernel"]) == ["bn.weight", "fc.weight"]
    w2, s2 = torch.randn(4, 3), torch.rand(4) + 0.5
    out = wmap.compute({"fc.weight": w2, "bn.weight": s2})
    torch.testing.assert_close(out["kernel"], (w2 * s2.reshape(-1, 1)).t().to(torch.float16))
    torch.testing.assert_close(out["biased"], w2[0] + torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(WeightMapError, match="no 'bn.weight'"):
        wmap.compute({"fc.weight": w2})
    with pytest.raises(WeightMapError, match=r"'fc.weight' is float32 \[5, 3\]"):
        wmap.check_sources({"fc.weight": torch.randn(5, 3), "bn.weight": s2}, "engine 'e'")


def test_values_read_while_compiling_are_baked():
    gate = torch.tensor(1.0)
    tracker = WeightTracker()
    tracker.seed("gate", gate)
    with tracker.active():
        assert gate.item() == 1.0
    wmap = _map_of(tracker, {})
    wmap.check_baked({"gate": torch.tensor(1.0)}, "engine 'e'")
    with pytest.raises(WeightMapError, match="'gate' changed, but its value was read while compiling"):
        wmap.check_baked({"gate": torch.tensor(2.0)}, "engine 'e'")


def test_ops_outside_aten_are_opaque_and_refused_in_recipes():
    w = torch.randn(3)
    tracker = WeightTracker()
    tracker.seed("w", w)
    with tracker.active():
        out = torch.ops.prims.mul(w, w)
    assert tracker.recipe(out).opaque
    assert not tracker.recipe(w * 2).opaque
    for name in ("builtins.eval.default", "prims.mul.default", "aten.no_such_op.default", "aten.mul"):
        with pytest.raises(WeightMapError):
            resolve_op(name)


def test_digest_covers_dtype_shape_and_bytes():
    t = torch.arange(6.0)
    assert digest(t) == digest(t.clone()) != digest(t.reshape(2, 3)) != digest(t.double())
    assert digest(torch.tensor(3.0)) != digest(torch.tensor(4.0))


def test_network_weight_names_are_unique_per_conversion():
    from torch_tensorrt.dynamo.conversion._provenance import name_weights

    class Net:
        def __init__(self):
            self.names = []

        def set_weights_name(self, weights, name):
            self.names.append(name)
            return True

    net = Net()
    named = name_weights(net, [NetworkWeight("conv", torch.zeros(1), object(), None) for _ in range(3)])
    assert list(named) == ["w0_conv", "w1_conv", "w2_conv"] == net.names
