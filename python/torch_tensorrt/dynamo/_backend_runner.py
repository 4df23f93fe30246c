"""The callable the backend returns to dynamo for a graph compiled with engines.

Dynamo passes parameters and buffers as graph inputs and, with inlined ``nn.Module``s, does not guard on which
tensors they are: the same graph serves every instance of a module class (``for layer in layers:
torch.compile(layer)``). Engines hold their weights, so each call checks (by identity, a few microseconds) that
the weights are the ones the engines were built from; other weights get their own compiled graph (built on that
call, found in the cache when equal), up to :data:`MAX_VARIANTS`, after which such calls run in PyTorch.
Weights changed in place after compiling are not seen: call ``torch._dynamo.reset()`` to compile again.

Inside ``torch_tensorrt.runtime.enable_cudagraphs(compiled_model)`` (whole-graph CUDA-graphs mode) each graph runs
as its own captured CUDA graph (:func:`torch_tensorrt.runtime._whole_graph.graph_runner`, made on the first such
call), while dynamo's guards and the code between graphs keep running in Python.
"""

from __future__ import annotations

import logging
import operator
import threading
from typing import Any, Callable, Optional, Sequence

import torch

from torch_tensorrt.runtime import _graph_capture
from torch_tensorrt.runtime._graph_capture import CudaGraphsMode

logger = logging.getLogger("torch_tensorrt.dynamo.backend")

#: compiled graphs for other weights kept per runner
MAX_VARIANTS = 8

Picker = Callable[[Sequence[Any]], tuple[Any, ...]]


def picker(indices: Sequence[int]) -> Picker:
    """``args -> tuple(args[i] for i in indices)``, done in C."""
    if not indices:
        return lambda args: ()
    if len(indices) == 1:
        (i,) = indices
        return lambda args: (args[i],)
    return operator.itemgetter(*indices)  # type: ignore[return-value]


class CompiledGraph:
    """Runs ``compiled`` on the values it takes (``keep``) when the weights at ``frozen`` are the frozen ones."""

    def __init__(
        self,
        compiled: torch.fx.GraphModule,
        keep: Sequence[int],
        frozen: Sequence[int],
        weights: Sequence[torch.Tensor],
        rebuild: Callable[[Sequence[Any]], Optional[tuple[torch.fx.GraphModule, Sequence[int]]]],
        eager: Callable[..., Any],
        graph_id: int,
    ) -> None:
        self.compiled_module = compiled
        self._take = picker(keep)
        self._weights = picker(frozen)
        self._frozen = tuple(weights)  # strong references: identities cannot be reused while compared
        self._rebuild = rebuild
        self._eager = eager
        self._graph_id = graph_id
        self._variants: dict[tuple[int, ...], tuple[tuple[torch.Tensor, ...], Callable[..., Any], Picker]] = {}
        self._lock = threading.Lock()
        self._graph_runner: Optional[Callable[..., Any]] = None

    def __call__(self, *args: Any) -> Any:
        weights = self._weights(args)
        if all(map(operator.is_, weights, self._frozen)):
            if _graph_capture.MODE == CudaGraphsMode.WHOLE_GRAPH:
                return self._captured()(*self._take(args))
            return self.compiled_module(*self._take(args))
        return self._with_other_weights(weights, args)

    def _captured(self) -> Callable[..., Any]:
        """The whole-graph CUDA-graph runner of this graph (made once)."""
        if self._graph_runner is None:
            from torch_tensorrt.runtime._whole_graph import graph_runner

            self._graph_runner = graph_runner(self.compiled_module, f"torch_tensorrt backend graph {self._graph_id}")
        return self._graph_runner

    def _with_other_weights(self, weights: tuple[Any, ...], args: tuple[Any, ...]) -> Any:
        key = tuple(map(id, weights))
        with self._lock:
            variant = self._variants.get(key)
            if variant is None:
                variant = self._variants[key] = self._new_variant(weights, args)
        _, fn, take = variant
        return fn(*take(args))

    def _new_variant(self, weights: tuple[Any, ...], args: tuple[Any, ...]) -> Any:
        eager = (tuple(weights), self._eager, tuple)
        if len(self._variants) >= MAX_VARIANTS:
            logger.warning(
                "torch_tensorrt backend: graph %d is called with more than %d other sets of weights (instances of "
                "the module); calls with a new set run in PyTorch",
                self._graph_id,
                MAX_VARIANTS,
            )
            return eager
        logger.info("torch_tensorrt backend: graph %d called with other weights; compiling it for them", self._graph_id)
        built = self._rebuild(args)
        if built is None:
            return eager
        compiled, keep = built
        return tuple(weights), compiled, picker(keep)
