"""The safe shape-expression evaluator used by the fake kernel and the simulated runtime."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt.runtime import _shape_expr as se


@pytest.mark.parametrize(
    "expr,value",
    [
        ("s0", 6),
        ("2*s0", 12),
        ("(s0//4)", 1),
        ("s0 % 4", 2),
        ("s0 - s1 + 1", 4),
        ("-s0 + 10", 4),
        ("Max(1, s0 - 10)", 1),
        ("max(s0, s1, 7)", 7),
        ("Min(s0, s1)", 3),
        ("FloorDiv(s0, 4)", 1),
        ("Mod(s0, 4)", 2),
        ("CeilDiv(s0, 4)", 2),
        ("floor(s0/4)", 1),
        ("ceiling(s0/4)", 2),
        ("3", 3),
    ],
)
def test_evaluates(expr, value):
    assert se.evaluate(expr, {"s0": 6, "s1": 3}) == value


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os')",
        "s0.real",
        "s0 / 2",
        "s0 ** 2",
        "lambda: 1",
        "[s0]",
        "s0 if s0 else 1",
        "1.5*s0",
        "open('x')",
        "floor(s0)",
        "max()",
        "FloorDiv(s0)",
        "s0 and s1",
        "getattr(s0, 'x')",
    ],
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


@pytest.mark.parametrize(
    "expr,form",
    [
        ("s0", (1, 0)),
        ("2*s0", (2, 0)),
        ("s0 + 1", (1, 1)),
        ("2*s0 + 3", (2, 3)),
        ("-s0 + 10", (-1, 10)),
        ("3*(s0 - 1)", (3, -3)),
        ("s1*s0 + s1", (3, 3)),  # s1 bound to 3
        ("2*(2*s0 + 3)", (4, 6)),
        ("s0 + FloorDiv(s1, 2)", (1, 1)),  # a non-linear part free of s0 is a constant
    ],
)
def test_linear_form(expr, form):
    assert se.linear_form(expr, "s0", {"s1": 3}) == form


@pytest.mark.parametrize("expr", ["(s0//2)", "Max(1, s0)", "s0*s0", "s0 % 4", "s0 - s0", "s0*u0", "3", "s0 ** 2"])
def test_linear_form_is_none_for_anything_else(expr):
    assert se.linear_form(expr, "s0", {"s1": 3}) is None


def test_bind_symbols_solves_derived_sizes():
    """An engine whose inputs only carry derived sizes (after a graph break) still binds its symbols."""
    exprs = [[1, "2*s0 + 3", 8], ["s0*s1 + s1"]]
    values = se.bind_symbols({}, ["x", "y"], [(1, 13, 8), (24,)], exprs)
    assert values == {"s0": 5, "s1": 4}  # s1 solved from y only once s0 is known
    # a plain source wins; solving only fills what it leaves unbound
    assert se.bind_symbols({"s0": ["y", 0]}, ["x", "y"], [(6,), (2,)], [["2*s0"], ["s0"]]) == {"s0": 2}
    # non-linear sizes solve nothing; the symbol stays unbound (reported as data-dependent by the runtimes)
    assert se.bind_symbols({}, ["x"], [(3,)], [["(s0//2)"]]) == {}
    # unknown sizes (-1: not set yet) are skipped
    assert se.bind_symbols({}, ["x"], [(-1,)], [["2*s0"]]) == {}
    with pytest.raises(se.ShapeExprError, match=r"input 'x' dimension 1 is 7, which '2\*s0' gives for no integer s0"):
        se.bind_symbols({}, ["x"], [(1, 7)], [[1, "2*s0"]])


def test_bind_symbols_solves_symbolic_sizes():
    """In a fake kernel the sizes are SymInts: solving ``2*s0`` for a size ``2*t`` gives ``t`` exactly."""
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    env = ShapeEnv()
    t = env.create_unbacked_symint()
    (value,) = se.bind_symbols({}, ["x"], [(2 * t + 4,)], [["2*s0 + 4"]]).values()
    assert str(value) == str(t)


def test_symbolic_values():
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    env = ShapeEnv()
    s0 = env.create_unbacked_symint()
    out = se.evaluate("Max(1, 2*s0 + 1)", {"s0": s0})
    assert isinstance(out, torch.SymInt)
    assert "u0" in str(out)


def _export_expressions():
    """Size expressions of the kinds torch.export produces (torch's own sympy functions)."""
    import sympy
    from torch.utils._sympy import functions as F

    s0, s1 = sympy.symbols("s0 s1", integer=True, positive=True)
    return [
        s0,
        2 * s0 + 1,
        s0 * s1,
        s0 - s1 + 7,
        F.FloorDiv(s0, 2),
        F.FloorDiv(s0 - 1, 2) + 1,
        F.Mod(s0, 3),
        F.PythonMod(s0, 4),
        F.CeilDiv(s0, 3),
        F.ModularIndexing(s0, 2, 3),
        F.Max(s0, s1),
        F.Min(s0, 2 * s1),
        F.CeilToInt(F.IntTrueDiv(s0, 2)),
        F.FloorToInt(F.IntTrueDiv(s0, 3)),
        F.FloorDiv(s0 * s1, 4) * 2,
    ]


@pytest.mark.parametrize("index", range(15))
def test_writer_output_is_read_back_to_the_same_value(index):
    """One format: what the compiler writes (write_dim) the runtime parses and evaluates to sympy's value."""
    expr = _export_expressions()[index]
    text = se.write_dim(expr)
    assert isinstance(text, str) and se.is_valid(text), text
    for s0, s1 in [(1, 1), (5, 3), (16, 7), (33, 2)]:
        want = int(expr.xreplace({sym: {"s0": s0, "s1": s1}[sym.name] for sym in expr.free_symbols}))
        assert se.evaluate(text, {"s0": s0, "s1": s1}) == want, (text, s0, s1)


def test_writer_keeps_ints_and_warns_on_text_outside_the_format(caplog):
    import sympy

    assert se.write_shape([3, sympy.Integer(4), "s0"]) == [3, 4, "s0"]
    with pytest.raises(se.ShapeExprError):
        se.write_dim(True)
    with caplog.at_level("WARNING", logger=se.__name__):
        text = se.write_dim(sympy.sqrt(sympy.Symbol("s0", positive=True)))
    assert text == "sqrt(s0)" and not se.is_valid(text)
    assert "'sqrt(s0)' is outside the metadata's expression format" in caplog.text
