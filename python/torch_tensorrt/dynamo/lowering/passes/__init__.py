"""The graph passes run after decomposition: one module per pass, and the one ordered list :data:`PASSES`.

Each pass is ``(gm, settings) -> gm``. The order, and why:

1. :func:`remove_export_guards` -- ``ExportedProgram.module()``'s ``_guards_fn`` call goes first: it is a
   ``call_module`` node that nothing else removes, and it cannot be pickled.
2. :func:`functionalize_inplace` -- in-place ops on intermediate tensors (``relu_``) become out-of-place (the
   lowering skips re-tracing for them); before anything that matches patterns or evaluates nodes.
3. :func:`remove_runtime_checks` -- export's asserts that the engines' profiles already enforce go early: the
   size nodes that only fed them are then dead, and nothing later sees them.
4. :func:`remove_noops` -- alias/detach/lift_fresh_copy go before the folds, whose patterns they would hide (a
   ``detach`` between a convolution and its BatchNorm, or inside a constant-only subgraph).
5. :func:`fold_batch_norm` -- inference BatchNorm into the preceding convolution (needs the convolution's weight
   and bias as ``get_attr`` constants).
6. :func:`fold_constants` -- constant-only subgraphs evaluated once (off with ``fold_constants=False``). It runs
   after BatchNorm folding, so a convolution whose weight is *computed* from constants keeps its BatchNorm;
   swapping 5 and 6 would fold those too, a change of output graphs left for a deliberate change.
7. :func:`fuse_attention` -- hand-written ``softmax(q k^T * c + mask) v`` becomes ``scaled_dot_product_attention``;
   after constant folding, so masks computed from constants are already constants.
8. :func:`remove_dead_code` -- last: whatever the passes and export left unused (impure nodes stay).

Adding a pass: one module here, one entry in :data:`PASSES` at the place its inputs require.
"""

from __future__ import annotations

import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import Pass
from torch_tensorrt.dynamo.lowering.passes.fold_batch_norm import fold_batch_norm
from torch_tensorrt.dynamo.lowering.passes.fold_constants import fold_constants
from torch_tensorrt.dynamo.lowering.passes.functionalize_inplace import functionalize_inplace
from torch_tensorrt.dynamo.lowering.passes.fuse_attention import fuse_attention
from torch_tensorrt.dynamo.lowering.passes.remove_dead_code import remove_dead_code
from torch_tensorrt.dynamo.lowering.passes.remove_export_guards import remove_export_guards
from torch_tensorrt.dynamo.lowering.passes.remove_noops import remove_noops
from torch_tensorrt.dynamo.lowering.passes.remove_runtime_checks import remove_runtime_checks

#: The passes, in the order they run (see the module docstring for why).
PASSES: list[Pass] = [
    remove_export_guards,
    functionalize_inplace,
    remove_runtime_checks,
    remove_noops,
    fold_batch_norm,
    fold_constants,
    fuse_attention,
    remove_dead_code,
]


def run_passes(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    """Run :data:`PASSES` on ``gm`` in order (stage observers see the graph after each). The passes' code
    regeneration is deferred: ``gm`` is recompiled once at the end (or, inside the compiler's own
    :func:`~torch_tensorrt.dynamo._codegen.deferred` block, when the compiler needs it), and before each observer
    call when an observer is registered."""
    from torch_tensorrt.dynamo import _codegen, _stages

    with _codegen.deferred() as pending:
        for p in PASSES:
            gm = p(gm, settings)
            if _stages.has_observers():
                pending.flush()
            _stages.notify(getattr(p, "__name__", str(p)), gm)
    return gm


__all__ = [
    "PASSES",
    "Pass",
    "run_passes",
    "fold_batch_norm",
    "fold_constants",
    "functionalize_inplace",
    "fuse_attention",
    "remove_dead_code",
    "remove_export_guards",
    "remove_noops",
    "remove_runtime_checks",
]
