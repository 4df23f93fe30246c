"""``torch_tensorrt.dynamo.trace``: ``torch.export`` with the dynamic dimensions the Inputs describe.

The input handling (aliases, examples, the dynamic-shapes rule) is :mod:`torch_tensorrt.dynamo._frontend`'s.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch

from torch_tensorrt._input import Input
from torch_tensorrt.dynamo import _frontend

InputLike = Union[Input, torch.Tensor]


def trace(
    model: torch.nn.Module,
    inputs: Optional[Union[Sequence[InputLike], InputLike]] = None,
    *,
    arg_inputs: Optional[Union[Sequence[InputLike], InputLike]] = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    strict: bool = False,
    **_: Any,
) -> torch.export.ExportedProgram:
    """Export ``model`` with example values at each Input's opt shape and a ``Dim`` per dynamic dimension.

    ``model`` is exported as it is (switch it to eval mode yourself; :func:`torch_tensorrt.compile` does)."""
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where="torch_tensorrt.dynamo.trace")
    return _frontend.export(model, spec, strict=strict)
