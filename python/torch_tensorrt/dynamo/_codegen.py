"""Deferred code generation for GraphModules edited in several steps.

``GraphModule.recompile()`` regenerates and ``exec``\\ s a module's Python code (and, recursively, its GraphModule
children's): about 10 ms for a ResNet-50-sized graph, and only needed when the module is called or its ``.code``
read. The lowering passes and the partitioner each edit a graph in place; the compiler then builds a new module
from it anyway. So:

* :func:`recompile` is what every edit in the pipeline calls instead of ``gm.recompile()``. Outside a
  :func:`deferred` block it recompiles at once: a pass or the partitioner called on its own leaves a runnable
  module.
* Inside a :func:`deferred` block it only marks ``gm`` stale. The outermost block recompiles what is still stale
  when it ends (an inner block joins the outer one); :meth:`Pending.flush` does it earlier (before a stage observer
  sees a module), and :meth:`Pending.forget` drops a module whose code was regenerated otherwise (a new
  ``GraphModule`` built from its graph) or that is thrown away (a partition replaced by its engine).
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Optional

import torch.fx


def _with_children(gm: torch.fx.GraphModule) -> Iterator[torch.fx.GraphModule]:
    """``gm`` and the GraphModules whose code ``gm.recompile()`` regenerates with it (children, recursively)."""
    yield gm
    for child in gm.children():
        if isinstance(child, torch.fx.GraphModule):
            yield from _with_children(child)


class Pending:
    """The modules whose code is stale (by identity, in the order they became stale)."""

    def __init__(self) -> None:
        self._stale: dict[int, torch.fx.GraphModule] = {}

    def add(self, gm: torch.fx.GraphModule) -> None:
        self._stale[id(gm)] = gm

    def __contains__(self, gm: torch.fx.GraphModule) -> bool:
        return id(gm) in self._stale

    def __len__(self) -> int:
        return len(self._stale)

    def forget(self, gm: torch.fx.GraphModule) -> None:
        """``gm`` (and its GraphModule children) need no recompile: their code was regenerated otherwise, or they
        are no longer used."""
        for module in _with_children(gm):
            self._stale.pop(id(module), None)

    def flush(self) -> None:
        """Recompile every stale module now (a module recompiled with its parent only once)."""
        stale = list(self._stale.values())
        covered = {id(child) for gm in stale for child in list(_with_children(gm))[1:]}
        self._stale.clear()
        for gm in stale:
            if id(gm) not in covered:
                gm.recompile()


_pending: contextvars.ContextVar[Optional[Pending]] = contextvars.ContextVar("torch_tensorrt_codegen", default=None)


@contextlib.contextmanager
def deferred() -> Iterator[Pending]:
    """Defer :func:`recompile` calls to the end of the outermost block (see the module docstring). When the block
    ends with an exception, nothing is recompiled (the graphs may be half-edited)."""
    outer = _pending.get()
    if outer is not None:
        yield outer
        return
    pending = Pending()
    token = _pending.set(pending)
    try:
        yield pending
    except BaseException:
        _pending.reset(token)
        raise
    _pending.reset(token)
    pending.flush()


def recompile(gm: torch.fx.GraphModule) -> None:
    """``gm.recompile()`` now, or at the end of the enclosing :func:`deferred` block."""
    pending = _pending.get()
    if pending is None:
        gm.recompile()
    else:
        pending.add(gm)


__all__ = ["Pending", "deferred", "recompile"]
