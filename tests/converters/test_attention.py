"""softmax / log_softmax and scaled_dot_product_attention against eager PyTorch (static, dynamic, fp16)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten
SDPA = aten.scaled_dot_product_attention.default


class Fn(torch.nn.Module):
    """Module around ``fn`` with a fixed arity (the harness's own wrapper takes ``*args``, which dynamic shapes reject)."""

    def __init__(self, fn, arity=1):
        super().__init__()
        self.fn = fn
        self.arity = arity

    def forward(self, a, b=None, c=None, d=None):
        return self.fn(*(a, b, c, d)[: self.arity])


X = torch.randn(2, 3, 4, 6)
DYN = [((1, 3, 4, 6), (2, 3, 4, 6), (4, 3, 4, 6))]

SOFTMAX_CASES = [
    ("softmax_last", lambda x: torch.softmax(x, -1), aten.softmax.int),
    ("softmax_dim1", lambda x: F.softmax(x * 4, dim=1), aten.softmax.int),
    ("softmax_batch_dim", lambda x: torch.softmax(x, 0), aten.softmax.int),
    ("softmax_dtype", lambda x: torch.softmax(x, 2, dtype=torch.float16), aten.softmax.int),
    ("log_softmax_last", lambda x: torch.log_softmax(x * 20, -1), aten.log_softmax.int),
    ("log_softmax_dim2", lambda x: F.log_softmax(x, dim=2), aten.log_softmax.int),
    ("_softmax", lambda x: aten._softmax.default(x, 1, False), aten._softmax.default),
    ("_log_softmax", lambda x: aten._log_softmax.default(x, -1, False), aten._log_softmax.default),
]


@pytest.mark.parametrize("name,fn,op", SOFTMAX_CASES, ids=[c[0] for c in SOFTMAX_CASES])
def test_softmax(name, fn, op):
    tol = 2e-3 if name == "softmax_dtype" else None  # a float16 result: compare at half precision
    assert_converts(Fn(fn), [X], expected_ops={op}, rtol=tol)
    assert_converts(Fn(fn), [X], input_ranges=DYN, expected_ops={op}, rtol=tol)


@pytest.mark.parametrize("name,fn,op", SOFTMAX_CASES[:1] + SOFTMAX_CASES[4:5], ids=["softmax", "log_softmax"])
def test_softmax_fp16(name, fn, op):
    result = assert_converts(Fn(fn), [X], input_ranges=DYN, precision=torch.float16, expected_ops={op})
    network = result.converted.network.network
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    from torch_tensorrt._trt import trt

    # accumulation-sensitive: the softmax / reductions run in float32 inside the half-precision network
    core = [l for l in layers if l.type in (trt.LayerType.SOFTMAX, trt.LayerType.REDUCE)]
    assert core and all(l.get_output(0).dtype == trt.float32 for l in core)


def test_softmax_rank0_rank1():
    assert_converts(Fn(lambda x: torch.softmax(x.sum(), 0)), [X], expected_ops={aten.softmax.int})
    assert_converts(
        Fn(lambda x: torch.log_softmax(x, 0)),
        [torch.randn(7)],
        input_ranges=[((2,), (7,), (9,))],
        expected_ops={aten.log_softmax.int},
    )
    assert_converts(
        Fn(lambda x: torch.softmax(x, 0)),
        [torch.randn(7)],
        input_ranges=[((2,), (7,), (9,))],
        expected_ops={aten.softmax.int},
    )


# -- scaled_dot_product_attention --------------------------------------------------------------------------------
Q = torch.randn(2, 4, 5, 8)
K = torch.randn(2, 4, 7, 8)
V = torch.randn(2, 4, 7, 6)
KEEP = torch.rand(5, 7) > 0.4
KEEP[:, 0] = True  # every query attends to at least one key (a fully masked row is NaN)
# Dynamic cases derive q, k, v from one input: the tracer gives each input its own size symbols, and export
# rejects separate symbols that the model forces equal.
X_SELF = torch.randn(2, 4, 6, 8)
SELF_DYN = [((1, 4, 2, 8), (2, 4, 6, 8), (3, 4, 9, 8))]
KEEP_SELF = torch.rand(6, 6) > 0.4
KEEP_SELF[:, 0] = True

SDPA_CASES = [
    ("plain", {}),
    ("scale", {"scale": 0.3}),
    ("causal", {"is_causal": True}),
    ("bool_mask", {"attn_mask": "bool"}),
    ("float_mask", {"attn_mask": "float"}),
]


def _mask(kind, keep):
    if kind == "bool":
        return keep
    return torch.log(keep.float() + 0.1)


def _cross(kw):
    kw = dict(kw)
    if "attn_mask" in kw:
        kw["attn_mask"] = _mask(kw["attn_mask"], KEEP)
    return Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw), 3)


