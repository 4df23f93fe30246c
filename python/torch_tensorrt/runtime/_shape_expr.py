"""The shape-expression format of engine metadata: written by the compiler, read by the runtime, in one place.

Shapes in :class:`~torch_tensorrt.runtime._metadata.TensorSpec` hold ints and, for dynamic dimensions,
expression strings over shape symbols (``"s0"``, ``"2*s0"``, ``"(s0//2)"``, ``"Max(1, s0)"``): the text sympy
prints for ``torch.export``'s size expressions. :func:`write_dim` / :func:`write_shape` produce it (the
compiler's side); :func:`parse` and :func:`evaluate` read it (the fake kernel and any Python runtime).

Reading never uses ``eval()``: the string is parsed with :mod:`ast` and only these forms are accepted:

* integer literals and symbol names;
* ``+``, ``-``, ``*``, ``//``, ``%`` and unary ``-`` / ``+``;
* ``max``/``min`` (also spelled ``Max``/``Min``, any number of arguments), ``FloorDiv(a, b)``, ``Mod(a, b)``,
  ``CeilDiv(a, b)``, and ``floor(a / b)`` / ``ceiling(a / b)`` (the only place a true division may appear).

This is the grammar the record check shares with the C++ runtime (``_record_check.shape_expr_problem``); the
writer rewrites torch's other spellings into it (``PythonMod``, ``ModularIndexing``, ``FloorToInt``/``CeilToInt``
of ``IntTrueDiv``).

Symbols are bound from the inputs (:func:`bind_symbols`): from the metadata's ``symbols`` (an input dimension that
is the plain symbol), else solved from an input dimension whose expression is linear in it (:func:`linear_form`):
after a graph break an engine's inputs may carry only ``2*s0`` or ``s0 + 1``. The compiler solves the same way
when it rebuilds a size in the network.

Symbol values may be ints or ``torch.SymInt`` (the fake kernel evaluates with the inputs' symbolic sizes), so
arithmetic goes through Python operators and ``torch.sym_max``/``torch.sym_min``.
"""

from __future__ import annotations

import ast
import functools
import logging
from typing import Any, Callable, Mapping, Optional, Sequence, Union, cast

import torch

from torch_tensorrt.runtime._record_check import shape_expr_problem

logger = logging.getLogger(__name__)

IntLike = Union[int, "torch.SymInt"]
#: One stored dimension: an int, or an expression string in this module's format.
Dim = Union[int, str]


class ShapeExprError(ValueError):
    """An expression that is malformed, uses a forbidden construct, or names an unbound symbol."""


class UnboundSymbol(ShapeExprError):
    """The expression names a symbol with no value (e.g. a data-dependent size)."""

    def __init__(self, symbol: str, expr: str) -> None:
        self.symbol = symbol
        super().__init__(f"shape expression {expr!r}: symbol {symbol!r} has no value")


def _sym_max(*args: IntLike) -> IntLike:
    return functools.reduce(lambda a, b: torch.sym_max(a, b), args)


def _sym_min(*args: IntLike) -> IntLike:
    return functools.reduce(lambda a, b: torch.sym_min(a, b), args)


def _ceil_div(a: IntLike, b: IntLike) -> IntLike:
    return -((-a) // b)


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "max": _sym_max,
    "Max": _sym_max,
    "min": _sym_min,
    "Min": _sym_min,
    "FloorDiv": lambda a, b: a // b,
    "Mod": lambda a, b: a % b,
    "CeilDiv": _ceil_div,
}
#: Number of arguments of the fixed-arity functions (max/min take any number >= 1).
_ARITY = {"FloorDiv": 2, "Mod": 2, "CeilDiv": 2}
_DIV_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "floor": lambda a, b: a // b,
    "ceiling": _ceil_div,
    "ceil": _ceil_div,
}


