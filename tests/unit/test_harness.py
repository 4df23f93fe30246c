"""The converter harness (``assert_converts``) catches small and local errors: deliberately wrong converters
that the relative-norm check alone let through now fail; NaN/Inf positions must match; integers are exact;
``expected_ops`` is required; min/max-shape inputs stay inside the example's value range."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS, ConverterSpec, Priority
from torch_tensorrt.testing import assert_converts
from torch_tensorrt.testing._harness import _like, mismatch

aten = torch.ops.aten


@pytest.fixture
def override(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, Callable[..., Any]], None]:
    """Install a converter that wins over the registered ones for ``target`` (for this test only)."""

    def install(target: Any, fn: Callable[..., Any]) -> None:
        spec = ConverterSpec(target, fn, None, True, int(Priority.HIGH) + 1, False)
        monkeypatch.setitem(CONVERTERS._specs, target, [spec, *CONVERTERS.specs_for(target)])

    return install


def _old_norm_check_passes(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> bool:
    """The harness's check before the elementwise one: ``||actual - expected|| <= atol + rtol * ||expected||``."""
    diff = float(torch.linalg.vector_norm((actual - expected).double()))
    return diff <= atol + rtol * float(torch.linalg.vector_norm(expected.double()))


def test_wrong_converter_breaking_only_a_small_magnitude_output_fails(override) -> None:
    """sin converted as cos (a wrong enum): the model's small output (~1e-5) is all wrong, its large one right.
    The old check (atol defaulting to rtol = 1e-4) accepted it."""

    def sin_as_cos(ctx: Any, node: Any, args: tuple, kwargs: dict) -> Any:
        return ctx.network.add_unary(args[0], trt.UnaryOperation.COS).get_output(0)

    override(aten.sin.default, sin_as_cos)
    x = torch.randn(4, 6)
    small = torch.sin(x) * 1e-5
    assert _old_norm_check_passes(torch.cos(x) * 1e-5, small, rtol=1e-4, atol=1e-4)
    with pytest.raises(AssertionError, match=r"output 1: .* elements exceed"):
        assert_converts(lambda x: (x * 1000.0, torch.sin(x) * 1e-5), [x], expected_ops={aten.sin.default})


def test_wrong_converter_breaking_one_row_of_a_large_output_fails(override) -> None:
    """tanh converted right except in row 0 (5% too large there): 1 of 4096 rows; at fp16 tolerances
    (rtol 1e-2) the relative norm of the error is far below rtol, so only the elementwise check sees it."""

    def tanh_but_row_0(ctx: Any, node: Any, args: tuple, kwargs: dict) -> Any:
        right = ctx.network.add_activation(args[0], trt.ActivationType.TANH).get_output(0)
        scale = torch.ones(tuple(args[0].shape))
        scale[0] = 1.05
        return ctx.network.add_elementwise(right, ctx.constant(scale), trt.ElementWiseOperation.PROD).get_output(0)

    override(aten.tanh.default, tanh_but_row_0)
    x = torch.randn(4096, 64)
    broken = torch.tanh(x)
    broken[0] *= 1.05
    assert _old_norm_check_passes(broken, torch.tanh(x), rtol=1e-2, atol=1e-2)
    with pytest.raises(AssertionError, match=r"output 0: \d+ of 262144 elements exceed"):
        assert_converts(torch.tanh, [x], precision=torch.float16, expected_ops={aten.tanh.default})


def test_right_converters_still_pass() -> None:
    """The same models with the registered converters pass (the failures above are the wrong converters)."""
    x = torch.randn(4, 6)
    assert_converts(lambda x: (x * 1000.0, torch.sin(x) * 1e-5), [x], expected_ops={aten.sin.default})
    assert_converts(torch.tanh, [torch.randn(4096, 64)], precision=torch.float16, expected_ops={aten.tanh.default})


