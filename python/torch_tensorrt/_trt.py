"""The one place that imports TensorRT.

Every other module reaches TensorRT through :data:`trt` (a lazy proxy) or :func:`load`.
Two flavours are accepted, in this order of preference:

* ``tensorrt`` -- full TensorRT, for data-center GPUs (extra ``[tensorrt]``);
* ``tensorrt_rtx`` or its bindings module ``tensorrt_rtx_bindings`` -- TensorRT-RTX (extra ``[rtx]``),
  whose builder also builds engines on a machine without a GPU.

Importing :mod:`torch_tensorrt` never imports TensorRT; the first attribute access on :data:`trt` does.
With neither flavour installed that access raises an :class:`ImportError` that names the extras to install.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Optional

#: Module names tried, in order. ``TORCHTRT_TENSORRT_MODULE`` forces one (used by tests and by users with both).
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("tensorrt", "tensorrt"),
    ("tensorrt_rtx", "tensorrt_rtx"),
    ("tensorrt_rtx_bindings", "tensorrt_rtx"),
)

INSTALL_HINT = (
    "TensorRT is not installed. Install one flavour: `pip install torch_tensorrt[tensorrt]` (full TensorRT, "
    "data-center GPUs) or `pip install torch_tensorrt[rtx]` (TensorRT-RTX; also builds engines without a GPU)."
)


@dataclass(frozen=True)
class TensorRTInfo:
    """Which TensorRT was imported: ``flavour`` is ``"tensorrt"`` or ``"tensorrt_rtx"``."""

    module_name: str
    flavour: str
    version: str

    @property
    def is_rtx(self) -> bool:
        return self.flavour == "tensorrt_rtx"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


_module: Optional[ModuleType] = None
_info: Optional[TensorRTInfo] = None
_error: Optional[str] = None


def _candidates() -> tuple[tuple[str, str], ...]:
    forced = os.environ.get("TORCHTRT_TENSORRT_MODULE")
    if forced:
        matching = tuple(c for c in CANDIDATES if c[0] == forced)
        if not matching:
            names = ", ".join(c[0] for c in CANDIDATES)
            raise ImportError(f"TORCHTRT_TENSORRT_MODULE={forced!r} is not one of: {names}")
        return matching
    return CANDIDATES


def load() -> ModuleType:
    """Import and return the TensorRT module (cached). Raises ImportError naming the extras when absent."""
    global _module, _info, _error
    if _module is not None:
        return _module
    failures = []
    for module_name, flavour in _candidates():
        try:
            mod = importlib.import_module(module_name)
        except ImportError as exc:  # try the next flavour
            failures.append(f"{module_name}: {exc}")
            continue
        _module = mod
        _info = TensorRTInfo(module_name, flavour, str(getattr(mod, "__version__", "0")))
        return mod
    _error = "; ".join(failures)
    raise ImportError(f"{INSTALL_HINT} (tried {_error})")


def is_available() -> bool:
    """True when a TensorRT flavour can be imported."""
    try:
        load()
    except ImportError:
        return False
    return True


def info() -> TensorRTInfo:
    """Flavour and version of the TensorRT in use (imports it)."""
    load()
    assert _info is not None
    return _info


def is_host_memory(obj: Any) -> bool:
    """Whether ``obj`` is a TensorRT ``IHostMemory`` (a serialized plan TensorRT handed over; it owns its memory)."""
    host_memory = getattr(_module, "IHostMemory", None) if _module is not None else None
    return host_memory is not None and isinstance(obj, host_memory)


def _reset_for_tests() -> None:
    global _module, _info, _error
    _module = _info = _error = None


class _LazyTensorRT:
    """Attribute access forwards to the TensorRT module, importing it on first use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(load(), name)

    def __repr__(self) -> str:
        return f"<lazy TensorRT: {_info.module_name if _info else 'not loaded'}>"


#: Use as ``from torch_tensorrt._trt import trt``; ``trt.DataType.FLOAT`` imports TensorRT on first access.
trt: Any = _LazyTensorRT()