@functools.lru_cache(maxsize=1024)
def parse(expr: str) -> ast.expr:
    """Parse and validate ``expr`` (cached). Raises :class:`ShapeExprError` for anything not allowed."""
    problem = shape_expr_problem(expr)  # the grammar shared with the C++ runtime's record checks
    if problem:
        raise ShapeExprError(problem)
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ShapeExprError(f"shape expression {expr!r} is not valid syntax: {exc.msg}") from exc
    _validate(tree.body, expr)
    return tree.body


def _validate(node: ast.AST, expr: str) -> None:
    if isinstance(node, ast.Constant):
        if type(node.value) is not int:
            raise ShapeExprError(f"shape expression {expr!r}: only integer literals are allowed, got {node.value!r}")
    elif isinstance(node, ast.Name):
        pass
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _validate(node.operand, expr)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _validate(node.left, expr)
        _validate(node.right, expr)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name in _FUNCS:
            if not node.args or (name in _ARITY and len(node.args) != _ARITY[name]):
                raise ShapeExprError(f"shape expression {expr!r}: wrong number of arguments to {name}")
            for arg in node.args:
                _validate(arg, expr)
        elif name in _DIV_FUNCS:
            pair = _division(node.args[0]) if len(node.args) == 1 else None
            if pair is None:
                raise ShapeExprError(f"shape expression {expr!r}: {name}() must wrap one division a/b")
            _validate(pair[0], expr)
            _validate(pair[1], expr)
        else:
            raise ShapeExprError(f"shape expression {expr!r}: function {name!r} is not allowed")
    else:
        raise ShapeExprError(f"shape expression {expr!r}: construct {type(node).__name__} is not allowed")


def _division(node: ast.expr) -> Optional[tuple[ast.expr, ast.expr]]:
    """``(a, b)`` when ``node`` is the true division ``a / b`` or ``IntTrueDiv(a, b)``, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return node.left, node.right
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "IntTrueDiv"
        and len(node.args) == 2
        and not node.keywords
    ):
        return node.args[0], node.args[1]
    return None


def is_valid(expr: str) -> bool:
    """Whether ``expr`` is in the format (:func:`parse` accepts it)."""
    try:
        parse(expr)
    except ShapeExprError:
        return False
    return True


# ------------------------------------------------------------------------------------------------- writer
def write_dim(d: Any) -> Dim:
    """One dimension as stored in metadata: an int stays an int; a size expression (a sympy expression from
    ``torch.export``) becomes its text. Text outside the format is kept, with a warning: the engine still runs,
    but tracing the compiled module (``torch.export``, saving as an ExportedProgram) cannot compute that size."""
    if isinstance(d, bool):
        raise ShapeExprError(f"shape dimension must be an int or a size expression, got {d!r}")
    if isinstance(d, int):
        return int(d)
    if getattr(d, "is_number", False) and getattr(d, "is_integer", False):
        return int(d)
    text = _canonical(str(d))
    if not is_valid(text):
        logger.warning(
            "shape expression %r is outside the metadata's expression format; tracing the compiled module "
            "(torch.export, saving as an ExportedProgram) cannot compute this size",
            text,
        )
    return text


class _Canonical(ast.NodeTransformer):
    """Rewrites torch's spellings into the core grammar the C++ record check shares (``record_check``):
    ``PythonMod`` -> ``Mod``, ``ModularIndexing(x, d, m)`` -> ``Mod(FloorDiv(x, d), m)``,
    ``FloorToInt(IntTrueDiv(a, b))`` -> ``FloorDiv(a, b)``, ``CeilToInt(IntTrueDiv(a, b))`` -> ``CeilDiv(a, b)``."""

    @staticmethod
    def _call(name: str, *args: ast.expr) -> ast.Call:
        return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name == "PythonMod" and len(node.args) == 2:
            return self._call("Mod", *node.args)
        if name == "ModularIndexing" and len(node.args) == 3:
            x, d, m = node.args
            return self._call("Mod", self._call("FloorDiv", x, d), m)
        if name in ("FloorToInt", "CeilToInt") and len(node.args) == 1:
            division = _division(node.args[0])
            if division is not None:
                return self._call("FloorDiv" if name == "FloorToInt" else "CeilDiv", *division)
        return node


def _canonical(text: str) -> str:
    """``text`` in the core grammar where it uses one of torch's other spellings (unchanged otherwise)."""
    if not any(f in text for f in ("PythonMod", "ModularIndexing", "FloorToInt", "CeilToInt")):
        return text
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return text
    return ast.unparse(_Canonical().visit(tree))


