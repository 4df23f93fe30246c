"""Reference evaluation: the expected value of every tensor of a TensorRT network, computed in PyTorch.

* :func:`evaluate_network` -- evaluate a built ``INetworkDefinition``.
* :func:`run` -- convert an ExportedProgram through the product path and evaluate the result.
* :func:`compare` -- layer-by-layer accuracy report against eager PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

from torch_tensorrt.reference._evaluator import evaluate_network
from torch_tensorrt.reference._registry import supported_layer_types

__all__ = ["evaluate_network", "supported_layer_types", "run", "compare"]


def __getattr__(name: str) -> Any:
    if name == "run":
        return importlib.import_module("torch_tensorrt.reference._model").run
    if name in ("compare", "CompareReport"):
        return getattr(importlib.import_module("torch_tensorrt.reference._compare"), name)
    raise AttributeError(name)
