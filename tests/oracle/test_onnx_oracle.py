"""The reference evaluator against an oracle nobody here wrote: ONNX's operator test cases, parsed into TensorRT
networks by NVIDIA's ONNX parser (tests/oracle/_onnx_oracle.py).

One test per case that parses and has tensor inputs and outputs: the evaluation must match ONNX's expected
outputs -- exactly, or for the cases of property_checks.py (where TensorRT leaves open what ONNX fixes: order among
equal values, random values) by their property comparison and not exactly -- unless the case is a listed
TensorRT-vs-ONNX difference (known_differences.py; then it must still differ) or TensorRT's builder cannot build
the network (then TensorRT computes nothing to compare with). The listed differences where the parser builds the
network of another model (an attribute it ignores, an input it never reads) must agree exactly with ONNX's
reference implementation run on that model; test_oracle_comparisons.py checks that the parser does build it.
``benchmarks/oracle.py`` prints the whole table.
"""

from __future__ import annotations

import onnx
import pytest

from _onnx_oracle import (
    AGREE,
    AGREE_PARSER_MODEL,
    AGREE_PROPERTY,
    NOT_PARSED,
    NOT_TENSOR_IO,
    agreement,
    feed,
    reference_outputs,
    to_torch,
)
from _onnx_oracle import shared as oracle
from known_differences import KNOWN, parser_model
from property_checks import PROPERTY
from torch_tensorrt.reference import evaluate_network
from torch_tensorrt.testing._harness import mismatch

#: Agreeing share (exactly, by property or against the parser's model) of the checked cases that this suite keeps
#: (measured: 932 of 938 with TensorRT-RTX 1.7.1 and onnx 1.23 -- 906 exactly, 7 by property, 19 against the
#: parser's model; the other 6 are listed differences). Raise it when entries leave the list.
AGREEMENT_FLOOR = 0.99

CHECKED = oracle().checked_names()


@pytest.mark.parametrize("name", CHECKED)
def test_case(name: str) -> None:
    result = oracle().result(name)
    comparison = PROPERTY.get(name)
    if comparison is not None:
        assert result.outcome != AGREE, (
            f"{name} now agrees exactly: remove it from tests/oracle/property_checks.py ({comparison.reason})"
        )
        assert result.outcome == AGREE_PROPERTY, (
            f"{name} ({result.outcome}): {result.detail}. Its property comparison fails: {comparison.reason}"
        )
        return
    assert result.outcome != AGREE_PROPERTY, f"{name} agrees by property but is not listed in property_checks.py"
    known = KNOWN.get(name)
    if known is not None:
        assert result.outcome != AGREE, (
            f"{name} now agrees with ONNX: remove it from tests/oracle/known_differences.py ({known.reason})"
        )
        if known.has_parser_model:
            assert result.outcome == AGREE_PARSER_MODEL, (
                f"{name} ({result.outcome}): {result.detail}. The parser builds the network of another model "
                f"({known.reason}); the evaluator must agree with ONNX's reference implementation on that model"
            )
        if known.unused_input is not None:
            assert known.unused_input in result.unused_inputs, (
                f"{name}: the network now reads {known.unused_input!r}; re-check the listed reason"
            )
        return
    assert result.outcome != AGREE_PARSER_MODEL, f"{name} is compared against a parser's model but is not listed"
    if result.outcome == AGREE:
        return
    assert result.builds is False, (
        f"{name} ({', '.join(result.op_types)}; layers {', '.join(result.layer_types)}): {result.outcome}: "
        f"{result.detail}. TensorRT builds this network, so the evaluator must agree with ONNX -- fix the "
        f"evaluator, or list a documented TensorRT-vs-ONNX difference in tests/oracle/known_differences.py"
    )


def test_known_differences_name_checked_cases() -> None:
    """Every listed case exists, parses and has tensor I/O (a stale or misspelt entry fails); no case is both a
    listed difference and compared by property."""
    stale = sorted(set(KNOWN) - set(CHECKED))
    assert not stale, f"listed in known_differences.py but not a checked case: {stale}"
    stale = sorted(set(PROPERTY) - set(CHECKED))
    assert not stale, f"listed in property_checks.py but not a checked case: {stale}"
    assert not set(KNOWN) & set(PROPERTY)


