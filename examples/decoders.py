"""Decoder-only language models (transformers Llama, Mistral, Qwen2; tiny configs, random weights) with a static
KV cache that is an explicit input of the model, for the LLM decoding tests and benchmarks.

:class:`StaticCacheDecoder` wraps a ``*ForCausalLM``: ``forward(ids [b, s], start [1], *cache) -> logits``, the
cache being ``2 * layers`` tensors ``[b, kv_heads, max_len, head_dim]`` (keys and values per layer). The s new
tokens take positions ``start .. start + s - 1``: each layer writes their keys/values into its cache tensors in
place (``index_copy_``) and attends to the whole cache under the mask ``key position <= query position`` (slots
not yet written are masked out). One module serves prefill (s = the prompt length, dynamic) and decode (s = 1).

Compiled, the cache update becomes an engine output that PyTorch writes back into the cache input (export turns
the in-place update into a functional one plus a ``copy_`` into the input): the caller's cache tensors are
updated exactly as in eager, and the generation loop passes the same tensors at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import torch

VOCAB = 128
MAX_LEN = 32


def _tiny(config_name: str, model_name: str, **extra: Any) -> Callable[[], torch.nn.Module]:
    def build() -> torch.nn.Module:
        import transformers

        cfg = getattr(transformers, config_name)(
            vocab_size=VOCAB,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=64,
            **extra,
        )
        cfg._attn_implementation = "sdpa"
        return getattr(transformers, model_name)(cfg).eval()

    return build


@dataclass
class Decoder:
    name: str
    factory: Callable[[], torch.nn.Module]

    def build(self, max_len: int = MAX_LEN) -> "StaticCacheDecoder":
        """The wrapped model, seeded (the global RNG state is restored afterwards)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return StaticCacheDecoder(self.factory(), max_len).eval()


DECODERS = [
    Decoder("llama", _tiny("LlamaConfig", "LlamaForCausalLM")),
    Decoder("mistral", _tiny("MistralConfig", "MistralForCausalLM", sliding_window=None)),
    Decoder("qwen2", _tiny("Qwen2Config", "Qwen2ForCausalLM")),
]
BY_NAME = {d.name: d for d in DECODERS}


def _cache_layer(keys: torch.Tensor, values: torch.Tensor, positions: torch.Tensor) -> Any:
    from transformers.cache_utils import StaticLayer

    class InputCacheLayer(StaticLayer):
        """A static cache layer over given tensors, written at given positions."""

        def __init__(self) -> None:
            super().__init__(max_cache_len=keys.shape[2])
            self.keys, self.values = keys, values
            self.batch_size, self.num_heads = keys.shape[:2]
            self.k_head_dim, self.v_head_dim = keys.shape[-1], values.shape[-1]
            self.device = keys.device
            self.is_initialized = True

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            self.keys.index_copy_(2, positions, key_states)
            self.values.index_copy_(2, positions, value_states)
            return self.keys, self.values

    return InputCacheLayer()


class StaticCacheDecoder(torch.nn.Module):
    """``(ids, start, *cache) -> logits`` with the cache updated in place (see the module docstring)."""

    def __init__(self, model: torch.nn.Module, max_len: int) -> None:
        super().__init__()
        self.model = model
        self.max_len = max_len
        cfg = model.config
        self.layers = cfg.num_hidden_layers
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads

    def new_cache(self, batch: int = 1, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
        shape = (batch, self.kv_heads, self.max_len, self.head_dim)
        return [torch.zeros(shape, dtype=dtype) for _ in range(2 * self.layers)]

    def forward(self, ids: torch.Tensor, start: torch.Tensor, *cache: torch.Tensor) -> torch.Tensor:
        from transformers.cache_utils import Cache

        positions = torch.arange(ids.shape[1], dtype=torch.int64) + start  # [s]
        layers = [_cache_layer(cache[2 * i], cache[2 * i + 1], positions) for i in range(self.layers)]
        allowed = torch.arange(self.max_len, dtype=torch.int64)[None, :] <= positions[:, None]  # [s, max_len]
        mask = allowed[None, None].expand(ids.shape[0], 1, ids.shape[1], self.max_len)
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions[None].expand(ids.shape[0], -1),
            cache=Cache(layers=layers),
            use_cache=True,
        )
        return out.logits


def greedy(
    step: Callable[..., torch.Tensor],
    prompt: torch.Tensor,
    cache: Sequence[torch.Tensor],
    new_tokens: int,
    decode: Optional[Callable[..., torch.Tensor]] = None,
) -> list[int]:
    """Greedy generation: ``step`` runs the prompt (prefill), then ``decode`` (default: ``step``) one token at a
    time; ``cache`` is updated in place by each call. Returns the ``new_tokens`` generated token ids."""
    decode = decode or step
    logits = step(prompt, torch.tensor([0]), *cache)
    token = int(logits[0, -1].argmax())
    tokens = [token]
    position = prompt.shape[1]
    while len(tokens) < new_tokens:
        logits = decode(torch.tensor([[token]]), torch.tensor([position]), *cache)
        token = int(logits[0, -1].argmax())
        tokens.append(token)
        position += 1
    return tokens
