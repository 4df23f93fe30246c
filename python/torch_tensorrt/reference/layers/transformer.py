"""Transformer building blocks: ATTENTION_INPUT / ATTENTION_OUTPUT (``IAttention``), ROTARY_EMBEDDING and
KV_CACHE_UPDATE."""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import FLOATS, compute_in, int_list, optional, require


def _causal_allowed(kind: Any, s_q: int, s_kv: int) -> torch.Tensor:
    """[s_q, s_kv] bool: UPPER_LEFT lets query i see keys j <= i; LOWER_RIGHT anchors the diagonal at the
    bottom-right corner, j <= i + s_kv - s_q."""
    i = torch.arange(s_q).reshape(s_q, 1)
    j = torch.arange(s_kv).reshape(1, s_kv)
    shift = s_kv - s_q if kind == trt.CausalMaskKind.LOWER_RIGHT else 0
    return j <= i + shift


def _causal_kind(attention: Any) -> Any:
    kind = getattr(attention, "causal_kind", None)
    if kind is None:  # bindings before causal kinds: the boolean is the upper-left mask
        return trt.CausalMaskKind.UPPER_LEFT if attention.causal else None
    return None if kind == trt.CausalMaskKind.NONE else kind


@handles("ATTENTION_INPUT", "IAttentionInputLayer")
def attention_input(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The whole attention of the layer's ``IAttention``: ``BMM2(normalize(BMM1(Q, K^T) + mask), V)``.

    No scaling is applied (the network scales Q or K itself). Q is [b, d_q, s_q, h], K and V [b, d_kv, s_kv, h]
    (PADDED_BHND); with d_q a multiple of d_kv, query head n uses key/value head n // (d_q / d_kv). A bool mask
    marks the positions allowed to attend; a float mask is added to the BMM1 output; both broadcast to
    [b, d_q, s_q, s_kv]. ``causal_kind`` UPPER_LEFT keeps keys j <= i, LOWER_RIGHT keys j <= i + s_kv - s_q.
    SOFTMAX normalizes over s_kv (in float32 for reduced precision); NONE leaves the scores as they are. The
    ATTENTION_OUTPUT layer passes this result on.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Attention.html
    """
    q, k, v = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    mask = optional(inputs, 3)
    attention = layer.attention
    if optional(inputs, 4) is not None:
        raise ctx.unsupported(layer, "normalization quantize scale", "set")
    for attr in ("query_form", "key_value_form"):
        form = getattr(attention, attr, None)
        if form is not None and form != trt.AttentionIOForm.PADDED_BHND:
            raise ctx.unsupported(layer, attr, form)
    if q.dtype not in FLOATS or k.dtype != q.dtype or v.dtype != q.dtype:
        raise ctx.unsupported(layer, "Q/K/V dtypes", (q.dtype, k.dtype, v.dtype))
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ctx.unsupported(layer, "Q/K/V ranks", (q.dim(), k.dim(), v.dim()))
    d_q, d_kv = q.shape[1], k.shape[1]
    if d_kv == 0 or d_q % d_kv:
        raise ValueError(f"reference evaluator: layer {layer.name!r}: {d_q} query heads for {d_kv} key/value heads")
    group = d_q // d_kv
    kf = compute_in(k).repeat_interleave(group, dim=1)
    vf = compute_in(v).repeat_interleave(group, dim=1)
    scores = torch.matmul(compute_in(q), kf.transpose(-1, -2))
    s_q, s_kv = scores.shape[-2], scores.shape[-1]
    allowed = torch.ones(s_q, s_kv, dtype=torch.bool)
    kind = _causal_kind(attention)
    if kind is not None:
        allowed = allowed & _causal_allowed(kind, s_q, s_kv)
    if mask is not None:
        if mask.dtype == torch.bool:
            allowed = allowed & mask
        elif mask.dtype == q.dtype:
            scores = scores + compute_in(mask)
        else:
            raise ctx.unsupported(layer, "mask dtype", mask.dtype)
    allowed = allowed.expand(scores.shape)
    op = attention.norm_op
    if op == trt.AttentionNormalizationOp.SOFTMAX:
        scores = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    elif op == trt.AttentionNormalizationOp.NONE:
        if not bool(allowed.all()):
            raise ctx.unsupported(layer, "masking with normalization", op)
    else:
        raise ctx.unsupported(layer, "norm_op", op)
    # normalization_quantize_to_type is not read: it only means something with a quantize scale (input 4, refused
    # above), and reading it unset makes TensorRT log an API usage error (and a CUDA error on a machine without one).
    return [torch.matmul(scores, vf).to(q.dtype)]


@handles("ATTENTION_OUTPUT", "IAttentionOutputLayer")
def attention_output(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The attention's result, computed at its ATTENTION_INPUT layer.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Attention.html
    """
    return [require(inputs, 0)]


@handles("ROTARY_EMBEDDING", "IRotaryEmbeddingLayer")
def rotary_embedding(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """RoPE of an input [b, d, s, h] with cosCache/sinCache [b, s, r/2] (or [maxPositionId + 1, r/2] indexed by
    positionIds [b, s]); r is ``rotary_embedding_dim`` (0: all of h). Each pair (x1, x2) of the first r hidden
    elements -- x[i] and x[i + r/2], or x[2i] and x[2i + 1] when ``interleaved`` -- becomes
    (x1 cos - x2 sin, x2 cos + x1 sin); the other h - r elements pass through.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/RotaryEmbedding.html
    """
    x, cos, sin = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    positions = optional(inputs, 3)
    if x.dtype not in FLOATS or x.dim() != 4:
        raise ctx.unsupported(layer, "input", (x.dtype, x.dim()))
    r = int(layer.rotary_embedding_dim) or int(x.shape[-1])
    if r % 2 or r > x.shape[-1]:
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: rotary_embedding_dim {r} for hidden size {x.shape[-1]}"
        )
    if positions is not None:
        cos, sin = cos[positions.long()], sin[positions.long()]
    if tuple(cos.shape) != (x.shape[0], x.shape[2], r // 2) or cos.shape != sin.shape:
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: cos/sin {tuple(cos.shape)}/{tuple(sin.shape)} for input "
            f"{tuple(x.shape)} and rotary dim {r}"
        )
    c, s = compute_in(cos).unsqueeze(1), compute_in(sin).unsqueeze(1)  # [b, 1, s, r/2]
    xf = compute_in(x)
    rot, rest = xf[..., :r], xf[..., r:]
    if layer.interleaved:
        x1, x2 = rot[..., 0::2], rot[..., 1::2]
        rotated = torch.stack([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).flatten(-2)
    else:
        x1, x2 = rot[..., : r // 2], rot[..., r // 2 :]
        rotated = torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)
    return [torch.cat([rotated, rest], dim=-1).to(x.dtype)]


@handles("KV_CACHE_UPDATE", "IKVCacheUpdateLayer")
def kv_cache_update(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """LINEAR mode: the cache [b, d, s_max, h] with update [b, d, s, h] written along the sequence axis at
    rows ``write_indices[i] .. write_indices[i] + s - 1`` of batch item i; the rest of the cache is kept.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/KVCacheUpdate.html
    """
    cache, update, where = require(inputs, 0), require(inputs, 1), require(inputs, 2)
    if layer.cache_mode != trt.KVCacheMode.LINEAR:
        raise ctx.unsupported(layer, "cache_mode", layer.cache_mode)
    form = getattr(layer, "update_form", None)
    if form is not None and form != trt.AttentionIOForm.PADDED_BHND:
        raise ctx.unsupported(layer, "update_form", form)
    if cache.dim() != 4 or update.dim() != 4 or update.dtype != cache.dtype:
        raise ctx.unsupported(layer, "cache/update", (tuple(cache.shape), tuple(update.shape), update.dtype))
    starts = int_list(where)
    if len(starts) != cache.shape[0]:
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: {len(starts)} write indices for batch {cache.shape[0]}"
        )
    out = cache.clone()
    s = update.shape[2]
    for b, start in enumerate(starts):
        if not 0 <= start <= cache.shape[2] - s:
            raise ValueError(
                f"reference evaluator: layer {layer.name!r}: writing {s} rows at {start} of a cache of {cache.shape[2]}"
            )
        out[b, :, start : start + s] = update[b if update.shape[0] > 1 else 0]
    return [out]
