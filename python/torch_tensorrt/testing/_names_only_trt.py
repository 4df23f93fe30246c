"""A names-only stand-in for the TensorRT Python module, for running *simulated* engines where no TensorRT can be
installed (our GPU test machine: TensorRT's 234 MB library cannot travel there).

Simulated engines execute through :mod:`torch_tensorrt.testing._sim_runtime` and the reference evaluator, which
need TensorRT's value types only: enum members (compared by enum and member name), ``Dims``/``Permutation``
(tuples of ints) and ``Weights`` (host buffers readable with ``numpy()``). This module provides exactly those,
generically: any capitalised attribute is an enum namespace whose members spring into existence by name.
It cannot build or run real engines, and :func:`install` refuses to shadow a real TensorRT.

Test-only: nothing in the package imports it; :func:`install` is called by test drivers.
"""

from __future__ import annotations

import ctypes
import importlib
import sys
from typing import Any

import numpy as np

__version__ = "0.0+names-only"

_NUMPY = {
    "FLOAT": np.float32,
    "HALF": np.float16,
    "INT8": np.int8,
    "UINT8": np.uint8,
    "INT32": np.int32,
    "INT64": np.int64,
    "BOOL": np.bool_,
}


class _Member:
    """An enum member: equal to another member of the same enum with the same name."""

    __slots__ = ("enum", "name")

    def __init__(self, enum: str, name: str) -> None:
        self.enum, self.name = enum, name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Member) and (other.enum, other.name) == (self.enum, self.name)

    def __hash__(self) -> int:
        return hash((self.enum, self.name))

    def __repr__(self) -> str:
        return f"{self.enum}.{self.name}"


class _Enum:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, member: str) -> _Member:
        if member.startswith("_"):
            raise AttributeError(member)
        return _Member(self._name, member)


class Dims(tuple):
    MAX_DIMS = 8

    def __new__(cls, dims: Any = ()) -> "Dims":
        return tuple.__new__(cls, (int(d) for d in dims))


class Permutation(tuple):
    def __new__(cls, order: Any = ()) -> "Permutation":
        return tuple.__new__(cls, (int(d) for d in order))


class Weights:
    """Host weights: ``Weights(dtype)`` (empty) or ``Weights(dtype, ptr, count)``; ``numpy()`` copies them out."""

    def __init__(self, dtype: Any = None, ptr: int = 0, count: int = 0) -> None:
        self.dtype = dtype if dtype is not None else _Member("DataType", "FLOAT")
        self.size = int(count)
        self._array: np.ndarray = np.empty(0, dtype=_NUMPY.get(self.dtype.name, np.float32))
        if count:
            np_dtype = _NUMPY[self.dtype.name]
            nbytes = int(count) * np.dtype(np_dtype).itemsize
            raw = (ctypes.c_char * nbytes).from_address(int(ptr))
            self._array = np.frombuffer(bytes(raw), dtype=np_dtype).copy()
        self.nbytes = self._array.nbytes

    def numpy(self) -> np.ndarray:
        return self._array


class ILayer:
    """Base for isinstance checks (recorded layers are not instances: they cast themselves)."""


class ITensor:
    pass


class IOutputAllocator:
    def __init__(self) -> None:
        pass


class Logger:
    WARNING = ERROR = INFO = VERBOSE = INTERNAL_ERROR = 0

    def __init__(self, *args: Any) -> None:
        pass


def _module_getattr(name: str) -> Any:
    if name[:1].isupper():
        value = _Enum(name)
        setattr(sys.modules[__name__], name, value)
        return value
    raise AttributeError(f"the names-only TensorRT stand-in has no {name!r} (it cannot build or run real engines)")


def install(module_name: str = "tensorrt_rtx_bindings") -> bool:
    """Make ``module_name`` resolve to this stand-in when no real TensorRT flavour imports. Returns True when the
    stand-in was installed, False when a real TensorRT is present (which is then used)."""
    for real in ("tensorrt", "tensorrt_rtx", "tensorrt_rtx_bindings"):
        try:
            importlib.import_module(real)
            return False
        except ImportError:
            continue
    sys.modules[module_name] = sys.modules[__name__]
    return True


__getattr__ = _module_getattr  # PEP 562: names resolved on first use
