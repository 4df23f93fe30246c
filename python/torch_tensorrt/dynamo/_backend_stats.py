"""Counters and per-graph records of the ``torch.compile`` backend (:func:`backend_stats`).

Every graph dynamo hands the backend is counted once and ends in one of three ways: engines were built for it,
an identical graph's compiled module was reused (cache hit), or it runs wholly in PyTorch (fallback, with the
reason). Tests and users read the counters; the records keep what the debug log prints (symbol ranges, engine
profiles, operators left to PyTorch and why, build time) as plain data.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

from torch_tensorrt.dynamo._backend_shapes import SymbolProfile

#: outcomes of one graph
ENGINES, CACHE_HIT, PYTORCH = "engines", "cache_hit", "pytorch"


@dataclass
class LeftOp:
    """An operator of a compiled graph that runs in PyTorch."""

    node: str
    op: str
    reason: str


@dataclass
class GraphRecord:
    """What the backend did with one graph."""

    graph_id: int
    outcome: str = PYTORCH
    #: why the graph runs in PyTorch (outcome ``pytorch``)
    reason: str = ""
    #: engine range chosen for each shape symbol of the graph's inputs
    symbols: list[SymbolProfile] = field(default_factory=list)
    #: ``EngineSummary`` of each engine (name, bytes, layers, build seconds, input/output profiles)
    engines: list[Any] = field(default_factory=list)
    ops_in_pytorch: list[LeftOp] = field(default_factory=list)
    #: seconds from the backend call to the returned callable
    compile_s: float = 0.0
    #: why the graph was compiled, when not for a new dynamo graph (e.g. other weights of an earlier one)
    note: str = ""

    @property
    def engine_inputs(self) -> list[Any]:
        """The input ``TensorSpec`` (name, shape, min/opt/max) of every engine, in order."""
        return [spec for e in self.engines for spec in e.inputs]


@dataclass
class BackendStats:
    """Counters since the process started (or the last reset), and the record of every graph."""

    graphs_compiled: int = 0
    engines_built: int = 0
    cache_hits: int = 0
    fallbacks: int = 0
    graphs: list[GraphRecord] = field(default_factory=list)

    @property
    def recompiles(self) -> int:
        """Graphs compiled beyond the first (dynamo recompiles, graph breaks) -- a summary for benchmarks."""
        return max(self.graphs_compiled - 1, 0)


_lock = threading.Lock()
_stats = BackendStats()
_next_id = 0
_warned: set[str] = set()


def new_record() -> GraphRecord:
    """A record for the next graph (ids count up for the life of the process, resets included)."""
    global _next_id
    with _lock:
        _next_id += 1
        return GraphRecord(_next_id)


def finish(record: GraphRecord) -> None:
    """Count ``record``'s outcome."""
    with _lock:
        _stats.graphs_compiled += 1
        _stats.graphs.append(record)
        if record.outcome == ENGINES:
            _stats.engines_built += len(record.engines)
        elif record.outcome == CACHE_HIT:
            _stats.cache_hits += 1
        else:
            _stats.fallbacks += 1


def first_time(key: str) -> bool:
    """True the first time ``key`` is asked about (for messages said once per process, or until a reset)."""
    with _lock:
        if key in _warned:
            return False
        _warned.add(key)
        return True


def backend_stats(reset: bool = False) -> BackendStats:
    """A snapshot of the ``torch.compile`` backend's counters: ``graphs_compiled``, ``engines_built``,
    ``cache_hits``, ``fallbacks`` (graphs run wholly in PyTorch) and ``graphs`` (one :class:`GraphRecord`
    each). ``reset=True`` also zeroes them afterwards (and re-arms the once-per-process messages)."""
    global _stats
    with _lock:
        snapshot = copy.deepcopy(_stats)
        if reset:
            _stats = BackendStats()
            _warned.clear()
    return snapshot


def reset_backend_stats() -> None:
    """Zero the counters (same as ``backend_stats(reset=True)``)."""
    backend_stats(reset=True)


def last_graph() -> Optional[GraphRecord]:
    with _lock:
        return copy.deepcopy(_stats.graphs[-1]) if _stats.graphs else None
