"""Symbolic shapes: from ``torch.export``'s SymInts to TensorRT profile ranges and shape expressions.

Every dynamic dimension of a tensor in an exported graph is a sympy expression over the export's symbols
(``s0``, ``2*s0``, ``s0 + s1`` ...). :class:`SymbolRanges` holds each symbol's (min, opt, max); evaluating an
expression at the min, opt and max points gives a tensor's profile shapes (sizes are monotone in the symbols
for the expressions export produces: sums, products, floor divisions of non-negative terms).

Several optimization profiles (``Input(profiles=[...])``): :attr:`SymbolRanges.ranges` is the envelope the
program is traced over, and :attr:`SymbolRanges.profile_ranges` holds each profile's (min, opt, max) per symbol, so
every engine input -- also one behind a graph break, whose shape is an expression such as ``16*s0`` -- gets its
per-profile shapes by evaluating its expression in each profile (:meth:`SymbolRanges.profiles`).

How an expression is stored in engine metadata (and read back by the runtime) is one format, owned by
:mod:`torch_tensorrt.runtime._shape_expr`; :func:`shape_dims` is its writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import sympy
import torch

from torch_tensorrt._input import Input
from torch_tensorrt.runtime._shape_expr import Dim, write_shape


def dim_expr(d: Any) -> Union[int, sympy.Expr]:
    """An int, or the sympy expression of a SymInt (an int when the SymInt is really constant)."""
    if isinstance(d, torch.SymInt):
        expr = d.node.expr
        return int(expr) if expr.is_number else expr
    return int(d)


@dataclass
class SymbolRanges:
    """(min, opt, max) for each shape symbol, by symbol name."""

    ranges: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    #: one entry per optimization profile (each symbol's (min, opt, max) in it); empty: a single profile, ``ranges``
    profile_ranges: list[dict[str, tuple[int, int, int]]] = field(default_factory=list)

    def add(self, symbol: str, lo: int, opt: int, hi: int, source: str) -> None:
        known = self.ranges.get(symbol)
        if known is not None and known != (lo, opt, hi):
            # The same symbol declared twice (inputs sharing a dimension): intersect.
            lo, hi = max(lo, known[0]), min(hi, known[2])
            opt = min(max(opt, lo), hi)
            if lo > hi:
                raise ValueError(f"{source}: the ranges given for shape symbol {symbol} do not overlap")
        self.ranges[symbol] = (lo, opt, hi)

    def evaluate(
        self, expr: Union[int, sympy.Expr], which: int, ranges: Optional[dict[str, tuple[int, int, int]]] = None
    ) -> int:
        """Value of ``expr`` at the min (0), opt (1) or max (2) point (of ``ranges``, default the envelope)."""
        if isinstance(expr, int):
            return expr
        ranges = self.ranges if ranges is None else ranges
        subs = {}
        for s in expr.free_symbols:
            if s.name not in ranges:
                raise KeyError(s.name)
            subs[s] = ranges[s.name][which]
        return int(expr.xreplace(subs))

    def profile(self, shape: Sequence[Union[int, sympy.Expr]]) -> tuple[list[int], list[int], list[int]]:
        """The envelope's (min, opt, max) shapes of a tensor of symbolic ``shape``."""
        return tuple([self.evaluate(d, w) for d in shape] for w in range(3))  # type: ignore[return-value]

    def profiles(self, shape: Sequence[Union[int, sympy.Expr]]) -> list[tuple[list[int], list[int], list[int]]]:
        """(min, opt, max) shapes of ``shape`` in each optimization profile; empty with a single profile."""
        return [
            tuple([self.evaluate(d, w, r) for d in shape] for w in range(3))  # type: ignore[misc]
            for r in self.profile_ranges
        ]

    @classmethod
    def from_graph_inputs(
        cls,
        placeholders: Sequence[Any],
        inputs: Sequence[Optional[Input]],
        range_constraints: Optional[dict[Any, Any]] = None,
    ) -> "SymbolRanges":
        """Bind each symbol that appears as a whole input dimension to that dimension's Input range.

        ``placeholders`` are the user-input placeholders' fake values (in order); ``inputs`` the matching
        :class:`Input` (None where the user gave a plain tensor). Symbols left without a range take the export's
        range constraints, with the example value as opt; an unbounded symbol is an error naming the input.
        """
        out = cls()
        unbound: dict[str, tuple[str, int, int]] = {}
        for idx, (val, spec) in enumerate(zip(placeholders, inputs)):
            if not isinstance(val, torch.Tensor):
                continue
            for d, size in enumerate(val.shape):
                expr = dim_expr(size)
                if isinstance(expr, int):
                    continue
                if isinstance(expr, sympy.Symbol) and spec is not None and spec.is_dynamic:
                    out.add(expr.name, spec.min_shape[d], spec.opt_shape[d], spec.max_shape[d], f"input {idx}")
                    continue
                for s in expr.free_symbols:
                    example = spec.opt_shape[d] if spec is not None and isinstance(expr, sympy.Symbol) else None
                    hint = size.node.hint if isinstance(size, torch.SymInt) else None
                    unbound.setdefault(s.name, (f"input {idx} dimension {d}", example or hint or 1, idx))
        for name, (where, example, _) in unbound.items():
            if name in out.ranges:
                continue
            lo, hi = _constraint_range(range_constraints, name)
            if hi is None:
                raise ValueError(
                    f"{where} is dynamic (symbol {name}) with no upper bound; pass torch_tensorrt.Input("
                    "min_shape=..., opt_shape=..., max_shape=...) for it, or export with a bounded torch.export.Dim"
                )
            out.add(name, lo, min(max(int(example), lo), hi), hi, where)
        out.profile_ranges = _profile_ranges(placeholders, inputs, out.ranges)
        return out


