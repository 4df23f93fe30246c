"""ONNX node test cases where TensorRT's network (as NVIDIA's ONNX parser builds it) computes something other
than ONNX's expected output, each with the reason and where it is documented.

Every entry is checked by tests/oracle/test_onnx_oracle.py: the case must still parse and still disagree (an
entry that starts agreeing fails, so the list cannot rot), and an entry naming a dropped input checks that the
parser's network really leaves that input unread.

Where the parser builds the network of *another* ONNX model -- an attribute it ignores or defaults differently
(``same_network_as``, proved by comparing the two networks), an input it never reads (``unused_input``) -- that
model is :func:`parser_model`, and the evaluator must agree exactly with what ONNX's own reference implementation
(``onnx.reference.ReferenceEvaluator``) computes for it: the difference is then the parser's reading of the ONNX
model, and the evaluator is still checked against an oracle nobody here wrote. Nothing else may disagree: a disagreement that is not listed
here is an evaluator bug, unless TensorRT's builder cannot build the network at all. (Cases where TensorRT only
leaves open what ONNX fixes -- order among equal values, random values -- are not differences: they are compared
by property, see property_checks.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import onnx

ONNX_TRT_OPERATORS = "https://github.com/onnx/onnx-tensorrt/blob/main/docs/operators.md"
TRT_OPS = "https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/"


@dataclass(frozen=True)
class Difference:
    """Why a case disagrees, and the documentation (or source) that says so."""

    reason: str
    doc: str
    #: a network input the parser leaves unread (checked by the tests)
    unused_input: Optional[str] = None
    #: attribute edits of the case's node (None removes one) after which the parser builds the same network:
    #: the parser ignores (or defaults differently) what the edits change (checked by the tests)
    same_network_as: Optional[dict[str, Any]] = None

    @property
    def has_parser_model(self) -> bool:
        """Whether the parser's network is that of a known edit of the model (see :func:`parser_model`)."""
        return self.same_network_as is not None or self.unused_input is not None


def parser_model(model: onnx.ModelProto, difference: Difference) -> onnx.ModelProto:
    """The ONNX model whose network the parser builds for the one-node ``model``: ``model`` with the attribute
    edits of ``difference.same_network_as`` and without ``difference.unused_input``."""
    assert difference.has_parser_model, difference
    return edited_model(model, difference.same_network_as or {}, difference.unused_input)


