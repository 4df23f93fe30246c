"""Reductions (sum/mean/prod/amax/amin/max/min/any/all/var/std/norm/logsumexp/cumsum) and sorting (topk, sort,
argmax/argmin, max.dim/min.dim): static, dynamic-batch and fp16 cases against eager PyTorch."""

from __future__ import annotations

import operator

import pytest
import torch

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten
torch.manual_seed(0)


class Fn(torch.nn.Module):
    """One-input module around ``fn`` (the harness's own wrapper takes ``*args``, which dynamic shapes reject)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


X = torch.randn(2, 3, 4, 5)
DYN = [((1, 3, 4, 5), (2, 3, 4, 5), (4, 3, 4, 5))]

# (name, fn, aten op the graph must keep)
FLOAT_CASES = [
    ("sum_dims_keep", lambda x: x.sum((1, 3), keepdim=True), aten.sum.dim_IntList),
    ("sum_neg_dim", lambda x: x.sum(-1), aten.sum.dim_IntList),
    ("sum_all", lambda x: x.sum(), aten.sum.default),
    ("sum_dtype", lambda x: x.sum(1, dtype=torch.float16), aten.sum.dim_IntList),
    ("mean_dim", lambda x: x.mean((0, 2)), aten.mean.dim),
    ("mean_keep", lambda x: x.mean(-1, keepdim=True), aten.mean.dim),
    ("mean_all", lambda x: x.mean(), aten.mean.default),
    ("prod_dim", lambda x: x.prod(2), aten.prod.dim_int),
    ("prod_all", lambda x: (x * 0.5 + 1).prod(), aten.prod.default),
    ("amax", lambda x: x.amax((1, 2)), aten.amax.default),
    ("amin_keep", lambda x: x.amin(-1, keepdim=True), aten.amin.default),
    ("max_all", lambda x: x.max(), aten.max.default),
    ("min_all", lambda x: x.min(), aten.min.default),
    ("var_unbiased", lambda x: x.var(1), aten.var.dim),
    ("var_correction", lambda x: torch.var(x, (2, 3), correction=0, keepdim=True), aten.var.correction),
    ("var_all", lambda x: x.var(), aten.var.correction),
    ("std_dim", lambda x: x.std(-1, unbiased=False), aten.std.dim),
    ("std_corr2", lambda x: torch.std(x, 2, correction=2), aten.std.correction),
    ("var_mean", lambda x: torch.var_mean(x, 1), aten.var_mean.correction),
    ("norm2", lambda x: torch.linalg.vector_norm(x, 2, -1), aten.linalg_vector_norm.default),
    ("norm1", lambda x: x.norm(p=1, dim=(1, 2)), aten.linalg_vector_norm.default),
    ("norm_inf", lambda x: torch.linalg.vector_norm(x, float("inf"), 1, keepdim=True), aten.linalg_vector_norm.default),
    ("norm_ninf", lambda x: torch.linalg.vector_norm(x, float("-inf"), 1), aten.linalg_vector_norm.default),
    ("norm3_all", lambda x: torch.linalg.vector_norm(x, 3), aten.linalg_vector_norm.default),
    ("norm0", lambda x: torch.linalg.vector_norm(torch.relu(x), 0, -1), aten.linalg_vector_norm.default),
    ("logsumexp", lambda x: torch.logsumexp(x, 1), aten.logsumexp.default),
    ("logsumexp_keep", lambda x: torch.logsumexp(x * 30, (2, 3), keepdim=True), aten.logsumexp.default),
    ("cumsum", lambda x: torch.cumsum(x, 1), aten.cumsum.default),
    ("cumsum_last", lambda x: torch.cumsum(x, -1), aten.cumsum.default),
]


# Static-shape builds for the cases whose reduced-element counts come out differently from dynamic ones
# (every case also runs with a dynamic batch below).
STATIC = [
    c
    for c in FLOAT_CASES
    if c[0]
    in {"sum_all", "mean_dim", "var_all", "var_mean", "norm3_all", "prod_all", "max_all", "logsumexp_keep", "cumsum"}
]


@pytest.mark.parametrize("name,fn,op", STATIC, ids=[c[0] for c in STATIC])
def test_float_reduction_static(name, fn, op):
    assert_converts(Fn(fn), [X], expected_ops={op})


@pytest.mark.parametrize("name,fn,op", FLOAT_CASES, ids=[c[0] for c in FLOAT_CASES])
def test_float_reduction_dynamic(name, fn, op):
    assert_converts(Fn(fn), [X], input_ranges=DYN, expected_ops={op})


FP16_CASES = [
    c
    for c in FLOAT_CASES
    if c[0] in {"sum_dims_keep", "mean_all", "var_unbiased", "std_dim", "norm2", "logsumexp", "cumsum"}
]


@pytest.mark.parametrize("name,fn,op", FP16_CASES, ids=[c[0] for c in FP16_CASES])
def test_float_reduction_fp16(name, fn, op):
    assert_converts(Fn(fn), [X], input_ranges=DYN, precision=torch.float16, expected_ops={op})


I = torch.randint(-5, 6, (2, 3, 4), dtype=torch.int32)
B = torch.rand(2, 3, 4) > 0.6
INT_CASES = [
    ("sum_int", lambda x: x.sum(1), I, aten.sum.dim_IntList),
    ("sum_int_all", lambda x: x.sum(), I, aten.sum.default),
    ("sum_bool", lambda x: x.sum(-1), B, aten.sum.dim_IntList),
    ("prod_int", lambda x: x.prod(2), I, aten.prod.dim_int),
    ("amax_int", lambda x: x.amax(1), I, aten.amax.default),
    ("amax_bool", lambda x: x.amax(1), B, aten.amax.default),
    ("any_dim", lambda x: x.any(1), B, aten.any.dim),
    ("any_all", lambda x: x.any(), I, aten.any.default),
    ("any_dims", lambda x: x.any((0, 2)), B, aten.any.dims),
    ("all_dim", lambda x: x.all(-1, keepdim=True), B, aten.all.dim),
    ("all_float", lambda x: x.all(1), torch.randint(0, 3, (2, 3, 4)).float(), aten.all.dim),
    ("cumsum_int", lambda x: torch.cumsum(x, 2), I, aten.cumsum.default),
    ("cumsum_bool", lambda x: torch.cumsum(x, 0), B, aten.cumsum.default),
]


@pytest.mark.parametrize("name,fn,x,op", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_int_bool_reduction(name, fn, x, op):
    assert_converts(Fn(fn), [x], input_ranges=[((1, 3, 4), (2, 3, 4), (3, 3, 4))], expected_ops={op})


# -- sorting / TopK ----------------------------------------------------------------------------------------------
SORT_CASES = [
    ("topk_last", lambda x: x.topk(3), aten.topk.default),
    ("topk_dim1_smallest", lambda x: torch.topk(x, 2, dim=1, largest=False), aten.topk.default),
    ("topk_batch_dim", lambda x: torch.topk(x, 1, dim=0), aten.topk.default),
    ("sort_last", lambda x: torch.sort(x), aten.sort.default),
    ("sort_desc_dim2", lambda x: torch.sort(x, 2, descending=True), aten.sort.default),
    ("sort_batch_dim", lambda x: torch.sort(x, 0), aten.sort.default),
    ("argmax_dim", lambda x: x.argmax(-1), aten.argmax.default),
    ("argmax_keep", lambda x: x.argmax(1, keepdim=True), aten.argmax.default),
    ("argmax_all", lambda x: x.argmax(), aten.argmax.default),
    ("argmin_dim", lambda x: x.argmin(2), aten.argmin.default),
    ("max_dim", lambda x: x.max(1), aten.max.dim),
    ("max_dim_keep", lambda x: x.max(-1, keepdim=True), aten.max.dim),
    ("min_dim", lambda x: torch.min(x, 3), aten.min.dim),
]


@pytest.mark.parametrize("name,fn,op", SORT_CASES, ids=[c[0] for c in SORT_CASES])
def test_sorting(name, fn, op):
    if name in {"topk_batch_dim", "sort_last", "sort_batch_dim", "argmax_all"}:  # static k / static dims
        assert_converts(Fn(fn), [X], expected_ops={op})
    assert_converts(Fn(fn), [X], input_ranges=DYN, expected_ops={op})


def test_topk_rank6_moves_dim_last():
    x = torch.randn(2, 3, 2, 2, 3, 4)
    assert_converts(Fn(lambda t: torch.topk(t, 2, dim=1)), [x], expected_ops={aten.topk.default})


def test_sort_fp16_and_int():
    # Random floats collide once rounded to fp16, and the order of equal values is unspecified: the dynamic case
    # checks the sorted values; indices are checked on values that stay distinct in fp16.
    assert_converts(
        Fn(lambda t: torch.sort(t, 1).values),
        [X],
        input_ranges=DYN,
        precision=torch.float16,
        expected_ops={aten.sort.default},
    )
    distinct = torch.randperm(X.numel()).reshape(X.shape).float() / 8
    assert_converts(
        Fn(lambda t: torch.sort(t, 1)), [distinct], precision=torch.float16, expected_ops={aten.sort.default}
    )
    i = torch.randperm(24, dtype=torch.int32).reshape(2, 12)
    assert_converts(Fn(lambda t: t.topk(4)), [i], expected_ops={aten.topk.default})


def test_sort_dynamic_sorted_dim():
    x = torch.randn(3, 6)
    assert_converts(
        Fn(lambda t: torch.sort(t, -1, descending=True)),
        [x],
        input_ranges=[((3, 2), (3, 6), (3, 9))],
        expected_ops={aten.sort.default},
    )


def _decision(fn, x):
    from torch_tensorrt.dynamo._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

    ep = torch.export.export(Fn(fn), (x,))
    node = next(n for n in ep.graph.nodes if n.op == "call_function" and n.target != operator.getitem)
    return CONVERTERS.decide(node, CompilationSettings())


def test_topk_limits_fall_back():
    big = torch.randn(2, 4000)
    assert "3840" in _decision(lambda t: t.topk(3900), big).reason
    assert "3840" in _decision(lambda t: torch.sort(t), big).reason
    assert "stable" in _decision(lambda t: torch.sort(t, stable=True), X).reason
    assert _decision(lambda t: t.topk(5), big).supported
