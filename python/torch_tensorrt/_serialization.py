"""``torch_tensorrt.save`` / ``torch_tensorrt.load``: compiled programs to disk and back.

Formats (``output_format``):

``"exported_program"`` (default, ``.ep``/``.pt2``)
    The module is (re)exported with ``torch.export`` and written with ``torch.export.save``. Each engine is a
    ``call_function`` node: ``tensorrt::execute_engine`` with a TorchBind ``Engine`` constant (C++ runtime), or
    ``tensorrt::execute_engine_python`` with the engine record as a tensor constant (Python runtime) -- both
    self-contained. Loading a program that uses the C++ op needs the C++ runtime; one that uses the Python op
    needs only this package (and runs on whichever TensorRT is installed).
``"torchscript"`` (``.ts``)
    ``torch.jit.trace`` + ``torch.jit.save``; the engines' ops are recorded in the TorchScript graph.
``"aot_inductor"`` (``.pt2``)
    ``torch._inductor.aoti_compile_and_package`` of the exported program. The engine ops run through the
    proxy executor, which resolves them through the dispatcher: the process that loads the package must have
    registered them (``import torch_tensorrt``, plus the C++ library for C++-runtime engines).

Writes are atomic (a temporary file in the target directory, then ``os.replace``): a failed save never leaves a
partial file and never clobbers the previous one. :func:`load` checks the file before torch sees it
(:mod:`torch_tensorrt._archive`: strict format detection; nothing that would unpickle or load native code unless
``trust_code=True``), then every engine record (:mod:`torch_tensorrt._program_check`), and warns when an engine
was built by another torch_tensorrt / TensorRT version.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import torch

from torch_tensorrt._errors import SerializationError
from torch_tensorrt._input import Input
from torch_tensorrt._io import EmptyWriteError, atomic_write
from torch_tensorrt._program_check import validate_exported_program, validate_script_module

logger = logging.getLogger(__name__)

FORMATS = ("exported_program", "torchscript", "aot_inductor")
PathLike = Union[str, "os.PathLike[str]"]


# ------------------------------------------------------------------------------------------------ helpers
def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    try:
        atomic_write(path, write, what="torch_tensorrt.save")
    except EmptyWriteError as exc:
        raise SerializationError(str(exc)) from exc


def _examples(
    arg_inputs: Optional[Sequence[Any]], kwarg_inputs: Optional[dict[str, Any]]
) -> tuple[tuple[Any, ...], dict[str, Any], Optional[Any]]:
    """Example args/kwargs for export, and dynamic shapes inferred from dynamic :class:`Input` objects."""
    args = tuple(a.export_example() if isinstance(a, Input) else a for a in (arg_inputs or ()))
    kwargs = {k: (v.export_example() if isinstance(v, Input) else v) for k, v in (kwarg_inputs or {}).items()}
    specs = list(arg_inputs or ()) + list((kwarg_inputs or {}).values())
    if not any(isinstance(s, Input) and s.is_dynamic for s in specs):
        return args, kwargs, None
    arg_dims = tuple(s.export_dims(f"arg{i}") if isinstance(s, Input) else None for i, s in enumerate(arg_inputs or ()))
    if kwarg_inputs:
        kw_dims = {k: (v.export_dims(k) if isinstance(v, Input) else None) for k, v in kwarg_inputs.items()}
        return args, kwargs, {**{f"__arg{i}": d for i, d in enumerate(arg_dims)}, **kw_dims}
    return args, kwargs, arg_dims


def _fit_to_signature(module: torch.nn.Module, arg_dims: tuple[Any, ...]) -> Any:
    """Per-argument dims shaped as ``torch.export`` wants them for ``module.forward``'s signature (a ``*args``
    parameter takes the remaining arguments' dims as one tuple, keyed by its name)."""
    params = list(inspect.signature(module.forward).parameters.values())
    var = next((i for i, p in enumerate(params) if p.kind == inspect.Parameter.VAR_POSITIONAL), None)
    if var is None:
        return arg_dims
    named = {p.name: arg_dims[i] for i, p in enumerate(params[:var]) if i < len(arg_dims)}
    named[params[var].name] = tuple(arg_dims[var:])
    return named


