"""Documented import paths of the runtime under ``torch_tensorrt.dynamo.runtime`` (re-exports).

The runtime lives in :mod:`torch_tensorrt.runtime`; this package only keeps the paths users know working:
``torch_tensorrt.dynamo.runtime.TorchTensorRTModule`` and the module ``torch_tensorrt.dynamo.runtime._TRTEngine``
(plus ``_TorchTensorRTModule`` and ``_execute_op`` for code written against them). The names resolve lazily, so
importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TorchTensorRTModule": "torch_tensorrt.runtime._module",
    "TRTEngine": "torch_tensorrt.runtime._engine",
    "ExecutionInfo": "torch_tensorrt.runtime._engine",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'torch_tensorrt.dynamo.runtime' has no attribute {name!r}")
