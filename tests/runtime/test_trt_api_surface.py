"""The simulator speaks the real API: every method and attribute the Python runtime uses on TensorRT's runtime
objects exists on the real ``tensorrt_rtx`` binding classes with a compatible signature, and the simulated
(``testing/_sim_runtime.py``) and names-only (``testing/_names_only_trt.py``) stand-ins offer the same names
with the same signatures -- so code that runs under ``simulate()`` calls what a real TensorRT offers.

What the runtime uses is read from its source with ``ast`` (the modules of ``runtime/`` or ``dynamo/runtime/``
that deserialize engines): which variables hold a Runtime, an ICudaEngine or an IExecutionContext is followed
through assignments (``engine = runtime.deserialize_cuda_engine(...)``, ``self.context = context``, ...), and every
attribute read or call on them is collected with its arguments. The real signatures come from the bindings'
docstrings (pybind11 writes ``name(self: T, arg: T, ...) -> R``, one line per overload).
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import torch_tensorrt
from torch_tensorrt import _trt
from torch_tensorrt.testing import _names_only_trt, _sim_runtime

PACKAGE = Path(torch_tensorrt.__file__).parent
#: Where the Python runtime lives (before and after the move of dynamo/runtime/* into runtime/).
RUNTIME_DIRS = (PACKAGE / "runtime", PACKAGE / "dynamo" / "runtime")
#: Calls whose result is of a known kind, and the kinds.
PRODUCERS = {
    "Runtime": "Runtime",
    "make_runtime": "Runtime",  # an engine kind's runtime factory (runtime/_kinds.py)
    "deserialize_cuda_engine": "ICudaEngine",
    "create_execution_context": "IExecutionContext",
}
#: Parameters of these names hold objects of these kinds.
PARAMETERS = {"runtime": "Runtime", "engine": "ICudaEngine", "context": "IExecutionContext"}
SIMULATED = {
    "Runtime": _sim_runtime.Runtime,
    "ICudaEngine": _sim_runtime.Engine,
    "IExecutionContext": _sim_runtime.ExecutionContext,
}


@dataclass(frozen=True)
class Use:
    """One use of an attribute of a runtime object: a call (with its argument count and keywords) or a read."""

    kind: str
    attr: str
    called: bool
    positional: int = 0
    keywords: tuple[str, ...] = ()
    where: str = ""


def runtime_sources() -> list[Path]:
    files = [p for d in RUNTIME_DIRS if d.is_dir() for p in sorted(d.glob("*.py"))]
    return [
        p for p in files if "deserialize_cuda_engine(" in p.read_text() or "create_execution_context(" in p.read_text()
    ]


def _expr(node: ast.AST) -> str:
    return ast.unparse(node)


def _kinds(tree: ast.AST) -> dict[str, str]:
    """Expression text (``engine``, ``self.context``, ...) -> kind, from assignments, to a fixpoint."""
    kinds: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in node.args.args:
                if arg.arg in PARAMETERS:
                    kinds[arg.arg] = PARAMETERS[arg.arg]
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign):
                continue
            pairs: list[tuple[ast.AST, ast.AST]] = []
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs += list(zip(target.elts, node.value.elts))
                else:
                    pairs.append((target, node.value))
            for target, value in pairs:
                kind = None
                if isinstance(value, ast.Call):
                    func = value.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    kind = PRODUCERS.get(name)
                elif _expr(value) in kinds:
                    kind = kinds[_expr(value)]
                if kind and kinds.get(_expr(target)) != kind:
                    kinds[_expr(target)] = kind
                    changed = True
    return kinds


def runtime_uses() -> list[Use]:
    uses = []
    for path in runtime_sources():
        tree = ast.parse(path.read_text())
        kinds = _kinds(tree)
        calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or _expr(node.value) not in kinds:
                continue
            kind = kinds[_expr(node.value)]
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            call = calls.get(id(node))
            if call is None:
                uses.append(Use(kind, node.attr, False, where=where))
            else:
                keywords = tuple(k.arg for k in call.keywords if k.arg)
                uses.append(Use(kind, node.attr, True, len(call.args), keywords, where))
    return uses


@dataclass(frozen=True)
class Signature:
    """Parameter names (without self) of one overload, and how many of them are required."""

    names: tuple[str, ...]
    required: int

    def accepts(self, positional: int, keywords: tuple[str, ...]) -> bool:
        if positional > len(self.names) or any(k not in self.names[positional:] for k in keywords):
            return False
        given = set(self.names[:positional]) | set(keywords)
        return all(n in given for n in self.names[: self.required])


def _split_params(text: str) -> list[str]:
    params, depth, current = [], 0, ""
    for ch in text:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == "," and depth == 0:
            params.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        params.append(current.strip())
    return params


def binding_signatures(cls: type, name: str) -> list[Signature]:
    """The overloads of a pybind11 method, from its docstring (``name(self: T, a: T = d, ...) -> R``)."""
    doc = getattr(cls, name).__doc__ or ""
    found = []
    for match in re.finditer(rf"(?:^|\n)(?:\d+\. )?{re.escape(name)}\(", doc):
        start, depth, i = match.end(), 1, match.end()
        while depth and i < len(doc):
            depth += {"(": 1, ")": -1}.get(doc[i], 0)
            i += 1
        params = [p for p in _split_params(doc[start : i - 1]) if not p.startswith("self")]
        if params in (["*args", "**kwargs"],):
            continue
        names = tuple(p.split(":")[0].split("=")[0].strip() for p in params)
        required = sum(1 for p in params if "=" not in p)
        found.append(Signature(names, required))
    return found


def python_signature(fn: Any) -> Optional[inspect.Signature]:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def python_accepts(fn: Any, positional: int, keywords: tuple[str, ...]) -> bool:
    sig = python_signature(fn)
    assert sig is not None
    try:
        sig.bind(*([None] * positional), **{k: None for k in keywords})
    except TypeError:
        return False
    return True


def real_class(kind: str) -> type:
    return getattr(_trt.load(), kind)


@pytest.fixture(scope="module")
def uses() -> list[Use]:
    found = runtime_uses()
    kinds = {u.kind for u in found}
    assert kinds == {"Runtime", "ICudaEngine", "IExecutionContext"}, f"the runtime source analysis found {kinds}"
    return found


def test_the_analysis_sees_the_runtime_calls(uses: list[Use]) -> None:
    """A guard on the analysis itself: the calls every TensorRT runtime must make are found."""
    names = {(u.kind, u.attr) for u in uses}
    for expected in [
        ("Runtime", "deserialize_cuda_engine"),
        ("ICudaEngine", "create_execution_context"),
        ("IExecutionContext", "set_input_shape"),
        ("IExecutionContext", "set_tensor_address"),
        ("IExecutionContext", "execute_async_v3"),
        ("ICudaEngine", "get_tensor_dtype"),
    ]:
        assert expected in names, f"{expected} not found in the runtime source; uses: {sorted(names)}"


def test_runtime_uses_exist_on_the_real_classes_with_compatible_signatures(uses: list[Use]) -> None:
    problems = []
    for use in uses:
        cls = real_class(use.kind)
        attr = getattr(cls, use.attr, None)
        if attr is None:
            problems.append(f"{use.where}: {use.kind}.{use.attr} does not exist in {_trt.info().module_name}")
        elif isinstance(attr, property):
            if use.called:
                problems.append(f"{use.where}: {use.kind}.{use.attr} is a property, but the runtime calls it")
        elif use.called:
            sigs = binding_signatures(cls, use.attr)
            if not sigs:
                problems.append(f"{use.where}: no signature found for {use.kind}.{use.attr}")
            elif not any(s.accepts(use.positional, use.keywords) for s in sigs):
                problems.append(
                    f"{use.where}: {use.kind}.{use.attr} called with {use.positional} positional args "
                    f"and keywords {use.keywords}; the binding takes {[s.names for s in sigs]}"
                )
        else:
            problems.append(f"{use.where}: {use.kind}.{use.attr} is a method, read without a call")
    assert not problems, "\n".join(problems)


def test_simulated_runtime_offers_every_use_with_the_real_signature(uses: list[Use]) -> None:
    problems = []
    for use in uses:
        sim = SIMULATED[use.kind]
        attr = inspect.getattr_static(sim, use.attr, None)
        if attr is None:
            problems.append(f"{use.where}: the simulated {sim.__name__} lacks {use.attr}")
            continue
        real = getattr(real_class(use.kind), use.attr)
        if isinstance(real, property) != isinstance(attr, property):
            problems.append(
                f"{use.where}: {use.attr} is {'a property' if isinstance(real, property) else 'a method'} "
                f"on the real {use.kind}, not on the simulated {sim.__name__}"
            )
            continue
        # the function as defined on the class takes self first
        if use.called and not python_accepts(attr, use.positional + 1, use.keywords):
            problems.append(f"{use.where}: simulated {sim.__name__}.{use.attr} does not accept the runtime's call")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", sorted(SIMULATED))
def test_simulated_classes_invent_no_api(kind: str) -> None:
    """Every public method of a simulated class is a real method with the same parameter names (so a call
    written against the simulation works on TensorRT, keywords included)."""
    sim, real = SIMULATED[kind], real_class(kind)
    problems = []
    for name, attr in vars(sim).items():
        if name.startswith("_") or not (callable(attr) or isinstance(attr, property)):
            continue
        real_attr = getattr(real, name, None)
        if real_attr is None:
            problems.append(f"{sim.__name__}.{name} is not on {real.__name__}")
            continue
        if isinstance(attr, property) or isinstance(real_attr, property):
            if isinstance(attr, property) != isinstance(real_attr, property):
                problems.append(f"{sim.__name__}.{name}: property on one side only")
            continue
        sig = python_signature(attr)
        assert sig is not None
        # positional-only parameters (``/``) match a binding's unnamed ``argN``; the others must match by name
        params = [
            p for p in list(sig.parameters.values())[1:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        variadic = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
        names = tuple(p.name for p in params)

        def matches(s: Any) -> bool:
            if len(params) > len(s.names) or len(params) < s.required:
                return False
            return all(p.kind == p.POSITIONAL_ONLY or s.names[i] == p.name for i, p in enumerate(params))

        overloads = binding_signatures(real, name)
        if not variadic and not any(matches(s) for s in overloads):
            problems.append(
                f"{sim.__name__}.{name}{names} matches no overload of {real.__name__}.{name}: "
                f"{[s.names for s in overloads]}"
            )
    assert not problems, "\n".join(problems)


def test_output_allocator_overrides_match_the_real_interface() -> None:
    """The runtime's IOutputAllocator subclass overrides the methods TensorRT calls, with their parameters
    (IOutputAllocator's docstring spells them out, as the bindings expose no Python signature for them)."""
    from torch_tensorrt.runtime._output_allocator import output_allocator_class

    allocator = output_allocator_class()
    doc = real_class("IOutputAllocator").__doc__ or ""
    interface = {
        m.group(1): tuple(a.strip() for a in m.group(2).split(",")[1:])
        for m in re.finditer(r"def (\w+)\(self((?:, \w+)*)\)", doc)
        if not m.group(1).startswith("_")
    }
    assert {"reallocate_output_async", "notify_shape"} <= set(interface), interface
    for name, params in interface.items():
        fn = vars(allocator).get(name)
        assert fn is not None, f"the runtime's output allocator does not override {name}"
        sig = python_signature(fn)
        assert sig is not None and len(sig.parameters) - 1 == len(params), (
            f"{name}{tuple(sig.parameters)[1:]} vs the interface's {name}{params}"
        )


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts)


