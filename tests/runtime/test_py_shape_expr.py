"""The safe shape-expression evaluator used by the fake kernel and the simulated runtime."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt.dynamo.runtime import _shape_expr as se


@pytest.mark.parametrize(
    "expr,value",
    [
        ("s0", 6), ("2*s0", 12), ("(s0//4)", 1), ("s0 % 4", 2), ("s0 - s1 + 1", 4), ("-s0 + 10", 4),
        ("Max(1, s0 - 10)", 1), ("max(s0, s1, 7)", 7), ("Min(s0, s1)", 3), ("FloorDiv(s0, 4)", 1),
        ("Mod(s0, 4)", 2), ("CeilDiv(s0, 4)", 2), ("floor(s0/4)", 1), ("ceiling(s0/4)", 2), ("3", 3),
    ],
)
def test_evaluates(expr, value):
    assert se.evaluate(expr, {"s0": 6, "s1": 3}) == value


@pytest.mark.parametrize(
    "expr",
    ["__import__('os')", "s0.real", "s0 / 2", "s0 ** 2", "lambda: 1", "[s0]", "s0 if s0 else 1", "1.5*s0",
     "open('x')", "floor(s0)", "max()", "FloorDiv(s0)", "s0 and s1", "getattr(s0, 'x')"],
)
def test_rejects_everything_else(expr):
    with pytest.raises(se.ShapeExprError):
        se.evaluate(expr, {"s0": 6, "s1": 3})


def test_unbound_symbols():
    with pytest.raises(se.UnboundSymbol, match="'u0'"):
        se.evaluate("u0 * 2", {})
    assert se.symbols_of("Max(s0, 2*u1) + FloorDiv(s2, 2)") == {"s0", "u1", "s2"}
    fresh = iter([10, 20])
    assert se.evaluate_shape([2, "u0", "u0 + s0", "u1"], {"s0": 1}, lambda s: next(fresh)) == [2, 10, 11, 20]


def test_bind_symbols():
    values = se.bind_symbols({"s0": ["x", 0], "s1": ["y", 1]}, ["x", "y"], [(4, 3), (2, 9)])
    assert values == {"s0": 4, "s1": 9}
    with pytest.raises(se.ShapeExprError, match="unknown input binding 'z'"):
        se.bind_symbols({"s0": ["z", 0]}, ["x"], [(1,)])
    with pytest.raises(se.ShapeExprError, match="rank 1"):
        se.bind_symbols({"s0": ["x", 3]}, ["x"], [(1,)])


def test_symbolic_values():
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    env = ShapeEnv()
    s0 = env.create_unbacked_symint()
    out = se.evaluate("Max(1, 2*s0 + 1)", {"s0": s0})
    assert isinstance(out, torch.SymInt)
    assert "u0" in str(out)
