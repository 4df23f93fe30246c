"""Which runtime runs a module's engine: the C++ runtime or the Python one.

Which runtime a module uses (decided when its engine record is installed: construction, ``load_state_dict``,
unpickling):

1. the process-wide choice set with :func:`set_runtime` (``"python"`` / ``"cpp"``), when not ``"auto"``;
2. else ``settings.use_python_runtime`` (True: Python; False: C++);
3. else (``None``) the C++ runtime when its library is loaded and the record's engine kind lets the automatic
   choice pick it (``EngineKind.auto_cpp``, see :mod:`torch_tensorrt.runtime._kinds`), otherwise Python.

Asking for C++ where it is not loaded falls back to Python with a warning (so a module saved on a C++ machine
loads on a Python-only one), unless the request is strict (``TorchTensorRTModule.set_runtime``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import Iterator, Optional

from torch_tensorrt.runtime._kinds import engine_kind
from torch_tensorrt.runtime._record import EngineRecord

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "python", "cpp")
_choice = "auto"


def cpp_runtime_available() -> bool:
    """True when the C++ runtime library is (or can be) loaded."""
    try:
        cpp = importlib.import_module("torch_tensorrt.runtime._cpp")
    except ImportError:
        return False
    try:
        return bool(cpp.load())
    except Exception as exc:  # a broken library must not break the Python runtime
        logger.debug("C++ runtime failed to load: %s", exc)
        return False


def cpp_runtime_reason() -> str:
    """Why the C++ runtime is not available ("" when it is)."""
    if cpp_runtime_available():
        return ""
    try:
        cpp = importlib.import_module("torch_tensorrt.runtime._cpp")
    except ImportError:
        return "torch_tensorrt was installed without the C++ runtime (no torch_tensorrt.runtime._cpp)"
    return str(cpp.reason())


def set_runtime(choice: str) -> str:
    """Set the process-wide runtime choice (``"auto"``, ``"python"`` or ``"cpp"``); returns the previous one.
    It applies to modules whose engine is installed afterwards."""
    global _choice
    if choice not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {choice!r}")
    previous, _choice = _choice, choice
    return previous


def get_runtime() -> str:
    """The process-wide runtime choice (``"auto"`` unless :func:`set_runtime` changed it)."""
    return _choice


@contextlib.contextmanager
def runtime(choice: str) -> Iterator[None]:
    """``with torch_tensorrt.runtime.runtime("python"): ...`` -- :func:`set_runtime` for a block."""
    previous = set_runtime(choice)
    try:
        yield
    finally:
        set_runtime(previous)


def choose_runtime(
    use_python_runtime: Optional[bool], record: Optional[EngineRecord] = None, strict: bool = False
) -> str:
    """``"python"`` or ``"cpp"`` for a module (see the module docstring for the rules)."""
    if _choice != "auto":
        wanted: Optional[bool] = _choice == "python"
    else:
        wanted = use_python_runtime
    if wanted is None:
        auto_cpp = record is None or engine_kind(record.engine_kind, record.name).auto_cpp
        return "cpp" if auto_cpp and cpp_runtime_available() else "python"
    if wanted:
        return "python"
    if cpp_runtime_available():
        return "cpp"
    name = record.name if record is not None else "?"
    if strict:
        raise RuntimeError(f"engine {name!r}: the C++ runtime is not available: {cpp_runtime_reason()}")
    logger.warning(
        "engine %s asks for the C++ runtime, which is not available (%s); using the Python runtime",
        name,
        cpp_runtime_reason(),
    )
    return "python"
