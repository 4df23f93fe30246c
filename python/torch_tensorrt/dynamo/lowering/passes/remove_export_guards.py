"""Drop the ``_guards_fn`` call that ``ExportedProgram.module()`` adds.

It cannot be pickled (so a compiled module could not be ``torch.save``d), and each engine validates its input
shapes against its optimization profile anyway. Dead-code elimination keeps it (a ``call_module`` node counts as
impure), so only this pass removes it.
"""

from __future__ import annotations

import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish


def remove_export_guards(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    changed = False
    for node in list(gm.graph.nodes):
        if node.op == "call_module" and str(node.target).startswith("_guards"):
            target = str(node.target)
            gm.graph.erase_node(node)
            if hasattr(gm, target):
                delattr(gm, target)
            changed = True
    return finish(gm, changed, dead_code=False, lint=False)