def write_shape(shape: Sequence[Any]) -> list[Dim]:
    """A shape as stored in metadata (:func:`write_dim` per dimension)."""
    return [write_dim(d) for d in shape]


# ------------------------------------------------------------------------------------------------- reader
def symbols_of(expr: str) -> set[str]:
    """The symbol names used in ``expr`` (function names excluded)."""
    node = parse(expr)
    funcs = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in funcs}


def evaluate(expr: Union[str, int], values: Mapping[str, IntLike]) -> IntLike:
    """Value of ``expr`` with ``values`` bound to its symbols. Ints pass through unchanged."""
    if isinstance(expr, int):
        return expr
    if not isinstance(expr, str):
        raise ShapeExprError(f"shape dimension must be an int or an expression string, got {expr!r}")
    try:
        return _eval(parse(expr), values, expr)
    except ZeroDivisionError:
        raise ShapeExprError(f"shape expression {expr!r}: division by zero with {dict(values)}") from None


def _eval(node: ast.expr, values: Mapping[str, IntLike], expr: str) -> IntLike:
    if isinstance(node, ast.Constant):
        return cast(IntLike, node.value)  # the grammar admits integer constants only
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise UnboundSymbol(node.id, expr)
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values, expr)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, values, expr), _eval(node.right, values, expr))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    name = node.func.id
    if name in _DIV_FUNCS:
        pair = _division(node.args[0])
        assert pair is not None
        return _DIV_FUNCS[name](_eval(pair[0], values, expr), _eval(pair[1], values, expr))
    return _FUNCS[name](*(_eval(a, values, expr) for a in node.args))


def bind_symbols(
    symbols: Mapping[str, Sequence[Any]],
    input_names: Sequence[str],
    input_shapes: Sequence[Sequence[IntLike]],
    input_exprs: Optional[Sequence[Sequence[Dim]]] = None,
) -> dict[str, IntLike]:
    """Values of the shape symbols read off the inputs: ``symbols[s] = [input binding, dim]`` (a dimension that is
    the plain symbol). With ``input_exprs`` (each input's stored shape), a symbol no such entry defines is then
    solved from an input dimension whose expression is linear in it (see :func:`solve_symbols`): an engine after a
    graph break may only see derived sizes such as ``2*s0`` or ``s0 + 1``."""
    index = {n: i for i, n in enumerate(input_names)}
    out: dict[str, IntLike] = {}
    for sym, (binding, dim) in symbols.items():
        if binding not in index:
            raise ShapeExprError(f"symbol {sym!r} refers to unknown input binding {binding!r}")
        shape = input_shapes[index[binding]]
        if not 0 <= int(dim) < len(shape):
            raise ShapeExprError(
                f"symbol {sym!r} refers to dim {dim} of input {binding!r}, which has rank {len(shape)}"
            )
        out[sym] = shape[int(dim)]
    if input_exprs is not None:
        solve_symbols(out, input_names, input_shapes, input_exprs)
    return out