def _self(kw, batch_only=False):
    kw = dict(kw)
    if "attn_mask" in kw:
        kw["attn_mask"] = _mask(kw["attn_mask"], KEEP_SELF)
    return Fn(lambda x: F.scaled_dot_product_attention(x, x * 0.7, x - 0.3, **kw))


@pytest.mark.parametrize("name,kw", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_static(name, kw):
    assert_converts(_cross(kw), [Q, K, V], expected_ops={SDPA})


@pytest.mark.parametrize("name,kw", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_dynamic(name, kw):
    # a fixed-size mask pins the sequence length: then only the batch is dynamic
    rng = [((1, 4, 6, 8), (2, 4, 6, 8), (3, 4, 6, 8))] if "attn_mask" in kw else SELF_DYN
    assert_converts(_self(kw), [X_SELF], input_ranges=rng, expected_ops={SDPA})


@pytest.mark.parametrize("name,kw", SDPA_CASES[:4], ids=[c[0] for c in SDPA_CASES[:4]])
def test_sdpa_fp16(name, kw):
    rng = [((1, 4, 6, 8), (2, 4, 6, 8), (3, 4, 6, 8))] if "attn_mask" in kw else SELF_DYN
    assert_converts(_self(kw), [X_SELF], input_ranges=rng, precision=torch.float16, expected_ops={SDPA})


def test_sdpa_mask_as_input():
    mask = torch.randn(5, 7)
    fn = Fn(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), 4)
    assert_converts(fn, [Q, K, V, mask], expected_ops={SDPA})
    bmask = torch.randn(2, 1, 6, 6)
    fn = Fn(lambda x, m: F.scaled_dot_product_attention(x, x, x, attn_mask=m), 2)
    assert_converts(fn, [X_SELF, bmask], expected_ops={SDPA})


def test_sdpa_gqa():
    q = torch.randn(2, 6, 5, 8)
    kv = torch.randn(2, 2, 7, 8)
    fn = Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), 3)
    assert_converts(fn, [q, kv, kv.flip(-2)], expected_ops={SDPA})
    fn = Fn(lambda x: F.scaled_dot_product_attention(x, x[:, :2] * 0.7, x[:, 2:4], is_causal=True, enable_gqa=True))
    assert_converts(
        fn, [torch.randn(2, 6, 5, 8)], input_ranges=[((1, 6, 2, 8), (2, 6, 5, 8), (3, 6, 7, 8))], expected_ops={SDPA}
    )


def test_sdpa_3d():
    q, k, v = torch.randn(3, 5, 8), torch.randn(3, 6, 8), torch.randn(3, 6, 8)
    assert_converts(
        Fn(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), 3), [q, k, v], expected_ops={SDPA}
    )


def test_sdpa_dropout_falls_back():
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    ep = torch.export.export(Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=0.5), 3), (Q, K, V))
    node = next(n for n in ep.graph.nodes if n.target == SDPA)
    decision = CONVERTERS.decide(node, CompilationSettings())
    assert not decision.supported and "dropout" in decision.reason


# -- TensorRT's attention layer (IAttention) -----------------------------------------------------------------------
def _layer_types(result) -> list[str]:
    network = result.converted.network.network
    return [network.get_layer(i).type.name for i in range(network.num_layers)]


