"""The weight map: for every named weight of an engine, how its value is computed from the program's state dict.

Conversion names each weight it gives TensorRT (``INetworkDefinition.set_weights_name``) and records its
*recipe*: the ATen ops that turned program tensors (parameters, buffers, lifted constants -- the *sources*) into
the weight, e.g. ``_to_copy(mul(conv.weight, reshape(div(bn.weight, sqrt(add(bn.running_var, eps))))),
float16)`` for a convolution kernel with a folded BatchNorm, in float16. Refit evaluates the recipes on a new
state dict, so derived weights are recomputed, not copied. The map is stored in the engine metadata
(``metadata["weight_map"]``), so it travels with every saved engine::

    {
      "version": 1,
      "stripped": false,  # the plan carries no refittable weights
      "pending": false,   # the plan's weights are not this module's: refit before the first run
      "weights": {"w3_convolution": {"node": 7, "dtype": "float32", "shape": [64, 3, 7, 7],
                                     "locations": [["convolution", "KERNEL"]]}, ...},
      "nodes": [{"src": "conv.weight"}, {"op": "aten.mul.Tensor", "args": [{"ref": 0}, 2.0], "kwargs": {}}, ...],
      "consts": {"c0": {"dtype": "int64", "shape": [2], "data": "<base64>"}},
      "sources": {"conv.weight": {"dtype": "float32", "shape": [64, 3, 7, 7]}, ...},
      "program": [["conv2d", "aten.conv2d.default"], ...]
    }

Recipe nodes are ``{"src": name}`` (a source tensor), ``{"const": id}`` (a tensor stored in ``consts``: a value
that depends on no source) or ``{"op": "aten.<op>.<overload>", "args", "kwargs", "out"?}``. Arguments are JSON
values, ``{"ref": i}`` (node ``i``), ``{"dtype"|"device"|"layout"|"memory_format": name}`` and
``{"float": "inf"}``. Only ``aten`` ops are evaluated, so a recipe from a loaded file runs no arbitrary code.
``locations`` lists the (layer name, ``trt.WeightsRole`` name) pairs that use the weight; ``program`` lists the
exported program's ``call_function`` nodes (name, target), for the structure check of a refit.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, cast

import torch

from torch_tensorrt.runtime._metadata import dtype_name

VERSION = 1


class WeightMapError(ValueError):
    """A weight map that cannot be used with the weights offered (a missing source, another shape, ...)."""


@dataclass
class WeightMap:
    """Decoded ``metadata["weight_map"]`` (see the module docstring)."""

    weights: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    consts: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    program: list[list[str]] = field(default_factory=list)
    #: sources read as Python values during compilation (their digest): part of the engine's structure
    baked: dict[str, str] = field(default_factory=dict)
    stripped: bool = False
    pending: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "stripped": self.stripped,
            "pending": self.pending,
            "weights": self.weights,
            "nodes": self.nodes,
            "consts": self.consts,
            "sources": self.sources,
            "program": self.program,
            "baked": self.baked,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> "WeightMap":
        if int(value.get("version", 0)) > VERSION:
            raise WeightMapError(f"weight map version {value.get('version')} is newer than {VERSION}")
        return cls(
            weights=dict(value.get("weights", {})),
            nodes=list(value.get("nodes", [])),
            consts=dict(value.get("consts", {})),
            sources=dict(value.get("sources", {})),
            program=[list(p) for p in value.get("program", [])],
            baked=dict(value.get("baked", {})),
            stripped=bool(value.get("stripped", False)),
            pending=bool(value.get("pending", False)),
        )

    @property
    def needs_refit(self) -> bool:
        """The plan cannot run as it is: its weights are stripped or belong to another model."""
        return self.stripped or self.pending

    def name_map(self) -> dict[str, Any]:
        """TensorRT weight name -> the state-dict name it is computed from (a list when several, None for a
        constant): the ``weight_name_map`` of :class:`~torch_tensorrt.runtime.TorchTensorRTModule`."""
        out: dict[str, Any] = {}
        for name, entry in self.weights.items():
            srcs = sorted(self.sources_of(entry["node"]))
            out[name] = srcs[0] if len(srcs) == 1 else (srcs or None)
        return out

    def sources_of(self, node: Optional[int]) -> set[str]:
        """The source names the recipe ``node`` reads."""
        found: set[str] = set()
        stack = [node] if node is not None else []
        seen: set[int] = set()
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            entry = self.nodes[i]
            if "src" in entry:
                found.add(entry["src"])
            elif "op" in entry:
                stack.extend(_refs(entry.get("args")) + _refs(list(entry.get("kwargs", {}).values())))
        return found

    def check_sources(self, sources: Mapping[str, torch.Tensor], where: str) -> None:
        """A :class:`WeightMapError` naming the first source that is missing or has another shape or dtype."""
        for name, spec in self.sources.items():
            value = sources.get(name)
            if not isinstance(value, torch.Tensor):
                raise WeightMapError(f"{where}: the new weights have no {name!r} ({spec['dtype']} {spec['shape']})")
            if list(value.shape) != list(spec["shape"]) or dtype_name(value.dtype) != spec["dtype"]:
                raise WeightMapError(
                    f"{where}: weight {name!r} is {dtype_name(value.dtype)} {list(value.shape)} in the new weights, "
                    f"{spec['dtype']} {spec['shape']} in the compiled module"
                )

    def check_baked(self, sources: Mapping[str, torch.Tensor], where: str) -> None:
        """A :class:`WeightMapError` when a source whose value shaped the engine (``baked``) changed."""
        for name, want in self.baked.items():
            value = sources.get(name)
            if isinstance(value, torch.Tensor) and digest(value) != want:
                raise WeightMapError(
                    f"{where}: {name!r} changed, but its value was read while compiling (it decided the engine's "
                    "structure, e.g. a shape or a branch); refit cannot change it -- compile the new model instead"
                )

    def compute(
        self, sources: Mapping[str, torch.Tensor], names: Optional[list[str]] = None
    ) -> dict[str, torch.Tensor]:
        """The value of each weight (``names``, default all) computed from ``sources``: contiguous CPU tensors of
        the recorded dtype and shape."""
        memo: dict[int, Any] = {}
        out: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for name in names if names is not None else list(self.weights):
                entry = self.weights[name]
                value = self._eval(entry["node"], sources, memo)
                if not isinstance(value, torch.Tensor):
                    raise WeightMapError(f"weight {name!r}: its recipe gives a {type(value).__name__}, not a tensor")
                want = _torch_value("dtype", entry["dtype"])
                if list(value.shape) != list(entry["shape"]) or value.dtype != want:
                    raise WeightMapError(
                        f"weight {name!r}: its recipe gives {dtype_name(value.dtype)} {list(value.shape)}, the engine "
                        f"holds {entry['dtype']} {entry['shape']}"
                    )
                out[name] = value.detach().to("cpu").contiguous()
        return out

    def _eval(self, index: int, sources: Mapping[str, torch.Tensor], memo: dict[int, Any]) -> Any:
        if index in memo:
            return memo[index]
        node = self.nodes[index]
        if "src" in node:
            if node["src"] not in sources:
                raise WeightMapError(f"the new weights have no {node['src']!r}")
            value: Any = sources[node["src"]].detach().to("cpu")
        elif "const" in node:
            value = decode_tensor(self.consts[node["const"]])
        else:
            op = resolve_op(node["op"])
            args = _decode_arg(node.get("args", []), lambda i: self._eval(i, sources, memo))
            kwargs = {
                k: _decode_arg(v, lambda i: self._eval(i, sources, memo)) for k, v in node.get("kwargs", {}).items()
            }
            value = op(*args, **kwargs)
            if "out" in node:
                value = value[node["out"]]
        memo[index] = value
        return value


def _refs(value: Any) -> list[int]:
    if isinstance(value, dict):
        if set(value) == {"ref"}:
            return [int(value["ref"])]
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def resolve_op(name: str) -> Any:
    """``"aten.mul.Tensor"`` -> ``torch.ops.aten.mul.Tensor``; anything outside ``aten`` is refused."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "aten":
        raise WeightMapError(f"weight recipe op {name!r} is not an aten op overload")
    packet = getattr(torch.ops.aten, parts[1], None)
    op = getattr(packet, parts[2], None) if packet is not None else None
    if not isinstance(op, torch._ops.OpOverload):
        raise WeightMapError(f"weight recipe op {name!r} does not exist in this torch")
    return op


