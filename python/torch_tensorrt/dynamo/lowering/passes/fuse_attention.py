"""Rewrite attention written by hand -- ``softmax(q @ k^T * c + mask) @ v`` -- as ``scaled_dot_product_attention``.

Models that spell attention out (torchvision's Swin and ViT blocks, many research models) then get the same
treatment as ``F.scaled_dot_product_attention``: TensorRT's own attention layer where the installed TensorRT has
one (one fused kernel on a GPU, one layer in the engine), otherwise the same matmul / float32 softmax / matmul
the pieces would have converted to.

The pattern, with every intermediate result used only by the next step:

* ``s = matmul(q, kt)`` where ``kt`` swaps the last two dims of ``k`` (``transpose(k, -2, -1)`` or a ``permute``),
  q, k and v of rank 3 or 4, one floating dtype;
* then any number of ``mul``/``div`` by a Python scalar (the scale -- only before any mask is added: a scale after
  a mask would scale the mask too), then any number of ``add`` of a tensor that does not depend on ``s`` (the
  masks), each of the scores' dtype (an added bool is 0/1, not a keep-mask) and broadcastable to ``s``'s shape
  (they must not grow it);
* ``softmax(s, -1)`` (``_softmax`` without ``half_to_float``), then ``matmul(p, v)``.

Anything else -- a view between the pieces, a dropout, a softmax over another dim -- is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, cast

import torch
import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish

aten = torch.ops.aten
_MATMULS = {aten.matmul.default}
_SOFTMAX = {aten.softmax.int, aten._softmax.default}
SDPA = aten.scaled_dot_product_attention.default


def _val(node: Any) -> Optional[torch.Tensor]:
    val = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return val if isinstance(val, torch.Tensor) else None


def _only_user(node: torch.fx.Node, user: torch.fx.Node) -> bool:
    return len(node.users) == 1 and next(iter(node.users)) is user


def _swapped_last(node: Any) -> Optional[torch.fx.Node]:
    """``k`` when ``node`` is ``k`` with its last two dims swapped (transpose or permute), else None."""
    if not isinstance(node, torch.fx.Node) or node.op != "call_function":
        return None
    val = _val(node)
    if val is None:
        return None
    rank = val.dim()
    args: Any = node.args
    if node.target is aten.transpose.int:
        dims = sorted(d % rank for d in args[1:3])
        return args[0] if dims == [rank - 2, rank - 1] else None
    if node.target is aten.permute.default:
        perm = [d % rank for d in args[1]]
        return args[0] if perm == list(range(rank - 2)) + [rank - 1, rank - 2] else None
    return None


def _depends_on(node: Any, target: torch.fx.Node) -> bool:
    """Whether ``node`` is computed from ``target`` (a walk up its inputs)."""
    seen: set[torch.fx.Node] = set()
    todo = [node] if isinstance(node, torch.fx.Node) else []
    while todo:
        n = todo.pop()
        if n is target:
            return True
        if n in seen:
            continue
        seen.add(n)
        todo.extend(n.all_input_nodes)
    return False


def _broadcasts_into(small: torch.Tensor, shape: torch.Size) -> bool:
    if small.dim() > len(shape):
        return False
    return all(s == 1 or s == t for s, t in zip(reversed(small.shape), reversed(shape)))


@dataclass
class _Scores:
    """What lies between the first matmul and the softmax: the matmul, the scale, the masks, the nodes."""

    matmul: torch.fx.Node
    scale: float = 1.0
    masks: list[Any] = field(default_factory=list)


def _scores(node: Any, user: torch.fx.Node, shape: torch.Size) -> Optional[_Scores]:
    """The score chain ending at ``node`` (read by ``user`` only), or None when it is not one."""
    if not (isinstance(node, torch.fx.Node) and node.op == "call_function" and _only_user(node, user)):
        return None
    if node.target in _MATMULS:
        return _Scores(node)
    if node.target is aten.add.Tensor and len(node.args) == 2 and not node.kwargs:
        for inner, mask in (node.args, node.args[::-1]):
            found = _scores(inner, node, shape)
            mask_val = _val(mask)
            if found is None or mask_val is None or _depends_on(mask, found.matmul):
                continue
            if mask_val.dtype != _val(node).dtype or not _broadcasts_into(mask_val, shape):  # type: ignore[union-attr]
                return None  # a bool added to scores is 0/1, not sdpa's keep-mask; a mask must not grow them
            found.masks.append(mask)
            return found
        return None
    if node.target in (aten.mul.Tensor, aten.div.Tensor) and isinstance(node.args[1], (int, float)):
        found = _scores(node.args[0], node, shape)
        if found is None or found.masks:
            return None  # a scale applied after a mask would scale the mask too
        c = float(node.args[1])
        found.scale = found.scale * c if node.target is aten.mul.Tensor else found.scale / c
        return found
    return None


def _match(softmax: torch.fx.Node) -> Optional[tuple[torch.fx.Node, Any, Any, Any, _Scores]]:
    """(second matmul, q, k, v, scores) for an attention around ``softmax``, or None."""
    if softmax.target is aten._softmax.default and softmax.args[2]:
        return None  # half_to_float
    x_val = _val(softmax.args[0])
    if x_val is None or x_val.dim() < 3 or not x_val.dtype.is_floating_point:
        return None
    if int(cast(int, softmax.args[1])) % x_val.dim() != x_val.dim() - 1:
        return None
    out = next(iter(softmax.users)) if len(softmax.users) == 1 else None
    if out is None or out.target not in _MATMULS or out.args[0] is not softmax:
        return None
    scores = _scores(softmax.args[0], softmax, x_val.shape)
    if scores is None:
        return None
    q, kt, v = scores.matmul.args[0], scores.matmul.args[1], out.args[1]
    k = _swapped_last(kt)
    if k is None or not _only_user(kt, scores.matmul):  # type: ignore[arg-type]
        return None
    vals = [_val(t) for t in (q, k, v)]
    if any(t is None for t in vals):
        return None
    if len({t.dim() for t in vals}) != 1 or vals[0].dim() not in (3, 4):  # type: ignore[union-attr]
        return None
    if len({t.dtype for t in vals}) != 1 or vals[0].dtype != x_val.dtype:  # type: ignore[union-attr]
        return None
    return out, q, k, v, scores


def fuse_attention(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    changed = False
    graph = gm.graph
    for softmax in [n for n in graph.nodes if n.op == "call_function" and n.target in _SOFTMAX]:
        found = _match(softmax)
        if found is None:
            continue
        out, q, k, v, scores = found
        with graph.inserting_before(out):
            mask = scores.masks[0] if scores.masks else None
            for term in scores.masks[1:]:
                total = graph.call_function(aten.add.Tensor, (mask, term))
                total.meta["val"] = _val(mask) + _val(term)  # type: ignore[operator]
                mask = total
            fused = graph.call_function(SDPA, (q, k, v), {"attn_mask": mask, "scale": scores.scale})
        fused.meta = dict(out.meta)
        out.replace_all_uses_with(fused)
        graph.erase_node(out)
        changed = True
    return finish(gm, changed)
