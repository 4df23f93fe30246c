"""``torch_tensorrt.reference.run``: convert a program through the product path and evaluate its network."""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.utils._pytree as pytree

from torch_tensorrt.dynamo import convert_exported_program
from torch_tensorrt.dynamo._frontend import require_exported_program, user_inputs
from torch_tensorrt.reference import evaluate_network
from torch_tensorrt.reference._model import engine_inputs


def run(
    exported_program: torch.export.ExportedProgram,
    arg_inputs: Any,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **settings: Any,
) -> Any:
    """Convert ``exported_program`` through the product path (the engine build must succeed) and return the
    reference evaluation of the network on ``arg_inputs`` (tensors, or Inputs evaluated at an example of their
    opt shape), in the structure the model returns."""
    where = "torch_tensorrt.reference.run"
    require_exported_program(exported_program, where=where)
    spec = user_inputs(arg_inputs, kwarg_inputs, where=where)
    tensors = spec.example_tensors()
    converted = convert_exported_program(exported_program, spec.args, kwarg_inputs=spec.kwargs, **settings)
    outs = evaluate_network(converted.network.network, engine_inputs(converted, tensors))
    flat = [outs[name] for name in converted.output_names]
    return pytree.tree_unflatten(flat, exported_program.call_spec.out_spec)
