"""Drop the runtime checks ``torch.export`` inserts where they can never fail inside a compiled program.

A check left in the graph is a PyTorch node: it splits engines and turns every tensor (or size) it looks at into
an extra engine *output* -- a tiny Llama engine got 10 outputs only for metadata asserts. Removed:

* ``_assert_tensor_metadata`` -- checks a tensor's dtype/device/layout, which the graph itself determines (and
  the runtime checks each engine input's dtype against its binding);
* ``_assert_scalar(cond)`` -- when ``cond`` holds for every value of the input-dimension symbols it mentions
  within their ranges, which each engine's optimization profile enforces on its inputs (a modulus, a relation
  between two inputs, or any data-dependent symbol keeps the check);
* ``sym_constrain_range(_for_size)(s, min, max)`` -- when ``s`` is an input-dimension symbol whose range already
  lies within ``[min, max]``.

The other checks stay and run in PyTorch.
"""

from __future__ import annotations

from typing import Any, Optional

import sympy
import torch
import torch.fx
from torch.utils._sympy.value_ranges import ValueRanges, bound_sympy

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish

aten = torch.ops.aten
_RANGES = {aten.sym_constrain_range.default, aten.sym_constrain_range_for_size.default}


def _input_symbol_ranges(gm: torch.fx.GraphModule) -> dict[sympy.Symbol, ValueRanges]:
    """Range of every symbol that is (part of) a graph input's dimension: an engine profile bounds each."""
    ranges: dict[sympy.Symbol, ValueRanges] = {}
    for node in gm.graph.nodes:
        val = node.meta.get("val")
        if node.op != "placeholder" or not isinstance(val, torch.Tensor):
            continue
        for size in val.shape:
            if not isinstance(size, torch.SymInt):
                continue
            env = size.node.shape_env
            for sym in size.node.expr.free_symbols:
                ranges[sym] = (
                    env.var_to_range.get(sym, ValueRanges.unknown()) if env is not None else ValueRanges.unknown()
                )
    return ranges


def _expr(value: Any) -> Optional[sympy.Basic]:
    """The sympy expression of a literal or of a node's symbolic value (None when it has none)."""
    if isinstance(value, torch.fx.Node):
        value = value.meta.get("val")
    if isinstance(value, (bool, int)):
        return sympy.sympify(value)
    if isinstance(value, (torch.SymBool, torch.SymInt)):
        return value.node.expr
    return None


def _always_true(cond: Any, ranges: dict[sympy.Symbol, ValueRanges]) -> bool:
    expr = _expr(cond)
    if expr is None or not expr.free_symbols <= set(ranges):
        return False
    if expr in (sympy.true, sympy.false):
        return bool(expr)
    bound = bound_sympy(expr, {s: ranges[s] for s in expr.free_symbols})
    return bool(bound.lower == sympy.true and bound.upper == sympy.true)


def _range_implied(node: torch.fx.Node, ranges: dict[sympy.Symbol, ValueRanges]) -> bool:
    expr = _expr(node.args[0])
    if expr is None or not expr.free_symbols <= set(ranges):
        return False
    known = bound_sympy(expr, {s: ranges[s] for s in expr.free_symbols})
    lo: Any = node.kwargs.get("min", node.args[1] if len(node.args) > 1 else None)
    hi: Any = node.kwargs.get("max", node.args[2] if len(node.args) > 2 else None)
    if node.target is aten.sym_constrain_range_for_size.default:
        lo = 0 if lo is None else max(int(lo), 0)
    return (lo is None or known.lower >= lo) and (hi is None or known.upper <= hi)


def is_redundant_check(node: torch.fx.Node, ranges: dict[sympy.Symbol, ValueRanges]) -> bool:
    """Whether ``node`` is a runtime check that cannot fail once each engine's profile bounds its inputs."""
    if node.op != "call_function":
        return False
    if node.target is aten._assert_tensor_metadata.default:
        return True
    if node.target is aten._assert_scalar.default:
        return _always_true(node.args[0], ranges)
    if node.target in _RANGES:
        return _range_implied(node, ranges)
    return False


def remove_runtime_checks(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    ranges = _input_symbol_ranges(gm)
    checks = [n for n in gm.graph.nodes if is_redundant_check(n, ranges)]
    for node in checks:
        gm.graph.erase_node(node)
    return finish(gm, bool(checks))
