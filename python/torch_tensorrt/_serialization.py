"""``torch_tensorrt.save`` / ``torch_tensorrt.load``: compiled programs to disk and back.

Formats (``output_format``):

``"exported_program"`` (default, ``.ep``)
    The module is (re)exported with ``torch.export`` and written with ``torch.export.save``. Each engine is a
    ``call_function`` node: ``tensorrt::execute_engine`` with a TorchBind ``Engine`` constant (engines running on
    the C++ runtime), or ``tensorrt::execute_engine_python`` with the engine record as a tensor constant (Python
    runtime) -- both self-contained.
``"torchscript"`` (``.ts``)
    ``torch.jit.trace`` under fake tensors (no engine runs: the ops' fake kernels give the output shapes, so a
    machine without a GPU saves too) + ``torch.jit.save``; the engines' ops and objects are in the code.
``"aot_inductor"`` (``.pt2``)
    ``torch._inductor.aoti_compile_and_package`` of the exported program (nothing runs: AOTInductor compiles the
    PyTorch parts; the engine ops run through its proxy executor). The loading process must have registered the
    ops (``torch_tensorrt.load`` and ``import torch_tensorrt`` do) and, for C++-runtime engines, loaded the C++
    runtime -- which is also what a C++ deployment links.

Cross-runtime: whichever runtime is present provides what the artifact names. The Python op is always there and
runs each engine on the runtime :func:`torch_tensorrt.runtime.choose_runtime` picks (a file saved on a Python-only
install runs on the C++ runtime where that is loaded). A ``.ep``/``.ts`` naming the C++ op and class, loaded where
the C++ runtime is missing, is rewritten in memory for the Python op (:mod:`torch_tensorrt._portable`); a
C++-runtime ``.pt2`` needs the C++ runtime (its engine calls are compiled into the package).

``save`` refuses before any work (:func:`torch_tensorrt._artifacts.check_savable`) a ``torch.compile``d module and,
outside ``testing.simulate()``, simulated engines unless ``allow_simulated=True``. ``retrace=True`` (default)
exports the module again at the given inputs; ``retrace=False`` saves a compiled GraphModule for the inputs it was
compiled for (shapes and dynamic ranges read from its graph, shared dimensions included; no inputs needed). An
ExportedProgram is saved as it is.

Each format is one :class:`Format` entry of :data:`FORMAT_TABLE` -- its writer, its recogniser (from the archive's
entry names) and its reader, in one section of this file -- so adding a format touches one place. Inputs and the
re-export of modules are :mod:`torch_tensorrt.dynamo._frontend`'s (the rules of ``torch_tensorrt.compile``).

Writes are atomic (a temporary file in the target directory, then ``os.replace``): a failed save never leaves a
partial file and never clobbers the previous one. :func:`load` checks the file before torch sees it
(:mod:`torch_tensorrt._archive`: strict format detection; nothing that would unpickle or load native code unless
``trust_code=True``), then every engine record (:mod:`torch_tensorrt._program_check`) and the engines' versions
(:mod:`torch_tensorrt.runtime._compat`: one warning per artifact when versions differ, an error naming the engine
when it cannot run here).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Union

import torch

from torch_tensorrt._collectives import check_rank, rank_path, rank_save_kwargs
from torch_tensorrt._archive import Archive, check_untrusted, open_archive
from torch_tensorrt._errors import SerializationError
from torch_tensorrt._artifacts import (
    check_savable,
    compiled_inputs,
    prepare_engines,
    trace_to_torchscript,
)
from torch_tensorrt._io import EmptyWriteError, atomic_write
from torch_tensorrt._program_check import validate_exported_program, validate_script_module
from torch_tensorrt.dynamo._frontend import UserInputs, to_exported_program, user_inputs

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]


# ------------------------------------------------------------------------------------------------ helpers
def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    try:
        atomic_write(path, write, what="torch_tensorrt.save")
    except EmptyWriteError as exc:
        raise SerializationError(str(exc)) from exc


@dataclass(frozen=True)
class SaveRequest:
    """What :func:`save` hands a format's writer besides the module and the path."""

    inputs: UserInputs
    dynamic_shapes: Any
    output_format: str
    retrace: bool = True


