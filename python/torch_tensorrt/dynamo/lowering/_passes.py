"""Graph passes run after decomposition, in order. Each is ``(gm, settings) -> gm``."""

from __future__ import annotations

from typing import Callable

import torch
import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings

Pass = Callable[[torch.fx.GraphModule, CompilationSettings], torch.fx.GraphModule]

_NOOPS = {
    torch.ops.aten.alias.default,
    torch.ops.aten.detach.default,
    torch.ops.aten.lift_fresh_copy.default,
}


def remove_noops(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    """Drop ops that return their input unchanged (alias, detach, lift_fresh_copy)."""
    changed = False
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and node.target in _NOOPS:
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
            changed = True
    if changed:
        gm.graph.lint()
        gm.recompile()
    return gm


def remove_export_guards(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    """Drop the ``_guards_fn`` call that ``ExportedProgram.module()`` adds: it cannot be pickled (so a compiled
    module could not be ``torch.save``d), and each engine validates its input shapes against its profile."""
    changed = False
    for node in list(gm.graph.nodes):
        if node.op == "call_module" and str(node.target).startswith("_guards"):
            target = str(node.target)
            gm.graph.erase_node(node)
            if hasattr(gm, target):
                delattr(gm, target)
            changed = True
    if changed:
        gm.recompile()
    return gm


def remove_dead_code(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    """Drop nodes whose results are unused (impure nodes -- asserts, guards -- stay)."""
    if gm.graph.eliminate_dead_code():
        gm.recompile()
    return gm


from torch_tensorrt.dynamo.lowering._const_fold import fold_constants  # noqa: E402
from torch_tensorrt.dynamo.lowering._fold import fold_batch_norm  # noqa: E402

#: The passes, in the order they run.
PASSES: list[Pass] = [remove_export_guards, remove_noops, fold_batch_norm, fold_constants, remove_dead_code]


def run_passes(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    for p in PASSES:
        gm = p(gm, settings)
    return gm