def _by_name(cls: type) -> dict[str, Any]:
    return {str(v).replace("torch.", ""): v for v in vars(torch).values() if isinstance(v, cls)}


#: torch's own dtypes, layouts and memory formats by name. A recipe's names are looked up in these tables, never
#: with ``getattr`` (a recipe may compute in any dtype, e.g. float64, not only the engine bindings' dtypes).
_TORCH_NAMES: dict[str, dict[str, Any]] = {
    "dtype": _by_name(torch.dtype),
    "layout": _by_name(torch.layout),
    "memory_format": _by_name(torch.memory_format),
}


def _torch_value(key: str, name: Any) -> Any:
    if key == "device":
        try:
            return torch.device(name)
        except (RuntimeError, TypeError) as exc:
            raise WeightMapError(f"weight recipe: invalid device {name!r} ({exc})") from None
    value = _TORCH_NAMES[key].get(name) if isinstance(name, str) else None
    if value is None:
        raise WeightMapError(f"weight recipe: unknown torch {key} {name!r}")
    return value


_ENUMS = ("dtype", "device", "layout", "memory_format")


def _decode_arg(value: Any, ref: Any) -> Any:
    if isinstance(value, list):
        return [_decode_arg(v, ref) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "ref":
                return ref(int(inner))
            if key == "float":
                return float(inner)
            if key in _ENUMS:
                return _torch_value(key, inner)
        return {k: _decode_arg(v, ref) for k, v in value.items()}
    return value


def encode_scalar_arg(value: Any) -> Any:
    """A non-tensor op argument as JSON (see the module docstring); a TypeError for anything else."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, torch.dtype):
        return {"dtype": dtype_name(value)}
    if isinstance(value, torch.device):
        return {"device": str(value)}
    if isinstance(value, torch.layout):
        return {"layout": str(value).replace("torch.", "")}
    if isinstance(value, torch.memory_format):
        return {"memory_format": str(value).replace("torch.", "")}
    raise TypeError(f"cannot record an op argument of type {type(value).__name__}")


def encode_tensor(t: torch.Tensor) -> dict[str, Any]:
    host = t.detach().to("cpu").contiguous()
    raw = host.reshape(-1).view(torch.uint8)
    return {
        "dtype": dtype_name(host.dtype),
        "shape": list(host.shape),
        "data": base64.b64encode(raw.numpy().tobytes()).decode(),
    }


def decode_tensor(entry: Mapping[str, Any]) -> torch.Tensor:
    dtype = _torch_value("dtype", entry["dtype"])
    data = bytearray(base64.b64decode(entry["data"]))
    if not data:
        return torch.empty(entry["shape"], dtype=dtype)
    return torch.frombuffer(data, dtype=torch.uint8).view(dtype).reshape(entry["shape"]).clone()


def tensor_spec(t: torch.Tensor) -> dict[str, Any]:
    return {"dtype": dtype_name(t.dtype), "shape": list(t.shape)}


def program_listing(graph: Any) -> list[list[str]]:
    """The ``call_function`` nodes of an FX graph as ``[name, target]`` (the structure a refit compares)."""
    return [[n.name, str(n.target)] for n in graph.nodes if n.op == "call_function"]


def first_program_difference(old: list[list[str]], new: list[list[str]]) -> Optional[str]:
    """Where two :func:`program_listing` results first differ (None when equal)."""
    for i, (a, b) in enumerate(zip(old, new)):
        if list(a) != list(b):
            return f"node {i}: the compiled module has {a[0]!r} ({a[1]}), the new program has {b[0]!r} ({b[1]})"
    if len(old) != len(new):
        longer, what = (old, "compiled module") if len(old) > len(new) else (new, "new program")
        extra = longer[min(len(old), len(new))]
        return f"node {min(len(old), len(new))}: only the {what} has {extra[0]!r} ({extra[1]})"
    return None


def digest(t: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and bytes."""
    host = t.detach().to("cpu").contiguous()
    h = hashlib.sha256(f"{dtype_name(host.dtype)}{list(host.shape)}".encode())
    if host.numel():
        h.update(cast(Any, host.reshape(-1).view(torch.uint8).numpy()))  # the buffer itself, no copy
    return h.hexdigest()
