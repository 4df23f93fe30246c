"""Top-level entry points: ``torch_tensorrt.compile`` and the re-exported save/load."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from torch_tensorrt._input import Input

_IRS = ("dynamo", "default", "exported_program")


def compile(
    module: Any,
    ir: str = "default",
    inputs: Any = None,
    *,
    arg_inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile an ``nn.Module`` or an ``ExportedProgram`` with the dynamo frontend.

    ``arg_inputs``/``inputs``: tensors or :class:`~torch_tensorrt.Input` (a list, or a single one; ranges make
    dimensions dynamic). An ``nn.Module`` is switched to eval mode and exported (the module of an
    ExportedProgram, ``ep.module()``, is exported as it is). Keyword arguments are
    :class:`~torch_tensorrt.dynamo.CompilationSettings` fields.
    """
    from torch_tensorrt import dynamo
    from torch_tensorrt.dynamo import _frontend

    if ir not in _IRS:
        raise ValueError(f"ir={ir!r} is not supported; use one of {_IRS} (TorchScript is not part of this build)")
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where="torch_tensorrt.compile")
    ep = _frontend.to_exported_program(module, spec, where="torch_tensorrt.compile")
    return dynamo.compile(ep, spec.args, kwarg_inputs=spec.kwargs, **kwargs)


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