@dataclass(frozen=True)
class LoadRequest:
    """What :func:`load` hands a format's reader besides the path."""

    extra_files: Optional[dict[str, Any]]
    allow_pickle: bool  # the caller trusts the file (``trust_code=True`` / ``allow_pickle=True``)
    kwargs: dict[str, Any]
    #: weights for weight-stripped engines (see ``torch_tensorrt.dynamo._refit.refit_stripped_engines``)
    weights: Any = None
    archive: Optional[Archive] = None  # the checked archive (None for formats only an extra entry recognises)


@dataclass(frozen=True)
class Format:
    """One file format: how to write it, how to recognise it from an archive's entry names, how to read it.
    ``save`` is None for formats that are only read (a ``torch.save`` pickle)."""

    name: str
    save: Optional[Callable[[Any, str, SaveRequest], None]]
    detect: Callable[[list[str]], bool]
    load: Callable[[str, LoadRequest], Any]


# ------------------------------------------------------------------------------------- exported_program
def _exported_program(module: Any, request: SaveRequest) -> torch.export.ExportedProgram:
    """``module`` as an ExportedProgram: itself, or re-exported (engines prepared first)."""
    if isinstance(module, torch.nn.Module) and not isinstance(module, torch.jit.ScriptModule):
        prepare_engines(module)
    elif not isinstance(module, torch.export.ExportedProgram):
        raise TypeError(f"torch_tensorrt.save: cannot save a {type(module).__name__} as {request.output_format}")
    inputs, dynamic = request.inputs, request.dynamic_shapes
    if not request.retrace and isinstance(module, torch.fx.GraphModule) and not inputs:
        inputs, dynamic = compiled_inputs(module)
    return to_exported_program(module, inputs, where="torch_tensorrt.save", eval_mode=False, dynamic=dynamic)


def _save_exported_program(module: Any, path: str, request: SaveRequest) -> None:
    ep = _exported_program(module, request)
    _atomic_write(path, lambda tmp: torch.export.save(ep, tmp, **rank_save_kwargs(ep)))


def _is_exported_program(names: list[str]) -> bool:
    return any(n.endswith("/models/model.json") or n.endswith("serialized_exported_program.json") for n in names)


def _load_exported_program(path: str, request: LoadRequest) -> torch.export.ExportedProgram:
    assert request.archive is not None
    with _torch_export_cause() as cause:
        try:
            ep = torch.export.load(
                _for_this_runtime(request.archive, "exported_program"),
                extra_files=request.extra_files,
                **request.kwargs,
            )
        except Exception as exc:
            detail = f"{exc}" + (f" (cause: {cause[0]})" if cause else "")
            raise SerializationError(
                f"torch_tensorrt.load: {path!r} is an ExportedProgram that failed to load: {detail}"
            ) from exc
    validate_exported_program(ep, path)
    from torch_tensorrt.dynamo._refit import refit_stripped_engines

    try:
        refit_stripped_engines(ep, request.weights, path)
    except (ValueError, RuntimeError) as exc:
        raise SerializationError(f"torch_tensorrt.load: {exc}") from exc
    return ep


def _for_this_runtime(archive: Archive, fmt: str) -> io.BytesIO:
    """The checked archive's bytes, or -- for a program naming the C++ runtime's op and class where that runtime is
    missing -- the program rewritten in memory for the Python op (:mod:`torch_tensorrt._portable`)."""
    from torch_tensorrt import _portable
    from torch_tensorrt.runtime import cpp_runtime_available

    path, data = archive.path, archive.data
    if not _portable.uses_cpp_engines(data) or cpp_runtime_available():
        return archive.stream()
    logger.info("%s: its engines were saved on the C++ runtime; loading them on the Python runtime", path)
    try:
        return io.BytesIO(_portable.for_python_runtime(data, fmt))
    except Exception as exc:
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} runs its engines on the C++ runtime (tensorrt::execute_engine), which is "
            f"not available here ({_cpp_reason()}), and could not be rewritten for the Python runtime: {exc}"
        ) from exc


