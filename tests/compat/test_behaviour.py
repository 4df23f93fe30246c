"""Behaviour the incumbent's users rely on: a single ``Input`` for ``inputs=``, compiling ``ep.module()``,
complex tensors (rotary embeddings) and the incumbent's documented keywords."""

from __future__ import annotations

import warnings

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.testing import simulate


class _Small(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) * 2 + 1


def _engines(gm: torch.nn.Module) -> list[TorchTensorRTModule]:
    return [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]


def test_single_input_not_in_a_list():
    x = torch.randn(2, 3)
    with simulate():
        gm = torch_tensorrt.compile(_Small(), ir="dynamo", inputs=torch_tensorrt.Input(shape=(2, 3)), min_block_size=1)
        got = gm(x)
    assert len(_engines(gm)) == 1
    torch.testing.assert_close(got, _Small()(x))


def test_compile_the_module_of_an_exported_program():
    x = torch.randn(2, 3)
    ep = torch.export.export(_Small(), (x,))
    with simulate():
        gm = torch_tensorrt.compile(ep.module(), ir="dynamo", inputs=[x], min_block_size=1)
        got = gm(x)
    assert len(_engines(gm)) == 1
    torch.testing.assert_close(got, _Small()(x))


class _Rotary(torch.nn.Module):
    """Rotary embedding written with complex numbers, as in Llama-style models."""

    def __init__(self, seq: int = 4, half: int = 4) -> None:
        super().__init__()
        angles = torch.outer(torch.arange(seq, dtype=torch.float32), torch.linspace(0.1, 1.0, half))
        self.register_buffer("freqs_cis", torch.polar(torch.ones_like(angles), angles))

    def forward(self, x: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        x = x * 3 + 1
        xc = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
        rotated = torch.view_as_real(xc * self.freqs_cis * torch.polar(torch.ones_like(extra), extra)).flatten(-2)
        return torch.tanh(rotated) - 1


def test_complex_rotary_embedding_compiles_and_matches():
    x, extra = torch.randn(2, 4, 8), torch.randn(4, 4)
    with simulate():
        gm = torch_tensorrt.compile(_Rotary(), inputs=[x, extra], min_block_size=1)
        got = gm(x, extra)
    torch.testing.assert_close(got, _Rotary()(x, extra), rtol=1e-5, atol=1e-5)
    engines = _engines(gm)
    assert engines, "the real-valued computation around the complex ops still goes to TensorRT"
    for engine in engines:
        assert all(not s.torch_dtype.is_complex for s in [*engine.metadata.inputs, *engine.metadata.outputs])


def test_complex_ops_are_reported_as_left_to_pytorch():
    from torch_tensorrt.dynamo.conversion import CONVERTERS

    x, extra = torch.randn(2, 4, 8), torch.randn(4, 4)
    gm = torch.export.export(_Rotary(), (x, extra)).module()
    settings = torch_tensorrt.dynamo.CompilationSettings()
    complex_nodes = [
        n
        for n in gm.graph.nodes
        if n.op == "call_function" and isinstance(n.meta.get("val"), torch.Tensor) and n.meta["val"].is_complex()
    ]
    assert complex_nodes
    for node in complex_nodes:
        decision = CONVERTERS.decide(node, settings)
        assert not decision.supported
        assert "complex" in decision.reason


@pytest.mark.parametrize(
    "key,value",
    [
        ("engine_capability", "standard"),
        ("num_avg_timing_iters", 2),
        ("dla_sram_size", 1 << 20),
        ("timing_cache_path", "/tmp/timing.bin"),
        ("tiling_optimization_level", "fast"),
        ("use_fast_partitioner", False),
        ("enable_experimental_decompositions", True),
        ("torch_executed_modules", ["foo"]),
    ],
)
def test_documented_keywords_without_meaning_are_accepted_with_one_warning(key, value):
    x = torch.randn(2, 3)
    with simulate():
        with pytest.warns(UserWarning, match=f"{key}.*no effect here: .+"):
            gm = torch_tensorrt.compile(_Small(), inputs=[x], min_block_size=1, **{key: value})
        with warnings.catch_warnings():  # the second time: silent
            warnings.simplefilter("error")
            torch_tensorrt.compile(_Small(), inputs=[x], min_block_size=1, **{key: value})
        torch.testing.assert_close(gm(x), _Small()(x))


def test_make_refittable_is_the_old_spelling_of_mutable_weights():
    settings = torch_tensorrt.dynamo.CompilationSettings.from_kwargs(make_refittable=True)
    assert settings.immutable_weights is False


def test_true_typo_is_still_a_type_error_with_a_suggestion():
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match="'min_blok_size'.*Did you mean 'min_block_size'"):
        torch_tensorrt.compile(_Small(), inputs=[x], min_blok_size=1)
