"""Compile a ResNet-18-like model under testing.simulate() with the engine cache in ``argv[1]`` (weights from seed
``argv[2]``) and print JSON: the cache outcome of each engine, the builds done, and the max error against eager.
Run as a separate process by test_engine_cache.py (a fresh process, or two at once)."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import torch  # noqa: E402

import torch_tensorrt  # noqa: E402
from torch_tensorrt import testing  # noqa: E402
from torch_tensorrt.dynamo.conversion import builds_done  # noqa: E402

from conftest import make_resnet18_like  # noqa: E402

#: one operator left to PyTorch splits the model into two engines
SETTINGS = dict(
    min_block_size=1,
    immutable_weights=False,
    cache_built_engines=True,
    reuse_cached_engines=True,
    torch_executed_ops={"aten.max_pool2d.default"},
)


def main() -> None:
    cache_dir, seed = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    model = make_resnet18_like(seed)
    ep = torch.export.export(model, (x,))
    with testing.simulate():
        gm = torch_tensorrt.dynamo.compile(ep, arg_inputs=[x], engine_cache_dir=cache_dir, **SETTINGS)
    builds = builds_done()
    with torch.no_grad(), testing.simulate():  # simulated engines run only under simulate()
        err = (gm(x) - model(x)).abs().max().item()
    print(json.dumps({"cache": [e.cache for e in gm.compile_report.engines], "builds": builds, "err": err}))


if __name__ == "__main__":
    main()