def test_names_only_stand_in_matches_the_real_module() -> None:
    """The names-only TensorRT (for machines without TensorRT) only offers real names: its classes exist in the
    real module, their public attributes exist on the real classes, and constructors take the real arguments."""
    trt = _trt.load()
    problems = []
    for name, obj in vars(_names_only_trt).items():
        if name.startswith("_") or not isinstance(obj, type) or obj.__module__ != _names_only_trt.__name__:
            continue
        real = getattr(trt, name, None)
        if real is None:
            problems.append(f"names-only {name} is not in {_trt.info().module_name}")
            continue
        for attr in vars(obj):
            if not attr.startswith("_") and getattr(real, attr, None) is None:
                problems.append(f"names-only {name}.{attr} is not on the real {name}")
        init = vars(obj).get("__init__")
        if init is not None and isinstance(init, type(lambda: None)):
            sig = python_signature(init)
            assert sig is not None
            named = [p.name for p in list(sig.parameters.values())[1:] if p.kind == p.POSITIONAL_OR_KEYWORD]
            if named and not any(len(named) <= len(s.names) for s in binding_signatures(real, "__init__")):
                problems.append(f"names-only {name}({', '.join(named)}) takes more arguments than the real {name}")
    # instance attributes the evaluator reads from real Weights
    for attr in ("numpy", "size", "nbytes", "dtype"):
        if getattr(trt.Weights, attr, None) is None:
            problems.append(f"Weights.{attr} is not on the real Weights")
    assert not problems, "\n".join(problems)
