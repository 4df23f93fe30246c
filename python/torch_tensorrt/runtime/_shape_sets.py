"""What a :class:`~torch_tensorrt.runtime._engine.TRTEngine` computes once per input shape set and reuses on every
call with it (the per-call host work of an engine is what remains: checks of dtype and device, addresses, the
launch and its outputs), and the small fast helpers of that hot path.

A shape set is keyed by the inputs' ``torch.Size`` objects (one input: its size; several: the tuple of sizes), so
finding it builds no Python structures beyond that tuple.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import torch


def data_ptr(t: torch.Tensor) -> int:
    """The address of a non-empty tensor (the engine's placeholder logic handles empty ones)."""
    return t.data_ptr()


empty_like = torch.empty_like


def template(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A tensor of ``shape`` backed by one element: ``torch.empty_like`` of it allocates a contiguous tensor of
    ``shape`` (an expanded tensor is not dense, so its layout is not copied)."""
    expanded = torch.empty((), dtype=dtype, device=device).expand(tuple(shape))
    if not torch.empty_like(expanded).is_contiguous():  # not expected; then a plain contiguous tensor
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    return expanded


def _current_stream_handle(index: int) -> int:
    return torch.cuda.current_stream(index).cuda_stream


#: ``device index -> the current CUDA stream's handle`` (torch's C entry point where present: no Stream object)
raw_stream: Callable[[int], int] = getattr(torch._C, "_cuda_getCurrentRawStream", _current_stream_handle)


class ShapeSet:
    """What depends only on an input shape set (computed once per set, then reused on every call with it)."""

    __slots__ = ("key", "shapes", "output_shapes", "templates", "has_empty", "next_outputs", "profile")

    def __init__(self, key: Any, shapes: tuple[tuple[int, ...], ...]) -> None:
        self.key = key
        self.shapes = shapes
        #: TensorRT's output shapes for these input shapes (None until first set on the context)
        self.output_shapes: Optional[list[tuple[int, ...]]] = None
        #: per output, a one-element tensor expanded to its shape: ``torch.empty_like`` of it is a new contiguous
        #: output, made faster than ``torch.empty(shape, dtype=, device=)`` (no arguments to parse)
        self.templates: list[torch.Tensor] = []
        #: some input or output has no elements (it then gets a placeholder address)
        self.has_empty = any(0 in s for s in shapes)
        #: outputs allocated for the next call (``use_pre_allocated_outputs``)
        self.next_outputs: Optional[list[torch.Tensor]] = None
        #: the optimization profile these shapes run in (engines with several; see TRTEngine's docstring)
        self.profile = 0


#: distinct input shape sets whose derived facts an engine keeps (all are dropped beyond it)
MAX_SHAPE_SETS = 256
