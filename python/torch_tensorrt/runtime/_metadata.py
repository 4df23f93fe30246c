"""The engine metadata stored (as JSON) in the record's ``SERIALIZED_METADATA`` field.

Schema (all keys always present in what the compiler writes)::

    {
      "inputs":  [TensorSpec, ...],     # in binding order
      "outputs": [TensorSpec, ...],     # in binding order
      "symbols": {"s0": ["x", 0], ...}, # each shape symbol -> (input binding, dimension) that defines it
      "settings": {...},                # CompilationSettings.to_json()
      "network": {...} | null,          # a description of the built network, when a network observer gave one
      "weight_map": {...} | null,       # how each named weight is computed from the state dict (refit; see
                                        # torch_tensorrt.runtime._weight_map), when the compile recorded one
      "torch_version": "2.14.1",        # torch that built the engine ("" when unknown; checked on load, see _compat)
      "profiles": [{"x": {"min": [...], "opt": [...], "max": [...]}, ...}, ...]
                                        # only for engines with several optimization profiles: per profile (in
                                        # TensorRT's index order), every input's shapes; the inputs' own min/opt/max
                                        # are then the envelope (min of the mins, max of the maxes, opt of profile 0)
    }

``network`` and :attr:`EngineMetadata.engine_kind` (which becomes the record's ``ENGINE_KIND`` field and is not
stored in the JSON) are what the compiler's network observers may set
(:func:`torch_tensorrt.dynamo.conversion.add_network_observer`): a package whose engines run on something other
than TensorRT records there what its runtime needs, and names its kind.

A ``TensorSpec`` is ``{"name", "dtype", "shape", "min", "opt", "max"}``: ``dtype`` is a torch dtype name
(``"float32"``), ``shape`` lists ints and, for dynamic dimensions, expressions over the symbols as strings
(``"s0"``, ``"2*s0"``, ``"(s0//2)"``, sympy syntax); ``min``/``opt``/``max`` are the concrete profile shapes
(for outputs: the shapes at the profile's min/opt/max, where they could be computed, else null).

``symbols`` lists only symbols that some input dimension is exactly; a symbol the inputs carry only in derived
sizes (``2*s0`` in an engine after a graph break) is absent, and readers solve it from those sizes
(:func:`torch_tensorrt.runtime._shape_expr.bind_symbols`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import torch

from torch_tensorrt.runtime._kinds import KIND_TENSORRT
from torch_tensorrt.runtime._record_check import DTYPES
from torch_tensorrt.runtime._shape_expr import Dim


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


#: The dtypes an engine binding may have, by metadata name (the table of runtime/_record_check.py).
_DTYPES = {name: getattr(torch, name) for name in DTYPES}


def dtype_from_name(name: str) -> torch.dtype:
    """The torch dtype of a metadata dtype name, from an explicit table (never ``getattr`` with file text)."""
    value = _DTYPES.get(name) if isinstance(name, str) else None
    if value is None:
        raise ValueError(f"unknown dtype name {name!r} in engine metadata")
    return value


@dataclass
class TensorSpec:
    name: str
    dtype: str
    shape: list[Dim]
    min: Optional[list[int]] = None
    opt: Optional[list[int]] = None
    max: Optional[list[int]] = None

    @property
    def torch_dtype(self) -> torch.dtype:
        return dtype_from_name(self.dtype)

    @property
    def is_dynamic(self) -> bool:
        return any(isinstance(d, str) for d in self.shape)


@dataclass
class EngineMetadata:
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    symbols: dict[str, list[Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    engine_kind: str = KIND_TENSORRT
    network: Optional[dict[str, Any]] = None
    weight_map: Optional[dict[str, Any]] = None
    torch_version: str = ""
    #: a converter of the engine produces data-dependent shapes (outputs go through an output allocator); carried
    #: from conversion to the engine module, serialized as the record's REQUIRES_OUTPUT_ALLOCATOR field
    requires_output_allocator: bool = False
    #: several optimization profiles (see the schema above); None for one
    profiles: Optional[list[dict[str, dict[str, list[int]]]]] = None

    #: Fields a network observer may set (the others are the compiler's own).
    OBSERVABLE = ("engine_kind", "network")

    def to_json(self) -> dict[str, Any]:
        """The record's ``SERIALIZED_METADATA`` (``engine_kind`` and ``requires_output_allocator`` are the record's
        own fields ``ENGINE_KIND`` and ``REQUIRES_OUTPUT_ALLOCATOR``, not metadata)."""
        value = asdict(self)
        del value["engine_kind"], value["requires_output_allocator"]
        if value["profiles"] is None:  # absent for one profile: such records read as they always did
            del value["profiles"]
        return value

    @property
    def num_profiles(self) -> int:
        return len(self.profiles) if self.profiles else 1

    def profile_shapes(self, index: int) -> dict[str, tuple[list[int], list[int], list[int]]]:
        """Input name -> (min, opt, max) in optimization profile ``index`` (with one profile: the inputs' own
        ranges, where recorded)."""
        if self.profiles:
            return {n: (r["min"], r["opt"], r["max"]) for n, r in self.profiles[index].items()}
        return {
            s.name: (s.min, s.opt, s.max)  # type: ignore[misc]
            for s in self.inputs
            if s.min is not None and s.opt is not None and s.max is not None
        }

    def to_json_with_kind(self) -> dict[str, Any]:
        """:meth:`to_json` plus the record's own fields, for stores that keep metadata apart from a record (engine
        cache)."""
        return dict(
            self.to_json(), engine_kind=self.engine_kind, requires_output_allocator=self.requires_output_allocator
        )

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "EngineMetadata":
        try:
            return cls(
                inputs=[TensorSpec(**t) for t in value.get("inputs", [])],
                outputs=[TensorSpec(**t) for t in value.get("outputs", [])],
                symbols={k: list(v) for k, v in value.get("symbols", {}).items()},
                settings=dict(value.get("settings", {})),
                engine_kind=str(value.get("engine_kind") or KIND_TENSORRT),
                network=value.get("network"),
                weight_map=value.get("weight_map"),
                torch_version=str(value.get("torch_version") or ""),
                requires_output_allocator=bool(value.get("requires_output_allocator", False)),
                profiles=value.get("profiles"),
            )
        except TypeError as exc:
            raise ValueError(f"engine metadata does not match the schema: {exc}") from exc


def profiles_json(
    inputs: list[TensorSpec], profiles: list[list[tuple[list[int], list[int], list[int]]]]
) -> Optional[list[dict[str, dict[str, list[int]]]]]:
    """The metadata's ``profiles`` from per-profile (min, opt, max) shapes in input order (None for < 2 profiles)."""
    if len(profiles) < 2:
        return None
    return [
        {spec.name: {"min": list(mn), "opt": list(op), "max": list(mx)} for spec, (mn, op, mx) in zip(inputs, shapes)}
        for shapes in profiles
    ]
