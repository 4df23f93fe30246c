"""Lowering: decomposition table and graph passes."""

from torch_tensorrt.dynamo.lowering._decompositions import decomposition_table, lower_exported_program
from torch_tensorrt.dynamo.lowering._passes import PASSES, run_passes

__all__ = ["decomposition_table", "lower_exported_program", "PASSES", "run_passes"]
