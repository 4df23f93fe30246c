"""Fold an inference BatchNorm into the preceding convolution.

``bn(conv(x, W, b))`` with constant W, b and BatchNorm statistics equals ``conv(x, W', b')`` with
``W' = W * s`` (per output channel) and ``b' = (b - mean) * s + beta`` where ``s = gamma / sqrt(var + eps)``.
One layer instead of several: smaller networks build faster and run faster. Applies to both IR forms
(``conv2d`` + ``batch_norm`` as exported, ``convolution`` + ``_native_batch_norm_legit_no_training`` after
decomposition), only when the convolution's result has no other user and is not transposed.
"""

from __future__ import annotations

import operator
from typing import Any, Optional, cast

import torch
import torch.fx

from torch_tensorrt.dynamo._graph import constant_tensor
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering.passes._common import finish, one_thread

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


def fold_batch_norm(gm: torch.fx.GraphModule, settings: CompilationSettings) -> torch.fx.GraphModule:
    changed = False
    for node in list(gm.graph.nodes):
        if node.op != "call_function":
            continue
        parts = _bn_parts(node)
        if parts is None:
            continue
        conv, bn_args, eps, result = parts
        if not (isinstance(conv, torch.fx.Node) and conv.target in _CONVS and len(conv.users) == 1):
            continue
        if conv.target is aten.convolution.default and conv.args[6]:
            continue  # transposed: output channels sit on weight dim 1
        try:
            weight = _attr(gm, conv.args[1])
            bias = _attr(gm, conv.args[2] if len(conv.args) > 2 else None)
            gamma, beta, mean, var = (_attr(gm, a) for a in bn_args)
        except LookupError:
            continue
        if weight is None or mean is None or var is None:
            continue
        with one_thread():
            # the per-channel scale and the bias in float64 (small); the weights scaled in their own dtype (large)
            dtype = weight.dtype
            scale = (gamma.double() if gamma is not None else 1.0) / torch.sqrt(var.double() + eps)
            new_w = weight * scale.to(dtype).reshape(-1, *([1] * (weight.dim() - 1)))
            b0 = bias.double() if bias is not None else torch.zeros_like(mean, dtype=torch.float64)
            new_b = ((b0 - mean.double()) * scale + (beta.double() if beta is not None else 0.0)).to(dtype)
        base = f"_folded_{conv.name}"
        gm.register_buffer(f"{base}_weight", new_w)
        gm.register_buffer(f"{base}_bias", new_b)
        with gm.graph.inserting_before(conv):
            w_node = gm.graph.get_attr(f"{base}_weight")
            b_node = gm.graph.get_attr(f"{base}_bias")
        w_node.meta["val"] = cast(torch.fx.Node, conv.args[1]).meta.get("val")
        b_node.meta["val"] = bn_args[1].meta.get("val") if isinstance(bn_args[1], torch.fx.Node) else None
        args = list(conv.args)
        while len(args) < 3:
            args.append(None)
        args[1], args[2] = w_node, b_node
        conv.args = tuple(args)
        result.replace_all_uses_with(conv)
        changed = True
    return finish(gm, changed)
