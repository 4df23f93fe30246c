"""The simulated refitter: the subset of TensorRT's refit API that :mod:`torch_tensorrt.runtime._refit` uses,
for simulated engines (:mod:`._sim_runtime`).

TensorRT keeps the table of named weights inside the plan; a simulated plan carries the same facts in its
metadata's weight map (name -> dtype, shape and the ``(layer, role)`` locations that use it). ``refit_cuda_engine``
writes the new values into the recorded network's layer properties (``weights`` of constants, ``kernel``/``bias``
of convolutions, ...), so the refitted engine computes with them, and ``serialize_with_config`` gives a simulated
plan holding the updated recording.

As in TensorRT: only engines built refittable (``immutable_weights=False`` or ``strip_engine_weights=True``)
accept a refitter, a weight is accepted only with its name, dtype and count, and ``refit_cuda_engine`` fails
while ``get_missing_weights`` is not empty. A *weight-stripped* simulated engine has every named weight missing
until a refit supplies it; executing it before that is an error (on a GPU it would compute garbage).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt.runtime._metadata import dtype_from_name

#: ``trt.WeightsRole`` name -> the layer property that holds those weights.
ROLE_PROPERTIES = {
    "CONSTANT": "weights",
    "KERNEL": "kernel",
    "BIAS": "bias",
    "SCALE": "scale",
    "SHIFT": "shift",
    "POWER": "power",
}


class RefitError(RuntimeError):
    """Refitter misuse that TensorRT would reject too (engine not refittable, unknown weight...)."""


@dataclass(frozen=True)
class WeightsPrototype:
    """What ``Refitter.get_weights_prototype`` returns: the dtype and count of the weights the engine was built with."""

    dtype: Any
    size: int


def weight_table(metadata: Any) -> dict[str, dict[str, Any]]:
    return dict(((metadata.weight_map or {}).get("weights") or {}))


def is_refittable(metadata: Any) -> bool:
    settings = metadata.settings or {}
    return bool(metadata.weight_map) and (
        not settings.get("immutable_weights", True) or bool(settings.get("strip_engine_weights"))
    )


class SerializationConfig:
    """Stands in for ``ISerializationConfig`` (flags are kept; a simulated plan always stays refittable)."""

    def __init__(self) -> None:
        self.flags: set[Any] = set()

    def set_flag(self, flag: Any) -> bool:
        self.flags.add(flag)
        return True

    def clear_flag(self, flag: Any) -> bool:
        self.flags.discard(flag)
        return True

    def get_flag(self, flag: Any) -> bool:
        return flag in self.flags


class Refitter:
    """Stands in for ``trt.Refitter(engine, logger)`` on a simulated engine."""

    def __init__(self, engine: Any, logger: Any = None) -> None:
        if not engine.refittable:
            raise RefitError(f"simulated engine {engine.name!r} was not built refittable")
        self.engine = engine
        self.logger = logger
        self._table = weight_table(engine.metadata)
        self._new: dict[str, np.ndarray] = {}

    def get_all_weights(self) -> list[str]:
        return list(self._table)

    def _entry(self, name: str) -> dict[str, Any]:
        if name not in self._table:
            raise RefitError(f"simulated engine {self.engine.name!r} has no refittable weights named {name!r}")
        return self._table[name]

    def get_weights_prototype(self, name: str) -> WeightsPrototype:
        entry = self._entry(name)
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        return WeightsPrototype(trt_dtype_of(dtype_from_name(entry["dtype"])), count)

    def set_named_weights(self, name: str, weights: Any, location: Any = None) -> bool:
        if name not in self._table:
            return False
        proto = self.get_weights_prototype(name)
        if weights.dtype != proto.dtype or int(weights.size) != proto.size:
            return False
        self._new[name] = np.array(weights.numpy(), copy=True).reshape(-1)
        return True

    def get_missing_weights(self) -> list[str]:
        return sorted(n for n in self.engine.missing_weights if n not in self._new)

    def refit_cuda_engine(self) -> bool:
        if self.get_missing_weights():
            return False
        layers = {layer.name: layer for layer in self.engine.network}
        for name, values in self._new.items():
            for layer_name, role in self._table[name]["locations"]:
                _write(layers[layer_name], ROLE_PROPERTIES[role], values)
            self.engine.missing_weights.discard(name)
        self._new.clear()
        return True


def _write(layer: Any, prop: str, values: np.ndarray) -> None:
    """Replace the recorded values of ``layer.<prop>`` (same dtype and shape as recorded)."""
    raw = layer._raw[prop]
    if "ndarray" in raw:
        spec = raw["ndarray"]
        data = values.astype(np.dtype(spec["dtype"]), copy=False).reshape(spec["shape"])
        raw["ndarray"] = {**spec, "data": base64.b64encode(np.ascontiguousarray(data).tobytes()).decode()}
    elif "weights" in raw:
        raw["weights"] = {**raw["weights"], "data": base64.b64encode(np.ascontiguousarray(values).tobytes()).decode()}
    else:
        raise RefitError(f"layer {layer.name!r}: recorded {prop!r} holds no weights")
    layer._decoded.pop(prop, None)


def store_plan(record: Any, engine: Any) -> Any:
    """``EngineKind.store_plan`` of the simulated kind: the plan lives in the record's metadata."""
    import dataclasses

    # what serialize_with_config would write, without the JSON round trip: the recording the refit edited
    return dataclasses.replace(record, metadata={**record.metadata, "network": engine.metadata.network})


def make_refitter(engine: Any, logger: Optional[Any] = None) -> Refitter:
    return Refitter(engine, logger)
