"""The oracle's own comparisons are kept honest: every property comparison (property_checks.py) passes on the
evaluator's outputs and fails on wrong ones, and every listed difference that blames the parser for an
attribute is checked against the parser itself (the network it builds is the one for the edited model)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import onnx
import pytest
import torch

from torch_tensorrt.reference import evaluate_network

from _onnx_oracle import Trial, compare_with_reference, feed, network_signature, to_torch
from _onnx_oracle import shared as oracle
from known_differences import KNOWN, edited_model, parser_model
from property_checks import PROPERTY, check_bernoulli_expanded, check_hardmax, check_nms, check_topk

# -- listed differences that blame the parser -------------------------------------------------------------------


def _signature(model: onnx.ModelProto) -> list:
    prepared, reason = oracle().parse(model)
    assert prepared is not None, reason
    return network_signature(prepared.network)


@pytest.mark.parametrize("name", sorted(n for n, d in KNOWN.items() if d.has_parser_model))
def test_listed_parser_difference_is_the_parsers_network(name: str) -> None:
    """The parser builds the same network for the case and for its parser's model (the listed attribute edits, the
    unread input dropped): what the edits change is ignored (or defaulted differently) by the parser, not misread
    by the evaluator."""
    model = oracle().cases[name].model
    assert _signature(model) == _signature(parser_model(model, KNOWN[name])), (
        f"{name}: the parser now builds a different network than for its parser's model; re-check the listed reason"
    )


@pytest.mark.parametrize(
    "name",
    [
        "test_triu",
        "test_spacetodepth_crd_mode_example",
        "test_lstm_batchwise",
        "test_attention_4d_gqa_causal_nonpad_decode",
        "test_attention_local_window",
    ],
)
def test_parser_model_comparison_rejects_a_changed_output(name: str) -> None:
    """The comparison against the parser's model accepts the evaluator's outputs and rejects them with one
    element changed by a small amount (relative to the output's scale)."""
    case = oracle().cases[name]
    prepared, reason = oracle().parse(case.model)
    assert prepared is not None, reason
    named = [(v.name, to_torch(a)) for v, a in zip(case.model.graph.input, case.data_sets[0][0])]
    got = evaluate_network(prepared.network, feed(prepared.network, named))
    edited = parser_model(case.model, KNOWN[name])
    assert compare_with_reference(case, edited, got) is None
    for out_name, value in got.items():
        changed = value.clone()
        flat = changed.view(-1)
        if value.is_floating_point():
            flat[flat.numel() // 2] += 1e-3 * max(float(value.abs().max()), 1.0)
        else:
            flat[flat.numel() // 2] += 1
        assert compare_with_reference(case, edited, {**got, out_name: changed}) is not None, out_name


@pytest.mark.parametrize(
    ("name", "edits"),
    [
        ("test_triu", {"upper": 1}),
        ("test_spacetodepth_crd_mode_example", {"blocksize": 1}),
        ("test_attention_local_window", {"is_causal": None}),
    ],
)
def test_network_signature_sees_attribute_changes(name: str, edits: dict[str, Any]) -> None:
    """The signature the check above compares is not blind: an attribute the parser does read changes it."""
    model = oracle().cases[name].model
    assert _signature(model) != _signature(edited_model(model, edits))


@pytest.mark.parametrize("name", sorted(n for n in KNOWN if n.startswith("test_quantizelinear")))
def test_quantize_entries_declare_int8(name: str) -> None:
    """The uint8 QuantizeLinear entries: TensorRT's network declares the output INT8 (ONNX's is uint8)."""
    prepared, reason = oracle().parse(oracle().cases[name].model)
    assert prepared is not None, reason
    assert prepared.network.get_output(0).dtype.name == "INT8"
    assert oracle().cases[name].data_sets[0][1][0].dtype.name == "uint8"


# -- property comparisons ------------------------------------------------------------------------------------------


def test_every_property_case_passes_its_check() -> None:
    for name, comparison in PROPERTY.items():
        assert comparison.check(oracle().trial(name)) is None, name


def _with(trial: Trial, **got: torch.Tensor) -> Trial:
    return dataclasses.replace(trial, got={**trial.got, **got})


def _fails(check: Any, trial: Trial) -> Optional[str]:
    why = check(trial)
    assert why is not None, "the property check accepted a wrong output"
    return why


@pytest.mark.parametrize("name", sorted(n for n, c in PROPERTY.items() if c.check is check_topk))
def test_topk_check_rejects_wrong_outputs(name: str) -> None:
    trial = oracle().trial(name)
    values, indices = trial.got["values"], trial.got["indices"]
    _fails(check_topk, _with(trial, values=values + 1))
    repeated = indices.clone()
    repeated[..., 1] = repeated[..., 0]
    assert "repeat" in _fails(check_topk, _with(trial, indices=repeated))
    outside = indices.clone()
    outside[..., 0] = trial.inputs["x"].shape[-1]
    assert "outside" in _fails(check_topk, _with(trial, indices=outside))
    _fails(check_topk, _with(trial, indices=indices.to(torch.int32)))


def test_topk_check_rejects_an_index_pointing_at_another_value() -> None:
    trial = oracle().trial("test_top_k_same_values_2d")  # row 2 of x is [2, 2, 1, 1]: values [2, 2, 1]
    swapped = trial.got["indices"].clone()
    swapped[2] = swapped[2].flip(0)
    assert "point at" in _fails(check_topk, _with(trial, indices=swapped))


def test_hardmax_check_rejects_wrong_outputs() -> None:
    trial = oracle().trial("test_hardmax_one_hot")  # x = [[3, 3, 3, 1]]
    y = trial.got["y"]
    assert "maximum" in _fails(check_hardmax, _with(trial, y=torch.tensor([[0.0, 0.0, 0.0, 1.0]])))
    assert "one-hot" in _fails(check_hardmax, _with(trial, y=torch.tensor([[1.0, 1.0, 0.0, 0.0]])))
    assert "one-hot" in _fails(check_hardmax, _with(trial, y=torch.zeros_like(y)))
    _fails(check_hardmax, _with(trial, y=y.double()))


def test_nms_check_rejects_wrong_outputs() -> None:
    trial = oracle().trial("test_nonmaxsuppression_two_classes")
    rows = trial.got["selected_indices"]
    _fails(check_nms, _with(trial, selected_indices=rows[:-1]))
    other_box = rows.clone()
    other_box[0, 2] = 1
    assert "expected" in _fails(check_nms, _with(trial, selected_indices=other_box))
    assert "non-increasing" in _fails(check_nms, _with(trial, selected_indices=rows.flip(0)))


@pytest.mark.parametrize("name", sorted(n for n, c in PROPERTY.items() if c.check is check_bernoulli_expanded))
def test_bernoulli_check_rejects_wrong_outputs(name: str) -> None:
    trial = oracle().trial(name)
    y, x = trial.got["y"], trial.inputs["x"]

    def flipped(seed: int) -> dict[str, torch.Tensor]:  # P(y = 1) = x instead of the model's P(U > x) = 1 - x
        u = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
        return {"y": (u < x).to(y.dtype)}

    assert "runs" in _fails(check_bernoulli_expanded, dataclasses.replace(trial, rerun=flipped))
    assert "runs" in _fails(check_bernoulli_expanded, dataclasses.replace(trial, rerun=lambda seed: {"y": y}))
    twos = y.clone()
    twos[0] = 2
    assert "other than 0 and 1" in _fails(check_bernoulli_expanded, _with(trial, y=twos))
