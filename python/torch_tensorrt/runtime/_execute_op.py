"""The execution ops and their fake (meta) kernels.

Two ops run engines; both are traceable by ``torch.export`` and ``torch.jit.trace``:

``tensorrt::execute_engine(Tensor[] inputs, __torch__.torch.classes.tensorrt.Engine engine) -> Tensor[]``
    Defined by the C++ runtime (``runtime_cpp``) together with the TorchBind class. When it is loaded this
    module registers the fake class for ``tensorrt::Engine`` (``__obj_unflatten__`` of the record) and the op's
    fake kernel, so that ``torch.export`` can trace it.

``tensorrt::execute_engine_python(Tensor[] inputs, Tensor engine_blob, str engine_info) -> Tensor[]``
    The Python runtime's op, always registered from Python. A schema cannot name a TorchBind class that no
    library defines, so the Python op carries the engine as data instead:

    * ``engine_blob``: the engine record, framed (ABI 4, :mod:`torch_tensorrt.runtime._record`) as a ``uint8``
      tensor: the plan's bytes verbatim. ``torch.export`` lifts it into a tensor constant, so a saved
      ExportedProgram/TorchScript file is self-contained and loads in a fresh process (the first call decodes
      the record and sets the engine up). A blob holding the JSON of an ABI 2 record (older files) is read too;
    * ``engine_info``: small JSON with the engine key (unique per record), name, binding names, I/O specs and
      shape symbols -- everything the fake kernel needs, since a fake blob has no data.

    Engines are identified by content, never by a key from a file: a module's live engine (found by its key,
    weakly held) is used only when its record is byte-identical to the blob; otherwise the blob is decoded and
    validated, and kept by its SHA-256 (two files share an engine only when their records are identical).
    An engine decoded from a blob runs on the runtime :func:`~torch_tensorrt.runtime.choose_runtime` picks for
    its record (the process-wide choice, else the record's ``use_python_runtime`` setting, else the C++ runtime
    when it is loaded): a program saved on a Python-only install runs on the C++ runtime where that is present.

Fake kernels compute output shapes from the metadata's shape expressions: each symbol is bound to the input
size it names (a ``SymInt`` under symbolic tracing); symbols no input defines (data-dependent sizes) become new
unbacked sizes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import uuid
import weakref
from typing import Any, Optional, Sequence, cast

import torch

from torch_tensorrt.runtime import _cpp, _kinds, _shape_expr
from torch_tensorrt.runtime._engine import TRTEngine
from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec
from torch_tensorrt.runtime._record import EngineRecord, RecordError, tensor_bytes

logger = logging.getLogger(__name__)

NAMESPACE = "tensorrt"
PY_OP_NAME = "execute_engine_python"
PY_OP_SCHEMA = "(Tensor[] inputs, Tensor engine_blob, str engine_info) -> Tensor[]"
INFO_VERSION = 1

_lib: Optional[torch.library.Library] = None
_live: "weakref.WeakValueDictionary[str, TRTEngine]" = weakref.WeakValueDictionary()
_loaded: dict[str, Any] = {}  # SHA-256 of the blob -> engine decoded from it (TRTEngine or CppEngineRunner)
_by_blob: Any = None  # torch.utils.weak.WeakIdKeyDictionary: blob tensor -> (version, engine); created on first use


# ------------------------------------------------------------------------------------------ blob and info
def encode_blob(record: EngineRecord) -> torch.Tensor:
    """The record as a CPU ``uint8`` tensor: its framed bytes (:meth:`EngineRecord.to_tensor`)."""
    return record.to_tensor()


def decode_blob(blob: torch.Tensor) -> EngineRecord:
    """Inverse of :func:`encode_blob` (also reads the JSON blob of an ABI 2 record); a
    :class:`~torch_tensorrt.runtime._record.RecordError` if corrupted."""
    data = tensor_bytes(blob)
    if len(data) and data[0] == ord("["):  # ABI 2: the JSON of the record's list of strings
        try:
            fields = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise RecordError(f"engine blob is corrupted ({type(exc).__name__}: {exc})") from None
        return EngineRecord.from_list(fields)
    return EngineRecord.from_bytes(data)


def blob_digest(blob: torch.Tensor) -> str:
    """SHA-256 of the blob's bytes: the identity of the engine it holds."""
    return hashlib.sha256(tensor_bytes(blob)).hexdigest()


