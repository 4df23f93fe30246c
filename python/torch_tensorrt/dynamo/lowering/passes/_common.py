"""What every lowering pass shares: its type, the clean-up after it changed the graph, and how it computes with
weights."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch
import torch.fx

from torch_tensorrt.dynamo import _codegen
from torch_tensorrt.dynamo._settings import CompilationSettings

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


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Element-wise arithmetic on weights with one intra-op thread (and without autograd). Such work is bound by
    memory bandwidth, and torch's OpenMP threads wait for each other at the end of every op: on a busy 2-core
    machine, scaling a ResNet-50's convolution weights took 0.7 s with 2 threads and 0.03 s with one. The thread
    count is process-wide, so it is restored at once; results of element-wise ops do not depend on it (reductions
    may: keep them out of this block)."""
    threads = torch.get_num_threads()
    with torch.no_grad():
        if threads == 1:
            yield
            return
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