def _profile_ranges(
    placeholders: Sequence[Any], inputs: Sequence[Optional[Input]], envelope: dict[str, tuple[int, int, int]]
) -> list[dict[str, tuple[int, int, int]]]:
    """Each profile's symbol ranges: symbols of inputs with ``profiles`` take that profile's range, those of other
    dynamic Inputs their one range, and symbols no Input binds the envelope's."""
    counts = {idx: spec.num_profiles for idx, spec in enumerate(inputs) if spec is not None and spec.profiles}
    if not counts:
        return []
    if len(set(counts.values())) != 1:
        listed = ", ".join(f"input {i}: {n}" for i, n in counts.items())
        raise ValueError(f"every Input with `profiles` must declare the same number of profiles ({listed})")
    out: list[dict[str, tuple[int, int, int]]] = []
    for p in range(next(iter(counts.values()))):
        one = SymbolRanges()
        for idx, (val, spec) in enumerate(zip(placeholders, inputs)):
            if not isinstance(val, torch.Tensor) or spec is None or not spec.is_dynamic:
                continue
            mn, op, mx = spec.profile(p)
            for d, size in enumerate(val.shape):
                expr = dim_expr(size)
                if isinstance(expr, sympy.Symbol):
                    try:
                        one.add(expr.name, mn[d], op[d], mx[d], f"input {idx}")
                    except ValueError as exc:
                        raise ValueError(f"optimization profile {p}: {exc}") from None
        out.append({**envelope, **one.ranges})
    return out


def _constraint_range(range_constraints: Optional[dict[Any, Any]], name: str) -> tuple[int, Optional[int]]:
    if range_constraints:
        for sym, vr in range_constraints.items():
            if getattr(sym, "name", str(sym)) == name:
                lo = int(vr.lower) if vr.lower.is_finite else 0
                hi = int(vr.upper) if vr.upper.is_finite else None
                return max(lo, 0), hi
    return 0, None


def shape_dims(shape: Sequence[Union[int, sympy.Expr]]) -> list[Dim]:
    """Shape as stored in engine metadata: ints, and expressions in the runtime's expression format."""
    return write_shape(shape)
