"""What every lowering pass shares: its type, the clean-up after it changed the graph, and how it computes with
weights."""

from __future__ import annotations

import concurrent.futures
from typing import Callable, Sequence, TypeVar

import torch
import torch.fx

from torch_tensorrt.dynamo import _codegen
from torch_tensorrt.dynamo._settings import CompilationSettings

_T = TypeVar("_T")
_R = TypeVar("_R")

#: A lowering pass: ``(gm, settings) -> gm`` (may change ``gm`` in place and return it).
Pass = Callable[[torch.fx.GraphModule, CompilationSettings], torch.fx.GraphModule]


def finish(
    gm: torch.fx.GraphModule, changed: bool, *, dead_code: bool = True, lint: bool = True
) -> torch.fx.GraphModule:
    """After a pass: when it ``changed`` the graph, drop the nodes it left unused (``dead_code``), check the graph
    (``lint``) and regenerate ``gm``'s code (at the end of :func:`run_passes`, see :mod:`~torch_tensorrt.dynamo._codegen`)."""
    if changed:
        if dead_code:
            gm.graph.eliminate_dead_code()
        if lint:
            gm.graph.lint()
        _codegen.recompile(gm)
    return gm


def map_weights(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[fn(item) for item in items]`` for element-wise arithmetic on weights, without autograd: on as many
    Python threads as torch has intra-op threads, each op on one intra-op thread.

    Such work is bound by memory bandwidth, and torch's OpenMP threads wait for each other at the end of every op:
    on a busy 2-core machine, scaling a ResNet-50's convolution weights one op after the other took 0.7 s with 2
    intra-op threads and 0.05 s with one; independent ops on 2 Python threads take 0.03 s idle and wait for each
    other once. The intra-op thread count is process-wide: it is restored at once. Results of element-wise ops do
    not depend on it (reductions may: keep them out of ``fn``). Torch's modes are per thread: when the caller has
    one active (refit's weight tracker records how each weight is computed), everything runs on the caller's."""

    def call(item: _T) -> _R:
        with torch.no_grad():  # grad mode is per thread
            return fn(item)

    previous = torch.get_num_threads()
    workers = min(previous, len(items))
    if previous > 1:
        torch.set_num_threads(1)
    try:
        if workers <= 1 or _mode_active():
            return [call(item) for item in items]
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="torch_tensorrt_weights") as pool:
            return list(pool.map(call, items))
    finally:
        if previous > 1:
            torch.set_num_threads(previous)


def _mode_active() -> bool:
    """Whether the calling thread runs torch ops through a dispatch or function mode."""
    from torch.overrides import _get_current_function_mode
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    return _get_current_dispatch_mode() is not None or _get_current_function_mode() is not None
