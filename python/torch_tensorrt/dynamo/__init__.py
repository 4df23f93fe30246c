"""The dynamo (torch.export) frontend: trace, compile, convert to a raw engine."""

from __future__ import annotations

import importlib
from typing import Any

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo._tracer import trace
from torch_tensorrt.dynamo._compiler import (
    compile,
    convert_exported_program,
    convert_exported_program_to_serialized_trt_engine,
)
from torch_tensorrt.dynamo._engine_cache import BaseEngineCache, DiskEngineCache
from torch_tensorrt.dynamo._refit import refit_module_weights

__all__ = [
    "CompilationSettings",
    "compile",
    "convert_exported_program",
    "convert_exported_program_to_serialized_trt_engine",
    "refit_module_weights",
    "BaseEngineCache",
    "DiskEngineCache",
    "trace",
    "coverage",
    "runtime",
    "backend_stats",
    "reset_backend_stats",
]


def __getattr__(name: str) -> Any:
    if name == "coverage":  # a whole-program tool (torch_tensorrt.tools sits above this package): imported lazily
        return importlib.import_module("torch_tensorrt.tools.coverage").coverage
    if name in ("backend_stats", "reset_backend_stats"):  # the torch.compile backend's counters
        return getattr(importlib.import_module("torch_tensorrt.dynamo._backend_stats"), name)
    if name == "runtime":
        return importlib.import_module("torch_tensorrt.dynamo.runtime")
    raise AttributeError(f"module 'torch_tensorrt.dynamo' has no attribute {name!r}")