def new_key(record: EngineRecord) -> str:
    return f"{record.name}-{uuid.uuid4().hex}"


def engine_info(record: EngineRecord, key: str) -> str:
    """The ``engine_info`` string of the Python op for ``record`` registered under ``key``."""
    meta = record.metadata or {}
    return json.dumps(
        {
            "version": INFO_VERSION,
            "key": key,
            "name": record.name,
            "inputs": meta.get("inputs", []),
            "outputs": meta.get("outputs", []),
            "symbols": meta.get("symbols", {}),
            "input_binding_names": record.input_binding_names,
            "output_binding_names": record.output_binding_names,
            "engine_kind": record.engine_kind,
        },
        sort_keys=True,
    )


@functools.lru_cache(maxsize=256)
def parse_info(info: str) -> dict[str, Any]:
    try:
        value = json.loads(info)
    except json.JSONDecodeError as exc:
        raise ValueError(f"tensorrt::{PY_OP_NAME}: engine_info is not valid JSON ({exc})") from exc
    if not isinstance(value, dict) or "key" not in value:
        raise ValueError(f"tensorrt::{PY_OP_NAME}: engine_info lacks the engine key")
    if int(value.get("version", 0)) > INFO_VERSION:
        raise ValueError(f"tensorrt::{PY_OP_NAME}: engine_info version {value['version']} is newer than {INFO_VERSION}")
    return value


# ------------------------------------------------------------------------------------------------ registry
def register_engine(key: str, engine: TRTEngine) -> None:
    """Make ``engine`` reachable by the op under ``key`` (held weakly: the owning module keeps it alive)."""
    _live[key] = engine


def lookup_engine(key: str) -> Optional[TRTEngine]:
    return _live.get(key)


