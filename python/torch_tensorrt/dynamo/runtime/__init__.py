"""Runtime of compiled programs: :class:`TorchTensorRTModule` and the Python engine :class:`TRTEngine`.

Importing this package is cheap; the first access to :class:`TorchTensorRTModule` registers the Python
``tensorrt::execute_engine_python`` op (and, when the C++ runtime is loaded, the fake class and fake kernel of
``tensorrt::Engine`` / ``tensorrt::execute_engine``).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TorchTensorRTModule": "torch_tensorrt.dynamo.runtime._TorchTensorRTModule",
    "TRTEngine": "torch_tensorrt.dynamo.runtime._TRTEngine",
    "ExecutionInfo": "torch_tensorrt.dynamo.runtime._TRTEngine",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'torch_tensorrt.dynamo.runtime' has no attribute {name!r}")