# ------------------------------------------------------------------------------------------ torchscript
def _save_torchscript(module: Any, path: str, request: SaveRequest) -> None:
    if isinstance(module, torch.export.ExportedProgram):
        module = module.module()
    if not isinstance(module, torch.jit.ScriptModule):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"torch_tensorrt.save: cannot save a {type(module).__name__} as TorchScript")
        inputs = request.inputs
        if not request.retrace and isinstance(module, torch.fx.GraphModule) and not inputs:
            inputs, _ = compiled_inputs(module)
        module = trace_to_torchscript(module, inputs)
    _atomic_write(path, lambda tmp: torch.jit.save(module, tmp))


def _is_torchscript(names: list[str]) -> bool:
    return any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names)


def _load_torchscript(path: str, request: LoadRequest) -> Any:
    assert request.archive is not None
    try:
        module = torch.jit.load(
            _for_this_runtime(request.archive, "torchscript"), _extra_files=request.extra_files, **request.kwargs
        )
    except Exception as exc:
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} is a TorchScript archive that failed to load: {exc}"
        ) from exc
    validate_script_module(module, path)
    return module


# ----------------------------------------------------------------------------------------- aot_inductor
def _save_aot_inductor(module: Any, path: str, request: SaveRequest) -> None:
    from torch._inductor import aoti_compile_and_package

    ep = _exported_program(module, request)

    def write(tmp: str) -> None:
        aoti_compile_and_package(ep, package_path=tmp)

    _atomic_write(path, write)


def _is_aot_inductor(names: list[str]) -> bool:
    return any("/data/aotinductor/" in n or n.endswith(".so") or n.endswith(".wrapper.cpp") for n in names)


def _load_aot_inductor(path: str, request: LoadRequest) -> Any:
    from torch._inductor import aoti_load_package

    from torch_tensorrt import _portable
    from torch_tensorrt.runtime import cpp_runtime_available

    with open(path, "rb") as f:
        cpp_engines = _portable.ENGINE_CLASS.encode() in f.read()
    if cpp_engines and not cpp_runtime_available():
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} is an AOTInductor package whose engines run on the C++ runtime "
            f"(tensorrt::execute_engine, compiled into the package), which is not available here: {_cpp_reason()}. "
            "Load it where the C++ runtime is installed, or save it again from a Python-runtime module"
        )
    try:
        return aoti_load_package(path, **request.kwargs)
    except Exception as exc:
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} is an AOTInductor package that failed to load: {exc}"
        ) from exc


# ----------------------------------------------------------------------------------------------- pickle
def _is_pickle(names: list[str]) -> bool:
    return any(n.endswith("data.pkl") for n in names)


def _load_pickle(path: str, request: LoadRequest) -> Any:
    if not request.allow_pickle:
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} is a torch.save pickle; load it with torch.load(path, weights_only=False) "
            "or torch_tensorrt.load(path, trust_code=True) if you trust the file (that runs code from it)"
        )
    return torch.load(path, weights_only=False, **request.kwargs)


#: The formats, in the order :func:`detect_format` tries them: the first recogniser that accepts an archive's
#: entries wins, so the more specific ones come first (``.pt2`` files of both kinds share the PT2 archive layout).
FORMAT_TABLE: dict[str, Format] = {
    f.name: f
    for f in (
        Format("aot_inductor", _save_aot_inductor, _is_aot_inductor, _load_aot_inductor),
        Format("exported_program", _save_exported_program, _is_exported_program, _load_exported_program),
        Format("torchscript", _save_torchscript, _is_torchscript, _load_torchscript),
        Format("pickle", None, _is_pickle, _load_pickle),
    )
}
#: Formats whose layout :mod:`torch_tensorrt._archive` checks exactly (their recognisers are not consulted on load).
_BUILT_IN = frozenset(FORMAT_TABLE)


def savable_formats() -> tuple[str, ...]:
    """The ``output_format`` values :func:`save` accepts: the table's entries that have a writer."""
    return tuple(name for name, fmt in FORMAT_TABLE.items() if fmt.save is not None)


#: :func:`savable_formats` of the built-in table.
FORMATS = savable_formats()


