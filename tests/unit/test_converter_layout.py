"""Layout of the converters: a family module (``conversion/converters/*.py``) imports shared helper modules
(``conversion/_tensors.py``, ``_args.py``, ...), never a sibling family; helpers import no family; every op has
one home (all its converters live in one family module)."""

from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

import torch_tensorrt.dynamo.conversion as conversion
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

CONVERSION = conversion.__name__
FAMILY_PACKAGE = f"{CONVERSION}.converters"
CONVERSION_DIR = Path(conversion.__file__).parent
FAMILY_DIR = CONVERSION_DIR / "converters"
FAMILIES = sorted(p.stem for p in FAMILY_DIR.glob("*.py") if p.stem != "__init__")
#: the registry loads every family module: it is the one module beside them allowed to import them
LOADER = f"{CONVERSION}._registry"


def imported_modules(source: str, package: str) -> set[str]:
    """Absolute names of the modules a module of ``package`` imports anywhere (function-level imports
    included). ``from pkg import name`` counts as importing ``pkg`` and ``pkg.name`` (``name`` may be a
    module); relative imports are resolved against ``package``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def family_imports(family: str) -> set[str]:
    return imported_modules((FAMILY_DIR / f"{family}.py").read_text(), FAMILY_PACKAGE)


def test_import_scan_sees_every_form_of_import():
    source = (
        "import torch_tensorrt.dynamo.conversion.converters.unary as u\n"
        "from . import comparison\n"
        "from .elementwise import arith\n"
        "from .. import _tensors as T\n"
        "def f():\n"
        "    from torch_tensorrt.dynamo.conversion.converters.indexing import select_index\n"
    )
    found = imported_modules(source, FAMILY_PACKAGE)
    for family in ("unary", "comparison", "elementwise", "indexing"):
        assert f"{FAMILY_PACKAGE}.{family}" in found
    assert f"{CONVERSION}._tensors" in found


def test_there_are_families():
    assert {"activation", "elementwise", "reduction", "indexing"} <= set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_imports_no_sibling_family(family: str):
    siblings = {f"{FAMILY_PACKAGE}.{other}" for other in FAMILIES if other != family}
    assert not family_imports(family) & siblings, f"converters/{family}.py imports a sibling family module"


def test_helper_modules_import_no_family():
    """Whatever the families import from ``conversion`` (their helpers) stays below them."""
    prefix = f"{CONVERSION}."
    helpers = sorted(
        {
            name[len(prefix) :]
            for family in FAMILIES
            for name in family_imports(family)
            if name.startswith(prefix) and (CONVERSION_DIR / f"{name[len(prefix) :]}.py").exists()
        }
        - {LOADER[len(prefix) :]}
    )
    assert "_tensors" in helpers
    for helper in helpers:
        path = CONVERSION_DIR / f"{helper}.py"
        imported = imported_modules(path.read_text(), CONVERSION)
        upward = sorted(name for name in imported if name == FAMILY_PACKAGE or name.startswith(f"{FAMILY_PACKAGE}."))
        assert not upward, f"helper {path.name} imports converter families: {upward}"


def test_each_op_is_registered_in_exactly_one_family_module():
    homes: dict[object, set[str]] = collections.defaultdict(set)
    for target in CONVERTERS.targets():
        for spec in CONVERTERS.specs_for(target):
            homes[target].add(spec.fn.__module__)
    assert len(homes) > 200
    outside = {str(t): sorted(m) for t, m in homes.items() if any(not x.startswith(f"{FAMILY_PACKAGE}.") for x in m)}
    assert not outside, f"converters registered outside a family module: {outside}"
    shared = {str(t): sorted(m) for t, m in homes.items() if len(m) > 1}
    assert not shared, f"ops with converters in several family modules: {shared}"