needs_attention_layer = pytest.mark.skipif(
    not __import__("torch_tensorrt.dynamo.conversion.converters.attention", fromlist=["x"]).fused_attention_available(),
    reason="the installed TensorRT has no attention layer",
)


@needs_attention_layer
@pytest.mark.parametrize("name,kw", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_uses_the_attention_layer(name, kw):
    """Same-shaped key and value in half precision: one IAttention (no matmul, no softmax), static and dynamic;
    in float32 (no fused kernel exists) the matmul form."""
    rng = [((1, 4, 6, 8), (2, 4, 6, 8), (3, 4, 6, 8))] if "attn_mask" in kw else SELF_DYN
    for ranges in (None, rng):
        result = assert_converts(_self(kw), [X_SELF], input_ranges=ranges, precision=torch.float16, expected_ops={SDPA})
        types = _layer_types(result)
        assert types.count("ATTENTION_INPUT") == 1 and "SOFTMAX" not in types and "MATRIX_MULTIPLY" not in types
    types = _layer_types(assert_converts(_self(kw), [X_SELF], expected_ops={SDPA}))
    assert "ATTENTION_INPUT" not in types and types.count("MATRIX_MULTIPLY") == 2


@needs_attention_layer
def test_attention_layer_gqa_3d_and_padding_mask():
    q, kv = torch.randn(2, 6, 5, 8), torch.randn(2, 2, 7, 8)
    half = {"precision": torch.float16, "expected_ops": {SDPA}}
    gqa = Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), 3)
    assert "ATTENTION_INPUT" in _layer_types(assert_converts(gqa, [q, kv, kv.flip(-2)], **half))
    mqa = Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), 3)  # one key/value head broadcast
    assert "ATTENTION_INPUT" in _layer_types(assert_converts(mqa, [q, kv[:, :1], kv[:, 1:]], **half))
    causal3d = Fn(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), 3)
    three = [torch.randn(3, 5, 8), torch.randn(3, 6, 8), torch.randn(3, 6, 8)]
    assert "ATTENTION_INPUT" in _layer_types(assert_converts(causal3d, three, **half))
    # a padding mask [b, 1, 1, s_kv] (BERT-style, bool and additive with finfo.min) broadcast over queries
    keep = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    keep[1, ..., 4:] = False
    add = torch.where(keep, 0.0, torch.finfo(torch.float32).min)
    for mask in (keep, add):
        fn = Fn(lambda x, m: F.scaled_dot_product_attention(x, x * 0.5, x + 1, attn_mask=m), 2)
        assert_converts(fn, [X_SELF, mask], expected_ops={SDPA})
        assert "ATTENTION_INPUT" in _layer_types(assert_converts(fn, [X_SELF, mask], **half))


def test_sdpa_without_the_attention_layer(monkeypatch):
    """A TensorRT without IAttention: matmul + softmax (float32) + matmul, as before."""
    from torch_tensorrt.dynamo.conversion.converters import attention

    monkeypatch.setattr(attention, "fused_attention_available", lambda: False)
    for kw in ({}, {"is_causal": True}, {"attn_mask": "float"}):
        types = _layer_types(assert_converts(_self(kw), [X_SELF], precision=torch.float16, expected_ops={SDPA}))
        assert "ATTENTION_INPUT" not in types and types.count("MATRIX_MULTIPLY") == 2 and "SOFTMAX" in types


def test_sdpa_runs_under_simulate():
    """The recording of an engine with an attention layer carries the IAttention settings the evaluator reads."""
    import torch_tensorrt
    from torch_tensorrt.testing import simulate

    model = _self({"is_causal": True})
    ep = torch.export.export(model, (X_SELF,))
    with simulate():
        gm = torch_tensorrt.dynamo.compile(ep, [X_SELF], min_block_size=1, enabled_precisions={torch.float16})
    assert any(
        "ATTENTION" in layer["type"]
        for m in gm.modules()
        if hasattr(m, "metadata") and m.metadata.network
        for layer in m.metadata.network["layers"]
    )
    torch.testing.assert_close(gm(X_SELF), model(X_SELF), rtol=1e-2, atol=1e-2)
