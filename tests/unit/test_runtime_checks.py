"""Lowering drops export's runtime checks where they cannot fail (remove_runtime_checks) and keeps the others."""

from __future__ import annotations

import operator

import pytest
import torch
from torch import nn

from torch_tensorrt.dynamo import CompilationSettings
from torch_tensorrt.dynamo._graph import ASSERT_OPS
from torch_tensorrt.dynamo.lowering import run_passes
from torch_tensorrt.dynamo.lowering.passes import remove_runtime_checks

aten = torch.ops.aten


def _checks(gm: torch.fx.GraphModule) -> list[str]:
    return [str(n.target) for n in gm.graph.nodes if n.op == "call_function" and n.target in ASSERT_OPS]


class _Casts(nn.Module):
    """``.to(dtype)`` calls: export checks each converted tensor's metadata with _assert_tensor_metadata."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = (x * 2).to(torch.float32)
        return y.relu().to(torch.float32) + 1


def _with_check(graph_check) -> torch.fx.GraphModule:
    """``(x * 2)`` exported with a dynamic batch in [2, 16], plus the check ``graph_check(graph, size_node)``
    inserted after x's batch size node."""

    class M(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    b = torch.export.Dim("b", min=2, max=16)
    gm = torch.export.export(M(), (torch.randn(4, 3),), dynamic_shapes=({0: b},)).module()
    x = next(n for n in gm.graph.nodes if n.op == "placeholder")
    out = next(n for n in gm.graph.nodes if n.op == "output")
    with gm.graph.inserting_before(out):
        size = gm.graph.call_function(aten.sym_size.int, (x, 0))
        size.meta["val"] = x.meta["val"].shape[0]
        graph_check(gm.graph, size)
    gm.recompile()
    return gm


def _assert_scalar(cond_op, bound):
    def insert(graph: torch.fx.Graph, size: torch.fx.Node) -> None:
        cond = graph.call_function(cond_op, (size, bound))
        cond.meta["val"] = cond_op(size.meta["val"], bound)
        graph.call_function(aten._assert_scalar.default, (cond, "check"))

    return insert


def _constrain(lo, hi):
    def insert(graph: torch.fx.Graph, size: torch.fx.Node) -> None:
        graph.call_function(aten.sym_constrain_range.default, (size,), {"min": lo, "max": hi})

    return insert


def test_metadata_asserts_are_removed_and_the_program_unchanged():
    x = torch.randn(2, 3)
    gm = torch.export.export(_Casts(), (x,)).module()
    assert "aten._assert_tensor_metadata.default" in _checks(gm)
    out = remove_runtime_checks(gm, CompilationSettings())
    assert _checks(out) == []
    torch.testing.assert_close(out(x), _Casts()(x))


@pytest.mark.parametrize(
    "check, removed",
    [
        (_assert_scalar(operator.le, 16), True),  # the profile's max is 16
        (_assert_scalar(operator.ge, 2), True),
        (_assert_scalar(operator.le, 8), False),  # a batch of 9..16 fails it
        (_assert_scalar(operator.ne, 3), False),
        (_constrain(0, 100), True),
        (_constrain(4, 100), False),
    ],
    ids=["le-max", "ge-min", "le-inside", "ne", "range-wider", "range-narrower"],
)
def test_size_checks_removed_only_when_the_input_range_implies_them(check, removed):
    gm = _with_check(check)
    before = len(_checks(gm))
    assert before == 1
    out = run_passes(gm, CompilationSettings())
    assert len(_checks(out)) == (0 if removed else 1)
    if removed:  # the size node that only fed the check is gone too
        assert not [n for n in out.graph.nodes if n.target is aten.sym_size.int]


def test_data_dependent_checks_stay():
    class M(nn.Module):
        def forward(self, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
            k = n.item()
            torch._check(k >= 0)
            torch._check(k <= 3)
            return x[: k + 1] * 2

    ep = torch.export.export(M(), (torch.randn(4, 3), torch.tensor(2)))
    before = _checks(ep.module())
    assert before.count("aten._assert_scalar.default") == 2
    after = _checks(run_passes(ep.module(), CompilationSettings()))
    assert after.count("aten._assert_scalar.default") == 2


def _tiny_llama() -> nn.Module:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=32,
    )
    cfg._attn_implementation = "sdpa"
    model = transformers.LlamaForCausalLM(cfg).eval()

    class Logits(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.model(ids, use_cache=False).logits

    return Logits().eval()


def test_decoder_compiles_to_one_engine_with_one_output():
    """A Llama decoder's export carries _assert_tensor_metadata for every dtype cast; compile builds one engine
    whose only output is the logits, and coverage() projects exactly that engine."""
    import torch_tensorrt
    from torch_tensorrt.dynamo import coverage
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    model = _tiny_llama()
    ids = torch.randint(0, 64, (1, 6))
    ep = torch.export.export(model, (ids,))
    assert any(n.target in ASSERT_OPS for n in ep.graph.nodes)
    gm = torch_tensorrt.dynamo.compile(ep, [ids], min_block_size=1)
    engines = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    assert len(engines) == 1
    assert len(gm.compile_report.engines[0].outputs) == 1
    assert not any(n.op == "call_module" and "_run_on_gpu_" in str(n.target) for n in gm.graph.nodes)
    report = coverage(ep, [ids], min_block_size=1)
    assert list(report.engines) == ["_run_on_acc_0"] and not report.left_in_pytorch
