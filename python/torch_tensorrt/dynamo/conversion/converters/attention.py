"""softmax / log_softmax and scaled_dot_product_attention.

Attention computed in float16/bfloat16 goes to TensorRT's own attention layer (``IAttention``, ``add_attention_v2``
or ``add_attention``) when the installed TensorRT has one and the call fits it: on a GPU it becomes one fused
(flash-attention) kernel. TensorRT has no fused attention kernel for float32 (it decomposes the layer, and the
decomposed layer makes a larger engine than the matmul form: swin_t +1.5 MB), so float32 keeps the matmul form. The layer takes rank-4 [b, heads, s, h]
query/key/value with key and value of one shape, query heads a multiple of key/value heads (GQA/MQA), a bool or
additive mask [a0, a1, s_q, s_kv] (a0, a1 broadcastable) or a causal flag, and applies no scale: q is scaled
first. Everything else -- and every call on a TensorRT without the layer -- is written as
``softmax(q k^T * scale + mask) v``: two matrix multiplies in the compute dtype and the softmax (with the scale
and mask) in float32, the pattern TensorRT's older attention fusion recognizes.
"""

from __future__ import annotations

import math
from typing import Any, Optional, cast

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
    q, k, _ = cast(list[torch.Tensor], vals)
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


def fused_attention_available() -> bool:
    """Whether the installed TensorRT has an attention layer (TensorRT 10.14+ / TensorRT-RTX 1.2+)."""
    network = trt.INetworkDefinition
    return hasattr(network, "add_attention_v2") or hasattr(network, "add_attention")


def _same(a: Any, b: Any) -> bool:
    """Two sizes known equal (ints, or SymInts of one expression)."""
    if isinstance(a, torch.SymInt) or isinstance(b, torch.SymInt):
        return isinstance(a, torch.SymInt) and isinstance(b, torch.SymInt) and a.node.expr == b.node.expr
    return int(a) == int(b)


def fused_attention_misfit(node: torch.fx.Node) -> Optional[str]:
    """Why this attention call cannot use TensorRT's attention layer (None: it can)."""
    if not fused_attention_available():
        return "the installed TensorRT has no attention layer"
    q, k, v = (input_val(node, i) for i in range(3))
    mask = node_arg(node, 3, "attn_mask")
    mask_val = mask.meta.get("val") if isinstance(mask, torch.fx.Node) else mask
    if q is None or k is None or v is None or not q.dim() == k.dim() == v.dim() or q.dim() not in (3, 4):
        return "query/key/value are not all of rank 3 or 4"
    if q.dtype not in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        return f"{q.dtype} attention"
    if len(k.shape) != len(v.shape) or not all(_same(a, b) for a, b in zip(k.shape, v.shape)):
        return "key and value shapes differ"
    if not _same(q.shape[0], k.shape[0]) or not _same(q.shape[-1], k.shape[-1]):
        return "query and key differ in batch or head size"
    if q.dim() == 4:
        hq, hk = q.shape[1], k.shape[1]
        if not (isinstance(hq, int) and isinstance(hk, int)) or hk == 0 or hq % hk:
            return f"{hq} query heads for {hk} key/value heads"
    if mask_val is not None and (not isinstance(mask_val, torch.Tensor) or mask_val.dim() > q.dim()):
        return "mask of higher rank than the query"
    return None


