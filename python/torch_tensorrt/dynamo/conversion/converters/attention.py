"""softmax / log_softmax and scaled_dot_product_attention.

Attention is formulated as ``softmax(q k^T * scale + mask) v``: two matrix multiplies in the compute dtype and
the softmax (with the scale and mask) in float32 -- the pattern TensorRT's attention fusion recognizes.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val, node_arg, out_dtype
from torch_tensorrt.dynamo.conversion._arith import select
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._reduce import reduce
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
E = trt.ElementWiseOperation
U = trt.UnaryOperation
M = trt.MatrixOperation


# -- softmax -----------------------------------------------------------------------------------------------------
def softmax_of(ctx: ConversionContext, x: Any, dim: int) -> Any:
    """ISoftMaxLayer along ``dim`` (a 0-d input is treated as one element)."""
    rank = len(x.shape)
    if rank < 2:  # ISoftMaxLayer needs two dimensions
        return T.reshape(ctx, softmax_of(ctx, T.reshape(ctx, x, (1, -1)), 1), tuple(x.shape) if rank else ())
    layer = ctx.network.add_softmax(x)
    layer.axes = 1 << T.normalize_dim(dim, rank)
    return layer.get_output(0)


def log_softmax_of(ctx: ConversionContext, x: Any, dim: int) -> Any:
    """(x - max) - log(sum(exp(x - max))) along ``dim``: stable for very negative log-probabilities."""
    if len(x.shape) == 0:
        return T.elementwise(ctx, x, x, E.SUB)
    shifted = T.elementwise(ctx, x, reduce(ctx, x, trt.ReduceOperation.MAX, [dim], True), E.SUB)
    total = reduce(ctx, T.unary(ctx, shifted, U.EXP), trt.ReduceOperation.SUM, [dim], True)
    return T.elementwise(ctx, shifted, T.unary(ctx, total, U.LOG), E.SUB)


def _in_fp32(ctx: ConversionContext, node: torch.fx.Node, x: Any) -> tuple[Any, torch.dtype]:
    """x rounded to the node's output dtype (softmax(dtype=...) casts first), then widened to float32."""
    dtype = out_dtype(ctx, node)
    return T.cast(ctx, T.to_trt(ctx, x, dtype), torch.float32), dtype


@converter(aten._softmax.default, aten.softmax.int, fp32=True)
def softmax(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x, dtype = _in_fp32(ctx, node, args[0])
    return T.cast(ctx, softmax_of(ctx, x, int(args[1])), dtype)


@converter(aten._log_softmax.default, aten.log_softmax.int, fp32=True)
def log_softmax(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x, dtype = _in_fp32(ctx, node, args[0])
    return T.cast(ctx, log_softmax_of(ctx, x, int(args[1])), dtype)


# -- scaled_dot_product_attention --------------------------------------------------------------------------------
def _sdpa_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    dropout = node_arg(node, 4, "dropout_p", 0.0)
    if dropout:
        return f"dropout_p={dropout} (attention dropout is random; TensorRT runs inference)"
    vals = [input_val(node, i) for i in range(3)]
    if any(v is None for v in vals):
        return "unknown query/key/value shapes"
    q, k, _ = vals
    if q.dim() < 2:
        return "query of rank < 2"
    if node.kwargs.get("enable_gqa") and q.dim() >= 3:
        hq, hk = q.shape[-3], k.shape[-3]
        if not (isinstance(hq, int) and isinstance(hk, int)):
            return "enable_gqa with symbolic head counts"
        if hq % hk:
            return f"enable_gqa with {hq} query heads not a multiple of {hk} key/value heads"
    return None


def repeat_heads(ctx: ConversionContext, t: Any, groups: int) -> Any:
    """Each head (dim -3) repeated ``groups`` times consecutively (``repeat_interleave``), for GQA."""
    if groups == 1:
        return t
    rank = len(t.shape)
    dims = T.sizes(ctx, t)
    grown = T.expand(ctx, T.unsqueeze(ctx, t, [rank - 2]), dims[: rank - 2] + [groups] + dims[rank - 2 :])
    heads = T.scalar_arith(ctx, dims[rank - 3], groups, "*")
    return T.reshape(ctx, grown, dims[: rank - 3] + [heads] + dims[rank - 2 :])


def _causal_masked(ctx: ConversionContext, scores: Any) -> Any:
    """Bool [L, S]: True where key position j > query position i (torch's is_causal: top-left aligned tril)."""
    rank = len(scores.shape)
    rows = T.unsqueeze(ctx, T.arange_1d(ctx, T.dim_size(ctx, scores, rank - 2)), [1])
    cols = T.unsqueeze(ctx, T.arange_1d(ctx, T.dim_size(ctx, scores, rank - 1)), [0])
    return T.elementwise(ctx, cols, rows, E.GREATER, torch.int64)


def _mask_out(ctx: ConversionContext, scores: Any, masked: Any) -> Any:
    """``scores`` with -inf where the bool tensor ``masked`` is True (broadcasting)."""
    return select(ctx, masked, -math.inf, scores, T.dtype_of(scores))


@converter(aten.scaled_dot_product_attention.default, validator=_sdpa_ok)
def scaled_dot_product_attention(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dtype = out_dtype(ctx, node)
    q, k, v = (T.to_trt(ctx, a, dtype) for a in args[:3])
    mask = arg(args, kwargs, 3, "attn_mask")
    causal = bool(arg(args, kwargs, 5, "is_causal", False))
    scale = kwargs.get("scale")
    if kwargs.get("enable_gqa") and len(q.shape) >= 3 and q.shape[-3] != k.shape[-3]:
        groups = q.shape[-3] // k.shape[-3]
        k, v = repeat_heads(ctx, k, groups), repeat_heads(ctx, v, groups)
    if scale is None:
        depth = T.dim_size(ctx, q, -1)
        if isinstance(depth, int):
            scale = 1.0 / math.sqrt(depth)
        else:
            root = T.unary(ctx, T.as_scalar(ctx, depth, dtype), U.SQRT)
            scale = T.elementwise(ctx, 1.0, root, E.DIV, dtype)
    q = T.elementwise(ctx, q, scale, E.PROD, dtype)  # scale q first: keeps q k^T in range in half precision
    q, k, v = T.broadcast(ctx, q, k, v)
    scores = ctx.network.add_matrix_multiply(q, M.NONE, k, M.TRANSPOSE).get_output(0)
    scores = T.cast(ctx, scores, torch.float32)
    if causal:
        scores = _mask_out(ctx, scores, _causal_masked(ctx, scores))
    if mask is not None:
        mask = T.to_trt(ctx, mask)
        if T.dtype_of(mask) == torch.bool:
            scores = _mask_out(ctx, scores, T.unary(ctx, mask, U.NOT))
        else:
            scores = T.elementwise(ctx, scores, mask, E.SUM, torch.float32)
    probs = T.cast(ctx, softmax_of(ctx, scores, -1), T.dtype_of(v))
    if len(probs.shape) < len(v.shape):
        probs, v = T.broadcast(ctx, probs, v)
    return ctx.network.add_matrix_multiply(probs, M.NONE, v, M.NONE).get_output(0)
