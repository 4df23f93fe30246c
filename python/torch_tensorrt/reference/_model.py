"""Helpers for evaluating whole converted programs (used by the tools in :mod:`torch_tensorrt.tools` and by the
converter test harness): user tensors onto an engine's input bindings, and the error metric of the reports.

Only the bottom layer is imported here: the converted program is read through its ``metadata`` attribute.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch


def engine_inputs(converted: Any, tensors: Sequence[Any]) -> dict[str, torch.Tensor]:
    """Map flat user tensors onto the engine's input bindings (in order; non-tensor values are skipped), cast to
    the bindings' dtypes. ``converted`` is a ``ConvertedEngine`` (anything with ``metadata.inputs``)."""
    specs = converted.metadata.inputs
    tensor_values = [t for t in tensors if isinstance(t, torch.Tensor)]
    if len(specs) != len(tensor_values):
        raise ValueError(f"engine has {len(specs)} inputs, got {len(tensor_values)} tensors")
    return {s.name: t.to(s.torch_dtype) for s, t in zip(specs, tensor_values)}


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> tuple[float, float]:
    """(max abs error, relative norm error ||a-e|| / max(||e||, tiny)) computed in float64."""
    a = actual.detach().to(torch.float64)
    e = expected.detach().to(torch.float64)
    if a.numel() == 0:
        return 0.0, 0.0
    diff = (a - e).abs()
    if torch.isnan(e).any() or torch.isinf(e).any():
        same = (a == e) | (torch.isnan(a) & torch.isnan(e))
        diff = torch.where(same, torch.zeros_like(diff), diff)
    denom = max(float(torch.linalg.vector_norm(e.nan_to_num(0.0, 0.0, 0.0))), 1e-12)
    return float(diff.nan_to_num(float("inf")).max()), float(
        torch.linalg.vector_norm(diff.nan_to_num(float("inf")))
    ) / denom
