"""Drop nodes whose results are unused (impure nodes -- asserts, guards -- stay)."""

from __future__ import annotations

import torch.fx

from torch_tensorrt.dynamo import _codegen
from torch_tensorrt.dynamo._settings import CompilationSettings


def remove_dead_code(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    if gm.graph.eliminate_dead_code():
        _codegen.recompile(gm)
    return gm
