"""Registry of layer handlers of the reference evaluator.

A handler computes a TensorRT layer's outputs in PyTorch. It is registered for a ``trt.LayerType`` member name
and receives the layer already cast to its concrete class (so its attributes are readable through the TensorRT
API), the values wired into each input slot (``None`` for an empty optional slot), and the evaluation context::

    @handles("ACTIVATION", "IActivationLayer")
    def activation(layer, inputs, ctx) -> list[torch.Tensor]:
        \"\"\"Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Activation.html\"\"\"
        ...

Handler modules live in :mod:`torch_tensorrt.reference.layers` (one module per layer family) and are all
imported on first use; nothing else needs to list them.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch

Handler = Callable[[Any, list[Optional[torch.Tensor]], "EvalContext"], list[torch.Tensor]]


@dataclass(frozen=True)
class HandlerSpec:
    layer_type: str
    layer_class: str
    fn: Handler


_HANDLERS: dict[str, HandlerSpec] = {}
_loaded = False


@dataclass
class EvalContext:
    """What a handler may need beyond its inputs: the network and the tensor values computed so far."""

    network: Any
    values: dict[str, torch.Tensor]
    #: ``trt.LayerType`` name of the layer being evaluated (read before the cast: after it, ``layer.type`` of
    #: some classes -- e.g. IPoolingLayer -- is a different attribute)
    layer_type: str = ""
    #: seed of the random source that random fills draw from (see :meth:`random`)
    seed: int = 0
    _generator: Optional[torch.Generator] = None

    def random(self) -> torch.Generator:
        """The evaluation's random source (CPU, seeded with ``seed`` on first use): TensorRT's random values are
        not reproducible, so the evaluator draws its own -- the same seed gives the same values, another seed an
        independent draw."""
        if self._generator is None:
            self._generator = torch.Generator(device="cpu").manual_seed(self.seed)
        return self._generator

    def unsupported(self, layer: Any, attribute: str, value: Any) -> "NotImplementedError":
        """The error to raise for an attribute value the evaluator does not model."""
        return NotImplementedError(
            f"reference evaluator: layer {layer.name!r} ({self.layer_type}): {attribute}={value!r} is not modelled"
        )


def handles(layer_type: str, layer_class: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` for ``trt.LayerType.<layer_type>``; the layer is cast to ``trt.<layer_class>``."""

    def register(fn: Handler) -> Handler:
        if layer_type in _HANDLERS:
            raise RuntimeError(f"reference evaluator: two handlers for layer type {layer_type}")
        _HANDLERS[layer_type] = HandlerSpec(layer_type, layer_class, fn)
        return fn

    return register


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    from torch_tensorrt.reference import layers

    for mod in pkgutil.iter_modules(layers.__path__):
        importlib.import_module(f"{layers.__name__}.{mod.name}")
    _loaded = True


def lookup(layer_type_name: str) -> Optional[HandlerSpec]:
    _load_all()
    return _HANDLERS.get(layer_type_name)


def supported_layer_types() -> list[str]:
    """Every ``trt.LayerType`` name the evaluator models: the handlers', and the loop and conditional boundary
    layers that :mod:`torch_tensorrt.reference._control_flow` evaluates."""
    from torch_tensorrt.reference._control_flow import CONTROL_FLOW_LAYERS

    _load_all()
    return sorted(set(_HANDLERS) | set(CONTROL_FLOW_LAYERS))
