"""The decomposition table applied to exported programs.

Start from ``torch.export``'s default (core ATen) table and keep every op that has a converter: a high-level op
(``linear``, ``layer_norm``, ``scaled_dot_product_attention``, ``matmul`` ...) maps to fewer, better TensorRT
layers than its decomposition. Ops without a converter decompose, so they may still convert piecewise.
"""

from __future__ import annotations

from typing import Any

import torch

from torch_tensorrt.dynamo._settings import CompilationSettings


def decomposition_table(settings: CompilationSettings) -> Any:
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    table = torch.export.default_decompositions()
    for target in CONVERTERS.targets():
        if isinstance(target, torch._ops.OpOverload) and target in table:
            del table[target]
    return table


def lower_exported_program(ep: torch.export.ExportedProgram, settings: CompilationSettings) -> torch.export.ExportedProgram:
    """``ep`` decomposed to the ops we convert (and core ATen for the rest)."""
    return ep.run_decompositions(decomposition_table(settings))
