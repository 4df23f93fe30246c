"""One input shape set of a whole-graph capture: its static inputs, its captured graphs, and the lending of their
output buffers.

A CUDA graph writes its outputs into the same memory on every replay. Returning a *new* tensor per call used to
mean a clone after each replay (an allocation and a copy kernel: about half of the host time of a replay). A
:class:`ShapeSet` avoids it by **lending** the static outputs themselves while nobody else holds them:

* before a replay, a graph's static outputs are *free* when no reference exists beyond the runtime's own: the
  Python object's reference count, the tensor's use count (a view holds its base) and its storage's use count (a
  tensor sharing the memory) are all what they were right after the capture;
* a free graph is replayed and its static outputs are returned as they are -- the caller owns them until it drops
  them, and no replay writes into memory the caller can still see;
* when every lendable graph's outputs are still held (``y = m(x)`` keeps the previous result during the next
  call), a second graph is captured for the same shape set (:data:`MAX_LENT`, captured on first need), so that a
  loop alternates between two graphs without a copy;
* when all of those are held too (a caller that keeps every result), one more graph serves by replay + clone, as
  before: results are always new memory, never overwritten later.
* a shape set whose outputs alias memory that exists outside the graph (an input, a parameter, a buffer or
  another attribute of the module) never lends: those outputs are cloned.

With ``reuse_output_buffers`` the first graph's static outputs are returned on every call, overwritten by the next.
All graphs of a shape set read the same static inputs, which each call overwrites first.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional, Sequence

import torch
import torch.utils._pytree as pytree

#: lendable graphs per shape set (a caller that keeps the previous result alternates between two)
MAX_LENT: int = 2

#: whether this torch can tell who holds a tensor (``Tensor._use_count``); without it results are cloned
_CAN_LEND = hasattr(torch.Tensor, "_use_count") and hasattr(torch._C, "_storage_Use_Count")


def _holders(t: torch.Tensor) -> tuple[int, int, int, int]:
    """Python references and use count of ``t``, use count of its storage and Python references to the storage
    object (a caller may hold ``untyped_storage()``, which is one cached object). Compared, never interpreted:
    every call site reads them the same way."""
    storage = t.untyped_storage()
    uses = t._use_count()  # type: ignore[attr-defined]  # private, checked by _CAN_LEND
    return sys.getrefcount(t), uses, torch._C._storage_Use_Count(storage._cdata), sys.getrefcount(storage)


class Captured:
    """One captured graph of a shape set and its static outputs."""

    __slots__ = ("graph", "static_outputs", "single", "rebuild", "_baseline")

    def __init__(self, graph: Any, out: Any) -> None:
        self.graph = graph
        flat, spec = pytree.tree_flatten(out)
        self.static_outputs: list[torch.Tensor] = [t for t in flat if isinstance(t, torch.Tensor)]
        self.single = isinstance(out, torch.Tensor)
        self.rebuild = _rebuilder(out, flat, spec)
        #: holders of each static output while only the runtime holds them (:meth:`settle`)
        self._baseline: list[tuple[int, int, int, int]] = []

    def settle(self) -> None:
        """Record what "nobody else holds the outputs" looks like: called as the graph joins its shape set, right
        after the capture, before any output has been handed out."""
        self._baseline = self._holders_now()

    def free(self) -> bool:
        """Whether nobody but the runtime holds the static outputs."""
        return self._holders_now() == self._baseline

    def _holders_now(self) -> list[tuple[int, int, int, int]]:
        return [_holders(t) for t in self.static_outputs]

    def result(self, clone: bool) -> Any:
        if self.single:
            out = self.static_outputs[0]
            return out.clone() if clone else out
        return self.rebuild([t.clone() for t in self.static_outputs] if clone else self.static_outputs)


def _rebuilder(out: Any, flat: list[Any], spec: Any) -> Callable[[list[torch.Tensor]], Any]:
    """``tensors -> out`` with its tensors replaced (plain structures without pytree's general machinery)."""
    if isinstance(out, torch.Tensor):
        return lambda tensors: tensors[0]
    if type(out) in (tuple, list) and all(isinstance(v, torch.Tensor) for v in out):
        return type(out)
    positions = [i for i, v in enumerate(flat) if isinstance(v, torch.Tensor)]

    def general(tensors: list[torch.Tensor]) -> Any:
        leaves = list(flat)
        for i, t in zip(positions, tensors):
            leaves[i] = t
        return pytree.tree_unflatten(leaves, spec)

    return general


class ShapeSet:
    """The graphs captured for one input shape set (see the module docstring).

    ``capture`` captures one more graph of the forward on :attr:`static_inputs` (None when the capture failed; the
    owner then runs without graphs)."""

    __slots__ = ("static_inputs", "positions", "capture", "lent", "cloning", "can_lend")

    def __init__(
        self,
        static_inputs: list[torch.Tensor],
        positions: Optional[list[int]],
        first: Captured,
        capture: Callable[[], Optional[Captured]],
        outside: Sequence[torch.Tensor],
    ) -> None:
        self.static_inputs = static_inputs
        #: where the tensors are among the arguments (None: every argument is a tensor)
        self.positions = positions
        self.capture = capture
        self.lent: list[Captured] = [first]
        self.cloning: Optional[Captured] = None
        #: False when an output aliases memory outside the graph (``outside``: inputs, parameters, attributes)
        self.can_lend = _CAN_LEND and not _aliases(first.static_outputs, [*static_inputs, *outside])
        if self.can_lend:
            first.settle()

    def replay(self, args: Sequence[Any], reuse_outputs: bool) -> Any:
        """Copy the tensors of ``args`` (the flattened arguments, as captured) into the static inputs, replay a
        graph and return its outputs: lent static outputs, clones, or (``reuse_outputs``) the first graph's static
        outputs. Returns :data:`NOT_CAPTURED` when a further capture failed."""
        tensors = args if self.positions is None else [args[i] for i in self.positions]
        for static, t in zip(self.static_inputs, tensors):
            if static.data_ptr() != t.data_ptr():
                static.copy_(t)
        if reuse_outputs:
            graph = self.lent[0]
            graph.graph.replay()
            return graph.result(clone=False)
        if self.can_lend:
            for graph in self.lent:
                if graph.free():
                    graph.graph.replay()
                    return graph.result(clone=False)
            if len(self.lent) < MAX_LENT:
                more = self.capture()
                if more is None:
                    return NOT_CAPTURED
                self.lent.append(more)
                more.settle()
                more.graph.replay()
                return more.result(clone=False)
            if self.cloning is None:
                self.cloning = self.capture()
                if self.cloning is None:
                    return NOT_CAPTURED
            graph = self.cloning
        else:
            graph = self.lent[0]
        graph.graph.replay()
        return graph.result(clone=True)


#: what :meth:`ShapeSet.replay` returns when a capture failed (the owner falls back)
NOT_CAPTURED: Any = object()


def _aliases(outputs: Sequence[torch.Tensor], outside: Sequence[torch.Tensor]) -> bool:
    """Whether any of ``outputs`` shares memory with any tensor of ``outside``."""
    taken = {_storage_ptr(t) for t in outside}
    return any(_storage_ptr(t) in taken for t in outputs)


def _storage_ptr(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def module_tensors(module: Any) -> list[torch.Tensor]:
    """The tensors a module holds: parameters, buffers and tensor attributes of it and its submodules (what a
    forward may return without computing it)."""
    if not isinstance(module, torch.nn.Module):
        return []
    found: list[torch.Tensor] = []
    for sub in module.modules():
        found += [t for t in sub._parameters.values() if t is not None]
        found += [t for t in sub._buffers.values() if t is not None]
        found += [v for v in vars(sub).values() if isinstance(v, torch.Tensor)]
    return found