def solve_symbols(
    values: dict[str, IntLike],
    input_names: Sequence[str],
    input_shapes: Sequence[Sequence[IntLike]],
    input_exprs: Sequence[Sequence[Dim]],
) -> None:
    """Bind (in ``values``) each symbol that is unbound but appears in an input dimension's expression which, with
    the symbols already bound, reads ``a*s + b`` (``a`` a nonzero int): ``s = (size - b) / a``. Repeats until
    nothing more binds, so one solved symbol can open another expression. Non-linear expressions (``s0//2``,
    ``Max(1, s0)``) solve nothing; their symbols stay unbound. A size that no integer ``s`` gives is an error."""
    progress = True
    while progress:
        progress = False
        for name, shape, exprs in zip(input_names, input_shapes, input_exprs):
            for d, (expr, size) in enumerate(zip(exprs, shape)):
                if not isinstance(expr, str) or not is_valid(expr):  # text outside the format: not solvable
                    continue
                free = symbols_of(expr) - values.keys()
                if len(free) != 1 or (isinstance(size, int) and size < 0):  # -1: a size not known yet
                    continue
                (sym,) = free
                form = linear_form(expr, sym, values)
                if form is None:
                    continue
                a, b = form
                rest = size - b
                if isinstance(rest, int) and rest % a:
                    raise ShapeExprError(
                        f"input {name!r} dimension {d} is {size}, which {expr!r} gives for no integer {sym}"
                    )
                values[sym] = rest // a
                progress = True


def linear_form(expr: str, sym: str, values: Optional[Mapping[str, IntLike]] = None) -> Optional[tuple[int, IntLike]]:
    """``(a, b)`` with ``expr == a*sym + b`` for every value of ``sym`` (``a`` a nonzero int; ``b`` computed with
    ``values`` for the other symbols), or None when ``expr`` is not of that form: how a symbol is solved from a
    derived size, here at run time (:func:`solve_symbols`) and by the compiler for sizes it must rebuild in the
    network."""
    if not is_valid(expr):
        return None
    form = _linear(parse(expr), sym, values or {})
    return None if form is None or form[0] == 0 else form


def _linear(node: ast.expr, sym: str, values: Mapping[str, IntLike]) -> Optional[tuple[int, IntLike]]:
    """``(a, b)`` with ``node == a*sym + b`` under ``values`` (``a`` an int), or None when it is not of that form."""
    if isinstance(node, ast.Name) and node.id == sym:
        return 1, 0
    if isinstance(node, ast.UnaryOp):
        inner = _linear(node.operand, sym, values)
        if inner is None or isinstance(node.op, ast.UAdd):
            return inner
        return -inner[0], -inner[1]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        left, right = _linear(node.left, sym, values), _linear(node.right, sym, values)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left[0] + right[0], left[1] + right[1]
        if isinstance(node.op, ast.Sub):
            return left[0] - right[0], left[1] - right[1]
        if not left[0] and not right[0]:
            return 0, left[1] * right[1]
        if left[0] and right[0]:
            return None  # sym * sym
        factor, term = (left[1], right) if not left[0] else (right[1], left)
        if term[0] and not isinstance(factor, int):
            return None  # a coefficient that is itself symbolic (a torch.SymInt while tracing)
        return cast(int, factor) * term[0], factor * term[1]
    try:  # any other construct: linear only as a constant (free of sym, every other symbol bound)
        return 0, _eval(node, values, ast.unparse(node))
    except (UnboundSymbol, ZeroDivisionError):
        return None


def evaluate_shape(
    shape: Sequence[Union[int, str]],
    values: Mapping[str, IntLike],
    unbound: Optional[Callable[[str], IntLike]] = None,
) -> list[IntLike]:
    """Evaluate every dimension of ``shape``. ``unbound(symbol)`` supplies values for symbols missing from
    ``values`` (e.g. fresh unbacked sizes in a fake kernel); without it an unbound symbol raises."""
    if unbound is None:
        return [evaluate(d, values) for d in shape]
    scope = dict(values)
    for d in shape:
        if isinstance(d, str):
            for s in sorted(symbols_of(d)):
                if s not in scope:
                    scope[s] = unbound(s)
    return [evaluate(d, scope) for d in shape]
