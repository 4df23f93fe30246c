"""Testing utilities: the converter harness, the simulated TensorRT runtime (``simulate``) and a launcher of
spawned ranks for tensor-parallel tests (``run_ranks``).

Importing this package registers the simulated engine kind with the runtime (see :mod:`._simulate`), so engines
compiled under :func:`simulate` -- and saved ones loaded later -- can be loaded in any process that imported it;
they run only inside :func:`simulate` (or after :func:`allow_simulated_engines`).
"""

from __future__ import annotations

from torch_tensorrt.testing._harness import HarnessResult, assert_converts
from torch_tensorrt.testing._ranks import RankFailure, run_ranks
from torch_tensorrt.testing._simulate import (  # registers the simulated kind
    allow_simulated_engines,
    is_active,
    record_network,
    simulate,
    simulated_engines_allowed,
)

__all__ = [
    "assert_converts",
    "HarnessResult",
    "simulate",
    "is_active",
    "record_network",
    "allow_simulated_engines",
    "simulated_engines_allowed",
    "run_ranks",
    "RankFailure",
]
