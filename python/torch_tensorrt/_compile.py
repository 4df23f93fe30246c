"""Top-level entry points: ``torch_tensorrt.compile`` and the re-exported save/load."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from torch_tensorrt._input import Input

_IRS = ("dynamo", "default", "exported_program")


def compile(
    module: Any,
    ir: str = "default",
    inputs: Optional[Sequence[Any]] = None,
    *,
    arg_inputs: Optional[Sequence[Any]] = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile an ``nn.Module`` or an ``ExportedProgram`` with the dynamo frontend.

    ``arg_inputs``/``inputs``: tensors or :class:`~torch_tensorrt.Input` (ranges make dimensions dynamic).
    Keyword arguments are :class:`~torch_tensorrt.dynamo.CompilationSettings` fields.
    """
    from torch_tensorrt import dynamo

    if ir not in _IRS:
        raise ValueError(f"ir={ir!r} is not supported; use one of {_IRS} (TorchScript is not part of this build)")
    if arg_inputs is not None and inputs is not None:
        raise ValueError("pass either `inputs` or `arg_inputs`, not both")
    args = list(arg_inputs if arg_inputs is not None else (inputs or []))
    if isinstance(module, torch.export.ExportedProgram):
        ep = module
    elif isinstance(module, torch.nn.Module):
        if not args and not kwarg_inputs:
            raise ValueError("compile: give arg_inputs (example tensors or torch_tensorrt.Input) to trace the module")
        ep = dynamo.trace(module.eval(), arg_inputs=args, kwarg_inputs=kwarg_inputs)
    else:
        raise TypeError(f"compile: expected an nn.Module or ExportedProgram, got {type(module).__name__}")
    return dynamo.compile(ep, args, kwarg_inputs=kwarg_inputs, **kwargs)


def convert_exported_program_to_trt_engine(
    exported_program: torch.export.ExportedProgram, inputs: Optional[Sequence[Any]] = None, **kwargs: Any
) -> bytes:
    """Alias of :func:`torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine`."""
    from torch_tensorrt.dynamo import convert_exported_program_to_serialized_trt_engine

    return convert_exported_program_to_serialized_trt_engine(exported_program, inputs, **kwargs)


def save(*args: Any, **kwargs: Any) -> None:
    """See :func:`torch_tensorrt._serialization.save`."""
    from torch_tensorrt._serialization import save as _save

    return _save(*args, **kwargs)


def load(*args: Any, **kwargs: Any) -> Any:
    """See :func:`torch_tensorrt._serialization.load`."""
    from torch_tensorrt._serialization import load as _load

    return _load(*args, **kwargs)


__all__ = ["compile", "convert_exported_program_to_trt_engine", "save", "load", "Input"]
