"""Drop ops that return their input unchanged (:data:`~torch_tensorrt.dynamo._graph.NOOP_OPS`: alias, detach,
lift_fresh_copy): they would cost an identity layer each and hide patterns from the folding passes."""

from __future__ import annotations

import torch.fx

from torch_tensorrt.dynamo._graph import NOOP_OPS
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish


def remove_noops(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    changed = False
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and node.target in NOOP_OPS:
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
            changed = True
    return finish(gm, changed, dead_code=False)
