"""Elementwise unary converters: math functions, rounding, sign/abs/neg, classification -- static, dynamic
batch, fp16, integer inputs and edge values."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten


def _batch_range(t: torch.Tensor) -> tuple:
    rest = tuple(t.shape[1:])
    return ((1, *rest), tuple(t.shape), (2 * t.shape[0], *rest))


def _any(*shape: int) -> torch.Tensor:
    return torch.randn(*shape) * 2


def _positive(*shape: int) -> torch.Tensor:
    return torch.rand(*shape) * 3 + 0.05


def _unit(*shape: int) -> torch.Tensor:
    return torch.rand(*shape) * 1.8 - 0.9


def _above_one(*shape: int) -> torch.Tensor:
    return torch.rand(*shape) * 3 + 1.01


# (name, fn, expected op, input maker); the harness draws the dynamic cases' min/max inputs inside the example's
# value range, so the domain-restricted functions stay in their domain at every shape
UNARY = [
    ("exp", torch.exp, aten.exp.default, _any),
    ("expm1", torch.expm1, aten.expm1.default, _any),
    ("exp2", torch.exp2, aten.exp2.default, _any),
    ("log", torch.log, aten.log.default, _positive),
    ("log2", torch.log2, aten.log2.default, _positive),
    ("log10", torch.log10, aten.log10.default, _positive),
    ("log1p", torch.log1p, aten.log1p.default, _positive),
    ("sqrt", torch.sqrt, aten.sqrt.default, _positive),
    ("rsqrt", torch.rsqrt, aten.rsqrt.default, _positive),
    ("reciprocal", torch.reciprocal, aten.reciprocal.default, _positive),
    ("sin", torch.sin, aten.sin.default, _any),
    ("cos", torch.cos, aten.cos.default, _any),
    ("tan", torch.tan, aten.tan.default, _unit),
    ("asin", torch.asin, aten.asin.default, _unit),
    ("acos", torch.acos, aten.acos.default, _unit),
    ("atan", torch.atan, aten.atan.default, _any),
    ("sinh", torch.sinh, aten.sinh.default, _any),
    ("cosh", torch.cosh, aten.cosh.default, _any),
    ("tanh", torch.tanh, aten.tanh.default, _any),
    ("asinh", torch.asinh, aten.asinh.default, _any),
    ("acosh", torch.acosh, aten.acosh.default, _above_one),
    ("atanh", torch.atanh, aten.atanh.default, _unit),
    ("erf", torch.erf, aten.erf.default, _any),
    ("abs", torch.abs, aten.abs.default, _any),
    ("neg", torch.neg, aten.neg.default, _any),
    ("sign", torch.sign, aten.sign.default, _any),
    ("sgn", torch.sgn, aten.sgn.default, _any),
    ("square", torch.square, aten.square.default, _any),
    ("floor", torch.floor, aten.floor.default, _any),
    ("ceil", torch.ceil, aten.ceil.default, _any),
    ("round", torch.round, aten.round.default, _any),
    ("trunc", torch.trunc, aten.trunc.default, _any),
]


@pytest.mark.parametrize("name,fn,op,make", UNARY, ids=[c[0] for c in UNARY])
def test_unary_static(name, fn, op, make):
    assert_converts(fn, [make(2, 3, 4)], expected_ops={op})


@pytest.mark.parametrize("name,fn,op,make", UNARY, ids=[c[0] for c in UNARY])
def test_unary_dynamic(name, fn, op, make):
    x = make(3, 5)
    assert_converts(fn, [x], input_ranges=[_batch_range(x)], expected_ops={op})


@pytest.mark.parametrize("name,fn,op,make", UNARY, ids=[c[0] for c in UNARY])
def test_unary_fp16(name, fn, op, make):
    assert_converts(fn, [make(4, 8)], precision=torch.float16, expected_ops={op})


def test_domain_restricted_dynamic():
    """log/sqrt/acosh/... with dynamic batch (inputs mapped into the domain inside the graph)."""
    x = torch.randn(3, 5)

    def fn(x):
        p = x.abs() + 0.1
        u = x.clamp(-0.9, 0.9)
        return (
            torch.log(p),
            torch.log2(p),
            torch.log10(p),
            torch.log1p(p),
            torch.sqrt(p),
            torch.rsqrt(p),
            torch.reciprocal(p),
            torch.asin(u),
            torch.acos(u),
            torch.atanh(u),
            torch.tan(u),
            torch.acosh(p + 1),
        )

    assert_converts(fn, [x], input_ranges=[_batch_range(x)], expected_ops={aten.log.default, aten.acosh.default})


# -- accuracy near zero -----------------------------------------------------------------------------------------
def test_expm1_log1p_small_arguments():
    """exp(x) - 1 and log(1 + x) lose all relative accuracy at |x| ~ 1e-7; the converters do not."""
    x = torch.tensor([1e-8, -1e-8, 3e-6, -3e-6, 1e-4, -1e-4, 5e-3, -5e-3, 0.0, 0.02, -0.02, 1.0, -1.0, 10.0])
    result = assert_converts(
        lambda x: (torch.expm1(x), torch.log1p(x)),
        [x],
        rtol=1e-6,
        atol=0.0,
        expected_ops={aten.expm1.default, aten.log1p.default},
    )
    assert result.max_rel_error < 1e-6


# -- rounding -----------------------------------------------------------------------------------------------------
def test_round_half_to_even():
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.5, 0.49, -0.51, 2.51, 1e6 + 0.5])
    assert_converts(torch.round, [x], expected_ops={aten.round.default})


def test_rounding_negative_and_integral_values():
    x = torch.tensor([-2.7, -2.0, -0.3, -0.0, 0.0, 0.3, 2.0, 2.7, -1e-3, 1e-3])
    assert_converts(
        lambda x: (torch.floor(x), torch.ceil(x), torch.trunc(x), torch.round(x)),
        [x],
        expected_ops={aten.floor.default, aten.ceil.default, aten.trunc.default, aten.round.default},
    )


@pytest.mark.parametrize("decimals", [2, 1, -1, -2])
def test_round_decimals(decimals):
    x = torch.randn(4, 6) * 300
    assert_converts(
        lambda x: torch.round(x, decimals=decimals),
        [x],
        input_ranges=[_batch_range(x)],
        expected_ops={aten.round.decimals},
    )


# -- integer and bool inputs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_integer_preserving(dtype):
    """abs/neg/sign/square/rounding keep integer dtypes (abs of int stays int)."""
    x = torch.randint(-50, 50, (3, 5), dtype=dtype)
    fns = lambda x: (  # noqa: E731
        torch.abs(x),
        torch.neg(x),
        torch.sign(x),
        torch.square(x),
        torch.floor(x),
        torch.round(x),
        torch.trunc(x),
    )
    assert_converts(
        fns, [x], input_ranges=[_batch_range(x)], expected_ops={aten.abs.default, aten.neg.default, aten.sign.default}
    )


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool])
def test_integer_to_float(dtype):
    """Float functions of integer/bool tensors compute in float32, like torch."""
    x = torch.randint(0, 5, (3, 4), dtype=dtype) if dtype != torch.bool else torch.rand(3, 4) > 0.5
    assert_converts(
        lambda x: (torch.exp(x), torch.sqrt(x), torch.sin(x), torch.reciprocal(x + 1), torch.log1p(x)),
        [x],
        expected_ops={
            aten.exp.default,
            aten.sqrt.default,
            aten.sin.default,
            aten.reciprocal.default,
            aten.log1p.default,
        },
    )


def test_bool_sign_abs():
    x = torch.rand(3, 4) > 0.5
    assert_converts(
        lambda x: (torch.sign(x), torch.square(x)),
        [x],
        expected_ops={aten.sign.default, aten.square.default},
    )


# -- classification -------------------------------------------------------------------------------------------------
def test_isnan_isinf():
    inf, nan = float("inf"), float("nan")
    x = torch.tensor([0.0, inf, -inf, nan, 1.0, -3e38, 1e-40])
    assert_converts(
        lambda x: (torch.isnan(x), torch.isinf(x)), [x], expected_ops={aten.isnan.default, aten.isinf.default}
    )


def test_isnan_isinf_dynamic_fp16():
    x = torch.randn(3, 4)
    assert_converts(
        lambda x: (torch.isnan(x), torch.isinf(x)),
        [x],
        input_ranges=[_batch_range(x)],
        expected_ops={aten.isnan.default, aten.isinf.default},
    )
    assert_converts(
        lambda x: (torch.isnan(x), torch.isinf(x / 0)),
        [x],
        precision=torch.float16,
        expected_ops={aten.isnan.default, aten.isinf.default},
    )


def test_isnan_isinf_integers():
    assert_converts(
        lambda x: (torch.isnan(x), torch.isinf(x)),
        [torch.randint(-5, 5, (3, 4), dtype=torch.int32)],
        expected_ops={aten.isnan.default, aten.isinf.default},
    )


def test_special_values():
    """Edge values through functions TensorRT documents for them: exp overflow, log of 0/negative, sqrt(-1)."""
    x = torch.tensor([0.0, -1.0, 100.0, -100.0, 1.0])
    assert_converts(
        lambda x: (torch.exp(x), torch.log(x), torch.sqrt(x), torch.abs(x), torch.sign(x)),
        [x],
        expected_ops={aten.exp.default, aten.log.default, aten.sqrt.default, aten.abs.default, aten.sign.default},
    )


# -- composites of core-ATen ops without a TensorRT layer ----------------------------------------------------------
def test_atan2_all_quadrants():
    y = torch.tensor([1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 2.0, -2.0, 0.0, 3.0])
    x = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 0.0, 0.0, 0.0, -1e-3])
    assert_converts(torch.atan2, [y, x], expected_ops={aten.atan2.default})


def test_binary_composites_dynamic_fp16():
    y, x = torch.randn(3, 5), torch.randn(5)
    fn = lambda y, x: (  # noqa: E731
        torch.atan2(y, x),
        torch.hypot(y, x),
        torch.copysign(y, x),
        torch.copysign(y, -1.0),
        torch.erfc(y),
    )
    ops = {aten.atan2.default, aten.hypot.default, aten.copysign.Tensor, aten.erfc.default}
    assert_converts(fn, [y, x], input_ranges=[_batch_range(y), None], expected_ops=ops)
    assert_converts(fn, [y, x], precision=torch.float16, expected_ops=ops)
