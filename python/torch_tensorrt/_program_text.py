"""The code-like text of a serialized ExportedProgram (``models/<name>.json``), checked before torch reads it.

``torch.export.load`` turns three kinds of strings from the file into executable things:

* node targets (``"torch.ops.aten.add.Tensor"``, ``"_operator.getitem"``) are resolved with ``getattr`` chains on
  ``torch``, ``operator`` and ``math`` -- ``"torch.load"`` or ``"torch.ops.load_library"`` would become callables that
  run when the program runs;
* symbolic expressions (``SymExpr.expr_str``, ``sympy.srepr`` text) go through ``sympy.sympify``, i.e. ``eval``;
* ``guards_code`` entries are pasted into Python source that ``ExportedProgram.module()`` ``exec``\\ s.

:func:`check_model_json` accepts only what torch writes for ordinary programs: operator targets in the
``torch.ops.<namespace>.<op>[.<overload>]`` form and a few listed Python operators; expressions built from
``sympy.srepr`` names, quoted symbol names and numbers; guards over ``L[...]`` input sizes. Anything else is refused
with the JSON path of the offending string (``trust_code=True`` in ``torch_tensorrt.load`` skips the check).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

#: Python operators and math functions torch.export emits as node targets (symbolic integer arithmetic).
OPERATOR_TARGETS = (
    frozenset(
        "_operator." + n
        for n in "getitem add sub mul floordiv truediv mod neg pos pow eq ne lt le gt ge and_ or_ xor not_ abs invert "
        "lshift rshift matmul".split()
    )
    | frozenset(f"math.{n}" for n in ("ceil", "floor", "trunc", "sqrt"))
    | frozenset(
        f"torch.{n}"
        for n in ("sym_max", "sym_min", "sym_float", "sym_int", "sym_not", "sym_ite", "sym_sum", "_sym_sqrt")
    )
)
_OP_TARGET = re.compile(r"torch\.ops\.(?!__)[A-Za-z_]\w*\.(?!__)[A-Za-z_]\w*(?:\.(?!__)[A-Za-z_]\w*)?")

#: Names that ``sympy.srepr`` of torch's symbolic shapes uses (sympy classes, torch's sympy functions, assumption
#: keywords). ``sympify`` evaluates the text; with only these names, numbers and quoted symbol names it cannot
#: reach anything else.
SYMPY_NAMES = frozenset(
    """Symbol Integer Rational Float Add Mul Pow Mod Max Min Abs floor ceiling sqrt Eq Ne Lt Le Gt Ge
    StrictLessThan StrictGreaterThan LessThan GreaterThan Equality Unequality And Or Not Xor BooleanTrue BooleanFalse
    true false True False oo zoo nan Infinity NegativeInfinity One Zero NegativeOne Half Piecewise ExprCondPair
    FloorDiv ModularIndexing Where PythonMod CleanDiv CeilToInt FloorToInt CeilDiv LShift RShift PowByNatural
    FloatPow FloatTrueDiv IntTrueDiv IsNonOverlappingAndDenseIndicator TruncToFloat TruncToInt RoundToInt
    RoundDecimal ToFloat Identity integer positive negative nonnegative nonpositive real finite infinite zero
    nonzero commutative even odd prime rational evaluate""".split()
)
_SYMPY_TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)|('[A-Za-z_]\w*')|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([-+*/(),=]))")
#: An input size in guard code: L['x'].size()[0], L['x'][1].stride()[2], L['n'] ...
_GUARD_SOURCE = r"L(?:\[(?:'[A-Za-z_]\w*'|\d+)\])+(?:\.(?:size|stride)\(\)\[\d+\]|\.(?:storage_offset|numel|dim)\(\))?"
_GUARD_TOKEN = re.compile(
    r"\s*(?:(" + _GUARD_SOURCE + r")|(\d+)|(==|!=|<=|>=|//|[-+*%<>(),])|(and|or|not|Max|Min|max|min|abs)\b)"
)


def _sympy_ok(text: str) -> bool:
    i = 0
    while i < len(text):
        m = _SYMPY_TOKEN.match(text, i)
        if m is None or m.end() == i:
            return not text[i:].strip()
        if m.group(1) and m.group(1) not in SYMPY_NAMES:
            return False
        i = m.end()
    return True


def _guard_ok(text: str) -> bool:
    i = 0
    while i < len(text):
        m = _GUARD_TOKEN.match(text, i)
        if m is None or m.end() == i:
            return not text[i:].strip(" ")
        i = m.end()
    return True


def _walk(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(JSON path, key, value) of every dict entry under ``value``."""
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                yield f"{p}.{k}", k, x
                stack.append((x, f"{p}.{k}"))
        elif isinstance(v, list):
            stack.extend((x, f"{p}[{i}]") for i, x in enumerate(v))


def model_json_problem(model: Any) -> str:
    """The first string of a deserialized ``models/<name>.json`` that torch would execute ("" when none)."""
    if not isinstance(model, dict):
        return "is not a JSON object"
    for i, guard in enumerate(model.get("guards_code") or []):
        if not isinstance(guard, str) or not _guard_ok(guard):
            return f"guards_code[{i}] {guard!r} is not a guard over input sizes (torch would exec it)"
    for path, key, value in _walk(model, "$"):
        if key == "target" and isinstance(value, str):
            if value not in OPERATOR_TARGETS and not _OP_TARGET.fullmatch(value):
                return f"{path} {value!r} is not an operator (torch would resolve it to an arbitrary callable)"
        elif key == "expr_str":
            if not isinstance(value, str) or not _sympy_ok(value):
                return f"{path} {value!r} is not a symbolic shape expression (torch would eval it with sympify)"
    return ""
