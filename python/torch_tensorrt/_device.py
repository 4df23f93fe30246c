"""``torch_tensorrt.Device``: the GPU an engine is built for and runs on.

Constructing a Device never touches CUDA; only :meth:`Device.current` (asked explicitly) queries the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch


@dataclass(frozen=True)
class Device:
    """``Device()`` (GPU 0), ``Device(1)``, ``Device("cuda:1")``, ``Device(torch.device("cuda", 1))``."""

    gpu_id: int = 0
    device_type: str = "cuda"
    dla_core: int = -1
    allow_gpu_fallback: bool = False

    @classmethod
    def parse(cls, value: Union["Device", int, str, torch.device, None]) -> "Device":
        if value is None:
            return cls()
        if isinstance(value, Device):
            return value
        if isinstance(value, int):
            return cls(gpu_id=value)
        if isinstance(value, str):
            if value.startswith("dla"):
                _, _, core = value.partition(":")
                return cls(gpu_id=0, device_type="dla", dla_core=int(core or 0), allow_gpu_fallback=True)
            value = torch.device(value)
        if isinstance(value, torch.device):
            if value.type not in ("cuda", "cpu"):
                raise ValueError(f"Device: TensorRT runs on CUDA devices, got {value}")
            return cls(gpu_id=value.index or 0)
        raise TypeError(f"Device: cannot interpret {value!r} as a device")

    @classmethod
    def current(cls) -> "Device":
        """The current CUDA device (queries CUDA; GPU 0 when CUDA is unavailable)."""
        if torch.cuda.is_available():
            return cls(gpu_id=torch.cuda.current_device())
        return cls()

    def to(self) -> torch.device:
        return torch.device("cuda", self.gpu_id)

    def __str__(self) -> str:
        if self.device_type == "dla":
            return f"dla:{self.dla_core}"
        return f"cuda:{self.gpu_id}"
