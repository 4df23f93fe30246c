"""LLM decoding with a static KV cache (examples/decoders.py: Llama, Mistral, Qwen2; tiny configs, random weights).

Each decoder compiles twice from one module: a prefill program (dynamic prompt length 1..16) and a decode
program (one token). Each is ONE TensorRT engine; what stays in PyTorch is only the write-back of the updated
cache into the cache inputs (``copy_``, the in-place update of the eager model). A 16-token greedy generation
under ``simulate()`` -- one prefill call, then one decode-engine call per token -- gives exactly eager's tokens.
"""

from __future__ import annotations

import pytest
import torch

from examples.decoders import BY_NAME, DECODERS, greedy

pytestmark = pytest.mark.zoo

NEW_TOKENS = 16
PROMPT = 6


def _engines(gm: torch.fx.GraphModule) -> list[str]:
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    return [name for name, m in gm.named_modules() if isinstance(m, TorchTensorRTModule)]


def _pytorch_ops(gm: torch.fx.GraphModule) -> list[str]:
    from torch_tensorrt.dynamo.partitioning._partitioner import TORCH_PREFIX, is_compute_node

    ops = [str(n.target) for n in gm.graph.nodes if is_compute_node(n)]
    for name, sub in gm.named_children():
        if name.startswith(TORCH_PREFIX):
            ops += [str(n.target) for n in sub.graph.nodes if n.op == "call_function"]
    return ops


@pytest.mark.parametrize("name", [d.name for d in DECODERS])
def test_static_cache_generation_matches_eager(name: str) -> None:
    pytest.importorskip("transformers")
    import torch_tensorrt
    from torch_tensorrt.testing import simulate

    model = BY_NAME[name].build()
    prompt = torch.randint(0, 100, (1, PROMPT), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = greedy(model, prompt, model.new_cache(), NEW_TOKENS)

    cache = model.new_cache()
    start = torch.tensor([0])
    seq = torch.export.Dim("seq", min=1, max=16)
    prefill_ep = torch.export.export(
        model, (prompt, start, *cache), dynamic_shapes=({1: seq}, None, (None,) * len(cache))
    )
    decode_ep = torch.export.export(model, (prompt[:, :1], start, *cache))
    ids = torch_tensorrt.Input(min_shape=(1, 1), opt_shape=(1, PROMPT), max_shape=(1, 16), dtype=torch.int64)
    with simulate():
        prefill = torch_tensorrt.dynamo.compile(prefill_ep, [ids, start, *cache], min_block_size=1)
        decode = torch_tensorrt.dynamo.compile(decode_ep, [prompt[:, :1], start, *cache], min_block_size=1)
    for gm in (prefill, decode):
        assert len(_engines(gm)) == 1, gm.graph
        assert _pytorch_ops(gm) == ["aten.copy_.default"] * len(cache), _pytorch_ops(gm)
    engine = decode.get_submodule(_engines(decode)[0])
    assert len(engine.metadata.outputs) == 1 + len(cache)  # logits and the updated cache, nothing else

    calls = {"decode": 0}

    def counted_decode(*args: torch.Tensor) -> torch.Tensor:
        calls["decode"] += 1
        return decode(*args)

    with torch.no_grad():
        got = greedy(prefill, prompt, cache, NEW_TOKENS, decode=counted_decode)
    assert got == expected
    assert calls["decode"] == NEW_TOKENS - 1  # one decode engine call per generated token after the first
    reference = model.new_cache()
    with torch.no_grad():
        greedy(model, prompt, reference, NEW_TOKENS)
    for a, b in zip(cache, reference):  # the compiled calls updated the caller's cache in place, as eager did
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
