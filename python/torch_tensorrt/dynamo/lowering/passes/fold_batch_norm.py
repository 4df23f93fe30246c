"""Fold an inference BatchNorm into the preceding convolution.

``bn(conv(x, W, b))`` with constant W, b and BatchNorm statistics equals ``conv(x, W', b')`` with
``W' = W * s`` (per output channel) and ``b' = (b - mean) * s + beta`` where ``s = gamma / sqrt(var + eps)``.
One layer instead of several: smaller networks build faster and run faster. Applies to both IR forms
(``conv2d`` + ``batch_norm`` as exported, ``convolution`` + ``_native_batch_norm_legit_no_training`` after
decomposition), only when the convolution's result has no other user and is not transposed.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Optional, cast

import torch
import torch.fx

from torch_tensorrt.dynamo._graph import constant_tensor
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish, map_weights

aten = torch.ops.aten
_CONVS = {aten.conv1d.default, aten.conv2d.default, aten.conv3d.default, aten.convolution.default}


def _attr(gm: torch.fx.GraphModule, node: Any) -> Optional[torch.Tensor]:
    """The constant tensor ``node`` reads; None for an absent (None) argument; LookupError for anything else."""
    if node is None:
        return None
    value = constant_tensor(gm, node)
    if value is None:
        raise LookupError
    return value


def _bn_parts(node: torch.fx.Node) -> Optional[tuple[Any, list[Any], float, torch.fx.Node]]:
    """(input, [gamma, beta, mean, var], eps, node whose uses to replace) of an inference BatchNorm."""
    if node.target is aten.batch_norm.default:
        x, w, b, mean, var, training, _momentum, eps = node.args[:8]
        if training:
            return None
        return x, [w, b, mean, var], float(eps), node  # type: ignore[arg-type]
    if node.target is aten._native_batch_norm_legit_no_training.default:
        x, w, b, mean, var, _momentum, eps = node.args[:7]
        users = list(node.users)
        if len(users) != 1 or users[0].target is not operator.getitem or users[0].args[1] != 0:
            return None
        return x, [w, b, mean, var], float(eps), users[0]  # type: ignore[arg-type]
    return None


@dataclass
class _Fold:
    """One BatchNorm to fold: the convolution, the BatchNorm's arguments, the node whose uses the convolution takes
    over, and the constants."""

    conv: torch.fx.Node
    bn_args: list[Any]
    result: torch.fx.Node
    weight: torch.Tensor
    bias: Optional[torch.Tensor]
    gamma: Optional[torch.Tensor]
    beta: Optional[torch.Tensor]
    mean: torch.Tensor
    var: torch.Tensor
    eps: float


def _match(gm: torch.fx.GraphModule, node: torch.fx.Node) -> Optional[_Fold]:
    parts = _bn_parts(node) if node.op == "call_function" else None
    if parts is None:
        return None
    conv, bn_args, eps, result = parts
    if not (isinstance(conv, torch.fx.Node) and conv.target in _CONVS and len(conv.users) == 1):
        return None
    if conv.target is aten.convolution.default and conv.args[6]:
        return None  # transposed: output channels sit on weight dim 1
    try:
        weight = _attr(gm, conv.args[1])
        bias = _attr(gm, conv.args[2] if len(conv.args) > 2 else None)
        gamma, beta, mean, var = (_attr(gm, a) for a in bn_args)
    except LookupError:
        return None
    if weight is None or mean is None or var is None:
        return None
    return _Fold(conv, bn_args, result, weight, bias, gamma, beta, mean, var, eps)


def _folded(f: _Fold) -> tuple[torch.Tensor, torch.Tensor]:
    """The folded weight and bias: the per-channel scale and the bias in float64 (small), the weights scaled in
    their own dtype (large)."""
    dtype = f.weight.dtype
    scale = (f.gamma.double() if f.gamma is not None else 1.0) / torch.sqrt(f.var.double() + f.eps)
    new_w = f.weight * scale.to(dtype).reshape(-1, *([1] * (f.weight.dim() - 1)))
    b0 = f.bias.double() if f.bias is not None else torch.zeros_like(f.mean, dtype=torch.float64)
    new_b = ((b0 - f.mean.double()) * scale + (f.beta.double() if f.beta is not None else 0.0)).to(dtype)
    return new_w, new_b


def fold_batch_norm(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    # matched first (folding one BatchNorm changes nothing another match reads), computed together, then rewired
    folds = [f for node in gm.graph.nodes if (f := _match(gm, node)) is not None]
    for f, (new_w, new_b) in zip(folds, map_weights(_folded, folds)):
        conv = f.conv
        base = f"_folded_{conv.name}"
        gm.register_buffer(f"{base}_weight", new_w)
        gm.register_buffer(f"{base}_bias", new_b)
        with gm.graph.inserting_before(conv):
            w_node = gm.graph.get_attr(f"{base}_weight")
            b_node = gm.graph.get_attr(f"{base}_bias")
        w_node.meta["val"] = cast(torch.fx.Node, conv.args[1]).meta.get("val")
        b_node.meta["val"] = f.bn_args[1].meta.get("val") if isinstance(f.bn_args[1], torch.fx.Node) else None
        args = list(conv.args)
        while len(args) < 3:
            args.append(None)
        args[1], args[2] = w_node, b_node
        conv.args = tuple(args)
        f.result.replace_all_uses_with(conv)
    return finish(gm, bool(folds))
