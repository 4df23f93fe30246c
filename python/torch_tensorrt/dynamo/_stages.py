"""Observers of the compile pipeline's stages: ``observer(stage, graph_module)`` after each stage.

Stages, in order: ``exported`` (the program as given), ``lowered`` (after the decompositions), one per graph pass
(named after the pass, e.g. ``fold_constants``), ``partitioned`` (TensorRT and PyTorch submodules) and
``compiled`` (engines in place). Tools above the compiler (:class:`~torch_tensorrt.dynamo.Debugger`) register
here; the compiler knows nothing of them. Observers must not change the graph. Each module they see is runnable
(its code regenerated, see :mod:`._codegen`).
"""

from __future__ import annotations

import threading
from typing import Callable

import torch.fx

StageObserver = Callable[[str, torch.fx.GraphModule], None]

_lock = threading.Lock()
_observers: list[StageObserver] = []


def add_stage_observer(observer: StageObserver) -> StageObserver:
    with _lock:
        if observer not in _observers:
            _observers.append(observer)
    return observer


def remove_stage_observer(observer: StageObserver) -> None:
    with _lock:
        if observer in _observers:
            _observers.remove(observer)


def has_observers() -> bool:
    """Whether any observer is registered (the pipeline then regenerates a module's code before showing it)."""
    return bool(_observers)


def notify(stage: str, gm: torch.fx.GraphModule) -> None:
    """Call every observer with ``stage`` and ``gm`` (cheap when there is none)."""
    with _lock:
        observers = list(_observers)
    for observer in observers:
        observer(stage, gm)


__all__ = ["StageObserver", "add_stage_observer", "remove_stage_observer", "has_observers", "notify"]
