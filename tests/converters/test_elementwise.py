"""Elementwise binary converters: arithmetic (all division modes, pow, clamp, lerp, addc*), comparisons,
logical/bitwise ops and where -- static, dynamic-batch and fp16, float and integer dtypes."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt._errors import UnsupportedOperatorError
from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten


def _r(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def _divisor(*shape: int) -> torch.Tensor:
    """Floats away from zero, both signs."""
    return (torch.rand(*shape) + 0.5) * torch.sign(torch.randn(*shape))


def _ints(*shape: int, lo: int = -20, hi: int = 20, dtype: torch.dtype = torch.int32) -> torch.Tensor:
    return torch.randint(lo, hi, shape, dtype=dtype)


def _int_divisor(*shape: int, dtype: torch.dtype = torch.int32) -> torch.Tensor:
    return torch.randint(1, 6, shape, dtype=dtype) * (torch.randint(0, 2, shape, dtype=dtype) * 2 - 1)


def _batch_range(t: torch.Tensor) -> tuple:
    rest = tuple(t.shape[1:])
    return ((1, *rest), tuple(t.shape), (2 * t.shape[0], *rest))


# -- float binary arithmetic: (name, fn, expected op, make second operand) -------------------------------------------
FLOAT_BINARY = [
    ("add", lambda a, b: a + b, aten.add.Tensor, _r),
    ("add_alpha", lambda a, b: torch.add(a, b, alpha=2.5), aten.add.Tensor, _r),
    ("sub", lambda a, b: a - b, aten.sub.Tensor, _r),
    ("sub_alpha", lambda a, b: torch.sub(a, b, alpha=0.5), aten.sub.Tensor, _r),
    ("rsub", lambda a, b: torch.rsub(a, b, alpha=2), aten.rsub.Tensor, _r),
    ("mul", lambda a, b: a * b, aten.mul.Tensor, _r),
    ("div", lambda a, b: a / b, aten.div.Tensor, _divisor),
    ("div_floor", lambda a, b: torch.div(a, b, rounding_mode="floor"), aten.div.Tensor_mode, _divisor),
    ("div_trunc", lambda a, b: torch.div(a, b, rounding_mode="trunc"), aten.div.Tensor_mode, _divisor),
    ("floor_divide", lambda a, b: torch.floor_divide(a, b), aten.floor_divide.default, _divisor),
    ("fmod", lambda a, b: torch.fmod(a * 4, b), aten.fmod.Tensor, _divisor),
    ("remainder", lambda a, b: torch.remainder(a * 4, b), aten.remainder.Tensor, _divisor),
    ("pow", lambda a, b: torch.pow(a, b), aten.pow.Tensor_Tensor, _r),
    ("maximum", torch.maximum, aten.maximum.default, _r),
    ("minimum", torch.minimum, aten.minimum.default, _r),
]


def _first(name: str, *shape: int) -> torch.Tensor:
    return torch.rand(*shape) + 0.1 if name == "pow" else _r(*shape)


@pytest.mark.parametrize("name,fn,op,other", FLOAT_BINARY, ids=[c[0] for c in FLOAT_BINARY])
def test_float_binary_broadcast(name, fn, op, other):
    assert_converts(fn, [_first(name, 2, 3, 4), other(3, 1)], expected_ops={op})


@pytest.mark.parametrize("name,fn,op,other", FLOAT_BINARY, ids=[c[0] for c in FLOAT_BINARY])
def test_float_binary_dynamic(name, fn, op, other):
    a, b = _first(name, 3, 5), other(5)
    # the divisor stays static: the harness draws min/max-shape inputs with randn (values near zero)
    assert_converts(fn, [a, b], input_ranges=[_batch_range(a), None], expected_ops={op})


@pytest.mark.parametrize("name,fn,op,other", FLOAT_BINARY, ids=[c[0] for c in FLOAT_BINARY])
def test_float_binary_fp16(name, fn, op, other):
    a, b = _first(name, 2, 8), other(2, 8)
    if name in ("div_floor", "div_trunc", "floor_divide", "fmod", "remainder"):
        # fp16-exact operands (quarter-integers over +-2/+-4) keep rounded quotients away from ties
        a = torch.randint(-20, 20, (2, 8)) + 0.25
        b = torch.tensor([2.0, -2.0, 4.0, -4.0]).repeat(4).reshape(2, 8)
    assert_converts(fn, [a, b], precision=torch.float16, expected_ops={op})


# -- scalar operands ---------------------------------------------------------------------------------------------
SCALAR_CASES = [
    ("add_scalar", lambda x: x + 2.5, aten.add.Tensor),
    ("sub_scalar", lambda x: x - 1.5, aten.sub.Tensor),
    ("rsub_scalar", lambda x: 3 - x, aten.rsub.Scalar),
    ("mul_scalar", lambda x: x * -2, aten.mul.Tensor),
    ("div_scalar", lambda x: x / 0.25, aten.div.Tensor),
    ("div_floor_scalar", lambda x: torch.div(x * 5, 2, rounding_mode="floor"), aten.div.Tensor_mode),
    ("div_trunc_scalar", lambda x: torch.div(x * 5, -2, rounding_mode="trunc"), aten.div.Tensor_mode),
    ("fmod_scalar", lambda x: torch.fmod(x * 5, 1.5), aten.fmod.Scalar),
    ("remainder_scalar", lambda x: torch.remainder(x * 5, -1.5), aten.remainder.Scalar),
    ("remainder_scalar_tensor", lambda x: torch.remainder(3.5, x.abs() + 0.5), aten.remainder.Scalar_Tensor),
    ("pow_2", lambda x: x**2, aten.pow.Tensor_Scalar),
    ("pow_3", lambda x: x**3, aten.pow.Tensor_Scalar),
    ("pow_half", lambda x: (x.abs() + 0.1) ** 0.5, aten.pow.Tensor_Scalar),
    ("pow_neg_half", lambda x: (x.abs() + 0.1) ** -0.5, aten.pow.Tensor_Scalar),
    ("pow_neg1", lambda x: x**-1, aten.pow.Tensor_Scalar),
    ("pow_0", lambda x: x**0, aten.pow.Tensor_Scalar),
    ("pow_frac", lambda x: (x.abs() + 0.1) ** 2.7, aten.pow.Tensor_Scalar),
    ("rpow", lambda x: 2.0**x, aten.pow.Scalar),
    ("clamp", lambda x: x.clamp(-0.5, 0.7), aten.clamp.default),
    ("clamp_min_only", lambda x: x.clamp(min=0.2), aten.clamp.default),
    ("clamp_inverted", lambda x: x.clamp(1.0, -1.0), aten.clamp.default),
    ("clip", lambda x: x.clip(-1, 1), aten.clip.default),
    ("clamp_min", lambda x: torch.clamp_min(x, 0.1), aten.clamp_min.default),
    ("clamp_max", lambda x: torch.clamp_max(x, 0.1), aten.clamp_max.default),
    ("lerp_scalar", lambda x: torch.lerp(x, x * 3 + 1, 0.3), aten.lerp.Scalar),
]


@pytest.mark.parametrize("name,fn,op", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_scalar_operand(name, fn, op):
    x = _r(3, 5)
    assert_converts(fn, [x], input_ranges=[_batch_range(x)], expected_ops={op})


@pytest.mark.parametrize(
    "name,fn,op",
    [c for c in SCALAR_CASES if c[0] in ("add_scalar", "pow_2", "pow_frac", "rpow", "clamp", "lerp_scalar")],
)
def test_scalar_operand_fp16(name, fn, op):
    assert_converts(fn, [_r(4, 6)], precision=torch.float16, expected_ops={op})


# -- tensor bounds and fused ops ---------------------------------------------------------------------------------
TERNARY = [
    ("clamp_tensor", lambda x, lo, hi: torch.clamp(x, lo, hi), aten.clamp.Tensor),
    ("clamp_tensor_min", lambda x, lo, hi: torch.clamp(x, min=lo), aten.clamp.Tensor),
    ("clamp_min_tensor", lambda x, lo, hi: torch.clamp_min(x, lo), aten.clamp_min.Tensor),
    ("lerp_tensor", lambda x, lo, hi: torch.lerp(x, lo, hi.sigmoid()), aten.lerp.Tensor),
    ("addcmul", lambda x, lo, hi: torch.addcmul(x, lo, hi, value=-0.5), aten.addcmul.default),
    ("addcmul_default", lambda x, lo, hi: torch.addcmul(x, lo, hi), aten.addcmul.default),
    ("addcdiv", lambda x, lo, hi: torch.addcdiv(x, lo, hi.abs() + 1, value=2), aten.addcdiv.default),
]


@pytest.mark.parametrize("name,fn,op", TERNARY, ids=[c[0] for c in TERNARY])
def test_ternary(name, fn, op):
    x, lo, hi = _r(3, 4), _r(4) - 0.5, _r(1, 4) + 0.5
    assert_converts(fn, [x, lo, hi], input_ranges=[_batch_range(x), None, None], expected_ops={op})


def test_ternary_fp16():
    """All ternary ops in one fp16 network."""
    fns = [c[1] for c in TERNARY]
    assert_converts(
        lambda x, lo, hi: tuple(f(x, lo, hi) for f in fns),
        [_r(3, 4), _r(4), _r(3, 4)],
        precision=torch.float16,
        expected_ops={c[2] for c in TERNARY},
    )


# -- integer arithmetic (exact) ----------------------------------------------------------------------------------
INT_BINARY = [
    ("add", lambda a, b: a + b, aten.add.Tensor),
    ("sub_alpha", lambda a, b: torch.sub(a, b, alpha=3), aten.sub.Tensor),
    ("mul", lambda a, b: a * b, aten.mul.Tensor),
    ("true_div", lambda a, b: a / b, aten.div.Tensor),
    ("div_floor", lambda a, b: torch.div(a, b, rounding_mode="floor"), aten.div.Tensor_mode),
    ("div_trunc", lambda a, b: torch.div(a, b, rounding_mode="trunc"), aten.div.Tensor_mode),
    ("floor_divide", torch.floor_divide, aten.floor_divide.default),
    ("fmod", torch.fmod, aten.fmod.Tensor),
    ("remainder", torch.remainder, aten.remainder.Tensor),
    ("maximum", torch.maximum, aten.maximum.default),
    ("minimum", torch.minimum, aten.minimum.default),
]


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
@pytest.mark.parametrize("name,fn,op", INT_BINARY, ids=[c[0] for c in INT_BINARY])
def test_int_binary(name, fn, op, dtype):
    a, b = _ints(4, 6, dtype=dtype), _int_divisor(6, dtype=dtype)
    assert_converts(fn, [a, b], input_ranges=[_batch_range(a), None], expected_ops={op})


def test_int_division_signs_exhaustive():
    """Every sign combination, exact and inexact quotients, for floor, trunc, fmod and remainder."""
    a = torch.arange(-9, 10, dtype=torch.int32).repeat_interleave(6)
    b = torch.tensor([-4, -3, -1, 1, 3, 4], dtype=torch.int32).repeat(19)

    def fn(a, b):
        return (
            torch.div(a, b, rounding_mode="floor"),
            torch.div(a, b, rounding_mode="trunc"),
            torch.fmod(a, b),
            torch.remainder(a, b),
            a // 3,
            torch.fmod(a, -3),
        )

    assert_converts(fn, [a, b], expected_ops={aten.div.Tensor_mode, aten.fmod.Tensor, aten.remainder.Tensor})


def test_int_scalar_promotion():
    """int tensor with float scalars becomes float; with int scalars stays int (torch promotion)."""
    x = _ints(3, 4)
    assert_converts(
        lambda x: (x + 1.5, x * 2, x / 2, x - 3, x.clamp(-2, 5), x.clamp(0.5)),
        [x],
        expected_ops={aten.add.Tensor, aten.mul.Tensor, aten.div.Tensor, aten.sub.Tensor, aten.clamp.default},
    )


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 5])
def test_int_pow(exponent):
    x = _ints(3, 4, lo=-5, hi=6, dtype=torch.int64)
    assert_converts(lambda x: x**exponent, [x], input_ranges=[_batch_range(x)], expected_ops={aten.pow.Tensor_Scalar})


def test_int_pow_tensor_exponent_falls_back():
    with pytest.raises(UnsupportedOperatorError, match="integer pow"):
        assert_converts(
            lambda a, b: a**b,
            [_ints(3, lo=0, hi=4), _ints(3, lo=0, hi=4)],
            expected_ops={aten.pow.Tensor_Tensor},
        )


def test_bool_arithmetic():
    a, b = torch.rand(3, 4) > 0.5, torch.rand(3, 4) > 0.5
    assert_converts(
        lambda a, b: (a + b, a * b, torch.maximum(a, b)),
        [a, b],
        expected_ops={aten.add.Tensor, aten.mul.Tensor, aten.maximum.default},
    )


def test_mixed_float_int_operands():
    assert_converts(
        lambda a, b: (a + b, a * b, b / a, torch.maximum(a, b)),
        [_divisor(3, 4), _ints(3, 4)],
        expected_ops={aten.add.Tensor, aten.mul.Tensor, aten.div.Tensor, aten.maximum.default},
    )


# -- comparisons -------------------------------------------------------------------------------------------------
COMPARISONS = [
    ("eq", lambda a, b: a == b, aten.eq.Tensor, lambda x: x == 1),
    ("ne", lambda a, b: a != b, aten.ne.Tensor, lambda x: x != 1),
    ("lt", lambda a, b: a < b, aten.lt.Tensor, lambda x: x < 1),
    ("le", lambda a, b: a <= b, aten.le.Tensor, lambda x: x <= 1),
    ("gt", lambda a, b: a > b, aten.gt.Tensor, lambda x: x > 1),
    ("ge", lambda a, b: a >= b, aten.ge.Tensor, lambda x: x >= 1),
]


def _small_floats(*shape: int) -> torch.Tensor:
    """Few distinct values, so that ties are common."""
    return torch.randint(-2, 3, shape).float()


@pytest.mark.parametrize("name,fn,op,sfn", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_compare_tensor(name, fn, op, sfn):
    a, b = _small_floats(3, 4), _small_floats(4)
    assert_converts(fn, [a, b], input_ranges=[_batch_range(a), None], expected_ops={op})


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_compare_scalar(dtype):
    x = _small_floats(3, 4).to(dtype)
    sfns = [c[3] for c in COMPARISONS]
    assert_converts(
        lambda x: tuple(f(x) for f in sfns),
        [x],
        input_ranges=[_batch_range(x)],
        expected_ops={getattr(aten, c[0]).Scalar for c in COMPARISONS},
    )


def test_compare_mixed_dtypes():
    """float vs int operands compare in float (torch promotion)."""
    fns = [c[1] for c in COMPARISONS]
    assert_converts(
        lambda a, b: tuple(f(a, b) for f in fns),
        [_small_floats(3, 4), _ints(3, 4, lo=-2, hi=3)],
        expected_ops={c[2] for c in COMPARISONS},
    )


def test_compare_fp16():
    fns = [c[1] for c in COMPARISONS]
    assert_converts(
        lambda a, b: tuple(f(a, b) for f in fns),
        [_small_floats(3, 4), _small_floats(3, 4)],
        precision=torch.float16,
        expected_ops={c[2] for c in COMPARISONS},
    )


def test_compare_nan_is_false():
    nan = float("nan")
    a = torch.tensor([nan, 1.0, nan, 2.0, -1.0])
    b = torch.tensor([nan, nan, 0.0, 2.0, 3.0])
    assert_converts(
        lambda a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b),
        [a, b],
        expected_ops={c[2] for c in COMPARISONS},
    )


def test_compare_bools():
    a, b = torch.rand(3, 4) > 0.5, torch.rand(3, 4) > 0.5
    assert_converts(
        lambda a, b: (a == b, a != b, a < b, a >= b),
        [a, b],
        expected_ops={aten.eq.Tensor, aten.ne.Tensor, aten.lt.Tensor, aten.ge.Tensor},
    )


# -- logical and bitwise -----------------------------------------------------------------------------------------
LOGICAL = [
    ("logical_and", torch.logical_and, aten.logical_and.default),
    ("logical_or", torch.logical_or, aten.logical_or.default),
    ("logical_xor", torch.logical_xor, aten.logical_xor.default),
]


@pytest.mark.parametrize("name,fn,op", LOGICAL, ids=[c[0] for c in LOGICAL])
def test_logical(name, fn, op):
    a, b = torch.rand(3, 4) > 0.5, torch.rand(4) > 0.5
    assert_converts(fn, [a, b], input_ranges=[_batch_range(a), None], expected_ops={op})
    # non-bool operands: truth value is "non-zero"
    assert_converts(fn, [_small_floats(3, 4), _ints(3, 4, lo=-1, hi=2)], expected_ops={op})


def test_logical_not():
    assert_converts(torch.logical_not, [torch.rand(3, 4) > 0.5], expected_ops={aten.logical_not.default})
    assert_converts(torch.logical_not, [_small_floats(3, 4)], expected_ops={aten.logical_not.default})
    assert_converts(torch.logical_not, [_ints(3, 4, lo=-1, hi=2)], expected_ops={aten.logical_not.default})


BITWISE = [
    ("and", lambda a, b: a & b, aten.bitwise_and.Tensor),
    ("or", lambda a, b: a | b, aten.bitwise_or.Tensor),
    ("xor", lambda a, b: a ^ b, aten.bitwise_xor.Tensor),
]


@pytest.mark.parametrize("name,fn,op", BITWISE, ids=[c[0] for c in BITWISE])
def test_bitwise_bool(name, fn, op):
    a, b = torch.rand(3, 4) > 0.5, torch.rand(1, 4) > 0.5
    assert_converts(fn, [a, b], input_ranges=[_batch_range(a), None], expected_ops={op})


def test_bitwise_bool_scalar():
    assert_converts(
        lambda a: (a & True, a | False, a ^ True),
        [torch.rand(3, 4) > 0.5],
        expected_ops={aten.bitwise_and.Scalar, aten.bitwise_or.Scalar, aten.bitwise_xor.Scalar},
    )


def test_bitwise_int_falls_back():
    with pytest.raises(UnsupportedOperatorError, match="bitwise ops on torch.int32"):
        assert_converts(lambda a, b: a & b, [_ints(3, 4), _ints(3, 4)], expected_ops={aten.bitwise_and.Tensor})


@pytest.mark.parametrize("dtype", [torch.bool, torch.int32, torch.int64])
def test_bitwise_not(dtype):
    x = torch.rand(3, 4) > 0.5 if dtype == torch.bool else _ints(3, 4, lo=-1000, hi=1000, dtype=dtype)
    assert_converts(torch.bitwise_not, [x], input_ranges=[_batch_range(x)], expected_ops={aten.bitwise_not.default})


# -- where -------------------------------------------------------------------------------------------------------
def test_where_broadcast_dynamic():
    c, x, y = _r(3, 4), _r(1, 4), _r(4)
    assert_converts(
        lambda c, x, y: torch.where(c > 0, x, y),
        [c, x, y],
        input_ranges=[_batch_range(c), None, None],
        expected_ops={aten.where.self},
    )


#: the where overload a scalar branch exports to, whichever of them it is
_WHERE_SCALAR_OPS = {frozenset({aten.where.ScalarOther, aten.where.ScalarSelf, aten.where.Scalar})}


@pytest.mark.parametrize(
    "fn",
    [
        lambda c, x: torch.where(c > 0, x, 0.5),
        lambda c, x: torch.where(c > 0, -1.0, x),
        lambda c, x: torch.where(c > 0, 1.0, 0.0),
        lambda c, x: torch.where(c > 0, x, 2),
    ],
    ids=["scalar_other", "scalar_self", "scalar_both", "int_scalar"],
)
def test_where_scalars(fn):
    assert_converts(fn, [_r(3, 4), _r(3, 4)], expected_ops=_WHERE_SCALAR_OPS)
    assert_converts(fn, [_r(3, 4), _r(3, 4)], precision=torch.float16, expected_ops=_WHERE_SCALAR_OPS)


def test_where_dtypes():
    """int/float branch promotion and an integer-only where."""
    c, i, f = _r(2, 5), _ints(2, 5), _r(2, 5)
    assert_converts(
        lambda c, i, f: (torch.where(c > 0, i, f), torch.where(c > 0, i, i * 2), torch.where(c > 0, i, 2.5)),
        [c, i, f],
        expected_ops={aten.where.self, aten.where.ScalarOther},
    )


def test_where_fp16():
    assert_converts(
        lambda c, x, y: torch.where(c > 0, x, y),
        [_r(3, 4), _r(3, 4), _r(3, 4)],
        precision=torch.float16,
        expected_ops={aten.where.self},
    )
