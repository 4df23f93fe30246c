"""Reference evaluation of whole programs: :func:`run` and the layer-by-layer :func:`compare` report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch
import torch.utils._pytree as pytree

from torch_tensorrt._input import Input
from torch_tensorrt.reference._evaluator import evaluate_network


def _flat_inputs(arg_inputs: Sequence[Any], kwarg_inputs: Optional[dict[str, Any]]) -> list[torch.Tensor]:
    values = list(arg_inputs) + list((kwarg_inputs or {}).values())
    return [v.example_tensor() if isinstance(v, Input) else v for v in values]


def engine_inputs(converted: Any, tensors: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map flat user tensors onto the engine's input bindings (in order), cast to the bindings' dtypes."""
    specs = converted.metadata.inputs
    tensor_values = [t for t in tensors if isinstance(t, torch.Tensor)]
    if len(specs) != len(tensor_values):
        raise ValueError(f"engine has {len(specs)} inputs, got {len(tensor_values)} tensors")
    return {s.name: t.to(s.torch_dtype) for s, t in zip(specs, tensor_values)}


def run(
    exported_program: torch.export.ExportedProgram,
    arg_inputs: Sequence[Any],
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **settings: Any,
) -> Any:
    """Convert ``exported_program`` through the product path (the engine build must succeed) and return the
    reference evaluation of the network on ``arg_inputs``, in the structure the model returns."""
    from torch_tensorrt.dynamo import convert_exported_program

    tensors = _flat_inputs(arg_inputs, kwarg_inputs)
    converted = convert_exported_program(exported_program, arg_inputs, kwarg_inputs=kwarg_inputs, **settings)
    outs = evaluate_network(converted.network.network, engine_inputs(converted, tensors))
    flat = [outs[name] for name in converted.output_names]
    return pytree.tree_unflatten(flat, exported_program.call_spec.out_spec)


@dataclass
class NodeError:
    node: str
    op: str
    max_abs: float
    rel_norm: float
    shape: tuple[int, ...]
    source: str


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
    return float(diff.nan_to_num(float("inf")).max()), float(torch.linalg.vector_norm(diff.nan_to_num(float("inf")))) / denom
