"""An emulation of CUDA graphs for machines without a GPU (test-only).

:class:`EmulatedGraphs` replaces :data:`torch_tensorrt.runtime._graph_capture.BACKEND`. A "capture" runs the work
once (with :meth:`is_capturing` true, as a real capture would see it) and keeps its outputs as the static outputs;
a "replay" runs the same work again on the same static inputs and copies the results into those static outputs.
That is what a CUDA graph does to memory -- read the static inputs, overwrite the static outputs -- so the logic
around graphs (static buffers, copies in and out, one graph per shape set, eviction, fallbacks, the mode) is
checked on the CPU; only the kernels' capture itself needs the GPU tests.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.utils._pytree as pytree

from torch_tensorrt.runtime._graph_capture import GraphBackend


class _Graph:
    def __init__(self, backend: "EmulatedGraphs", fn: Callable[[], Any], out: Any) -> None:
        self.backend, self.fn, self.out = backend, fn, out

    def replay(self) -> None:
        self.backend.replays += 1
        with self.backend.capturing():
            new = self.fn()
        for static, value in zip(pytree.tree_leaves(self.out), pytree.tree_leaves(new)):
            if isinstance(static, torch.Tensor):
                static.copy_(value)


class EmulatedGraphs(GraphBackend):
    name = "emulated CUDA graphs"

    def __init__(self) -> None:
        self.captures = 0
        self.replays = 0
        self.warm_ups = 0
        self._capturing = False

    def unavailable(self) -> str:
        return ""

    def supports(self, device: torch.device) -> bool:
        return device.type in ("cpu", "cuda")

    def is_capturing(self) -> bool:
        return self._capturing

    def capturing(self) -> Any:
        backend = self

        class _Scope:
            def __enter__(self) -> None:
                backend._capturing = True

            def __exit__(self, *exc: Any) -> None:
                backend._capturing = False

        return _Scope()

    def warm_up(self, fn: Callable[[], Any], device: torch.device) -> Any:
        self.warm_ups += 1
        return fn()

    def capture(self, fn: Callable[[], Any], device: torch.device) -> tuple[Any, Any]:
        with self.capturing():
            out = fn()
        self.captures += 1
        return _Graph(self, fn, out), out
