"""What every lowering pass shares: its type and the clean-up after it changed the graph."""

from __future__ import annotations

from typing import Callable

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
