"""How the runtime captures and replays graphs: the mode's state, the CUDA-graph backend and a bounded cache of
captured graphs.

:data:`MODE` holds the process-wide CUDA-graphs mode (a :class:`CudaGraphsMode` as a plain int, read on every engine
call); :mod:`torch_tensorrt.runtime._cudagraphs` is the API that changes it (and tells the C++ runtime), kept apart
so that the engine can read the mode without importing the C++ loader.

Both users of CUDA graphs -- per-engine graphs in :class:`~torch_tensorrt.runtime._engine.TRTEngine` and the
whole-graph wrapper :class:`~torch_tensorrt.runtime._whole_graph.CudaGraphsModule` -- capture through
:data:`BACKEND` and keep what they captured in a :class:`GraphCache`, one graph per input shape set, the least
recently used dropped beyond a bound (the ``max_cuda_graphs`` setting).

A capture runs the work once on a side stream first (warm-up: lazy initialisation, shapes set, input checks --
so a bad input raises the same error as without graphs, before anything is captured), then captures a second
run with ``torch.cuda.graph``. Replays are launched on the caller's current stream.

:data:`BACKEND` is the one place that touches ``torch.cuda.CUDAGraph``; tests on machines without a GPU swap it
for an emulation (:class:`GraphBackend` is the interface) to check the caching logic around it.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import weakref
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, Iterator, Optional, Protocol, Sequence, TypeVar

import torch

from torch_tensorrt._settings import CompilationSettings

#: graphs kept per engine / wrapper unless its settings say otherwise
DEFAULT_MAX_CUDA_GRAPHS: int = CompilationSettings.max_cuda_graphs

T = TypeVar("T")
V = TypeVar("V")


class CudaGraphsMode(enum.IntEnum):
    """The runtime's CUDA-graphs mode (the same integers as the C++ runtime's ``set_cudagraphs_mode``)."""

    STANDARD = 0
    PER_ENGINE = 1
    WHOLE_GRAPH = 2


#: The current mode as a plain int (change it through :func:`torch_tensorrt.runtime._cudagraphs.set_mode`).
MODE: int = CudaGraphsMode.STANDARD.value


class CudaGraphsError(RuntimeError):
    """CUDA graphs cannot run this call (the message says what is wrong and where)."""


class CudaGraphsUnavailable(CudaGraphsError):
    """CUDA graphs were asked for where they cannot run (no CUDA GPU in this process)."""


class Replayable(Protocol):
    def replay(self) -> None: ...


class GraphBackend:
    """Captures work into replayable graphs: CUDA graphs through ``torch.cuda.graph``."""

    #: what the graphs are, for messages
    name = "CUDA graphs"

    def unavailable(self) -> str:
        """Why graphs cannot be used in this process ("" when they can)."""
        if not torch.cuda.is_available():
            return "torch.cuda.is_available() is False (no CUDA GPU or driver in this process)"
        return ""

    def supports(self, device: torch.device) -> bool:
        """Whether work on ``device`` can be captured."""
        return device.type == "cuda"

    def is_capturing(self) -> bool:
        """True while the current stream is being captured (by us or by the caller's own ``torch.cuda.graph``)."""
        return torch.cuda.is_initialized() and torch.cuda.is_current_stream_capturing()

    def warm_up(self, fn: Callable[[], T], device: torch.device) -> T:
        """Run ``fn`` once on a side stream ordered after the current one (what the CUDA docs ask before a
        capture). Errors of ``fn`` propagate unchanged."""
        with torch.cuda.device(device):
            current = torch.cuda.current_stream()
            side = torch.cuda.Stream()
            side.wait_stream(current)
            with torch.cuda.stream(side):
                out = fn()
            current.wait_stream(side)
        return out

    def capture(self, fn: Callable[[], T], device: torch.device) -> tuple[Replayable, T]:
        """Capture one run of ``fn`` (call :meth:`warm_up` first); returns the graph and ``fn``'s result, whose
        tensors are the static outputs that each replay overwrites."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.device(device), _no_garbage_collection():
            with torch.cuda.graph(graph):
                out = fn()
        return graph, out


@contextlib.contextmanager
def _no_garbage_collection() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block. A collection during a capture runs the finalizers of
    whatever garbage it frees, on the capturing thread: one that calls CUDA (destroying a graph, an event or a
    stream owned by an engine of an earlier call) can invalidate the capture. Defensive: a whole-graph capture
    failed once on an H200 with "operation failed due to a previous error during capture" and did not fail in
    later reruns, so the cause is not established. Garbage stays until the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: The backend every capture goes through (tests without a GPU replace it).
BACKEND = GraphBackend()


class GraphOwner(Protocol):
    def release_graphs(self) -> None: ...


#: what holds graphs captured in per-engine mode (released when the mode goes off)
_owners: "weakref.WeakSet[Any]" = weakref.WeakSet()


def add_owner(owner: GraphOwner) -> None:
    _owners.add(owner)


def release_mode_graphs() -> None:
    """Free the graphs captured for the mode (called when it goes off; owners keep what they were asked for)."""
    for owner in list(_owners):
        owner.release_graphs()


def require_graphs(what: str) -> None:
    """Raise :class:`CudaGraphsUnavailable` naming ``what`` when this process cannot use CUDA graphs."""
    why = BACKEND.unavailable()
    if why:
        raise CudaGraphsUnavailable(f"{what}: {BACKEND.name} need a CUDA GPU, and {why}")


class StaticGraph:
    """A captured run of ``list of tensors -> list of tensors``: the static buffers its kernels read and write."""

    __slots__ = ("graph", "static_inputs", "static_outputs")

    def __init__(
        self, graph: Replayable, static_inputs: list[torch.Tensor], static_outputs: list[torch.Tensor]
    ) -> None:
        self.graph = graph
        self.static_inputs = static_inputs
        self.static_outputs = static_outputs

    @classmethod
    def capture(
        cls,
        run: Callable[[list[torch.Tensor]], list[torch.Tensor]],
        inputs: Sequence[torch.Tensor],
        device: torch.device,
    ) -> "StaticGraph":
        """Warm up and capture ``run`` on copies of ``inputs`` (the static inputs)."""
        static_inputs = [t.clone(memory_format=torch.contiguous_format) for t in inputs]
        BACKEND.warm_up(lambda: run(static_inputs), device)
        graph, static_outputs = BACKEND.capture(lambda: run(static_inputs), device)
        return cls(graph, static_inputs, list(static_outputs))

    def replay(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Copy ``inputs`` into the static inputs, replay, and return new tensors holding the outputs."""
        for static, t in zip(self.static_inputs, inputs):
            if static.data_ptr() != t.data_ptr():
                static.copy_(t)
        self.graph.replay()
        return [o.clone() for o in self.static_outputs]


class GraphCache(Generic[V]):
    """At most ``limit`` values (captured graphs), keyed by input shape set; the least recently used goes first."""

    def __init__(self, limit: int) -> None:
        self.limit = _check_limit(limit)
        self._items: "OrderedDict[Hashable, V]" = OrderedDict()
        #: how many values were dropped to stay within ``limit`` (for tests and debugging)
        self.evictions = 0

    def get(self, key: Hashable) -> Optional[V]:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
            self.evictions += 1

    def set_limit(self, limit: int) -> None:
        self.limit = _check_limit(limit)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
            self.evictions += 1

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        return list(self._items)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items


def _check_limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"max_cuda_graphs must be an int >= 1, got {limit!r}")
    return limit
