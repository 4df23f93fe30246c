"""Constant folding: compute at compile time what depends on constants only.

A node whose inputs are all constants (``get_attr`` tensors, literals, or other folded nodes) is evaluated once
in PyTorch and, where its result feeds the rest of the graph, replaced by a ``get_attr`` of the result. Attention
masks, relative-position biases and index tables built inside ``forward`` (Swin, T5, ...) then cost no layers.

Factories that read only the *metadata* of a tensor argument (``x.new_zeros(size)``, ``zeros_like(x)`` ...,
:data:`METADATA_ONLY`) count as constant when that metadata is static: Swin builds its shifted-window mask from
``x.new_zeros(...)`` and ~70 slice/scatter nodes per block, which otherwise all become engine layers.

Not folded: collectives, ops with side effects, random or uninitialised results, anything touching a graph input's values or a
size, and results much larger than their constant inputs (``MAX_GROWTH``, beyond ``SMALL`` elements) -- folding
an ``expand`` into a huge constant would trade layers for engine size.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx
from torch.fx.node import map_arg

from torch_tensorrt._collectives import is_collective
from torch_tensorrt.dynamo._graph import ASSERT_OPS, get_attr_value
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish

aten = torch.ops.aten
SMALL = 1 << 16
MAX_GROWTH = 4
#: Never evaluated at compile time: uninitialised or random results, and the asserts export inserts.
_NEVER = {
    aten.empty.memory_format,
    aten.empty_like.default,
    aten.empty_strided.default,
    aten.new_empty.default,
    aten.rand.default,
    aten.randn.default,
    aten.randint.default,
    aten.rand_like.default,
    aten.randn_like.default,
    aten.bernoulli.default,
    aten.dropout.default,
    aten.native_dropout.default,
    aten.normal.Tensor_float,
} | ASSERT_OPS
#: Ops whose result depends on their first (tensor) argument's dtype/device only ...
_NEW = {aten.new_zeros.default, aten.new_ones.default, aten.new_full.default}
#: ... and on its shape.
_LIKE = {aten.zeros_like.default, aten.ones_like.default, aten.full_like.default}
METADATA_ONLY = _NEW | _LIKE


def _metadata_stand_in(node: torch.fx.Node) -> Any:
    """For a :data:`METADATA_ONLY` node: a tensor with its first argument's static metadata (None when that is
    not static, not on the CPU, or the node is something else)."""
    if node.target not in METADATA_ONLY or not node.args or not isinstance(node.args[0], torch.fx.Node):
        return None
    val = node.args[0].meta.get("val")
    if not isinstance(val, torch.Tensor) or val.device.type != "cpu":
        return None
    if node.target in _NEW:
        return torch.empty(0, dtype=val.dtype)
    if not all(isinstance(d, int) for d in val.shape):
        return None
    return torch.zeros(tuple(val.shape), dtype=val.dtype)


def _foldable(node: torch.fx.Node) -> bool:
    if node.op != "call_function" or node.target in _NEVER or node.is_impure() or is_collective(node):
        return False  # collectives communicate: never at compile time
    if isinstance(node.target, torch._ops.OpOverload):
        return not node.target._schema.is_mutable and torch.Tag.nondeterministic_seeded not in node.target.tags
    return node.target is operator.getitem


def _numel(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, (list, tuple)):
        return sum(_numel(v) for v in value)
    return 0


def fold_constants(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    if not settings.fold_constants:
        return gm
    if any(
        n.op == "call_function" and isinstance(n.target, torch._ops.OpOverload) and n.target._schema.is_mutable
        for n in gm.graph.nodes
    ):
        return gm  # in-place ops could change a value after it was folded (lowering functionalizes such graphs)
    values: dict[torch.fx.Node, Any] = {}
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            obj = get_attr_value(gm, node.target, None)
            if isinstance(obj, torch.Tensor):
                values[node] = obj
            continue
        if not _foldable(node):
            continue
        known = dict.fromkeys(node.all_input_nodes)
        stand_in = _metadata_stand_in(node)
        if stand_in is not None:
            known[node.args[0]] = stand_in
        if any(n not in values and known[n] is None for n in known):
            continue
        args = map_arg(node.args, lambda n: values[n] if n in values else known[n])
        kwargs = map_arg(node.kwargs, lambda n: values[n] if n in values else known[n])
        try:
            with torch.no_grad():
                result = node.target(*args, **kwargs)
        except Exception:  # leave the node to the converters
            continue
        grows = _numel(result) > max(SMALL, MAX_GROWTH * sum(_numel(values.get(n)) for n in node.all_input_nodes))
        if not grows:
            values[node] = result
    changed = False
    for node, value in values.items():
        if node.op != "call_function" or not isinstance(value, torch.Tensor):
            continue
        if all(user in values for user in node.users):
            continue  # only feeds other folded nodes
        name = f"_folded_{node.name}"
        # The strides eager computed (a folded permute stays permuted): later views in the graph were traced
        # against those strides, and a contiguous copy would make a ``view`` after a ``permute`` fail eagerly.
        gm.register_buffer(name, value.detach().clone(memory_format=torch.preserve_format))
        with gm.graph.inserting_before(node):
            attr = gm.graph.get_attr(name)
        attr.meta = dict(node.meta)
        node.replace_all_uses_with(attr, delete_user_cb=lambda user: user not in values)
        changed = True
    return finish(gm, changed)
