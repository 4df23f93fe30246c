"""Model zoo: real model code with random weights (no downloads), for the zoo tests and benchmarks/zoo.py.

Each entry builds ``(model, example_inputs, dynamic)`` where ``dynamic`` maps input index -> {dim: (min, max)}
for the dynamic-batch (and, for text models, dynamic-sequence) variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch


@dataclass
class ZooModel:
    name: str
    build: Callable[[], tuple[torch.nn.Module, tuple[torch.Tensor, ...]]]
    dynamic: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    text: bool = False


def _tv(name: str, size: int = 224, **kwargs: Any) -> Callable[[], tuple[torch.nn.Module, tuple[torch.Tensor, ...]]]:
    def build() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
        import torchvision

        model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
        return model, (torch.randn(2, 3, size, size),)

    return build


def _hf(config_name: str, model_name: str, make_config: Callable[[Any], Any], inputs: Callable[[], tuple[torch.Tensor, ...]]) -> Callable[[], tuple[torch.nn.Module, tuple[torch.Tensor, ...]]]:
    def build() -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
        import transformers

        config = make_config(getattr(transformers, config_name))
        config._attn_implementation = "sdpa"
        model = getattr(transformers, model_name)(config).eval()
        return _ReturnHidden(model), inputs()

    return build


class _ReturnHidden(torch.nn.Module):
    """Return the last hidden state as a tensor (the HF output dataclass is not what we compare)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.model(*args, return_dict=True).last_hidden_state


def _ids(vocab: int = 1000, batch: int = 2, seq: int = 16) -> Callable[[], tuple[torch.Tensor, ...]]:
    return lambda: (torch.randint(0, vocab, (batch, seq)),)


BATCH = {0: {0: (1, 4)}}
BATCH_SEQ = {0: {0: (1, 4), 1: (8, 32)}}

ZOO: list[ZooModel] = [
    ZooModel("resnet50", _tv("resnet50"), BATCH),
    ZooModel("mobilenet_v3_large", _tv("mobilenet_v3_large"), BATCH),
    ZooModel("efficientnet_b0", _tv("efficientnet_b0"), BATCH),
    ZooModel("convnext_tiny", _tv("convnext_tiny"), BATCH),
    ZooModel("vit_b_16", _tv("vit_b_16"), BATCH),
    ZooModel("swin_t", _tv("swin_t"), BATCH),
    ZooModel("bert", _hf("BertConfig", "BertModel", lambda c: c(vocab_size=1000), _ids()), BATCH_SEQ, text=True),
    ZooModel("gpt2", _hf("GPT2Config", "GPT2Model", lambda c: c(vocab_size=1000), _ids()), BATCH_SEQ, text=True),
    ZooModel("t5_encoder", _hf("T5Config", "T5EncoderModel", lambda c: c(vocab_size=1000, d_model=512, d_ff=2048, num_layers=6, num_heads=8), _ids()), BATCH_SEQ, text=True),
    ZooModel(
        "clip_vision",
        _hf("CLIPVisionConfig", "CLIPVisionModel", lambda c: c(), lambda: (torch.randn(2, 3, 224, 224),)),
        BATCH,
    ),
]

BY_NAME = {m.name: m for m in ZOO}
