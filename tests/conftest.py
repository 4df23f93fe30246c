"""Suite-wide fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for `import examples.models`

if os.environ.get("TORCHTRT_NAMES_ONLY_TRT") == "1":
    # Machines where TensorRT cannot be installed (the GPU test machine): simulated engines run with the
    # names-only stand-in. Real TensorRT, when present, always wins.
    from torch_tensorrt.testing import _names_only_trt

    _names_only_trt.install()


@pytest.fixture(autouse=True, scope="session")
def _simulated_engines_run() -> None:
    """The suite runs engines compiled under ``testing.simulate()`` outside the block: it opts in once (tests of
    the refusal withdraw the opt-in for themselves; fresh processes opt in in their own scripts)."""
    from torch_tensorrt import testing

    testing.allow_simulated_engines(True)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
