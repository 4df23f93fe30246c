"""Activation functions: ACTIVATION (every ``trt.ActivationType``) and PARAMETRIC_RELU."""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import torch

from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import FLOATS, check_broadcast, compute_in, require

_Act = Callable[[torch.Tensor, float, float], torch.Tensor]


def _thresholded_relu(x: torch.Tensor, a: float, b: float) -> torch.Tensor:
    # The Python/C++ API reference: f(x) = x if x > alpha else 0. (The operators page writes max(0, x - alpha);
    # the API reference is followed because it is what the ActivationType enum itself documents.)
    return torch.where(x > a, x, torch.zeros_like(x))


_ACTIVATIONS: dict[str, _Act] = {
    "RELU": lambda x, a, b: torch.clamp(x, min=0),
    "SIGMOID": lambda x, a, b: torch.sigmoid(x),
    "TANH": lambda x, a, b: torch.tanh(x),
    "LEAKY_RELU": lambda x, a, b: torch.where(x >= 0, x, a * x),
    "ELU": lambda x, a, b: torch.where(x >= 0, x, a * (torch.exp(x) - 1)),
    "SELU": lambda x, a, b: torch.where(x > 0, b * x, b * (a * torch.exp(x) - a)),
    "SOFTSIGN": lambda x, a, b: x / (1 + torch.abs(x)),
    "SOFTPLUS": lambda x, a, b: a * torch.log1p(torch.exp(b * x)),
    "CLIP": lambda x, a, b: torch.clamp(torch.clamp(x, max=b), min=a),
    "HARD_SIGMOID": lambda x, a, b: torch.clamp(a * x + b, min=0, max=1),
    "SCALED_TANH": lambda x, a, b: a * torch.tanh(b * x),
    "THRESHOLDED_RELU": _thresholded_relu,
    "GELU_ERF": lambda x, a, b: 0.5 * x * (1 + torch.erf(x * math.sqrt(0.5))),
    "GELU_TANH": lambda x, a, b: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (0.044715 * x**3 + x))),
}


@handles("ACTIVATION", "IActivationLayer")
def activation(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Apply ``layer.type`` with ``layer.alpha``/``layer.beta`` as the ActivationType reference defines them.

    Float16/bfloat16 are computed in float32. int32/int64 are accepted for RELU only.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Activation.html
    """
    x = require(inputs, 0)
    kind = layer.type.name
    fn = _ACTIVATIONS.get(kind)
    if fn is None:
        raise ctx.unsupported(layer, "type", layer.type)
    if x.dtype in (torch.int32, torch.int64) and kind == "RELU":
        return [torch.clamp(x, min=0)]
    if x.dtype not in FLOATS:
        raise ctx.unsupported(layer, "input dtype", x.dtype)
    return [fn(compute_in(x), float(layer.alpha), float(layer.beta)).to(x.dtype)]


@handles("PARAMETRIC_RELU", "IParametricReLULayer")
def parametric_relu(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """``x if x >= 0 else slope * x``; the slopes broadcast to the input (equal ranks, 1s stretch).

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/ParametricReLU.html
    """
    x, slopes = require(inputs, 0), require(inputs, 1)
    if x.dtype not in FLOATS:
        raise ctx.unsupported(layer, "input dtype", x.dtype)
    shape = check_broadcast(layer, (x, slopes))
    if shape != tuple(x.shape):
        raise ValueError(
            f"reference evaluator: layer {layer.name!r}: slopes {tuple(slopes.shape)} must broadcast to the input"
        )
    xf = compute_in(x)
    return [torch.where(xf >= 0, xf, compute_in(slopes) * xf).to(x.dtype)]