def test_agreement_floor() -> None:
    results = [oracle().result(n) for n in CHECKED]
    agree, checked = agreement(results)
    assert checked == len(CHECKED) and checked > 900, (checked, len(CHECKED))
    assert agree / checked >= AGREEMENT_FLOOR, f"{agree} of {checked} cases agree"


def test_screening_counts() -> None:
    """Most of ONNX's cases are screened out by the parser or by non-tensor I/O; the split stays as measured
    (a parser or onnx upgrade that changes it should be looked at, not absorbed)."""
    outcomes = [oracle().screen(n) for n in oracle().names()]
    not_parsed = sum(getattr(o, "outcome", None) == NOT_PARSED for o in outcomes)
    not_tensor = sum(getattr(o, "outcome", None) == NOT_TENSOR_IO for o in outcomes)
    assert len(outcomes) > 1800 and len(CHECKED) + not_parsed + not_tensor == len(outcomes)
    assert len(CHECKED) >= 900, (len(CHECKED), not_parsed, not_tensor)


@pytest.mark.parametrize("name", sorted(n for n, d in KNOWN.items() if d.has_parser_model))
def test_reference_implementation_reproduces_the_shipped_outputs(name: str) -> None:
    """ONNX's reference implementation, which the parser's-model comparison trusts, computes the outputs ONNX
    ships for the case itself (so it implements the attribute or input the parser ignores), and something else for
    the parser's model (so the comparison against it is not the case's own comparison in disguise)."""
    case = oracle().cases[name]
    inputs = dict(zip((v.name for v in case.model.graph.input), case.data_sets[0][0]))
    shipped = {v.name: to_torch(a) for v, a in zip(case.model.graph.output, case.data_sets[0][1])}
    own = reference_outputs(case.model, inputs)
    assert all(mismatch(own[k], want, rtol=case.rtol, atol=case.atol) is None for k, want in shipped.items())
    edited = reference_outputs(parser_model(case.model, KNOWN[name]), inputs)
    assert any(mismatch(edited[k], want, rtol=case.rtol, atol=case.atol) for k, want in shipped.items())


def test_trilu_with_explicit_upper_agrees() -> None:
    """The Trilu entries are the parser's default, not the evaluator: spelling out upper=1 makes them agree."""
    case = oracle().cases["test_triu"]
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    model.graph.node[0].attribute.append(onnx.helper.make_attribute("upper", 1))
    got = _evaluate(model, case.data_sets[0][0])["y"]
    assert mismatch(got, to_torch(case.data_sets[0][1][0]), rtol=0, atol=0) is None


@pytest.mark.parametrize(
    "name", ["test_averagepool_2d_ceil_last_window_starts_on_pad", "test_maxpool_2d_ceil_output_size_reduce_by_one"]
)
def test_pool_ceil_overlapping_windows_agree(name: str) -> None:
    """The ceil-mode entries differ only by TensorRT's extra trailing window -- TensorRT's own shape inference
    declares it, not just the evaluator -- and the windows ONNX has agree."""
    case = oracle().cases[name]
    got = _evaluate(case.model, case.data_sets[0][0])["y"]
    want = to_torch(case.data_sets[0][1][0])
    assert tuple(got.shape[-2:]) == tuple(n + 1 for n in want.shape[-2:])
    prepared, reason = oracle().parse(case.model)
    assert prepared is not None, reason
    assert tuple(prepared.network.get_output(0).shape) == tuple(got.shape)
    assert mismatch(got[..., : want.shape[-2], : want.shape[-1]], want, rtol=case.rtol, atol=case.atol) is None


def _evaluate(model: onnx.ModelProto, inputs: list) -> dict:
    prepared, reason = oracle().parse(model)
    assert prepared is not None, reason
    named = [(v.name, to_torch(a)) for v, a in zip(model.graph.input, inputs)]
    return evaluate_network(prepared.network, feed(prepared.network, named))
