"""Simulated engines on the C++ runtime's test build: the Python simulator behind the stand-in TensorRT.

The test build of ``runtime_cpp`` (against ``tests/cpp/fake_tensorrt``) hands the stand-in TensorRT, for a record
built under :func:`~torch_tensorrt.testing.simulate`, the simulated plan of :mod:`._sim_runtime` (the record's
metadata with its recorded network). The stand-in knows the plan's I/O tensors, dtypes and profiles; for output
shapes, values and outputs aliasing an input it calls the simulator registered with ``torchtrt_fake_set_simulator`` (see
``tests/cpp/fake_tensorrt/include/torchtrt_fake_tensorrt.h``). :func:`install` registers the one defined here,
which runs the plan on :mod:`._sim_runtime` (so the recorded network is evaluated by the reference evaluator,
exactly as on the Python runtime) with the host addresses the C++ runtime gave.

:mod:`torch_tensorrt.testing` registers a load callback with the C++ loader
(:func:`torch_tensorrt.runtime._cpp.add_load_callback`) that calls :func:`install` when the loaded library is the
stand-in build -- right after the load, or at once if the library was loaded first -- so tests need no setup; the
runtime itself never imports this module.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections import OrderedDict
from typing import Any, Optional

from torch_tensorrt.runtime import _kinds
from torch_tensorrt.testing import _sim_runtime

logger = logging.getLogger(__name__)

#: Soname of the stand-in TensorRT library (tests/cpp/CMakeLists.txt).
FAKE_LIBRARY = "libfake_nvinfer.so"
MAX_DIMS = 8
SHAPES, EXECUTE, ALIASES = 0, 1, 2
#: Deserialized simulated engines kept, by the stand-in's engine id (ids are never reused in a process).
CACHE_SIZE = 32

SIMULATOR = ctypes.CFUNCTYPE(
    ctypes.c_int32,
    ctypes.c_void_p,  # user_data
    ctypes.c_int32,  # request
    ctypes.c_int64,  # engine_id
    ctypes.c_void_p,  # plan
    ctypes.c_int64,  # plan_size
    ctypes.c_int32,  # nb_tensors
    ctypes.POINTER(ctypes.c_char_p),  # names
    ctypes.POINTER(ctypes.c_int32),  # is_input
    ctypes.POINTER(ctypes.c_int32),  # dtypes
    ctypes.POINTER(ctypes.c_int32),  # nb_dims (written for outputs by SHAPES)
    ctypes.POINTER(ctypes.c_int64),  # dims
    ctypes.POINTER(ctypes.c_void_p),  # addresses (NULL for SHAPES)
    ctypes.c_void_p,  # error buffer
    ctypes.c_int32,  # error buffer size
)

_lock = threading.Lock()
_engines: "OrderedDict[int, _sim_runtime.Engine]" = OrderedDict()
_library: Optional[ctypes.CDLL] = None
_callback: Any = None  # the registered CFUNCTYPE object; kept alive for the process
calls = {SHAPES: 0, EXECUTE: 0, ALIASES: 0}  # how often the stand-in asked (tests check the C++ path really ran)


def _engine(engine_id: int, plan: int, size: int) -> _sim_runtime.Engine:
    with _lock:
        engine = _engines.get(engine_id)
        if engine is not None:
            _engines.move_to_end(engine_id)
            return engine
    engine = _sim_runtime.Runtime(None, device="cpu").deserialize_cuda_engine(ctypes.string_at(plan, size))
    if engine is None:
        raise ValueError(f"engine {engine_id}: the simulated runtime cannot read its plan")
    with _lock:
        _engines[engine_id] = engine
        while len(_engines) > CACHE_SIZE:
            _engines.popitem(last=False)
    return engine


def _context(engine: _sim_runtime.Engine, n: int, names: Any, is_input: Any, nb_dims: Any, dims: Any) -> Any:
    """A simulated execution context with every input shape set (errors name the engine and the input). The C++
    runtime already chose the stand-in's profile; results do not depend on it, so the context takes the first
    profile that accepts the shapes."""
    ctx = engine.create_execution_context()
    inputs = [(names[i].decode(), [dims[i * MAX_DIMS + d] for d in range(nb_dims[i])]) for i in range(n) if is_input[i]]
    refused = ""
    for profile in range(engine.num_optimization_profiles):
        ctx.set_optimization_profile_async(profile, 0)
        refused = next(
            (f"input {name!r} refused shape {shape}" for name, shape in inputs if not ctx.set_input_shape(name, shape)),
            "",
        )
        if not refused:
            return ctx
    raise _sim_runtime.SimulationError(f"engine {engine.name!r}: {refused}")


def _simulate(
    request: int,
    engine_id: int,
    plan: int,
    size: int,
    n: int,
    names: Any,
    is_input: Any,
    nb_dims: Any,
    dims: Any,
    addresses: Any,
) -> None:
    engine = _engine(engine_id, plan, size)
    if request == ALIASES:  # at deserialization: each output's aliased input, by engine index (-1: none)
        index = {names[i].decode(): i for i in range(n) if is_input[i]}
        for i in range(n):
            if not is_input[i]:
                aliased = engine.get_aliased_input_tensor(names[i].decode())
                nb_dims[i] = index[aliased] if aliased else -1
        calls[request] += 1
        return
    if request == EXECUTE:  # the C++ path honours the kind's run check too (simulated: only inside simulate())
        refused = _kinds.refusal(_kinds.engine_kind(engine.metadata.engine_kind, engine.name), engine.name)
        if refused:
            raise _sim_runtime.SimulationError(refused)
    ctx = _context(engine, n, names, is_input, nb_dims, dims)
    if request == SHAPES:
        for i in range(n):
            if not is_input[i]:
                shape = list(ctx.get_tensor_shape(names[i].decode()))
                nb_dims[i] = len(shape)
                for d, v in enumerate(shape):
                    dims[i * MAX_DIMS + d] = int(v)
    elif request == EXECUTE:
        for i in range(n):
            ctx.set_tensor_address(names[i].decode(), addresses[i] or 0)
        ctx.execute_async_v3(0)
    else:
        raise ValueError(f"unknown simulator request {request}")
    calls[request] = calls.get(request, 0) + 1


def _simulator(
    user: Any,
    request: int,
    engine_id: int,
    plan: int,
    size: int,
    n: int,
    names: Any,
    is_input: Any,
    dtypes: Any,
    nb_dims: Any,
    dims: Any,
    addresses: Any,
    error: int,
    error_size: int,
) -> int:
    # Exceptions must not cross the C boundary: they become an error code and a message for the C++ side.
    try:
        _simulate(request, engine_id, plan, size, n, names, is_input, nb_dims, dims, addresses)
        return 0
    except BaseException as exc:  # noqa: BLE001 - reported to C++, which raises with the message
        message = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")[: max(error_size - 1, 0)]
        if error and error_size > 0:
            ctypes.memmove(error, message + b"\0", len(message) + 1)
        logger.debug("simulator request %d for engine %d failed", request, engine_id, exc_info=True)
        return 2


def _find_library(path: Optional[str]) -> ctypes.CDLL:
    if path is not None:
        return ctypes.CDLL(path)
    # The stand-in is already loaded (the runtime library links it): find it without loading anything new.
    return ctypes.CDLL(FAKE_LIBRARY, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)


def install(library: Optional[str] = None) -> bool:
    """Register the simulator with the stand-in TensorRT (``library``: its path; by default the copy already
    loaded in the process). Idempotent; False (with a debug log) when no stand-in is there."""
    global _library, _callback
    try:
        lib = _find_library(library)
        setter = lib.torchtrt_fake_set_simulator
    except (OSError, AttributeError) as exc:
        logger.debug("no stand-in TensorRT to register the simulator with: %s", exc)
        return False
    setter.argtypes = [SIMULATOR, ctypes.c_void_p]
    setter.restype = None
    with _lock:
        if _callback is None:
            _callback = SIMULATOR(_simulator)
        setter(_callback, None)
        _library = lib
    return True


def uninstall() -> None:
    """Unregister the simulator (simulated engines then fail on the C++ path with a message saying so)."""
    global _library
    with _lock:
        if _library is not None:
            _library.torchtrt_fake_set_simulator(SIMULATOR(), None)
        _library = None
        _engines.clear()


def is_installed() -> bool:
    return _library is not None
