"""Testing utilities: the converter harness and the simulated TensorRT runtime (``simulate``)."""

from __future__ import annotations

import importlib
from typing import Any

from torch_tensorrt.testing._harness import HarnessResult, assert_converts

__all__ = ["assert_converts", "HarnessResult", "simulate"]


def __getattr__(name: str) -> Any:
    if name in ("simulate", "is_active", "record_network"):
        return getattr(importlib.import_module("torch_tensorrt.testing._simulate"), name)
    raise AttributeError(name)
