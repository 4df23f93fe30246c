"""Facts about exported FX graphs shared by lowering, partitioning, conversion and the tools.

* :data:`ASSERT_OPS`: the ops ``torch.export`` inserts to check sizes and metadata. They compute nothing, never
  go into an engine, need no decomposition and must never be folded away as if they were values.
* :data:`NOOP_OPS`: ops that return their input unchanged in an inference graph.
* :func:`get_attr_value`: the object a ``get_attr`` node's dotted target names.

One list per concept, so that a new assert op or no-op is added in one place.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.fx

aten = torch.ops.aten

#: Size/metadata checks inserted by ``torch.export`` (no value, no engine layer).
ASSERT_OPS: frozenset[Any] = frozenset(
    {
        aten._assert_scalar.default,
        aten.sym_constrain_range.default,
        aten.sym_constrain_range_for_size.default,
        aten._assert_tensor_metadata.default,
    }
)

#: Ops whose result is their first argument, unchanged (inference graphs only: ``detach`` matters to autograd).
NOOP_OPS: frozenset[Any] = frozenset(
    {
        aten.alias.default,
        aten.detach.default,
        aten.lift_fresh_copy.default,
    }
)

_MISSING = object()


def get_attr_value(gm: torch.nn.Module, target: Any, default: Any = _MISSING) -> Any:
    """The attribute of ``gm`` at the dotted path ``target`` (a ``get_attr`` node's target, e.g.
    ``"layer1.0.conv.weight"``). A missing part raises ``AttributeError`` naming the path, or returns
    ``default`` when one is given."""
    obj: Any = gm
    for part in str(target).split("."):
        if not hasattr(obj, part):
            if default is not _MISSING:
                return default
            raise AttributeError(f"{type(gm).__name__} has no attribute {target!r} (missing part {part!r})")
        obj = getattr(obj, part)
    return obj


def constant_tensor(gm: torch.nn.Module, node: Any) -> Any:
    """The tensor a ``get_attr`` node reads, or None when ``node`` is not such a node (another node, a literal,
    or an attribute that is not a tensor)."""
    if not isinstance(node, torch.fx.Node) or node.op != "get_attr":
        return None
    value = get_attr_value(gm, node.target, None)
    return value if isinstance(value, torch.Tensor) else None
