"""``torch_tensorrt.testing.simulate()``: build engines that run without a GPU, on the simulated runtime.

Inside ``with simulate():`` the compiler records every network it builds (:func:`record_network`) into the
engine metadata (``metadata.network``); such engines are *simulated*: their record's ``ENGINE_KIND`` is
``"simulated"`` and the Python runtime executes them with :mod:`torch_tensorrt.testing._sim_runtime`, which
evaluates the recorded network with the reference evaluator on the tensors it was given (CPU tensors on a
machine without a GPU). Nothing is simulated unless the context is entered; a real TensorRT runtime refuses
simulated engines.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from torch_tensorrt.testing._recording import RecordedNetwork, record_network
from torch_tensorrt.testing._sim_runtime import Runtime, serialize_plan

__all__ = ["simulate", "is_active", "record_network", "RecordedNetwork", "Runtime", "serialize_plan"]

_lock = threading.Lock()
_depth = 0


def is_active() -> bool:
    """True while some ``with simulate():`` block is open (process-wide: compile may run on another thread)."""
    return _depth > 0


@contextlib.contextmanager
def simulate() -> Iterator[None]:
    """Record built networks so that the engines compiled inside the block run on the simulated runtime."""
    global _depth
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
