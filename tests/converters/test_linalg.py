"""Converters of matrix products, linear, outer and einsum (static, dynamic and fp16)."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt.dynamo.conversion.converters.linalg import trt_einsum_equation
from torch_tensorrt.testing import assert_converts

aten = torch.ops.aten


def _r(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


MATMUL_SHAPES = [
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6)),
    ((2, 2, 3, 4), (2, 2, 4, 6)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_ranks(sa, sb):
    assert_converts(lambda a, b: torch.matmul(a, b), [_r(*sa), _r(*sb)], expected_ops={aten.matmul.default})


# The harness gives every input its own dynamic dims, so operands that must share a dynamic size are derived from
# one input (here by a transpose, converted elsewhere).
def test_matmul_dynamic_batch():
    assert_converts(
        lambda a: a @ a.transpose(1, 2),
        [_r(3, 5, 4)],
        input_ranges=[((1, 5, 4), (3, 5, 4), (6, 5, 4))],
        expected_ops={aten.matmul.default},
    )


def test_matmul_dynamic_broadcast_vector():
    assert_converts(
        lambda a, b: a @ b,
        [_r(3, 5, 4), _r(4)],
        input_ranges=[((1, 2, 4), (3, 5, 4), (6, 7, 4)), None],
        expected_ops={aten.matmul.default},
    )


def test_matmul_fp16():
    assert_converts(
        lambda a, b: a @ b, [_r(2, 8, 16), _r(16, 8)], precision=torch.float16, expected_ops={aten.matmul.default}
    )


def test_mm_bmm():
    assert_converts(lambda a, b: torch.mm(a, b), [_r(3, 4), _r(4, 5)], expected_ops={aten.mm.default})
    assert_converts(lambda a, b: torch.bmm(a, b), [_r(2, 3, 4), _r(2, 4, 5)], expected_ops={aten.bmm.default})
    assert_converts(
        lambda a: torch.bmm(a, a.transpose(1, 2)),
        [_r(2, 3, 4)],
        input_ranges=[((1, 3, 4), (2, 3, 4), (4, 6, 4))],
        expected_ops={aten.bmm.default},
    )


def test_mm_weight_constant():
    class M(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(4, 6))

        def forward(self, x):
            return torch.mm(x, self.w)

    assert_converts(M(), [_r(3, 4)], input_ranges=[((1, 4), (3, 4), (8, 4))], expected_ops={aten.mm.default})
    assert_converts(M(), [_r(3, 4)], precision=torch.float16, expected_ops={aten.mm.default})


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1.5)])
def test_addmm(beta, alpha):
    assert_converts(
        lambda c, a, b: torch.addmm(c, a, b, beta=beta, alpha=alpha),
        [_r(5), _r(3, 4), _r(4, 5)],
        input_ranges=[None, ((1, 4), (3, 4), (7, 4)), None],
        expected_ops={aten.addmm.default},
    )


def test_addmm_beta_zero_ignores_nan():
    c = torch.full((3, 5), float("nan"))
    assert_converts(
        lambda c, a, b: torch.addmm(c, a, b, beta=0), [c, _r(3, 4), _r(4, 5)], expected_ops={aten.addmm.default}
    )


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -1.0)])
def test_baddbmm(beta, alpha):
    assert_converts(
        lambda c, a, b: torch.baddbmm(c, a, b, beta=beta, alpha=alpha),
        [_r(2, 3, 5), _r(2, 3, 4), _r(2, 4, 5)],
        expected_ops={aten.baddbmm.default},
    )
    assert_converts(
        lambda c, a: torch.baddbmm(c, a, a.transpose(1, 2), beta=beta, alpha=alpha),
        [_r(3, 3), _r(2, 3, 4)],
        input_ranges=[None, ((1, 3, 4), (2, 3, 4), (4, 3, 4))],
        expected_ops={aten.baddbmm.default},
    )


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8,), (3, 8), (2, 3, 8)])
def test_linear(bias, shape):
    lin = torch.nn.Linear(8, 5, bias=bias)
    assert_converts(lin, [_r(*shape)], expected_ops={aten.linear.default})


def test_linear_dynamic_and_fp16():
    lin = torch.nn.Linear(16, 12)
    x = _r(4, 7, 16)
    assert_converts(lin, [x], input_ranges=[((1, 1, 16), (4, 7, 16), (8, 9, 16))], expected_ops={aten.linear.default})
    assert_converts(lin, [x], precision=torch.float16, expected_ops={aten.linear.default})


def test_linear_weight_input():
    assert_converts(
        lambda x, w, b: torch.nn.functional.linear(x, w, b),
        [_r(2, 3, 4), _r(6, 4), _r(6)],
        expected_ops={aten.linear.default},
    )


def test_mv_dot_outer():
    assert_converts(lambda a, v: torch.mv(a, v), [_r(3, 4), _r(4)], expected_ops={aten.mv.default})
    assert_converts(lambda a, b: torch.dot(a, b), [_r(6), _r(6)], expected_ops={aten.dot.default})
    assert_converts(
        lambda a: torch.dot(a, a * 2.0), [_r(6)], input_ranges=[((1,), (6,), (9,))], expected_ops={aten.dot.default}
    )
    assert_converts(
        lambda a, b: torch.outer(a, b),
        [_r(4), _r(3)],
        input_ranges=[((1,), (4,), (8,)), None],
        expected_ops={aten.outer.default},
    )


EINSUMS = [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 2, 3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("Ab,bC->AC", [(3, 4), (4, 2)]),
    ("...i,...i", [(2, 3, 4), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUMS)
def test_einsum(eq, shapes):
    assert_converts(lambda *xs: torch.einsum(eq, *xs), [_r(*s) for s in shapes], expected_ops={aten.einsum.default})


def test_einsum_dynamic_fp16():
    fn = lambda a, b: torch.einsum("bij,bjk->bik", a, b)  # noqa: E731
    inputs = [_r(2, 3, 4), _r(2, 4, 5)]
    assert_converts(
        lambda a, b: torch.einsum("bij,jk->bik", a, b),
        inputs[:1] + [_r(4, 5)],
        input_ranges=[((1, 3, 4), (2, 3, 4), (5, 7, 4)), None],
        expected_ops={aten.einsum.default},
    )
    assert_converts(fn, inputs, precision=torch.float16, expected_ops={aten.einsum.default})


def test_einsum_equation_rewrite():
    assert trt_einsum_equation("ij,jk", [2, 2]) == "ij,jk->ik"
    assert trt_einsum_equation("...ij,...jk->...ik", [4, 2]) == "abij,jk->abik"
    assert trt_einsum_equation("Ab,bC->AC", [2, 2]) == "ab,bc->ac"
    assert trt_einsum_equation("...i,...i", [3, 2]) == "abi,bi->ab"
