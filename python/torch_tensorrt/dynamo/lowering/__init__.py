"""Lowering: the decomposition table applied to exported programs (:mod:`._decompositions`), then the graph passes
(:mod:`.passes`, one module per pass, run in the order of :data:`PASSES`)."""

from torch_tensorrt.dynamo.lowering._decompositions import decomposition_table, lower_exported_program
from torch_tensorrt.dynamo.lowering.passes import PASSES, run_passes

__all__ = ["decomposition_table", "lower_exported_program", "PASSES", "run_passes"]