def edited_model(model: onnx.ModelProto, edits: dict[str, Any], dropped_input: Optional[str] = None) -> onnx.ModelProto:
    """A copy of the one-node ``model`` with its node's attributes set as ``edits`` says (None removes one) and,
    when ``dropped_input`` names one, without that input (the node's input left empty, the graph input removed)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    (node,) = copy.graph.node
    for key, value in edits.items():
        for attribute in [a for a in node.attribute if a.name == key]:
            node.attribute.remove(attribute)
        if value is not None:
            node.attribute.append(onnx.helper.make_attribute(key, value))
    if dropped_input is not None:
        node.input[list(node.input).index(dropped_input)] = ""
        while node.input and not node.input[-1]:
            node.input.pop()
        (graph_input,) = [v for v in copy.graph.input if v.name == dropped_input]
        copy.graph.input.remove(graph_input)
    return copy


_TRILU = Difference(
    "The parser reads Trilu's `upper` attribute with a default of 0 (lower triangle); ONNX defines the default "
    "as 1. Cases that leave `upper` unset get the lower triangle: the parser's network is the one it builds for "
    "upper=0, and the same models with upper=1 spelt out agree (test_trilu_with_explicit_upper_agrees).",
    "https://onnx.ai/onnx/operators/onnx__Trilu.html (upper: default 1); onnx-tensorrt onnxOpImporters.cpp "
    'Trilu importer: attrs.get("upper", 0)',
    same_network_as={"upper": 0},
)
_SPACE_TO_DEPTH_CRD = Difference(
    "The parser ignores SpaceToDepth's `mode` attribute and always emits the DCR permutation (SHUFFLE reshape "
    "[N,C,H/b,b,W/b,b] -> transpose (0,3,5,1,2,4) -> [N,C*b*b,H/b,W/b]): the network for mode=CRD is the one "
    "for mode=DCR, and the DCR cases agree.",
    "https://onnx.ai/onnx/operators/onnx__SpaceToDepth.html (mode, opset 28); onnx-tensorrt onnxOpImporters.cpp "
    "SpaceToDepth importer (reads only `blocksize`; fixed permutation {0, 3, 5, 1, 2, 4})",
    same_network_as={"mode": "DCR"},
)
_RNN_LAYOUT = Difference(
    "The parser ignores `layout=1` (batch-major X [batch, seq, input]) and iterates axis 0 as the sequence: the "
    "network is the one for layout=0, and TensorRT's own shape inference declares Y_h as [1, 1, hidden] where "
    "ONNX has [batch, 1, hidden].",
    ONNX_TRT_OPERATORS + " (LSTM: `layout` attribute must be 0); onnx-tensorrt onnxOpImporters.cpp LSTM/GRU/RNN "
    'importers ("The input is in SBE format"; `layout` is not read)',
    same_network_as={"layout": None},
)
_POOL_CEIL = Difference(
    "TensorRT's EXPLICIT_ROUND_UP output size is ceil((M - DK) / S) + 1, which keeps a last window that starts "
    "on the padding or past the input; ONNX (like PyTorch) drops such a window, so the network declares one "
    "more output per spatial dimension (the windows both have agree: test_pool_ceil_overlapping_windows_agree).",
    TRT_OPS + "Pooling.html (padding_mode EXPLICIT_ROUND_UP); https://onnx.ai/onnx/operators/onnx__MaxPool.html",
)
_NONPAD = Difference(
    "The parser drops Attention's `nonpad_kv_seqlen` input (per-batch valid key/value lengths), so the network "
    "attends to the padded keys too.",
    "https://onnx.ai/onnx/operators/onnx__Attention.html (nonpad_kv_seqlen); " + TRT_OPS + "Attention.html",
    unused_input="nonpad_kv_seqlen",
)
_WINDOW = Difference(
    "The parser ignores Attention's `left_window_size` / `right_window_size` (sliding-window attention): the "
    "network is the one for the model without them, and attends to every key (or every causal key).",
    "https://onnx.ai/onnx/operators/onnx__Attention.html (left_window_size, right_window_size); "
    + TRT_OPS
    + "Attention.html (no window attribute)",
    same_network_as={"left_window_size": None, "right_window_size": None},
)
_QUANTIZE_UINT8 = Difference(
    "The parser declares the QUANTIZE output INT8 where ONNX's zero point (and output) is uint8; TensorRT "
    "quantizes symmetrically to int8 only (and the builder rejects a zero point that is not a constant).",
    ONNX_TRT_OPERATORS + " (QuantizeLinear: `y_zero_point` must be 0); " + TRT_OPS + "Quantize.html",
)

KNOWN: dict[str, Difference] = {
    **{
        name: _TRILU
        for name in (
            "test_triu",
            "test_triu_neg",
            "test_triu_one_row",
            "test_triu_out_neg_out",
            "test_triu_out_pos",
            "test_triu_pos",
            "test_triu_square",
            "test_triu_square_neg",
        )
    },
    "test_spacetodepth_crd_mode_example": _SPACE_TO_DEPTH_CRD,
    "test_gru_batchwise": _RNN_LAYOUT,
    "test_lstm_batchwise": _RNN_LAYOUT,
    "test_simple_rnn_batchwise": _RNN_LAYOUT,
    "test_averagepool_2d_ceil_last_window_starts_on_pad": _POOL_CEIL,
    "test_maxpool_2d_ceil_output_size_reduce_by_one": _POOL_CEIL,
    "test_attention_4d_causal_nonpad_batch_prefill": _NONPAD,
    "test_attention_4d_causal_nonpad_continued_prefill": _NONPAD,
    "test_attention_4d_causal_nonpad_negative_offset_structural_empty": _NONPAD,
    "test_attention_4d_gqa_causal_nonpad_decode": _NONPAD,
    "test_attention_4d_gqa_causal_nonpad_decode_fp16": _NONPAD,
    "test_attention_local_window": _WINDOW,
    "test_attention_bidirectional_window": _WINDOW,
    "test_attention_23_boolmask_fullymasked_row_nan_robustness": Difference(
        "A query row whose keys are all masked: ONNX defines the output as 0 (no NaN); TensorRT's Attention "
        "page does not define it (a bool mask marks the positions allowed to attend), and the evaluator's "
        "softmax over no allowed key gives NaN. TensorRT-RTX 1.7.1's builder does not build this network (no "
        "fused kernel for it, and the parser does not mark the attention decomposable).",
        TRT_OPS + "Attention.html; https://onnx.ai/onnx/operators/onnx__Attention.html",
    ),
    "test_quantizelinear": _QUANTIZE_UINT8,
    "test_quantizelinear_axis": _QUANTIZE_UINT8,
    "test_quantizelinear_blocked_asymmetric": _QUANTIZE_UINT8,
}
