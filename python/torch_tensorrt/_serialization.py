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

Each format is one :class:`Format` entry of :data:`FORMAT_TABLE` -- its writer, its recogniser (from the archive's
entry names) and its reader, in one section of this file -- so adding a format touches one place. Inputs and the
re-export of modules are :mod:`torch_tensorrt.dynamo._frontend`'s (the rules of ``torch_tensorrt.compile``).

Writes are atomic (a temporary file in the target directory, then ``os.replace``): a failed save never leaves a
partial file and never clobbers the previous one. :func:`load` checks the file before handing it out: format
detected from the archive's entries, every engine record decoded and validated, and a warning when an engine
was built by another torch_tensorrt / TensorRT version.
"""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import torch

from torch_tensorrt._collectives import check_rank, rank_path, rank_save_kwargs
from torch_tensorrt._io import EmptyWriteError, atomic_write
from torch_tensorrt.dynamo._frontend import UserInputs, to_exported_program, user_inputs

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]


class SerializationError(RuntimeError):
    """A program that cannot be saved or loaded; the message says which file and why."""


# ------------------------------------------------------------------------------------------------ helpers
def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    try:
        atomic_write(path, write, what="torch_tensorrt.save")
    except EmptyWriteError as exc:
        raise SerializationError(str(exc)) from exc


def _prepare_engines(module: torch.nn.Module) -> None:
    """Create every engine object before tracing, so that tracing sees C++ engines as module attributes (and
    lifts them as constants) even for modules built with ``lazy_engine_init``. Nothing is deserialized."""
    from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule

    for sub in module.modules():
        if isinstance(sub, TorchTensorRTModule) and sub.record is not None:
            sub.setup_engine(deserialize=False)


@dataclass(frozen=True)
class SaveRequest:
    """What :func:`save` hands a format's writer besides the module and the path."""

    inputs: UserInputs
    dynamic_shapes: Any
    output_format: str


@dataclass(frozen=True)
class LoadRequest:
    """What :func:`load` hands a format's reader besides the path."""

    extra_files: Optional[dict[str, Any]]
    allow_pickle: bool
    kwargs: dict[str, Any]
    #: weights for weight-stripped engines (see ``torch_tensorrt.dynamo._refit.refit_stripped_engines``)
    weights: Any = None


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
        _prepare_engines(module)
    elif not isinstance(module, torch.export.ExportedProgram):
        raise TypeError(f"torch_tensorrt.save: cannot save a {type(module).__name__} as {request.output_format}")
    return to_exported_program(
        module, request.inputs, where="torch_tensorrt.save", eval_mode=False, dynamic=request.dynamic_shapes
    )


def _save_exported_program(module: Any, path: str, request: SaveRequest) -> None:
    ep = _exported_program(module, request)
    _atomic_write(path, lambda tmp: torch.export.save(ep, tmp, **rank_save_kwargs(ep)))


def _is_exported_program(names: list[str]) -> bool:
    return any(n.endswith("/models/model.json") or n.endswith("serialized_exported_program.json") for n in names)


def _load_exported_program(path: str, request: LoadRequest) -> torch.export.ExportedProgram:
    try:
        ep = torch.export.load(path, extra_files=request.extra_files, **request.kwargs)
    except Exception as exc:
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} is an ExportedProgram that failed to load: {exc}{_cpp_hint(path)}"
        ) from exc
    validate_exported_program(ep, path)
    from torch_tensorrt.dynamo._refit import refit_stripped_engines

    try:
        refit_stripped_engines(ep, request.weights, path)
    except (ValueError, RuntimeError) as exc:
        raise SerializationError(f"torch_tensorrt.load: {exc}") from exc
    return ep


# ------------------------------------------------------------------------------------------ torchscript
def _save_torchscript(module: Any, path: str, request: SaveRequest) -> None:
    if isinstance(module, torch.export.ExportedProgram):
        module = module.module()
    if not isinstance(module, torch.jit.ScriptModule):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"torch_tensorrt.save: cannot save a {type(module).__name__} as TorchScript")
        _prepare_engines(module)
        args, kw = request.inputs.export_examples()
        if kw:
            raise ValueError("torch_tensorrt.save: TorchScript tracing takes positional inputs only")
        if not args:
            raise ValueError("torch_tensorrt.save: arg_inputs are required to trace the module to TorchScript")
        module = torch.jit.trace(module, args, strict=False, check_trace=False)
    _atomic_write(path, lambda tmp: torch.jit.save(module, tmp))


def _is_torchscript(names: list[str]) -> bool:
    return any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names)


def _load_torchscript(path: str, request: LoadRequest) -> Any:
    return torch.jit.load(path, _extra_files=request.extra_files, **request.kwargs)


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

    return aoti_load_package(path, **request.kwargs)


# ----------------------------------------------------------------------------------------------- pickle
def _is_pickle(names: list[str]) -> bool:
    return any(n.endswith("data.pkl") for n in names)


def _load_pickle(path: str, request: LoadRequest) -> Any:
    if not request.allow_pickle:
        raise SerializationError(
            f"torch_tensorrt.load: {path!r} is a torch.save pickle; load it with torch.load(path, weights_only=False) "
            "or torch_tensorrt.load(path, allow_pickle=True) if you trust the file"
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
    fmt = FORMAT_TABLE.get(output_format)
    if fmt is None or fmt.save is None:
        raise ValueError(
            f"torch_tensorrt.save: output_format must be one of {savable_formats()}, got {output_format!r}"
        )
    if not file_path:
        raise ValueError("torch_tensorrt.save: file_path is required")
    spec = user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where="torch_tensorrt.save")
    if not retrace:
        logger.debug("torch_tensorrt.save: retrace=False: modules are always traced again")
    path = rank_path(os.fspath(file_path))  # "{rank}": one file per rank of a tensor-parallel program
    fmt.save(module, path, SaveRequest(spec, dynamic_shapes, output_format))


