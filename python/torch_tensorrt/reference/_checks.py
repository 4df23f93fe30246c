"""The evaluator's contract with the network: every computed value has the dtype and shape the network declares."""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt._dtypes import torch_dtype_of


def check_output(layer: Any, slot: int, result: torch.Tensor, type_name: str) -> None:
    """Raise unless ``result`` has the dtype and shape (``-1``: any length) the network declares for the output."""
    out = layer.get_output(slot)
    declared = torch_dtype_of(out.dtype)
    if result.dtype != declared:
        raise AssertionError(
            f"reference evaluator: layer {layer.name!r} ({type_name}) output {slot} computed as "
            f"{result.dtype}, network declares {declared}"
        )
    shape = tuple(out.shape)
    if len(shape) != result.dim() or any(d != -1 and d != s for d, s in zip(shape, result.shape)):
        raise AssertionError(
            f"reference evaluator: layer {layer.name!r} ({type_name}) output {slot} has shape "
            f"{tuple(result.shape)}, network declares {shape}"
        )
