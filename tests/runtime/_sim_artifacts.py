"""Simulated compiled models for the CUDA-path tests.

Where TensorRT is installed (here, CI) the models are compiled on the spot under ``simulate()``. The GPU test
machine has no TensorRT: there the tests load models compiled elsewhere, from ``TORCHTRT_SIM_ARTIFACTS``
(written by ``python tests/runtime/_sim_artifacts.py OUT.pt``), and run them with the names-only TensorRT
stand-in (:mod:`torch_tensorrt.testing._names_only_trt`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]


def build() -> dict[str, Any]:
    """``{name: (compiled GraphModule, example input, eager output, eager model)}`` compiled on the CPU."""
    sys.path.insert(0, str(ROOT))
    import torch_tensorrt
    from examples import models
    from torch_tensorrt.testing import simulate

    out: dict[str, Any] = {}
    with torch.no_grad():
        for name in ("mlp", "small_cnn", "transformer_encoder"):
            model, (x,) = getattr(models, name)()
            with simulate():
                gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[x], min_block_size=1)
            out[name] = (gm, x, model(x), model)
        model, (x,) = models.mlp()
        spec = torch_tensorrt.Input(min_shape=(1, 64), opt_shape=(8, 64), max_shape=(16, 64))
        with simulate():
            gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[spec], min_block_size=1)
        out["mlp_dynamic"] = (gm, x, model(x), model)
    return out


def load_or_build() -> dict[str, Any]:
    from torch_tensorrt import _trt

    if _trt.is_available() and not _trt.info().version.endswith("names-only"):
        return build()
    path = os.environ.get("TORCHTRT_SIM_ARTIFACTS")
    if not path:
        import pytest

        pytest.skip("no TensorRT to compile with and no TORCHTRT_SIM_ARTIFACTS to load")
    import torch_tensorrt.testing  # registers the simulated engine kind the artifacts are of

    torch_tensorrt.testing.allow_simulated_engines()  # they run outside simulate() here

    return torch.load(path, weights_only=False)


if __name__ == "__main__":
    torch.save(build(), sys.argv[1])
    print(f"wrote {sys.argv[1]}")
