"""Top-level entry points: ``torch_tensorrt.compile`` and the re-exported save/load."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import torch

from torch_tensorrt._input import Input

_IRS = ("dynamo", "default", "exported_program", "torch_compile")


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
    if ir == "torch_compile":
        return _torch_compile(module, **kwargs)
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where="torch_tensorrt.compile")
    ep = _frontend.to_exported_program(module, spec, where="torch_tensorrt.compile")
    return dynamo.compile(ep, spec.args, kwarg_inputs=spec.kwargs, **kwargs)


def _torch_compile(module: Any, **kwargs: Any) -> Any:
    """``ir="torch_compile"``: ``torch.compile(module, backend="tensorrt", options=kwargs, dynamic=False)``
    (the JIT path; inputs are not needed, the first call compiles). The settings are checked now, not at the
    first call."""
    from torch_tensorrt.dynamo import CompilationSettings

    dynamic = kwargs.pop("dynamic", False)
    CompilationSettings.from_kwargs(**kwargs)
    return torch.compile(module, backend="tensorrt", options=kwargs, dynamic=dynamic)


def convert_method_to_trt_engine(
    module: Any,
    method_name: str = "forward",
    inputs: Any = None,
    *,
    ir: str = "default",
    arg_inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> bytes:
    """The serialized TensorRT engine of ``module``'s ``method_name`` (only ``forward`` can be exported) as one
    engine: every op must convert. ``module`` is an ``nn.Module`` (exported at ``inputs``) or an
    ExportedProgram; keyword arguments are compilation settings."""
    from torch_tensorrt.dynamo import _frontend, convert_exported_program_to_serialized_trt_engine

    if method_name != "forward":
        raise ValueError(f"convert_method_to_trt_engine: only method_name='forward' can be exported, got {method_name!r}")
    if ir not in ("dynamo", "default", "exported_program"):
        raise ValueError(f"convert_method_to_trt_engine: ir={ir!r} is not supported; use 'dynamo'")
    where = "torch_tensorrt.convert_method_to_trt_engine"
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where=where)
    ep = _frontend.to_exported_program(module, spec, where=where)
    return convert_exported_program_to_serialized_trt_engine(ep, spec.args, kwarg_inputs=spec.kwargs, **kwargs)


class FeatureSet(NamedTuple):
    """What this build can do (``torch_tensorrt.ENABLED_FEATURES``), under the incumbent's field names."""

    torchscript_frontend: bool
    torch_tensorrt_runtime: bool
    dynamo_frontend: bool
    fx_frontend: bool
    refit: bool
    qdp_plugin: bool
    windows_cross_compile: bool
    tensorrt_rtx: bool


def enabled_features() -> FeatureSet:
    """The :class:`FeatureSet` of this build; ``torch_tensorrt_runtime``: the C++ runtime library is available."""
    from torch_tensorrt.runtime import cpp_runtime_available

    return FeatureSet(
        torchscript_frontend=False, torch_tensorrt_runtime=bool(cpp_runtime_available()), dynamo_frontend=True,
        fx_frontend=False, refit=True, qdp_plugin=False, windows_cross_compile=False, tensorrt_rtx=True,
    )


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


__all__ = [
    "compile", "convert_exported_program_to_trt_engine", "convert_method_to_trt_engine", "save", "load", "Input",
    "FeatureSet", "enabled_features",
]
