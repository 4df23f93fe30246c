"""Replace in-place ops on intermediate tensors by their out-of-place forms (``relu_`` -> ``relu``).

``torch.export`` keeps the in-place ops of the model (torchvision's ResNet and VGG: ``relu_``, ``add_``). Re-tracing
the whole program through ``run_decompositions`` only to functionalize them costs seconds on a ResNet-50, so
lowering skips it when this pass can do the same on the graph (see :func:`plan`), which is when every in-place
op

* updates its first argument only, and has an out-of-place overload of the same name without the ``_`` and the
  same arguments that returns a new tensor of the same dtype and shape;
* updates a tensor computed inside the graph by an op returning a new tensor (not an input, parameter or buffer,
  nor a view of one), of which no view is read after the update.

The update then becomes a new value: the op is replaced by its out-of-place form, and every later use of the
updated tensor reads the op's result. In-place ops that do not qualify (buffer updates written back with
``copy_``, updates through views) are left as they are.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any, Optional, cast

import torch
import torch.fx
from torch.fx.node import map_aggregate

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish

OpOverload = torch._ops.OpOverload


def _returns_alias(op: OpOverload) -> bool:
    return any(r.alias_info is not None for r in op._schema.returns)


def out_of_place(op: Any) -> Optional[OpOverload]:
    """The out-of-place overload of the in-place op ``op`` (``aten.add_.Tensor`` -> ``aten.add.Tensor``), or None
    when ``op`` is not an in-place op that writes its first argument only, or has no such counterpart."""
    if not isinstance(op, OpOverload) or not op._schema.is_mutable:
        return None
    schema = op._schema
    namespace, _, name = schema.name.partition("::")
    if not name.endswith("_") or name.startswith("_") or not schema.arguments:
        return None
    written = [a.alias_info is not None and a.alias_info.is_write for a in schema.arguments]
    if not written[0] or any(written[1:]) or len(schema.returns) != 1:
        return None
    packet = getattr(getattr(torch.ops, namespace, None), name[:-1], None)
    functional = getattr(packet, op._overloadname, None)
    if not isinstance(functional, OpOverload) or functional._schema.is_mutable or _returns_alias(functional):
        return None
    if [a.name for a in functional._schema.arguments] != [a.name for a in schema.arguments]:
        return None
    return functional


def _meta(value: Any) -> Any:
    """A meta tensor like the example value ``value`` (symbolic sizes at their hints); ValueError when it has none."""
    if not isinstance(value, torch.Tensor):
        raise ValueError("not a tensor")
    sizes = [int(s.node.hint) if isinstance(s, torch.SymInt) else s for s in value.shape]
    return torch.empty(sizes, dtype=value.dtype, device="meta")


#: :func:`_same_result`'s answers by op and argument metadata, for the process: a ResNet repeats a few dozen kinds
#: of ``relu_`` and ``add_``, and every compile plans twice (lowering, to decide whether to re-trace, then this
#: pass). An answer depends on the op's semantics only; the memo is cleared when it grows past :data:`_MEMO_SIZE`.
_MEMO: dict[Any, bool] = {}
_MEMO_SIZE = 4096


def _same_result(node: torch.fx.Node, functional: OpOverload, memo: dict[Any, bool] = _MEMO) -> bool:
    """Whether ``functional`` on ``node``'s arguments gives a tensor of the dtype and shape ``node`` gives (a type
    promotion or a comparison would change the dtype: ``lt_`` keeps its input's, ``lt`` returns bool). ``memo``
    holds the answers by op and argument metadata."""
    try:
        args, kwargs = map_aggregate(
            (node.args, node.kwargs), lambda a: _meta(a.meta.get("val")) if isinstance(a, torch.fx.Node) else a
        )
        expected = _meta(node.meta.get("val"))
    except Exception:  # no example value, or a symbolic size without hint
        return False
    try:
        key: Any = (functional, repr(map_aggregate((args, kwargs, expected), _describe)))
    except Exception:  # an argument without a faithful text form: no memo
        key = None
    if key is None or key not in memo:
        try:
            result = functional(*args, **kwargs)
            same = isinstance(result, torch.Tensor) and (result.dtype, result.shape) == (expected.dtype, expected.shape)
        except Exception:  # the op refuses these arguments
            same = False
        if key is None:
            return same
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = same
    return memo[key]


def _describe(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return ("tensor", value.dtype, tuple(value.shape))
    if value is None or isinstance(value, (bool, int, float, str, torch.dtype, torch.device, torch.memory_format)):
        return (type(value).__name__, value)
    raise TypeError(f"no memo key for {type(value).__name__}")


def plan(graph: torch.fx.Graph) -> tuple[dict[torch.fx.Node, OpOverload], Optional[str]]:
    """The in-place nodes of ``graph`` this pass replaces (node -> out-of-place op), and why the first in-place
    node that it cannot replace stays (None when there is none).

    Each node's value lives in *storages*: a node returning a new tensor makes one (it is the storage's *owner*),
    a view (an op returning an alias) shares its inputs'. Inputs, parameters, buffers and the results of calls
    whose aliasing is unknown here are *external*: never updated here. A replaced update owns a new storage, and
    the updated node is *renamed* to it: later uses read the new value."""
    order = {n: i for i, n in enumerate(graph.nodes)}
    ids = itertools.count()
    storages: dict[torch.fx.Node, frozenset[int]] = {}
    owner: dict[int, torch.fx.Node] = {}
    views: dict[int, list[torch.fx.Node]] = {}
    external: set[int] = set()
    renamed: dict[torch.fx.Node, torch.fx.Node] = {}
    rewrites: dict[torch.fx.Node, OpOverload] = {}
    reason: Optional[str] = None

    def current(n: torch.fx.Node) -> torch.fx.Node:
        while n in renamed:
            n = renamed[n]
        return n

    def owned(node: torch.fx.Node) -> None:
        storage = next(ids)
        storages[node] = frozenset({storage})
        owner[storage] = node

    def view(node: torch.fx.Node) -> None:  # conservatively, of every input
        storages[node] = frozenset().union(*(storages.get(current(n), frozenset()) for n in node.all_input_nodes))
        for storage in storages[node]:
            views.setdefault(storage, []).append(node)

    def escaped(node: torch.fx.Node) -> None:  # what it reads may be aliased by its result: all external
        view(node)
        external.update(storages[node])

    def why_not(node: torch.fx.Node) -> Optional[str]:
        functional = out_of_place(node.target)
        if functional is None or not isinstance(node.args[0], torch.fx.Node):
            return f"{node.target} mutates its arguments"
        updated = current(node.args[0])
        held = storages.get(updated, frozenset())
        if len(held) != 1 or held & external or owner[next(iter(held))] is not updated:
            return f"{node.target} updates an input, parameter, buffer or a view"
        for other in views.get(next(iter(held)), []):
            if any(order[user] > order[node] for user in other.users):
                return f"{node.target} updates a tensor whose view {other.name} is read later"
        if not _same_result(node, functional):
            return f"{functional} gives another dtype or shape than {node.target}"
        return None

    for node in graph.nodes:
        target = node.target
        if node.op in ("placeholder", "get_attr") or (node.op == "call_function" and not _known(node)):
            escaped(node)
        elif node.op != "call_function":
            continue
        elif target is operator.getitem:
            if _returns_alias(node.args[0].target):
                view(node)
            else:
                owned(node)  # one output of a multi-output op
        elif not target._schema.is_mutable:
            if _returns_alias(target):
                view(node)
            else:
                owned(node)
        elif (why := why_not(node)) is not None:
            reason = reason or why
            escaped(node)
        else:
            rewrites[node] = cast(OpOverload, out_of_place(target))
            renamed[current(node.args[0])] = node
            owned(node)
    return rewrites, reason


def _known(node: torch.fx.Node) -> bool:
    """Whether the aliasing of ``node``'s result is known here (an ATen op, or ``getitem`` of a multi-output op)."""
    target = node.target
    if target is operator.getitem:
        parent = node.args[0]
        return isinstance(parent, torch.fx.Node) and isinstance(parent.target, OpOverload)
    return isinstance(target, OpOverload)


def functionalize_inplace(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    rewrites, _ = plan(gm.graph)
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    for node, functional in rewrites.items():  # in graph order: an update of an update reads the first's result
        updated = node.args[0]
        assert isinstance(updated, torch.fx.Node)
        at = order[node]
        updated.replace_all_uses_with(node, delete_user_cb=lambda user: order[user] > at)
        node.target = functional
    return finish(gm, bool(rewrites), dead_code=False)
