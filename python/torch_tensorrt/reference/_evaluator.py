"""Evaluate a built ``INetworkDefinition`` in PyTorch, reading it back through the TensorRT API only."""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference import _control_flow
from torch_tensorrt.reference._checks import check_output
from torch_tensorrt.reference._registry import EvalContext, lookup
from torch_tensorrt._dtypes import torch_dtype_of


def _check_input(name: str, declared_shape: tuple, declared_dtype: torch.dtype, value: torch.Tensor) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"reference evaluator: input {name!r} must be a torch.Tensor, got {type(value).__name__}")
    if value.dtype != declared_dtype:
        raise TypeError(
            f"reference evaluator: input {name!r} has dtype {value.dtype}, network declares {declared_dtype}"
        )
    if len(declared_shape) != value.dim() or any(d != -1 and d != s for d, s in zip(declared_shape, value.shape)):
        raise ValueError(
            f"reference evaluator: input {name!r} has shape {tuple(value.shape)}, network declares {declared_shape}"
        )


def _cast_layer(layer: Any, class_name: str) -> Any:
    """The layer as its concrete class, so its attributes are readable. A layer view that is not a TensorRT object
    (a recorded network's layer, see ``torch_tensorrt.testing``) casts itself through its ``__torchtrt_cast__``
    hook."""
    recorded_cast = getattr(layer, "__torchtrt_cast__", None)
    if recorded_cast is not None:
        return recorded_cast()
    layer.__class__ = getattr(trt, class_name)
    return layer


def evaluate_network(
    network: "trt.INetworkDefinition",
    inputs: Mapping[str, torch.Tensor],
    *,
    outputs: Literal["marked", "all"] = "marked",
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Compute the network's tensors in PyTorch (on the inputs' device).

    ``inputs`` maps each network input's name to its value. Returns the marked outputs by binding name, or with
    ``outputs="all"`` every tensor of the network (inputs, intermediates, outputs) by its TensorRT name.
    Random fills (``FILL`` with RANDOM_UNIFORM / RANDOM_NORMAL) draw from a generator seeded with ``seed``.
    Raises ``NotImplementedError`` naming the layer for a layer type or attribute value that is not modelled.
    """
    if outputs not in ("marked", "all"):
        raise ValueError(f"outputs must be 'marked' or 'all', got {outputs!r}")
    values: dict[str, torch.Tensor] = {}
    expected = {network.get_input(i).name: network.get_input(i) for i in range(network.num_inputs)}
    missing = sorted(set(expected) - set(inputs))
    extra = sorted(set(inputs) - set(expected))
    if missing or extra:
        raise ValueError(
            f"reference evaluator: missing inputs {missing}, unexpected inputs {extra}; network inputs: {sorted(expected)}"
        )
    for name, tensor in expected.items():
        value = inputs[name]
        _check_input(name, tuple(tensor.shape), torch_dtype_of(tensor.dtype), value)
        values[name] = value
    ctx = EvalContext(network=network, values=values, seed=seed)
    device = next((v.device for v in values.values()), torch.device("cpu"))
    with torch.device(device):  # factory calls in handlers (constants, shapes, indices) land with the inputs
        _evaluate_layers(network, ctx)
    if outputs == "all":
        return dict(values)
    return {network.get_output(i).name: values[network.get_output(i).name] for i in range(network.num_outputs)}


def _evaluate_layers(network: Any, ctx: EvalContext) -> None:
    order = _control_flow.plan(network, _cast_layer)

    def evaluate(index: int) -> None:
        _evaluate_layer(order.layers[index], order.types[index], ctx)

    _control_flow.run(order, order.root, ctx.values, evaluate, _cast_layer)


def _evaluate_layer(layer: Any, type_name: str, ctx: EvalContext) -> None:
    values = ctx.values
    spec = lookup(type_name)
    if spec is None:
        raise NotImplementedError(
            f"reference evaluator: layer {layer.name!r} has type {type_name}, which is not modelled"
        )
    ctx.layer_type = type_name
    layer = _cast_layer(layer, spec.layer_class)
    args: list[Optional[torch.Tensor]] = []
    for slot in range(layer.num_inputs):
        t = layer.get_input(slot)
        args.append(None if t is None else values[t.name])
    results = spec.fn(layer, args, ctx)
    if len(results) != layer.num_outputs:
        raise AssertionError(f"handler for {type_name} returned {len(results)} outputs, layer has {layer.num_outputs}")
    for slot, result in enumerate(results):
        check_output(layer, slot, result, type_name)
        values[layer.get_output(slot).name] = result
