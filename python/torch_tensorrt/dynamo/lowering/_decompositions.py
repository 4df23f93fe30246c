"""The decomposition table applied to exported programs.

Start from ``torch.export``'s default (core ATen) table and keep every op that has a converter: a high-level op
(``linear``, ``layer_norm``, ``scaled_dot_product_attention``, ``matmul`` ...) maps to fewer, better TensorRT
layers than its decomposition. Ops without a converter decompose, so they may still convert piecewise.

Two exceptions always decompose:

* ops whose results alias their inputs (``reshape``, ``flatten`` ...): re-tracing a preserved composite view op
  gives wrong fake strides, and their decompositions (``view``/``clone``) convert anyway;
* :data:`NEVER_PRESERVE`: ops seen to break ``run_decompositions`` when preserved (GPT-2 fails to re-trace).

Re-tracing with a preserved op can still fail on some model; :func:`lower_exported_program` then retries with
only :data:`ESSENTIAL` preserved, then with the plain default table, and logs which it used.

Fast path: ``run_decompositions`` re-traces the whole program (seconds for a ResNet). When every op of the
exported graph already has a converter and nothing mutates -- except in-place ops on intermediate tensors, which
the ``functionalize_inplace`` pass replaces by their out-of-place forms (ResNet's ``relu_``, ``add_``) --
decomposing could change nothing we convert, so the program is used as exported (:func:`needs_decomposition`).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import torch

from torch_tensorrt.dynamo._graph import ASSERT_OPS
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes.functionalize_inplace import plan as functionalize_plan

logger = logging.getLogger(__name__)
aten = torch.ops.aten

NEVER_PRESERVE = {
    aten._unsafe_view.default,
    aten.type_as.default,
    aten.celu.default,
    aten.std.default,
    aten.fix.default,
}

#: High-value ops kept whenever re-tracing allows.
ESSENTIAL = {
    aten.linear.default,
    aten.matmul.default,
    aten.layer_norm.default,
    aten.scaled_dot_product_attention.default,
}


def _returns_alias(op: torch._ops.OpOverload) -> bool:
    return any(r.alias_info is not None for r in op._schema.returns)


def decomposition_table(settings: CompilationSettings, preserve: Optional[set[Any]] = None) -> Any:
    """The default table minus the ops to preserve (default: every safe op with a converter)."""
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    table = torch.export.default_decompositions()
    targets = CONVERTERS.targets() if preserve is None else preserve & CONVERTERS.targets()
    for target in targets:
        if (
            isinstance(target, torch._ops.OpOverload)
            and target in table
            and target not in NEVER_PRESERVE
            and not _returns_alias(target)
        ):
            del table[target]
    return table


def needs_decomposition(ep: torch.export.ExportedProgram) -> Optional[str]:
    """Why ``ep`` must go through ``run_decompositions`` (None when it can be converted as exported)."""
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    sig = ep.graph_signature
    if sig.buffers_to_mutate or getattr(sig, "user_inputs_to_mutate", None):
        return "the program mutates buffers or inputs"
    targets = CONVERTERS.targets()
    rewrites: Optional[dict[Any, Any]] = None  # the in-place ops the functionalize_inplace pass replaces
    for node in ep.graph.nodes:
        if node.op != "call_function" or not isinstance(node.target, torch._ops.OpOverload):
            continue
        op = node.target
        if op in ASSERT_OPS:  # never go into an engine, need no decomposition
            continue
        if op._schema.is_mutable:
            if rewrites is None:
                rewrites, reason = functionalize_plan(ep.graph)
                if reason is not None:
                    return reason
            op = rewrites[node]
        if op not in targets:
            return f"{op} has no converter (its decomposition may convert)"
    return None


def lower_exported_program(
    ep: torch.export.ExportedProgram, settings: CompilationSettings
) -> torch.export.ExportedProgram:
    """``ep`` decomposed to the ops we convert (and core ATen for the rest); ``ep`` itself when it already
    consists of converter ops only."""
    reason = needs_decomposition(ep)
    if reason is None:
        return ep
    logger.debug("decomposing the program: %s", reason)
    attempts: list[tuple[str, Any]] = [
        ("all converter ops preserved", lambda: decomposition_table(settings)),
        ("essential ops preserved", lambda: decomposition_table(settings, ESSENTIAL)),
        ("default table", lambda: torch.export.default_decompositions()),
    ]
    error: Optional[Exception] = None
    for label, make in attempts:
        try:
            lowered = ep.run_decompositions(make())
        except Exception as exc:  # torch re-trace failure: try a more conservative table
            error = exc
            logger.info("decomposition with %s failed (%s); retrying", label, type(exc).__name__)
            continue
        if error is not None:
            logger.warning("lowering used the decomposition table with %s (a richer table failed: %s)", label, error)
        return lowered
    assert error is not None
    raise error
