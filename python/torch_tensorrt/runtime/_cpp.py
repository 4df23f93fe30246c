"""Loader of the C++ runtime library (``libtorchtrt_runtime.so``).

The library defines ``torch.classes.tensorrt.Engine`` and ``torch.ops.tensorrt.execute_engine`` (plus
``abi_version``, ``record_field_names``, ``check_record`` and ``runtime_flavour``). It is looked up, in order:

1. ``$TORCHTRT_RUNTIME_LIBRARY`` (a path to the ``.so``; tests use it for the build against the stand-in
   TensorRT). When set it is the only candidate;
2. ``torch_tensorrt/lib/libtorchtrt_runtime.so`` inside the installed package (what the wheel ships when built
   with a TensorRT SDK).

:func:`load` loads it once with ``torch.ops.load_library`` and never raises: on absence or failure it returns
False and :func:`reason` says why. Importing this module touches neither CUDA nor the library.

Packages above the runtime that must act once the library is in (e.g. register something with the library)
call :func:`add_load_callback`: the callback runs right after a successful load, or at once when the library
is loaded already, so the outcome never depends on which was imported first.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Optional

ENV_VAR = "TORCHTRT_RUNTIME_LIBRARY"
LIBRARY_NAME = "libtorchtrt_runtime.so"

_lock = threading.Lock()
_loaded_path: Optional[str] = None
_reason = "not loaded yet (call torch_tensorrt.runtime._cpp.load())"
_attempted = False
#: Run after each successful load (see :func:`add_load_callback`).
_callbacks: list[Callable[[], object]] = []

logger = logging.getLogger(__name__)


def candidates() -> list[str]:
    """Where :func:`load` looks, in order."""
    override = os.environ.get(ENV_VAR)
    if override:
        return [override]
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [os.path.join(package_dir, "lib", LIBRARY_NAME)]


def _already_registered() -> bool:
    """True when another copy of the library (or an earlier load) already defined the TorchBind class."""
    import torch

    try:
        torch._C._get_custom_class_python_wrapper("tensorrt", "Engine")
        return True
    except RuntimeError:
        return False


def load() -> bool:
    """Load the C++ runtime once; True when its ops and class are available."""
    global _loaded_path, _reason, _attempted
    with _lock:
        if _loaded_path is not None:
            return True
        if _attempted:
            return False
        _attempted = True
        paths = candidates()
        path = next((p for p in paths if os.path.isfile(p)), None)
        if path is None:
            where = f"${ENV_VAR}={paths[0]}" if os.environ.get(ENV_VAR) else paths[0]
            _reason = (
                f"the C++ runtime library was not found ({where} does not exist); torch_tensorrt was built "
                "Python-only (PYTHON_ONLY=1, or no TensorRT SDK at build time)"
            )
            return False
        import torch

        try:
            if not _already_registered():
                torch.ops.load_library(path)
        except Exception as exc:  # OSError (missing libnvinfer, ...) or RuntimeError from registration
            _reason = f"the C++ runtime library {path} failed to load: {exc}"
            return False
        _loaded_path = path
        _reason = ""
        # Tracing support (fake Engine class, fake execute_engine kernel) arrives through the callback that
        # torch_tensorrt.runtime._execute_op registers when imported (``import torch_tensorrt`` imports it).
        callbacks = list(_callbacks)
    for fn in callbacks:
        _run_callback(fn)
    return True


def _run_callback(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception as exc:  # a failing extension must not make the runtime unusable
        logger.warning("callback %s after loading the C++ runtime failed: %s", getattr(fn, "__qualname__", fn), exc)


def add_load_callback(fn: Callable[[], object]) -> None:
    """Run ``fn()`` once the library is loaded: now when it already is, else right after :func:`load` succeeds
    (again after each new successful load, so ``fn`` should be idempotent). A failing ``fn`` is logged, never
    raised into the loader."""
    with _lock:
        if fn not in _callbacks:
            _callbacks.append(fn)
        loaded = _loaded_path is not None
    if loaded:
        _run_callback(fn)


def remove_load_callback(fn: Callable[[], object]) -> None:
    """Stop running ``fn`` on later loads."""
    with _lock:
        if fn in _callbacks:
            _callbacks.remove(fn)


def is_available() -> bool:
    """Whether the C++ runtime is loaded (loading it if that was not tried yet)."""
    return load()


def is_loaded() -> bool:
    """Whether the C++ runtime is loaded, without trying to load it."""
    return _loaded_path is not None


def reason() -> str:
    """Why the C++ runtime is not available ("" once it is loaded)."""
    return _reason


def library_path() -> Optional[str]:
    """Path of the loaded library (None when not loaded)."""
    return _loaded_path


def _reset_for_tests() -> None:
    """Forget a failed attempt so that :func:`load` tries again (tests change ``$TORCHTRT_RUNTIME_LIBRARY``).
    A library that did load stays loaded: shared libraries cannot be unloaded from a process."""
    global _attempted, _reason
    with _lock:
        if _loaded_path is None:
            _attempted = False
            _reason = "not loaded yet (call torch_tensorrt.runtime._cpp.load())"


def _hide_for_tests(why: str = "hidden by tests") -> None:
    """Report the runtime as unavailable again (tests that loaded the stand-in build call this when done, so
    that later tests in the process choose the Python runtime as before). The library itself stays loaded."""
    global _loaded_path, _attempted, _reason
    with _lock:
        _loaded_path = None
        _attempted = True
        _reason = why