class CppEngineRunner:
    """A record decoded from a blob, run on the C++ runtime (``torch.classes.tensorrt.Engine`` and
    ``tensorrt::execute_engine``); the same ``execute`` as :class:`TRTEngine`."""

    def __init__(self, record: EngineRecord) -> None:
        self.name = record.name
        self.record = record
        self.engine = torch.classes.tensorrt.Engine(record.to_tensor())

    def execute(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return list(torch.ops.tensorrt.execute_engine(list(inputs), self.engine))


def _engine_from_record(record: EngineRecord) -> Any:
    from torch_tensorrt.runtime._choice import choose_runtime

    settings = (record.metadata or {}).get("settings") or {}
    if choose_runtime(settings.get("use_python_runtime"), record) == "cpp":
        register_cpp_fakes()
        return CppEngineRunner(record)
    return TRTEngine(record)


def engine_for(info: str, blob: torch.Tensor) -> Any:
    """The engine whose record is ``blob``: the live engine of ``info``'s key if its record is byte-identical,
    else the engine decoded from ``blob`` (kept by content) on the runtime chosen for its record. Cached per blob
    tensor (and its version counter)."""
    global _by_blob
    if _by_blob is None:
        from torch.utils.weak import WeakIdKeyDictionary

        _by_blob = WeakIdKeyDictionary()
    hit = _by_blob.get(blob)
    if hit is not None and hit[0] == blob._version:
        return hit[1]
    digest = blob_digest(blob)
    engine = _live.get(parse_info(info)["key"])
    if engine is None or _record_digest(engine) != digest:
        engine = _loaded.get(digest)
        if engine is None:
            engine = _engine_from_record(decode_blob(blob))
            _loaded[digest] = engine
    _by_blob[blob] = (blob._version, engine)
    return engine


def _record_digest(engine: TRTEngine) -> str:
    digest = getattr(engine, "_blob_digest", None)
    if digest is None:
        digest = blob_digest(encode_blob(engine.record))  # a copy of the plan, once per live engine
        engine._blob_digest = digest  # type: ignore[attr-defined]
    return digest


def forget_loaded_engines() -> None:
    """Release the engines decoded from blobs of loaded programs (they are rebuilt on their next call)."""
    _loaded.clear()
    if _by_blob is not None:
        _by_blob.clear()


# ------------------------------------------------------------------------------------------- fake shapes
def fake_outputs(
    inputs: Sequence[torch.Tensor],
    input_specs: Sequence[dict[str, Any]],
    output_specs: Sequence[dict[str, Any]],
    symbols: dict[str, Any],
    engine_name: str,
    device: Optional[torch.device] = None,
) -> list[torch.Tensor]:
    """Empty outputs with the shapes the metadata gives for ``inputs`` (symbolic sizes stay symbolic)."""
    if len(inputs) != len(input_specs):
        raise RuntimeError(f"engine {engine_name!r} takes {len(input_specs)} inputs, got {len(inputs)}")
    if not output_specs:
        raise RuntimeError(f"engine {engine_name!r} has no output metadata; it cannot be traced")
    for spec, t in zip(input_specs, inputs):
        want = TensorSpec(**spec)
        if t.dtype != want.torch_dtype:
            raise RuntimeError(
                f"engine {engine_name!r}: input {want.name!r} has dtype {t.dtype}, the engine expects {want.torch_dtype}"
            )
        static_mismatch = any(isinstance(d, int) and isinstance(g, int) and d != g for d, g in zip(want.shape, t.shape))
        if t.dim() != len(want.shape) or static_mismatch:
            raise RuntimeError(
                f"engine {engine_name!r}: input {want.name!r} has shape {tuple(t.shape)}, the engine expects {want.shape}"
            )
    names = [s["name"] for s in input_specs]
    exprs = [s["shape"] for s in input_specs]
    try:
        values = _shape_expr.bind_symbols(symbols, names, [t.shape for t in inputs], exprs)
    except _shape_expr.ShapeExprError as exc:
        raise RuntimeError(f"engine {engine_name!r}: {exc}") from None
    unbacked: dict[str, Any] = {}

    def fresh(sym: str) -> Any:
        if sym not in unbacked:
            unbacked[sym] = torch.library.get_ctx().new_dynamic_size()
        return unbacked[sym]

    if device is None:
        device = inputs[0].device if inputs else torch.device("cuda")
    outs = []
    for spec in output_specs:
        tspec = TensorSpec(**spec)
        try:
            shape = _shape_expr.evaluate_shape(tspec.shape, values, fresh)
        except _shape_expr.ShapeExprError as exc:
            raise RuntimeError(f"engine {engine_name!r}: output {tspec.name!r}: {exc}") from None
        outs.append(torch.empty(shape, dtype=tspec.torch_dtype, device=device))
    return outs


# -------------------------------------------------------------------------------------------- Python op
def _py_kernel(inputs: list[torch.Tensor], engine_blob: torch.Tensor, engine_info: str) -> list[torch.Tensor]:
    return engine_for(engine_info, engine_blob).execute(inputs)


def _py_fake(inputs: list[torch.Tensor], engine_blob: torch.Tensor, engine_info: str) -> list[torch.Tensor]:
    info = parse_info(engine_info)
    device = None
    if not inputs and not torch.cuda.is_available():  # no input to take the device from
        kind = info.get("engine_kind", _kinds.KIND_TENSORRT)
        if _kinds.is_registered(kind) and not _kinds.engine_kind(kind).needs_gpu:
            device = torch.device("cpu")
    return fake_outputs(inputs, info["inputs"], info["outputs"], info["symbols"], info["name"], device)


def register_python_op() -> None:
    """Define ``tensorrt::execute_engine_python`` with its kernel and fake kernel (idempotent)."""
    global _lib
    if _lib is not None:
        return
    lib = torch.library.Library(NAMESPACE, "FRAGMENT")
    lib.define(PY_OP_NAME + PY_OP_SCHEMA)
    lib.impl(PY_OP_NAME, _py_kernel, "CompositeExplicitAutograd")
    torch.library.register_fake(f"{NAMESPACE}::{PY_OP_NAME}", _py_fake, lib=lib)
    _lib = lib


# --------------------------------------------------------------------------------- C++ op: fake class/kernel
class FakeTRTEngine:
    """Fake of ``torch.classes.tensorrt.Engine`` for tracing: holds the decoded record and metadata.

    The C++ class's ``__obj_flatten__`` returns ``(("serialized_info", header),)``, the record's header
    (:meth:`EngineRecord.to_header`: its text fields, not the plan); any single entry whose value is a list of
    strings is accepted. The fake holds no plan: its record's ``engine`` is empty."""

    def __init__(self, record: EngineRecord, header: Optional[list[str]] = None) -> None:
        self.record = record
        self._header = list(header) if header is not None else record.to_header()
        self.metadata = EngineMetadata.from_json(record.metadata) if record.metadata else None

    @classmethod
    def __obj_unflatten__(cls, flattened: Any) -> "FakeTRTEngine":
        entries = dict(flattened)
        fields = entries.get("serialized_info")
        if fields is None:
            fields = next(
                (v for v in entries.values() if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)),
                None,
            )
        if fields is None:
            raise RuntimeError(f"tensorrt::Engine.__obj_flatten__ gave no record: keys {sorted(entries)}")
        return cls(EngineRecord.from_header(list(fields)), list(fields))

    # The C++ class's methods, answered from the record (tracing may call them on the fake object).
    def name(self) -> str:
        return self.record.name

    def input_binding_names(self) -> list[str]:
        return list(self.record.input_binding_names)

    def output_binding_names(self) -> list[str]:
        return list(self.record.output_binding_names)

    def serialize(self) -> list[str]:
        return self.header()

    def header(self) -> list[str]:
        return list(self._header)

    def device_id(self) -> int:
        return self.record.device_id

    def engine_kind(self) -> str:
        return self.record.engine_kind

    def requires_output_allocator(self) -> bool:
        return self.record.requires_output_allocator

    def aliased_io(self) -> dict[str, str]:
        """Known only to a deserialized engine (``getAliasedInputTensor``): the record does not carry it."""
        return {}

    def describe(self) -> str:
        return f"FakeTRTEngine({self.record.name!r})"

    def device(self) -> str:
        return f"cuda:{self.record.device_id}"

    def execute(self, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        return _cpp_fake(inputs, self)

    # Run-time state of the real engine (CUDA graphs, the pinned profile): a traced program never carries it.
    def set_max_cuda_graphs(self, n: int) -> None:
        pass

    def cuda_graph_stats(self) -> list[int]:
        return [0, 0, 0]

    def num_optimization_profiles(self) -> int:
        return self.metadata.num_profiles if self.metadata is not None else 1

    def optimization_profile(self) -> int:
        return -1  # the default rule

    def set_optimization_profile(self, index: int) -> None:
        pass

    def __getstate__(self) -> list[str]:
        return self.header()

    def __setstate__(self, state: list[str]) -> None:
        self.__init__(EngineRecord.from_header(state), state)  # type: ignore[misc]


def _cpp_fake(inputs: list[torch.Tensor], engine: Any) -> list[torch.Tensor]:
    if isinstance(engine, torch.ScriptObject):
        engine = cast(Any, engine)  # the C++ Engine class's methods
        # A real engine: FakeTensorMode outside torch.export (e.g. torch.jit.trace under fake tensors, which
        # records the op without running the engine). Meta tensors in plain eager mode are not tracing.
        if not any(isinstance(t, torch._subclasses.fake_tensor.FakeTensor) for t in inputs):
            names = list(engine.input_binding_names())
            bad = next((i for i, t in enumerate(inputs) if t.device.type == "meta"), 0)
            label = names[bad] if bad < len(names) else "?"
            raise RuntimeError(
                f"engine {engine.name()!r}: input {bad} ({label!r}) is on meta; a TensorRT engine runs on real "
                "tensors (meta tensors work only while tracing: torch.export / FakeTensorMode)"
            )
        record: EngineRecord = EngineRecord.from_header(list(dict(engine.__obj_flatten__())["serialized_info"]))
    else:
        record = getattr(engine, "wrapped_obj", engine).record
    meta = record.metadata or {}
    return fake_outputs(inputs, meta.get("inputs", []), meta.get("outputs", []), meta.get("symbols", {}), record.name)


_cpp_registered = False


def register_cpp_fakes() -> bool:
    """With the C++ runtime loaded: the fake class of ``tensorrt::Engine`` and the fake kernel of
    ``tensorrt::execute_engine`` (each skipped when something registered it already). Returns success."""
    global _cpp_registered
    if _cpp_registered:
        return True
    try:
        torch._C._get_custom_class_python_wrapper(NAMESPACE, "Engine")
    except RuntimeError:
        return False
    from torch._library.fake_class_registry import has_fake_class

    if not has_fake_class(f"__torch__.torch.classes.{NAMESPACE}.Engine"):
        torch._library.register_fake_class(f"{NAMESPACE}::Engine")(FakeTRTEngine)
    try:
        torch.library.register_fake(f"{NAMESPACE}::execute_engine", _cpp_fake)
    except RuntimeError as exc:  # the C++ library registered its own abstract/meta kernel
        logger.debug("tensorrt::execute_engine already has a fake kernel: %s", exc)
    _cpp_registered = True
    return True


# Tracing support for the C++ op from the moment its library is loaded (at once when it already is).
_cpp.add_load_callback(register_cpp_fakes)
