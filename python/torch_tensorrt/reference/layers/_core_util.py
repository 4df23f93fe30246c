"""Helpers shared by the core layer handlers (elementwise, activation, shape, indexing, misc).

No handlers live here; the registry imports this module like any other in the package, harmlessly.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

import weakref

import numpy as np
import torch

from torch_tensorrt._dtypes import torch_dtype_of
from torch_tensorrt.reference._registry import EvalContext

FLOATS = (torch.float16, torch.bfloat16, torch.float32)
INTS = (torch.int8, torch.uint8, torch.int32, torch.int64)


def require(inputs: Sequence[Optional[torch.Tensor]], slot: int) -> torch.Tensor:
    """The value wired into ``slot``; an error when that slot is empty or absent."""
    if slot >= len(inputs) or inputs[slot] is None:
        raise ValueError(f"reference evaluator: input slot {slot} is required but empty")
    value = inputs[slot]
    assert value is not None
    return value


def optional(inputs: Sequence[Optional[torch.Tensor]], slot: int) -> Optional[torch.Tensor]:
    """The value wired into ``slot``, or ``None`` for an empty or absent optional slot."""
    return inputs[slot] if slot < len(inputs) else None


def dims(value: Any) -> Optional[tuple[int, ...]]:
    """A ``trt.Dims`` (or ``None``) read back from a layer attribute, as a tuple of ints."""
    return None if value is None else tuple(int(d) for d in value)


def permutation(value: Any, rank: int) -> tuple[int, ...]:
    """The first ``rank`` entries of a ``trt.Permutation`` (which always holds ``Dims.MAX_DIMS`` entries)."""
    order = tuple(int(d) for d in value)[:rank]
    if sorted(order) != list(range(rank)):
        raise ValueError(f"reference evaluator: {order} is not a permutation of rank {rank}")
    return order


def int_list(t: torch.Tensor) -> list[int]:
    """The values of an integer shape tensor (0-D or 1-D) as Python ints."""
    if t.dtype not in INTS:
        raise TypeError(f"reference evaluator: expected an integer shape tensor, got {t.dtype}")
    return [int(v) for v in t.reshape(-1).tolist()]


def out_dtype(layer: Any, slot: int = 0) -> torch.dtype:
    """The torch dtype the network declares for the layer's output ``slot``."""
    return torch_dtype_of(layer.get_output(slot).dtype)


def compute_in(x: torch.Tensor) -> torch.Tensor:
    """Reduced-precision floats are computed in float32 (then rounded back by the caller)."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def check_broadcast(layer: Any, tensors: Iterable[torch.Tensor]) -> tuple[int, ...]:
    """TensorRT broadcasting: equal ranks, and per dimension equal lengths or length 1. Returns the result shape."""
    shapes = [tuple(t.shape) for t in tensors]
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1:
        raise ValueError(f"reference evaluator: layer {layer.name!r}: inputs of ranks {sorted(ranks)} (must be equal)")
    result = []
    for sizes in zip(*shapes):
        big = {s for s in sizes if s != 1}
        if len(big) > 1:
            raise ValueError(f"reference evaluator: layer {layer.name!r}: shapes {shapes} do not broadcast")
        result.append(big.pop() if big else (0 if 0 in sizes else 1))
    return tuple(result)


def normalize_axis(layer: Any, ctx: EvalContext, axis: int, rank: int, name: str = "axis") -> int:
    """``axis`` in ``[-rank, rank)`` mapped to ``[0, rank)``; the unsupported error otherwise."""
    if not -rank <= axis < rank:
        raise ctx.unsupported(layer, name, axis)
    return axis % rank


#: Device copies of weight arrays that outlive one evaluation (a recorded network's weights), keyed by array
#: identity, so repeated evaluations -- and CUDA graph capture after a warm-up, where host-to-device copies are
#: forbidden -- reuse them. Real TensorRT networks hand out a fresh array per attribute read; an entry is
#: dropped when its array dies.
_DEVICE_COPIES: dict[int, tuple["weakref.ref[np.ndarray]", dict[torch.device, torch.Tensor]]] = {}


def host_weights(array: Any) -> torch.Tensor:
    """Layer weights read through the TensorRT API (numpy) as a tensor on the evaluation device (the default
    device the evaluator sets: where the network inputs live). Treat the result as read-only."""
    device = torch.get_default_device()
    if not isinstance(array, np.ndarray):
        return torch.from_numpy(np.array(array, copy=True)).to(device)
    key = id(array)
    entry = _DEVICE_COPIES.get(key)
    if entry is None or entry[0]() is not array:

        def forget(_: Any, k: int = key) -> None:
            _DEVICE_COPIES.pop(k, None)

        entry = (weakref.ref(array, forget), {})
        _DEVICE_COPIES[key] = entry
    copies = entry[1]
    if device not in copies:
        copies[device] = torch.from_numpy(np.array(array, copy=True)).to(device)
    return copies[device]
