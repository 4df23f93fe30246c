"""Model zoo: real model code with random weights (no downloads), for the zoo tests and benchmarks/zoo.py.

Each entry's ``build(size=None)`` returns ``(model, example_inputs)``; ``size`` is the image side for vision
models and the sequence length for text models (None: the entry's ``size``, small enough for CI). Building is
deterministic (seeded, without touching the caller's RNG state).

Random weights are made numerically meaningful: MobileNet/EfficientNet get their BatchNorm running statistics
calibrated on a random batch (with the default statistics their activations vanish below float16's range:
outputs ~1e-10), and zero-initialised classifier heads (ViT) get random weights (otherwise every output is 0 and
any comparison passes). ResNet-50 keeps the default statistics: calibrated, its random residual stack is chaotic
(every fp16 rounding grows ~100x by the output, in eager fp16 as much as in the engine).

LLM decoders with a static KV cache (Llama, Mistral, Qwen2) live in ``examples/decoders.py``: they are compiled
twice (prefill, decode) and driven by a generation loop, so the per-model zoo tests do not apply to them
(tests/zoo/test_zoo_decoders.py).

``dynamic`` maps input index -> {dim: (min, max)} for the dynamic-batch (and, for text models,
dynamic-sequence) variant; :meth:`ZooModel.input_ranges` turns it into per-input (min, opt, max) shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch

Built = tuple[torch.nn.Module, tuple[torch.Tensor, ...]]
BATCH_SIZE = 2


@dataclass
class ZooModel:
    name: str
    factory: Callable[[int], Built]
    dynamic: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    text: bool = False
    size: int = 64
    #: the package the model code comes from (torchvision, transformers, diffusers)
    requires: str = "torchvision"

    def build(self, size: Optional[int] = None) -> Built:
        """``(model, example_inputs)`` in eval mode, seeded (the global RNG state is restored afterwards)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model, inputs = self.factory(size or self.size)
        return model.eval(), inputs

    def input_ranges(self, inputs: Sequence[torch.Tensor]) -> list[Optional[tuple[list[int], list[int], list[int]]]]:
        """Per input: ``(min, opt, max)`` shapes of the dynamic variant (opt = the example's shape), or None."""
        ranges: list[Optional[tuple[list[int], list[int], list[int]]]] = []
        for i, t in enumerate(inputs):
            dims = self.dynamic.get(i)
            if not dims:
                ranges.append(None)
                continue
            opt = list(t.shape)
            lo, hi = list(opt), list(opt)
            for d, (a, b) in dims.items():
                lo[d], hi[d] = min(a, opt[d]), max(b, opt[d])
            ranges.append((lo, opt, hi))
        return ranges


def calibrate_batchnorm(model: torch.nn.Module, batch: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics to the statistics of ``batch`` (as after training)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: one batch -> exactly its statistics
    model.train()
    with torch.no_grad():
        model(batch)
    model.eval()


def _randomize_zero_heads(model: torch.nn.Module) -> None:
    """Give all-zero Linear layers (zero-initialised classifier heads) small random weights."""
    for m in model.modules():
        if isinstance(m, torch.nn.Linear) and not m.weight.any():
            torch.nn.init.normal_(m.weight, std=0.02)


def _tv(name: str, size_kwarg: Optional[str] = None, calibrate: bool = False) -> Callable[[int], Built]:
    def build(size: int) -> Built:
        import torchvision

        kwargs = {size_kwarg: size} if size_kwarg else {}
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
        if calibrate:
            calibrate_batchnorm(model, torch.randn(8, 3, size, size))
        _randomize_zero_heads(model)
        return model, (torch.randn(BATCH_SIZE, 3, size, size),)

    return build


class _ReturnHidden(torch.nn.Module):
    """Return the last hidden state as a tensor (the HF output dataclass is not what we compare)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.model(*args, return_dict=True).last_hidden_state


def _hf(
    config_name: str, model_name: str, config: dict[str, Any], text: bool = True, size_key: str = ""
) -> Callable[[int], Built]:
    """A transformers model from ``config`` (sdpa attention). Text models take ``(BATCH_SIZE, size)`` token ids
    from a 1000-token vocabulary; vision models ``(BATCH_SIZE, 3, size, size)`` images (``size_key`` names the
    config's image size)."""

    def build(size: int) -> Built:
        import transformers

        kwargs = dict(config)
        if size_key:
            kwargs[size_key] = size
        cfg = getattr(transformers, config_name)(**kwargs)
        cfg._attn_implementation = "sdpa"
        model = _ReturnHidden(getattr(transformers, model_name)(cfg))
        if text:
            return model, (torch.randint(0, kwargs["vocab_size"], (BATCH_SIZE, size)),)
        return model, (torch.randn(BATCH_SIZE, 3, size, size),)

    return build


class _UNetSample(torch.nn.Module):
    """diffusers' UNet2DModel returning the predicted sample as a tensor."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        return self.model(sample, timestep, return_dict=True).sample


def _unet(size: int) -> Built:
    """A tiny diffusers UNet2DModel (2 resolutions, one attention level, GroupNorm, sinusoidal timestep embedding)."""
    from diffusers import UNet2DModel

    model = UNet2DModel(
        sample_size=size,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=8,
        attention_head_dim=8,
    )
    return _UNetSample(model), (torch.randn(BATCH_SIZE, 3, size, size), torch.tensor([10.0, 500.0][:BATCH_SIZE]))


BATCH = {0: {0: (1, 4)}}
BATCH_SEQ = {0: {0: (1, 4), 1: (8, 32)}}
_TOKENS = {"vocab_size": 1000, "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}

ZOO: list[ZooModel] = [
    ZooModel("resnet50", _tv("resnet50"), BATCH, size=64),
    ZooModel("mobilenet_v3_large", _tv("mobilenet_v3_large", calibrate=True), BATCH, size=96),
    ZooModel("efficientnet_b0", _tv("efficientnet_b0", calibrate=True), BATCH, size=96),
    ZooModel("convnext_tiny", _tv("convnext_tiny"), BATCH, size=64),
    ZooModel("vit_b_16", _tv("vit_b_16", size_kwarg="image_size"), BATCH, size=64),
    # swin_t at its native 224: the last stage's 7x7 map is exactly one window (smaller images pad instead)
    ZooModel("swin_t", _tv("swin_t"), BATCH, size=224),
    ZooModel("bert", _hf("BertConfig", "BertModel", _TOKENS), BATCH_SEQ, text=True, size=16, requires="transformers"),
    ZooModel("gpt2", _hf("GPT2Config", "GPT2Model", _TOKENS), BATCH_SEQ, text=True, size=16, requires="transformers"),
    ZooModel(
        "t5_encoder",
        _hf("T5Config", "T5EncoderModel", {**_TOKENS, "d_model": 512, "d_ff": 2048, "num_layers": 6, "num_heads": 8}),
        BATCH_SEQ,
        text=True,
        size=16,
        requires="transformers",
    ),
    ZooModel(
        "clip_vision",
        _hf("CLIPVisionConfig", "CLIPVisionModel", {}, text=False, size_key="image_size"),
        BATCH,
        size=224,
        requires="transformers",
    ),
    # sample and timestep share the dynamic batch
    ZooModel("unet2d", _unet, {0: {0: (1, 4)}, 1: {0: (1, 4)}}, size=32, requires="diffusers"),
]

BY_NAME = {m.name: m for m in ZOO}
