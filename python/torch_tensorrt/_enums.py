"""The incumbent Torch-TensorRT's public enums, for code written against it: ``torch_tensorrt.dtype``,
``DeviceType``, ``EngineCapability``, ``Platform`` and ``memory_format``.

This project speaks torch types everywhere (``torch.dtype``, ``torch.memory_format``); these enums convert to and
from them (``dtype._from(torch.float16)``, ``dtype.f16.to(torch.dtype)``) and every entry point that takes a
precision, an Input dtype or an Input format accepts them (:func:`to_torch_dtype`, :func:`to_torch_format`).
Bottom layer: imports only torch.
"""

from __future__ import annotations

import enum
import platform as _platform
import sys
from typing import Any

import torch


class dtype(enum.Enum):  # noqa: N801 (the incumbent's name)
    """Tensor element types (short names and their torch-style aliases)."""

    unknown = 0
    u8 = 1
    i8 = 2
    i32 = 3
    i64 = 4
    f16 = 5
    f32 = 6
    f64 = 7
    b = 8
    bf16 = 9
    f8 = 10
    f4 = 11
    # aliases
    uint8 = 1
    int8 = 2
    int32 = 3
    int = 3
    int64 = 4
    long = 4
    float16 = 5
    half = 5
    fp16 = 5
    float32 = 6
    float = 6
    fp32 = 6
    float64 = 7
    double = 7
    bool = 8
    bfloat16 = 9
    float8 = 10
    fp8 = 10
    float4 = 11

    @classmethod
    def _from(cls, value: Any) -> "dtype":
        """The member for a ``torch.dtype``, a member, or a name (``"f16"``, ``"float16"``)."""
        if isinstance(value, dtype):
            return value
        if isinstance(value, torch.dtype):
            for member, torch_type in _TORCH.items():
                if torch_type == value:
                    return member
            raise TypeError(f"torch_tensorrt.dtype: {value} has no TensorRT equivalent")
        if isinstance(value, str) and value in cls.__members__:
            return cls.__members__[value]
        raise TypeError(f"torch_tensorrt.dtype: cannot convert {value!r}")

    def to(self, target: Any = torch.dtype) -> Any:
        """This type as a ``torch.dtype`` (the only target type supported here)."""
        if target is not torch.dtype:
            raise TypeError(f"torch_tensorrt.dtype.to: only torch.dtype is supported here, got {target!r}")
        if self not in _TORCH:
            raise TypeError(f"torch_tensorrt.dtype.{self.name} has no torch equivalent")
        return _TORCH[self]


_TORCH: dict[dtype, torch.dtype] = {
    dtype.u8: torch.uint8,
    dtype.i8: torch.int8,
    dtype.i32: torch.int32,
    dtype.i64: torch.int64,
    dtype.f16: torch.float16,
    dtype.f32: torch.float32,
    dtype.f64: torch.float64,
    dtype.b: torch.bool,
    dtype.bf16: torch.bfloat16,
    dtype.f8: torch.float8_e4m3fn,
}


class memory_format(enum.Enum):  # noqa: N801 (the incumbent's name)
    """Tensor layouts. Only ``contiguous`` (alias ``linear``) and ``channels_last`` (alias ``hwc``) have torch
    equivalents; the vectorized TensorRT formats exist for the names only."""

    contiguous = 0
    channels_last = 1
    chw2 = 2
    chw4 = 3
    hwc8 = 4
    chw16 = 5
    chw32 = 6
    dhwc8 = 7
    cdhw32 = 8
    hwc16 = 9
    dla_linear = 10
    dla_hwc4 = 11
    dhwc = 12
    linear = 0
    hwc = 1

    def to(self, target: Any = torch.memory_format) -> torch.memory_format:
        if self is memory_format.contiguous:
            return torch.contiguous_format
        if self is memory_format.channels_last:
            return torch.channels_last
        raise TypeError(f"torch_tensorrt.memory_format.{self.name} has no torch equivalent (TensorRT-internal layout)")


class DeviceType(enum.Enum):
    UNKNOWN = 0
    GPU = 1
    DLA = 2


class EngineCapability(enum.Enum):
    """Only STANDARD engines exist with TensorRT-RTX (the setting is accepted and has no effect)."""

    STANDARD = 0
    SAFETY = 1
    DLA_STANDALONE = 2


class Platform(enum.Enum):
    LINUX_X86_64 = 0
    LINUX_AARCH64 = 1
    WIN_X86_64 = 2
    UNKNOWN = 3

    @classmethod
    def current_platform(cls) -> "Platform":
        machine = _platform.machine().lower()
        if sys.platform.startswith("linux"):
            return {"x86_64": cls.LINUX_X86_64, "amd64": cls.LINUX_X86_64, "aarch64": cls.LINUX_AARCH64}.get(
                machine, cls.UNKNOWN
            )
        if sys.platform.startswith("win") and machine in ("amd64", "x86_64"):
            return cls.WIN_X86_64
        return cls.UNKNOWN


def to_torch_dtype(value: Any) -> Any:
    """``value`` as a ``torch.dtype`` when it is a :class:`dtype` member, else unchanged."""
    return value.to(torch.dtype) if isinstance(value, dtype) else value


def to_torch_format(value: Any) -> Any:
    """``value`` as a ``torch.memory_format`` when it is a :class:`memory_format` member, else unchanged."""
    return value.to(torch.memory_format) if isinstance(value, memory_format) else value


__all__ = ["dtype", "memory_format", "DeviceType", "EngineCapability", "Platform", "to_torch_dtype", "to_torch_format"]