@pytest.mark.parametrize(
    "actual,expected,needle",
    [
        (torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 2.0]), "NaN at 1 unexpected"),
        (torch.tensor([1.0, 2.0]), torch.tensor([1.0, float("nan")]), "missing at 1"),
        (torch.tensor([float("inf"), 0.0]), torch.tensor([float("-inf"), 0.0]), "infinities differ"),
        (torch.tensor([1e30, 0.0]), torch.tensor([float("inf"), 0.0]), "infinities differ"),
        (torch.tensor([0.0, 0.0]), torch.tensor([1e-6, -1e-6]), "exceed"),
        (torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1, 3], dtype=torch.int32), "1 of 2 elements differ"),
        (torch.tensor([True]), torch.tensor([False]), "differ"),
        (torch.zeros(2, 3), torch.zeros(3, 2), "shape"),
        (torch.zeros(2), torch.zeros(2, dtype=torch.float64), "dtype"),
    ],
)
def test_mismatch_reports(actual: torch.Tensor, expected: torch.Tensor, needle: str) -> None:
    why = mismatch(actual, expected, rtol=1e-4, atol=1e-9)
    assert why is not None and needle in why, why


def test_mismatch_accepts_matching_nan_and_inf_and_tolerance() -> None:
    expected = torch.tensor([float("nan"), float("inf"), float("-inf"), 1.0, 0.0])
    actual = torch.tensor([float("nan"), float("inf"), float("-inf"), 1.00005, 5e-10])
    assert mismatch(actual, expected, rtol=1e-4, atol=1e-9) is None


def test_all_zero_output_against_a_small_expected_one_fails(override) -> None:
    """The issue's example: an output that is all zeros passes no more against a small expected one."""

    def exp_as_zero(ctx: Any, node: Any, args: tuple, kwargs: dict) -> Any:
        zero = ctx.constant(torch.zeros(tuple(args[0].shape)))
        return ctx.network.add_elementwise(args[0], zero, trt.ElementWiseOperation.PROD).get_output(0)

    override(aten.exp.default, exp_as_zero)
    with pytest.raises(AssertionError, match="exceed"):
        assert_converts(lambda x: torch.exp(x - 20.0), [torch.randn(3, 4)], expected_ops={aten.exp.default})


def test_expected_ops_or_a_reason_is_required() -> None:
    with pytest.raises(TypeError, match="expected_ops"):
        assert_converts(torch.relu, [torch.randn(2, 3)])
    with pytest.raises(TypeError, match="not both"):
        assert_converts(torch.relu, [torch.randn(2, 3)], expected_ops={aten.relu.default}, no_expected_ops="x")
    assert_converts(torch.relu, [torch.randn(2, 3)], no_expected_ops="checks the reason argument itself")


def test_min_max_inputs_stay_in_the_example_range() -> None:
    gen = torch.Generator().manual_seed(0)
    example = torch.rand(3, 5) * 0.9 + 0.05  # inside acos's and log's domains
    drawn = _like(example, (7, 5), gen)
    assert drawn.shape == (7, 5) and drawn.dtype == example.dtype
    assert float(drawn.min()) >= float(example.min()) and float(drawn.max()) <= float(example.max())
    ints = _like(torch.tensor([[2, 9]]), (4, 2), gen)
    assert ints.dtype == torch.int64 and int(ints.min()) >= 2 and int(ints.max()) <= 9


@pytest.mark.parametrize(
    "fn,op", [(torch.log, aten.log.default), (torch.acos, aten.acos.default), (torch.sqrt, aten.sqrt.default)]
)
def test_restricted_domain_ops_are_checked_at_min_and_max_shapes(fn, op) -> None:
    """Dynamic inputs: min/max-shape inputs come from the example's range, so no NaN hides the comparison."""
    x = torch.rand(3, 5) * 0.9 + 0.05
    result = assert_converts(fn, [x], input_ranges=[((1, 5), (3, 5), (6, 5))], expected_ops={op})
    assert result.points == ["opt", "min", "max"]