# ---------------------------------------------------------------------------------------------------- save
def save(
    module: Any,
    file_path: PathLike = "",
    *,
    output_format: str = "exported_program",
    inputs: Any = None,
    arg_inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    dynamic_shapes: Any = None,
    retrace: bool = True,
    allow_simulated: bool = False,
    **kwargs: Any,
) -> None:
    """Save a compiled module (``torch.fx.GraphModule``, any ``nn.Module`` holding TorchTensorRTModules, an
    ``ExportedProgram`` or a ``ScriptModule``) to ``file_path`` in ``output_format`` (see the module docstring).

    ``arg_inputs`` (alias ``inputs``) / ``kwarg_inputs`` are example tensors or :class:`torch_tensorrt.Input`;
    dynamic ``Input`` ranges become ``torch.export.Dim``s unless ``dynamic_shapes`` is given. ``retrace=False``
    saves a compiled GraphModule for the inputs it was compiled for (no inputs needed); ``allow_simulated=True``
    writes simulated engines outside ``testing.simulate()`` (see the module docstring)."""
    if kwargs:
        raise TypeError(f"torch_tensorrt.save: unexpected keyword arguments {sorted(kwargs)}")
    fmt = FORMAT_TABLE.get(output_format)
    if fmt is None or fmt.save is None:
        raise ValueError(
            f"torch_tensorrt.save: output_format must be one of {savable_formats()}, got {output_format!r}"
        )
    if not file_path:
        raise ValueError("torch_tensorrt.save: file_path is required")
    try:
        check_savable(module, allow_simulated)
    except ValueError as exc:
        raise SerializationError(str(exc)) from None
    spec = user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where="torch_tensorrt.save")
    if not retrace:
        logger.debug("torch_tensorrt.save: retrace=False: modules are always traced again")
    path = rank_path(os.fspath(file_path))  # "{rank}": one file per rank of a tensor-parallel program
    fmt.save(module, path, SaveRequest(spec, dynamic_shapes, output_format, retrace))


# ---------------------------------------------------------------------------------------------------- load
def detect_format(path: str) -> str:
    """The name of the :data:`FORMAT_TABLE` entry for ``path``: the archive's exact layout decides the built-in
    formats (:func:`torch_tensorrt._archive.open_archive`); a layout none of them has is offered to the other
    entries' recognisers. A :class:`SerializationError` for anything else."""
    return _open(path)[1]


def _open(path: str) -> tuple[Optional[Archive], str]:
    """The checked archive (None for a format only an extra table entry recognises) and its format name."""
    import zipfile

    try:
        archive = open_archive(path)
    except SerializationError as exc:
        if "no known PyTorch format" not in str(exc):
            raise
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        for fmt in FORMAT_TABLE.values():
            if fmt.name not in _BUILT_IN and fmt.detect(names):
                return None, fmt.name
        raise
    return archive, "exported_program" if archive.format == "exported_program_legacy" else archive.format


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
    weights: Any = None,
    **kwargs: Any,
) -> Any:
    """Load what :func:`save` wrote: an ``ExportedProgram`` (call ``.module()``), a ``ScriptModule``, or an
    AOTInductor package runner.

    The file is inspected before torch reads it, and anything that would run code from it is refused with an
    error naming the member: pickled weights, constants or sample inputs, opaque objects, foreign TorchBind
    classes, native libraries (AOTInductor packages, stray ``.so`` members), whole-module ``torch.save`` pickles.
    ``trust_code=True`` (alias ``allow_pickle=True``) **runs code from the file**: pass it only for files you
    trust. Engine records are validated either way (checksums, fields, metadata).

    Weight-stripped engines of an ExportedProgram are refitted on load, from the weights saved beside them or,
    when given, from ``weights`` (the model, its ExportedProgram or its state dict); without either the load fails
    naming the engine."""
    path = rank_path(os.fspath(file_path))
    if not path:
        raise ValueError("torch_tensorrt.load: file_path is required")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"torch_tensorrt.load: no such file: {path!r}")
    archive, name = _open(path)
    check_rank(path)  # a tensor-parallel rank's program: same world size and rank as when saved
    if archive is not None and not (trust_code or allow_pickle):
        check_untrusted(archive)
    _register_runtimes()
    request = LoadRequest(extra_files, trust_code or allow_pickle, kwargs, archive=archive, weights=weights)
    return FORMAT_TABLE[name].load(path, request)


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


def _cpp_reason() -> str:
    from torch_tensorrt.runtime import cpp_runtime_reason

    return cpp_runtime_reason()
