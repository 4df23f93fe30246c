"""``torch_tensorrt.dynamo.export``: a compiled module (engines included) as a ``torch.export.ExportedProgram``.

Engines are made into engine objects first (nothing is deserialized), so that tracing lifts them as constants of
the program; the module is traced as it is (its mode is not changed). ``torch_tensorrt.save`` writes such a
program; this returns it in memory.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt.dynamo import _frontend


def export(
    gm: torch.nn.Module,
    inputs: Any = None,
    *,
    arg_inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    dynamic_shapes: Any = None,
) -> torch.export.ExportedProgram:
    """The ExportedProgram of compiled module ``gm`` traced at ``arg_inputs`` (alias ``inputs``: tensors or
    :class:`~torch_tensorrt.Input`; dynamic Input ranges become export dims unless ``dynamic_shapes`` is given)."""
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    where = "torch_tensorrt.dynamo.export"
    if not isinstance(gm, torch.nn.Module):
        raise TypeError(
            f"{where}: expected the compiled nn.Module (torch_tensorrt.compile's result), got {type(gm).__name__}"
        )
    for sub in gm.modules():
        if isinstance(sub, TorchTensorRTModule) and sub.record is not None:
            sub.setup_engine(deserialize=False)
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where=where)
    return _frontend.to_exported_program(gm, spec, where=where, eval_mode=False, dynamic=dynamic_shapes)
