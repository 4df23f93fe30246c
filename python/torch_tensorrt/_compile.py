"""Top-level entry points: ``torch_tensorrt.compile`` and the re-exported save/load."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import torch

from torch_tensorrt._input import Input

_IRS = ("dynamo", "default", "exported_program", "torch_compile")
_TS_IRS = ("ts", "torchscript")


def compile(
    module: Any,
    ir: str = "default",
    inputs: Any = None,
    *,
    arg_inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **kwargs: Any,
) -> Any:
    """Compile an ``nn.Module`` or an ``ExportedProgram`` with the dynamo frontend.

    ``arg_inputs``/``inputs``: tensors or :class:`~torch_tensorrt.Input` (a list, or a single one; ranges make
    dimensions dynamic). An ``nn.Module`` is switched to eval mode and exported (the module of an
    ExportedProgram, ``ep.module()``, is exported as it is). Keyword arguments are
    :class:`~torch_tensorrt.dynamo.CompilationSettings` fields.

    ``ir="dynamo"`` (also ``"default"``, ``"exported_program"``) returns a ``torch.fx.GraphModule``.
    ``ir="ts"`` (``"torchscript"``) compiles the same way, then returns a ``torch.jit.ScriptModule`` whose engines
    run through ``torch.classes.tensorrt.Engine`` / ``tensorrt::execute_engine`` (traced under fake tensors, so
    no engine runs): save it with ``torch.jit.save``; it needs the C++ runtime, here and where it is loaded.
    """
    from torch_tensorrt import dynamo
    from torch_tensorrt.dynamo import _frontend

    if ir not in _IRS + _TS_IRS:
        raise ValueError(f"ir={ir!r} is not supported; use one of {_IRS + _TS_IRS}")
    if ir == "torch_compile":
        return _torch_compile(module, **kwargs)
    if ir in _TS_IRS:
        _require_cpp_runtime()
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where="torch_tensorrt.compile")
    ep = _frontend.to_exported_program(module, spec, where="torch_tensorrt.compile")
    gm = dynamo.compile(ep, spec.args, kwarg_inputs=spec.kwargs, **kwargs)
    if ir not in _TS_IRS:
        return gm
    return to_torchscript(gm, spec)


def _require_cpp_runtime() -> None:
    from torch_tensorrt.runtime import cpp_runtime_available, cpp_runtime_reason

    if not cpp_runtime_available():
        raise RuntimeError(
            "torch_tensorrt.compile(ir='ts') produces TorchScript whose engines run on the C++ runtime "
            "(torch.classes.tensorrt.Engine), which is not available in this process: "
            f"{cpp_runtime_reason()}. Use ir='dynamo' and torch_tensorrt.save(..., output_format='torchscript') "
            "for TorchScript that runs on the Python runtime"
        )


def to_torchscript(gm: torch.fx.GraphModule, spec: Any) -> torch.jit.ScriptModule:
    """``gm``'s engines moved to the C++ runtime, then traced to TorchScript (no engine runs)."""
    from torch_tensorrt._artifacts import trace_to_torchscript
    from torch_tensorrt.runtime import TorchTensorRTModule

    for sub in gm.modules():
        if isinstance(sub, TorchTensorRTModule) and sub.record is not None:
            sub.set_runtime("cpp")
    return trace_to_torchscript(gm, spec)


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
        raise ValueError(
            f"convert_method_to_trt_engine: only method_name='forward' can be exported, got {method_name!r}"
        )
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
        torchscript_frontend=bool(cpp_runtime_available()),  # ir="ts" produces TorchScript for the C++ runtime
        torch_tensorrt_runtime=bool(cpp_runtime_available()),
        dynamo_frontend=True,
        fx_frontend=False,
        refit=True,
        qdp_plugin=False,
        windows_cross_compile=False,
        tensorrt_rtx=True,
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
    "compile",
    "convert_exported_program_to_trt_engine",
    "convert_method_to_trt_engine",
    "save",
    "load",
    "Input",
    "FeatureSet",
    "enabled_features",
]
