"""The table of engine kinds: how the Python runtime runs a record of each ``ENGINE_KIND``.

A record's ``ENGINE_KIND`` field names what made its plan, and so what can run it. The runtime never branches
on a kind's name: the record's kind is looked up here, and the :class:`EngineKind` found says how to deserialize
the plan (:attr:`EngineKind.make_runtime`, :attr:`EngineKind.plan`), whether the engine needs a GPU, whether its
plan is tied to the GPU it was built for, and whether the automatic runtime choice may give it to the C++
runtime. The real TensorRT runtime is registered by default under :data:`KIND_TENSORRT`; any other kind is
registered by the package that produces such engines (:func:`register_engine_kind`), when it is imported.

A record whose kind is not registered in this process is refused when it is decoded (a
:class:`~torch_tensorrt.runtime._record.RecordError` naming the engine and the kind, worded as the C++ runtime
words it, with :func:`unknown_kind_hint` as a note), so a module or a saved program never gets as far as handing
a foreign plan to TensorRT.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from torch_tensorrt._trt import trt
from torch_tensorrt._trt_logging import trt_logger

#: ``ENGINE_KIND`` of engines built by TensorRT's builder (the default of every record).
KIND_TENSORRT = "tensorrt"


@dataclass(frozen=True)
class EngineKind:
    """How the Python runtime runs engines of one kind.

    Attributes:
        name: the ``ENGINE_KIND`` value.
        make_runtime: ``make_runtime(device)`` -> an object with TensorRT's ``deserialize_cuda_engine(plan)``
            (whose engine and execution context answer TensorRT's name-based I/O API).
        plan: ``plan(record)`` -> the bytes handed to ``deserialize_cuda_engine``.
        needs_gpu: False when the engine also runs on the CPU where no CUDA device exists; setting it up then
            never starts CUDA, so a module may deserialize it eagerly.
        device_specific: the plan is tied to the GPU it was built for (compute capability checked on placement).
        auto_cpp: the automatic runtime choice may give the engine to the C++ runtime.
        make_refitter: ``make_refitter(engine)`` -> an object with TensorRT's ``Refitter`` API for a deserialized
            engine (None: engines of this kind cannot be refitted; see :mod:`torch_tensorrt.runtime._refit`).
        store_plan: ``store_plan(record, engine)`` -> the record holding the (refitted) engine's new plan.
        may_run: ``None`` when engines of the kind run whenever the kind is registered; else a callable that
            returns ``""`` when they may run now and otherwise why not (checked on every execution; the runtime
            raises :func:`refusal` naming the engine).
        deployable: False for kinds whose plans are not for deployment (e.g. engines recorded for a simulator):
            ``torch_tensorrt.save`` refuses to write them unless ``may_run`` allows them now or the caller asks.
    """

    name: str
    make_runtime: Callable[[Any], Any]
    plan: Callable[[Any], bytes]
    needs_gpu: bool = True
    device_specific: bool = True
    auto_cpp: bool = True
    make_refitter: Optional[Callable[[Any], Any]] = None
    store_plan: Optional[Callable[[Any, Any], Any]] = None
    may_run: Optional[Callable[[], str]] = None
    deployable: bool = True


def _tensorrt_runtime(device: Any) -> Any:
    return trt.Runtime(trt_logger())


def _record_plan(record: Any) -> bytes:
    return bytes(record.engine)


def _tensorrt_refitter(engine: Any) -> Any:
    return trt.Refitter(engine, trt_logger())


def _tensorrt_store_plan(record: Any, engine: Any) -> Any:
    """The engine serialized again, staying refittable where TensorRT supports it (``INCLUDE_REFIT``, 10.14+)."""
    flag = getattr(getattr(trt, "SerializationFlag", None), "INCLUDE_REFIT", None)
    if flag is not None and hasattr(engine, "create_serialization_config"):
        config = engine.create_serialization_config()
        config.set_flag(flag)
        plan = engine.serialize_with_config(config)
    else:
        plan = engine.serialize()
    return dataclasses.replace(record, engine=bytes(memoryview(plan)))


TENSORRT = EngineKind(
    KIND_TENSORRT,
    make_runtime=_tensorrt_runtime,
    plan=_record_plan,
    make_refitter=_tensorrt_refitter,
    store_plan=_tensorrt_store_plan,
)

_lock = threading.Lock()
_kinds: dict[str, EngineKind] = {KIND_TENSORRT: TENSORRT}


def register_engine_kind(kind: EngineKind, replace: bool = False) -> EngineKind:
    """Make records of ``kind.name`` runnable in this process. Registering the same object again is a no-op;
    another object under a registered name needs ``replace=True`` (never allowed for :data:`KIND_TENSORRT`)."""
    if not kind.name or not kind.name.isidentifier():
        raise ValueError(f"engine kind name must be an identifier, got {kind.name!r}")
    with _lock:
        known = _kinds.get(kind.name)
        if known is kind:
            return kind
        if known is not None and (not replace or kind.name == KIND_TENSORRT):
            raise ValueError(f"engine kind {kind.name!r} is already registered")
        _kinds[kind.name] = kind
    return kind


def unregister_engine_kind(name: str) -> None:
    """Forget a registered kind (records of it are refused again). :data:`KIND_TENSORRT` stays."""
    if name == KIND_TENSORRT:
        raise ValueError(f"engine kind {KIND_TENSORRT!r} cannot be unregistered")
    with _lock:
        _kinds.pop(name, None)


def registered_kinds() -> tuple[str, ...]:
    with _lock:
        return tuple(sorted(_kinds))


def is_registered(name: str) -> bool:
    return name in _kinds


def unknown_kind_message(engine: str, name: str) -> str:
    """The headline of the error for a record of kind ``name`` that this process cannot run (the C++ runtime
    words it the same way)."""
    return f"engine {engine!r}: unknown engine kind {name!r}"


def unknown_kind_hint(name: str) -> str:
    """What to do about an unregistered kind (added to the error as a note)."""
    return (
        f"registered engine kinds in this process: {', '.join(registered_kinds())}. A {name!r} plan is not a "
        f"TensorRT plan and cannot run on TensorRT; kinds other than {KIND_TENSORRT!r} are registered by the package "
        f"that makes such engines (e.g. torch_tensorrt.testing): import it before loading the engine"
    )


def refusal(kind: EngineKind, engine: str) -> str:
    """ "" when engine ``engine`` of ``kind`` may run now, else the error message saying why not."""
    if kind.may_run is None:
        return ""
    why = kind.may_run()
    return f"engine {engine!r} (engine kind {kind.name!r}) cannot run now: {why}" if why else ""


def engine_kind(name: str, engine: str = "<unnamed>") -> EngineKind:
    """The registered kind ``name``; a ``LookupError`` naming ``engine`` and the kind when there is none."""
    kind = _kinds.get(name)
    if kind is None:
        raise LookupError(f"{unknown_kind_message(engine, name)}; {unknown_kind_hint(name)}")
    return kind