def _export(
    module: torch.nn.Module, arg_inputs: Optional[Sequence[Any]], kwarg_inputs: Optional[dict[str, Any]], dynamic_shapes: Any
) -> torch.export.ExportedProgram:
    if arg_inputs is None and not kwarg_inputs:
        raise ValueError(
            "torch_tensorrt.save: arg_inputs (example tensors or torch_tensorrt.Input) are required to export a "
            f"{type(module).__name__}"
        )
    args, kwargs, inferred = _examples(arg_inputs, kwarg_inputs)
    if dynamic_shapes is None and inferred is not None:
        if isinstance(inferred, dict):
            raise ValueError("torch_tensorrt.save: pass dynamic_shapes=... explicitly when kwarg_inputs are dynamic")
        dynamic_shapes = _fit_to_signature(module, inferred)
    return torch.export.export(module, args, kwargs, dynamic_shapes=dynamic_shapes, strict=False)


def _prepare_engines(module: torch.nn.Module) -> None:
    """Create every engine object before tracing, so that tracing sees C++ engines as module attributes (and
    lifts them as constants) even for modules built with ``lazy_engine_init``. Nothing is deserialized."""
    from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule

    for sub in module.modules():
        if isinstance(sub, TorchTensorRTModule) and sub.record is not None:
            sub.setup_engine(deserialize=False)


# ---------------------------------------------------------------------------------------------------- save
def save(
    module: Any,
    file_path: PathLike = "",
    *,
    output_format: str = "exported_program",
    inputs: Optional[Sequence[Any]] = None,
    arg_inputs: Optional[Sequence[Any]] = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    dynamic_shapes: Any = None,
    retrace: bool = True,
    **kwargs: Any,
) -> None:
    """Save a compiled module (``torch.fx.GraphModule``, any ``nn.Module`` holding TorchTensorRTModules, an
    ``ExportedProgram`` or a ``ScriptModule``) to ``file_path`` in ``output_format`` (see the module docstring).

    ``arg_inputs`` (alias ``inputs``) / ``kwarg_inputs`` are example tensors or :class:`torch_tensorrt.Input`;
    dynamic ``Input`` ranges become ``torch.export.Dim``s unless ``dynamic_shapes`` is given. The program is
    always re-traced from the module (``retrace=False`` is accepted and has the same effect, since the module
    is not an ExportedProgram)."""
    if kwargs:
        raise TypeError(f"torch_tensorrt.save: unexpected keyword arguments {sorted(kwargs)}")
    if output_format not in FORMATS:
        raise ValueError(f"torch_tensorrt.save: output_format must be one of {FORMATS}, got {output_format!r}")
    if not file_path:
        raise ValueError("torch_tensorrt.save: file_path is required")
    if inputs is not None and arg_inputs is not None:
        raise ValueError("torch_tensorrt.save: pass either inputs or arg_inputs, not both")
    arg_inputs = arg_inputs if arg_inputs is not None else inputs
    path = os.fspath(file_path)
    if not retrace:
        logger.debug("torch_tensorrt.save: retrace=False: modules are always traced again")

    if output_format == "torchscript":
        if isinstance(module, torch.export.ExportedProgram):
            module = module.module()
        if not isinstance(module, torch.jit.ScriptModule):
            if not isinstance(module, torch.nn.Module):
                raise TypeError(f"torch_tensorrt.save: cannot save a {type(module).__name__} as TorchScript")
            _prepare_engines(module)
            args, kw, _ = _examples(arg_inputs, kwarg_inputs)
            if kw:
                raise ValueError("torch_tensorrt.save: TorchScript tracing takes positional inputs only")
            if not args:
                raise ValueError("torch_tensorrt.save: arg_inputs are required to trace the module to TorchScript")
            module = torch.jit.trace(module, args, strict=False, check_trace=False)
        _atomic_write(path, lambda tmp: torch.jit.save(module, tmp))
        return

    if isinstance(module, torch.export.ExportedProgram):
        ep = module
    elif isinstance(module, torch.nn.Module) and not isinstance(module, torch.jit.ScriptModule):
        _prepare_engines(module)
        ep = _export(module, arg_inputs, kwarg_inputs, dynamic_shapes)
    else:
        raise TypeError(f"torch_tensorrt.save: cannot save a {type(module).__name__} as {output_format}")

    if output_format == "exported_program":
        _atomic_write(path, lambda tmp: torch.export.save(ep, tmp))
    else:
        from torch._inductor import aoti_compile_and_package

        _atomic_write(path, lambda tmp: aoti_compile_and_package(ep, package_path=tmp))


