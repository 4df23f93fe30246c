"""The runtime's ``IOutputAllocator``: TensorRT asks it for the buffers of outputs whose shapes are only known after
the engine ran (data-dependent shapes), and tells it those shapes. Each output gets a torch byte buffer on the
engine's device; :meth:`reset` before a run, so outputs handed out earlier are never overwritten.

The subclass of the TensorRT interface is created on first use, so that importing this module never imports
TensorRT.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt._trt import trt


def output_allocator_class() -> type:
    """An ``IOutputAllocator`` subclass (created on first use so that importing this module never imports TensorRT)."""
    global _ALLOCATOR_CLASS
    if _ALLOCATOR_CLASS is None:

        class OutputAllocator(trt.IOutputAllocator):  # type: ignore[misc, name-defined]
            """Allocates each data-dependent output as a fresh torch byte buffer on ``device``."""

            def __init__(self, device: torch.device) -> None:
                trt.IOutputAllocator.__init__(self)
                self.device = device
                self.buffers: dict[str, torch.Tensor] = {}
                self.shapes: dict[str, tuple[int, ...]] = {}

            def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
                return self.reallocate_output_async(tensor_name, memory, size, alignment, 0)

            def reallocate_output_async(
                self, tensor_name: str, memory: int, size: int, alignment: int, stream: int
            ) -> int:
                buf = self.buffers.get(tensor_name)
                if buf is None or buf.numel() < size or buf.data_ptr() % max(alignment, 1):
                    buf = torch.empty(max(int(size), 1), dtype=torch.uint8, device=self.device)
                    self.buffers[tensor_name] = buf
                return buf.data_ptr()

            def notify_shape(self, tensor_name: str, shape: Any) -> None:
                self.shapes[tensor_name] = tuple(int(d) for d in shape)

            def reset(self) -> None:
                self.buffers = {}
                self.shapes = {}

        _ALLOCATOR_CLASS = OutputAllocator
    return _ALLOCATOR_CLASS


_ALLOCATOR_CLASS: Optional[type] = None
