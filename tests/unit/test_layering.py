"""The package's import graph runs one way: bottom -> runtime / reference -> dynamo -> testing, CLI, tools.

The graph is built from the source with :mod:`ast` (nothing is imported to build it). A module's edges are:

* every ``import`` / ``from ... import`` statement anywhere in it (module level, functions, ``TYPE_CHECKING``
  blocks), relative imports resolved; ``from pkg import name`` is an edge to ``pkg.name`` when that is a module,
  else to ``pkg``;
* every string constant naming a submodule of the package (what ``importlib.import_module`` in a lazy
  ``__getattr__`` or a lazy table receives), so lazy re-exports are visible here;
* every attribute chain ``torch_tensorrt.a.b...`` used in code, to the longest module it names.

Edges to the root package itself are left out: it is imported before anything else, and it is a lazy facade
over every layer. Lazy re-exports that keep documented paths working are the one exception to the rules; they are
listed in :data:`LAZY_REEXPORTS`, and must stay lazy (no module-level import statement).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

PACKAGE = "torch_tensorrt"
SOURCE = Path(__file__).resolve().parents[2] / "python" / PACKAGE

#: The bottom layer: small value types, TensorRT access, settings, logging. Imports nothing above it.
BOTTOM = {
    f"{PACKAGE}.{name}"
    for name in (
        "_trt",
        "_dtypes",
        "_errors",
        "_io",
        "_device",
        "_input",
        "_version",
        "_console",
        "_settings",
        "_trt_logging",
        "logging",
        "_collectives",
        "_enums",
        "_unsupported",
    )
}
#: Packages of the second layer; each imports only the bottom layer and itself.
MIDDLE = (f"{PACKAGE}.runtime", f"{PACKAGE}.reference")
DYNAMO = f"{PACKAGE}.dynamo"
TESTING = f"{PACKAGE}.testing"
#: The top layer (besides testing): entry points and whole-program tools.
TOP = (TESTING, f"{PACKAGE}.tools", f"{PACKAGE}.cli", f"{PACKAGE}._compile", f"{PACKAGE}._serialization")

#: Lazy re-exports (a ``__getattr__`` calling ``importlib.import_module``) that keep documented paths working
#: although they point upward. (importer, imported) -> why.
LAZY_REEXPORTS = {
    # torch_tensorrt.reference.run / .compare / .CompareReport (documented) are whole-program tools: they need
    # the compiler, which sits above the reference evaluator.
    (f"{PACKAGE}.reference", f"{PACKAGE}.tools.run"): "torch_tensorrt.reference.run",
    (f"{PACKAGE}.reference", f"{PACKAGE}.tools.compare"): "torch_tensorrt.reference.compare",
    # torch_tensorrt.dynamo.coverage (documented) is a whole-program tool.
    (f"{PACKAGE}.dynamo", f"{PACKAGE}.tools.coverage"): "torch_tensorrt.dynamo.coverage",
    # The root package is a lazy facade: torch_tensorrt.testing is reachable as an attribute.
    (PACKAGE, TESTING): "torch_tensorrt.testing",
}


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int
    #: a module-level import statement (as opposed to one inside a function, or a module name as a string)
    eager: bool

    def __str__(self) -> str:
        path = _sources().get(self.importer)
        where = path.relative_to(SOURCE.parent) if path is not None else self.importer
        return f"{self.importer} -> {self.imported} ({where} line {self.line})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def _sources() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def _resolve(name: str, modules: set[str]) -> str | None:
    """The longest module of the package that ``name`` (a dotted path) starts with; None outside the package."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _logger_names(tree: ast.AST) -> set[int]:
    """String arguments of ``getLogger(...)`` calls: logger names that happen to equal a module name, not imports."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "getLogger":
            ids.update(id(a) for a in node.args if isinstance(a, ast.Constant))
    return ids


def _module_level(tree: ast.Module) -> set[int]:
    """Import statements executed when the module is imported (module body, ``if``/``try`` blocks included)."""
    out: set[int] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            out.add(id(stmt))
        elif isinstance(stmt, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(stmt, field, []):
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return out


def _edges_of(name: str, source: str, is_package: bool, modules: set[str]) -> list[Edge]:
    tree = ast.parse(source, filename=name)
    package = name if is_package else name.rpartition(".")[0]
    docstrings = _docstring_nodes(tree) | _logger_names(tree)
    eager = _module_level(tree)
    chains_inside: set[int] = set()
    edges: list[Edge] = []

    def add(target: str | None, node: ast.AST, is_eager: bool = False) -> None:
        if target is not None and target != PACKAGE and target != name:
            edges.append(Edge(name, target, getattr(node, "lineno", 0), is_eager))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(_resolve(alias.name, modules), node, id(node) in eager)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                full = f"{base}.{alias.name}"
                add(full if full in modules else _resolve(base, modules), node, id(node) in eager)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in modules:
                add(node.value, node)
        elif isinstance(node, ast.Attribute) and id(node) not in chains_inside:
            parts, inner = [], node
            while isinstance(inner, ast.Attribute):
                chains_inside.add(id(inner))
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == PACKAGE:
                add(_resolve(".".join([PACKAGE, *reversed(parts)]), modules), node)
    return edges


@lru_cache(maxsize=1)
def import_graph() -> tuple[Edge, ...]:
    sources = _sources()
    modules = set(sources)
    return tuple(
        edge
        for name, path in sources.items()
        for edge in _edges_of(name, path.read_text(), path.name == "__init__.py", modules)
    )


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _checked_edges() -> list[Edge]:
    """All edges except the allowlisted lazy re-exports."""
    return [e for e in import_graph() if (e.importer, e.imported) not in LAZY_REEXPORTS]


def _cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.importer, set()).add(e.imported)
        graph.setdefault(e.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _shortest_cycle(component: list[str], edges: list[Edge]) -> list[str]:
    """One shortest cycle through the first module of a strongly connected component (for the message)."""
    members = set(component)
    succ: dict[str, list[str]] = {}
    for e in edges:
        if e.importer in members and e.imported in members:
            succ.setdefault(e.importer, []).append(e.imported)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(set(succ.get(v, []))):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component


def _report(bad: list[Edge]) -> str:
    return "\n".join(sorted({str(e) for e in bad}))


# ------------------------------------------------------------------------------------------- the graph itself
def test_the_graph_sees_every_kind_of_import():
    """The scanner finds module-level, function-level, relative, lazy-string and attribute-chain imports."""
    modules = set(_sources())
    sample = (
        "import torch_tensorrt._trt\n"
        "from . import _metadata\n"
        "from ._record import EngineRecord\n"
        "def f():\n"
        "    from torch_tensorrt.dynamo import conversion\n"
        "    import importlib\n"
        "    return importlib.import_module('torch_tensorrt.testing'), torch_tensorrt.reference.evaluate_network\n"
    )
    edges = {(e.imported, e.eager) for e in _edges_of(f"{PACKAGE}.runtime._sample", sample, False, modules)}
    assert edges == {
        (f"{PACKAGE}._trt", True),
        (f"{PACKAGE}.runtime._metadata", True),
        (f"{PACKAGE}.runtime._record", True),
        (f"{PACKAGE}.dynamo.conversion", False),
        (TESTING, False),
        (f"{PACKAGE}.reference", False),
    }


def test_cycle_finder_finds_cycles():
    edges = [Edge("a", "b", 1, True), Edge("b", "c", 1, False), Edge("c", "a", 1, True), Edge("c", "d", 1, True)]
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _shortest_cycle(["a", "b", "c"], edges) == ["a", "b", "c", "a"]
    assert _cycles(edges[1:]) == []


# -------------------------------------------------------------------------------------------------- the rules
def test_no_import_cycles():
    edges = _checked_edges()
    cycles = [f"{' -> '.join(_shortest_cycle(c, edges))}  (mutually reachable: {', '.join(c)})" for c in _cycles(edges)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_only_testing_imports_testing():
    bad = [e for e in _checked_edges() if _within(e.imported, TESTING) and not _within(e.importer, TESTING)]
    assert not bad, "product code imports torch_tensorrt.testing:\n" + _report(bad)


@pytest.mark.parametrize("layer", MIDDLE)
def test_runtime_and_reference_import_only_the_bottom_layer(layer):
    bad = [
        e
        for e in _checked_edges()
        if _within(e.importer, layer) and not (e.imported in BOTTOM or _within(e.imported, layer))
    ]
    assert not bad, f"{layer} imports above the bottom layer:\n" + _report(bad)


def test_bottom_layer_imports_only_the_bottom_layer():
    assert BOTTOM <= set(_sources()), sorted(BOTTOM - set(_sources()))
    bad = [e for e in _checked_edges() if e.importer in BOTTOM and e.imported not in BOTTOM]
    assert not bad, "the bottom layer imports upward:\n" + _report(bad)


def test_dynamo_imports_nothing_from_the_top_layer():
    bad = [e for e in _checked_edges() if _within(e.importer, DYNAMO) and any(_within(e.imported, top) for top in TOP)]
    assert not bad, "torch_tensorrt.dynamo imports the top layer:\n" + _report(bad)


def test_allowlisted_reexports_stay_lazy():
    """A listed re-export may point upward only because it is resolved on first access, never at import."""
    eager = [e for e in import_graph() if (e.importer, e.imported) in LAZY_REEXPORTS and e.eager]
    assert not eager, "allowlisted re-exports imported eagerly:\n" + _report(eager)


def test_runtime_and_reference_load_without_the_compiler():
    """At run time too: using the runtime or the evaluator imports neither dynamo nor testing."""
    code = (
        "import sys, torch_tensorrt.runtime as rt, torch_tensorrt.reference as ref\n"
        "rt.TorchTensorRTModule(); ref.evaluate_network; ref.supported_layer_types()\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('torch_tensorrt.dynamo', 'torch_tensorrt.testing')))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


# ------------------------------------------------------------------------------------- documented import paths
def test_documented_import_paths():
    import torch_tensorrt
    from torch_tensorrt import runtime
    from torch_tensorrt.runtime import _engine, _module

    module = importlib.import_module
    assert module("torch_tensorrt.dynamo.runtime").TorchTensorRTModule is _module.TorchTensorRTModule
    assert runtime.TorchTensorRTModule is _module.TorchTensorRTModule
    assert torch_tensorrt.runtime.TorchTensorRTModule is _module.TorchTensorRTModule
    trt_engine = module("torch_tensorrt.dynamo.runtime._TRTEngine")
    assert trt_engine.TRTEngine is _engine.TRTEngine and trt_engine.ExecutionInfo is _engine.ExecutionInfo
    assert module("torch_tensorrt.dynamo.runtime").TRTEngine is _engine.TRTEngine
    settings = module("torch_tensorrt._settings").CompilationSettings
    assert module("torch_tensorrt.dynamo._settings").CompilationSettings is settings
    assert torch_tensorrt.dynamo.CompilationSettings is settings and torch_tensorrt.CompilationSettings is settings
    for name in ("run", "compare", "evaluate_network"):
        assert callable(getattr(torch_tensorrt.reference, name)), name
    assert callable(torch_tensorrt.dynamo.coverage)
    for name in ("compile", "convert_exported_program", "convert_exported_program_to_serialized_trt_engine", "trace"):
        assert callable(getattr(torch_tensorrt.dynamo, name)), name
    for name in ("compile", "save", "load", "convert_exported_program_to_trt_engine"):
        assert callable(getattr(torch_tensorrt, name)), name
    assert callable(torch_tensorrt.testing.simulate) and callable(torch_tensorrt.testing.assert_converts)
    assert callable(torch_tensorrt.logging.set_level) and callable(torch_tensorrt.logging.debug)


def test_star_import_of_the_package():
    namespace: dict = {}
    exec("from torch_tensorrt import *", namespace)
    import torch_tensorrt

    missing = [name for name in torch_tensorrt.__all__ if name not in namespace]
    assert not missing, missing
    assert namespace["logging"] is importlib.import_module("torch_tensorrt.logging")