# ---------------------------------------------------------------------------------------------------- load
def detect_format(path: str) -> str:
    """``"exported_program"``, ``"torchscript"``, ``"aot_inductor"`` or ``"pickle"`` (a ``torch.save`` file),
    from the archive's exact layout (:func:`torch_tensorrt._archive.open_archive`). A :class:`SerializationError`
    for anything else."""
    from torch_tensorrt._archive import open_archive

    fmt = open_archive(path).format
    return "exported_program" if fmt == "exported_program_legacy" else fmt


def _register_runtimes() -> None:
    """Register the engine ops (Python op always; C++ op, class and fakes when the library loads)."""
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.runtime import cpp_runtime_available

    _execute_op.register_python_op()
    if cpp_runtime_available():
        _execute_op.register_cpp_fakes()


def load(
    file_path: PathLike = "",
    extra_files: Optional[dict[str, Any]] = None,
    *,
    trust_code: bool = False,
    allow_pickle: bool = False,
    **kwargs: Any,
) -> Any:
    """Load what :func:`save` wrote: an ``ExportedProgram`` (call ``.module()``), a ``ScriptModule``, or an
    AOTInductor package runner.

    The file is inspected before torch reads it, and anything that would run code from it is refused with an
    error naming the member: pickled weights, constants or sample inputs, opaque objects, foreign TorchBind
    classes, native libraries (AOTInductor packages, stray ``.so`` members), whole-module ``torch.save`` pickles.
    ``trust_code=True`` (alias ``allow_pickle=True``) **runs code from the file**: pass it only for files you
    trust. Engine records are validated either way (checksums, fields, metadata)."""
    from torch_tensorrt._archive import check_untrusted, open_archive

    path = os.fspath(file_path)
    if not path:
        raise ValueError("torch_tensorrt.load: file_path is required")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"torch_tensorrt.load: no such file: {path!r}")
    archive = open_archive(path)
    if not (trust_code or allow_pickle):
        check_untrusted(archive)
    _register_runtimes()
    if archive.format in ("exported_program", "exported_program_legacy"):
        with _torch_export_cause() as cause:
            try:
                ep = torch.export.load(archive.stream(), extra_files=extra_files, **kwargs)
            except Exception as exc:
                detail = f"{exc}" + (f" (cause: {cause[0]})" if cause else "")
                raise SerializationError(
                    f"torch_tensorrt.load: {path!r} is an ExportedProgram that failed to load: {detail}{_cpp_hint(archive)}"
                ) from exc
        validate_exported_program(ep, path)
        return ep
    if archive.format == "torchscript":
        try:
            module = torch.jit.load(archive.stream(), _extra_files=extra_files, **kwargs)
        except Exception as exc:
            raise SerializationError(f"torch_tensorrt.load: {path!r} is a TorchScript archive that failed to load: {exc}") from exc
        validate_script_module(module, path)
        return module
    if archive.format == "aot_inductor":
        from torch._inductor import aoti_load_package

        return aoti_load_package(path, **kwargs)
    return torch.load(path, weights_only=False, **kwargs)


@contextlib.contextmanager
def _torch_export_cause() -> Iterator[list[str]]:
    """``torch.export.load`` logs the real error of a PT2 archive and raises a generic one: keep the former."""
    found: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                found.append(f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}")

    handler = Handler(logging.WARNING)
    torch_logger = logging.getLogger("torch.export")
    torch_logger.addHandler(handler)
    try:
        yield found
    finally:
        torch_logger.removeHandler(handler)


def _cpp_hint(archive: Any) -> str:
    """An explanation when the program runs engines on the C++ runtime and this process has none."""
    from torch_tensorrt.runtime import cpp_runtime_available, cpp_runtime_reason

    if cpp_runtime_available():
        return ""
    try:
        uses_cpp = any(b"tensorrt.execute_engine.default" in archive.read(n) for n in archive.members if n.endswith(".json"))
    except Exception:  # the archive was checked when opened; a hint must never hide the real error
        return ""
    if not uses_cpp:
        return ""
    return (
        "\nThe program runs its engines on the C++ runtime (tensorrt::execute_engine with a tensorrt::Engine "
        f"constant), which is not available in this process: {cpp_runtime_reason()}. Load it where the C++ "
        "runtime is installed, or move engines across runtimes with torch.save / state_dict instead."
    )