def _attention_mask(
    ctx: ConversionContext, mask: Any, q: Any, k: Any, causal: bool, rank: int, dtype: torch.dtype
) -> Any:
    """The mask as the attention layer takes it: rank 4, [a0, a1, s_q, s_kv], bool or of the query's dtype, with
    a causal restriction folded in (the layer cannot take both)."""
    mask = T.to_trt(ctx, mask, torch.bool if T.dtype_of(mask) == torch.bool else dtype)
    mask = T.unsqueeze_to_rank(ctx, mask, rank)
    if rank == 3:  # [b, s_q, s_kv] for a headless query: the head axis sits at 1
        mask = T.unsqueeze(ctx, mask, [1])
    dims = T.sizes(ctx, mask)
    target = dims[:2] + [T.dim_size(ctx, q, 2), T.dim_size(ctx, k, 2)]
    mask = T.expand(ctx, mask, target)
    is_bool = T.dtype_of(mask) == torch.bool
    if not is_bool:
        mask = T.cast(ctx, mask, dtype)
        if dtype != torch.float32:  # -inf stays -inf; finite values below the half range saturate, not overflow
            mask = T.elementwise(ctx, mask, float(torch.finfo(dtype).min), E.MAX, dtype)
    if causal:
        masked = _causal_masked(ctx, mask)
        mask = (
            T.elementwise(ctx, mask, T.unary(ctx, masked, U.NOT), E.AND, torch.bool)
            if is_bool
            else _mask_out(ctx, mask, masked)
        )
    return mask


def _fused_attention(
    ctx: ConversionContext, q: Any, k: Any, v: Any, mask: Any, causal: bool, dtype: torch.dtype
) -> Any:
    """``IAttention`` on scaled q: [b, hq, s_q, h] x [b, hk, s_kv, h] -> [b, hq, s_q, h] (rank 3: one head)."""
    rank = len(q.shape)
    if rank == 3:
        q, k, v = (T.unsqueeze(ctx, t, [1]) for t in (q, k, v))
    layer_mask = _attention_mask(ctx, mask, q, k, causal, rank, dtype) if mask is not None else None
    kind = trt.CausalMaskKind.UPPER_LEFT if causal and layer_mask is None else trt.CausalMaskKind.NONE
    if hasattr(ctx.network, "add_attention_v2"):
        attention = ctx.network.add_attention_v2(q, k, v, trt.AttentionNormalizationOp.SOFTMAX, kind)
    else:
        attention = ctx.network.add_attention(
            q, k, v, trt.AttentionNormalizationOp.SOFTMAX, kind != trt.CausalMaskKind.NONE
        )
    if layer_mask is not None:
        attention.mask = layer_mask
    attention.decomposable = True  # several kernels where no fused kernel fits the GPU, rather than no engine
    out = attention.get_output(0)
    return T.squeeze(ctx, out, [1]) if rank == 3 else out


def _scale_of(ctx: ConversionContext, q: Any, scale: Optional[float], dtype: torch.dtype) -> Any:
    """The softmax scale: ``scale``, or 1/sqrt(head size) (an ITensor for a dynamic head size)."""
    if scale is not None:
        return scale
    depth = T.dim_size(ctx, q, -1)
    if isinstance(depth, int):
        return 1.0 / math.sqrt(depth)
    root = T.unary(ctx, T.as_scalar(ctx, depth, dtype), U.SQRT)
    return T.elementwise(ctx, 1.0, root, E.DIV, dtype)


@converter(aten.scaled_dot_product_attention.default, validator=_sdpa_ok)
def scaled_dot_product_attention(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    dtype = out_dtype(ctx, node)
    q, k, v = (T.to_trt(ctx, a, dtype) for a in args[:3])
    mask = arg(args, kwargs, 3, "attn_mask")
    causal = bool(arg(args, kwargs, 5, "is_causal", False))
    scale = _scale_of(ctx, q, kwargs.get("scale"), dtype)
    if not (isinstance(scale, float) and scale == 1.0):  # scale q first: keeps q k^T in range in half precision
        q = T.elementwise(ctx, q, scale, E.PROD, dtype)
    if dtype in (torch.float16, torch.bfloat16) and fused_attention_misfit(node) is None:
        return _fused_attention(ctx, q, k, v, mask, causal, dtype)
    if kwargs.get("enable_gqa") and len(q.shape) >= 3 and q.shape[-3] != k.shape[-3]:
        groups = q.shape[-3] // k.shape[-3]
        k, v = repeat_heads(ctx, k, groups), repeat_heads(ctx, v, groups)
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