# ---------------------------------------------------------------------------------------------------- load
def detect_format(path: str) -> str:
    """The name of the :data:`FORMAT_TABLE` entry that recognises the archive's entry names (``"pickle"`` for
    a ``torch.save`` file). A :class:`SerializationError` for anything else."""
    if not zipfile.is_zipfile(path):
        raise SerializationError(f"torch_tensorrt.load: {path!r} is not a PyTorch archive (not a zip file)")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    for fmt in FORMAT_TABLE.values():
        if fmt.detect(names):
            return fmt.name
    raise SerializationError(f"torch_tensorrt.load: {path!r} is a zip archive of no known PyTorch format")


def _register_runtimes() -> None:
    """Register the engine ops (Python op always; C++ op, class and fakes when the library loads)."""
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.runtime import cpp_runtime_available

    _execute_op.register_python_op()
    if cpp_runtime_available():
        _execute_op.register_cpp_fakes()


def load(
    file_path: PathLike = "", extra_files: Optional[dict[str, Any]] = None, *, allow_pickle: bool = False,
    weights: Any = None, **kwargs: Any,
) -> Any:
    """Load what :func:`save` wrote: an ``ExportedProgram`` (call ``.module()``), a ``ScriptModule``, or an
    AOTInductor package runner. A ``torch.save`` pickle of a whole module is loaded only with
    ``allow_pickle=True`` (unpickling runs arbitrary code: only for files you trust).

    Weight-stripped engines of an ExportedProgram are refitted on load, from the weights saved beside them or,
    when given, from ``weights`` (the model, its ExportedProgram or its state dict); without either the load fails
    naming the engine."""
    path = rank_path(os.fspath(file_path))
    if not path:
        raise ValueError("torch_tensorrt.load: file_path is required")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"torch_tensorrt.load: no such file: {path!r}")
    fmt = FORMAT_TABLE[detect_format(path)]
    check_rank(path)  # a tensor-parallel rank's program: same world size and rank as when saved
    _register_runtimes()
    return fmt.load(path, LoadRequest(extra_files, allow_pickle, kwargs, weights))


def _cpp_hint(path: str) -> str:
    """An explanation when ``path`` runs engines on the C++ runtime and this process has none."""
    from torch_tensorrt.runtime import cpp_runtime_available, cpp_runtime_reason

    if cpp_runtime_available():
        return ""
    with zipfile.ZipFile(path) as zf:
        uses_cpp = any(
            b"tensorrt.execute_engine.default" in zf.read(n) for n in zf.namelist() if n.endswith(".json")
        )
    if not uses_cpp:
        return ""
    return (
        "\nThe program runs its engines on the C++ runtime (tensorrt::execute_engine with a tensorrt::Engine "
        f"constant), which is not available in this process: {cpp_runtime_reason()}. Load it where the C++ "
        "runtime is installed, or move engines across runtimes with torch.save / state_dict instead."
    )


def validate_exported_program(ep: torch.export.ExportedProgram, where: str = "<program>") -> int:
    """Decode and check the record of every engine node of ``ep``; warn about version mismatches. Returns the
    number of engines. Errors name the file and the node."""
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.runtime._record import EngineRecord, RecordError

    sig = ep.graph_signature
    by_placeholder = {**sig.inputs_to_lifted_tensor_constants, **sig.inputs_to_lifted_custom_objs}
    count = 0
    for node in ep.graph.nodes:
        if node.op != "call_function":
            continue
        target = str(node.target)
        if not target.startswith("tensorrt."):
            continue
        holder = node.args[1] if len(node.args) > 1 else None
        const_name = by_placeholder.get(getattr(holder, "name", ""), None)
        value = ep.constants.get(const_name) if const_name else None
        try:
            if target.startswith("tensorrt.execute_engine_python"):
                if not isinstance(value, torch.Tensor):
                    raise RecordError("engine blob constant is missing")
                record = _execute_op.decode_blob(value)
            elif value is not None and hasattr(value, "__getstate__"):
                record = EngineRecord.from_list(list(value.__getstate__()))
            else:
                continue
        except RecordError as exc:
            raise SerializationError(f"torch_tensorrt.load: {where}: engine node {node.name!r}: {exc}") from exc
        _warn_versions(record, where)
        count += 1
    return count


def _warn_versions(record: Any, where: str) -> None:
    from torch_tensorrt._version import __version__

    if record.torchtrt_version and record.torchtrt_version != __version__:
        logger.warning("%s: engine %s was saved by torch_tensorrt %s (this is %s)", where, record.name, record.torchtrt_version, __version__)
    try:
        from torch_tensorrt import _trt

        info = _trt.info()
    except ImportError:
        return
    if record.trt_version and (record.trt_flavour, record.trt_version) != (info.flavour, info.version):
        logger.warning(
            "%s: engine %s was built with %s %s; this process uses %s %s", where, record.name,
            record.trt_flavour, record.trt_version, info.flavour, info.version,
        )
