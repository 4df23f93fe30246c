"""Reference evaluation: the expected value of every tensor of a TensorRT network, computed in PyTorch.

* :func:`evaluate_network` -- evaluate a built ``INetworkDefinition``.
* :func:`run` -- convert an ExportedProgram through the product path and evaluate the result.
* :func:`compare` -- layer-by-layer accuracy report against eager PyTorch.

``run``, ``compare`` and ``CompareReport`` are whole-program tools living in :mod:`torch_tensorrt.tools` (they need
the compiler, which sits above this package); they are re-exported here lazily, on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from torch_tensorrt.reference._evaluator import evaluate_network
from torch_tensorrt.reference._registry import supported_layer_types

__all__ = ["evaluate_network", "supported_layer_types", "run", "compare", "CompareReport"]

#: name -> the tools module defining it (imported on first access)
_TOOLS = {
    "run": "torch_tensorrt.tools.run",
    "compare": "torch_tensorrt.tools.compare",
    "CompareReport": "torch_tensorrt.tools.compare",
}


def __getattr__(name: str) -> Any:
    if name in _TOOLS:
        return getattr(importlib.import_module(_TOOLS[name]), name)
    raise AttributeError(f"module 'torch_tensorrt.reference' has no attribute {name!r}")
