"""Conversion: FX graph -> TensorRT network -> serialized engine.

:func:`convert_module` is the single path used by ``compile``, ``convert_exported_program_to_serialized_trt_engine``
and the reference tools.

Observers of built networks (:func:`add_network_observer`) let packages above the compiler see each network
after it is built, without the compiler knowing them: an observer returns entries for the engine's metadata
(e.g. a description of the network and the engine kind that can run it; see
:class:`~torch_tensorrt.runtime._metadata.EngineMetadata`), and :func:`convert_module` stores them there.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import torch
import torch.fx

from torch_tensorrt import logging as torchtrt_logging
from torch_tensorrt.dynamo.conversion import _provenance
from torch_tensorrt._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._builder import (
    BuildResult,
    ConfigObserver,
    add_config_observer,
    build_serialized,
    builds_done,
    remove_config_observer,
)
from torch_tensorrt.dynamo.conversion._authoring import ConverterPriority, SourceIR, dynamo_tensorrt_converter
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._interpreter import NetworkResult, convert_graph
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS, ConverterRegistry, Priority, converter
from torch_tensorrt.dynamo.conversion._shapes import SymbolRanges
from torch_tensorrt.runtime._metadata import EngineMetadata, profiles_json

__all__ = [
    "CONVERTERS",
    "ConverterRegistry",
    "Priority",
    "converter",
    "convert_module",
    "ConvertedEngine",
    "SymbolRanges",
    "NetworkObserver",
    "add_network_observer",
    "remove_network_observer",
    "ConfigObserver",
    "add_config_observer",
    "remove_config_observer",
    "builds_done",
    "network_observers",
    "dynamo_tensorrt_converter",
    "ConverterPriority",
    "SourceIR",
    "ConversionContext",
]

#: ``observer(network)`` -> metadata entries to store (keys from ``EngineMetadata.OBSERVABLE``), or None.
NetworkObserver = Callable[[Any], Optional[Mapping[str, Any]]]

_observers_lock = threading.Lock()
_observers: list[NetworkObserver] = []


def add_network_observer(observer: NetworkObserver) -> NetworkObserver:
    """Call ``observer(network)`` for every network :func:`convert_module` builds from now on (process-wide; the
    same observer is added once). What it returns is stored into that engine's metadata. Returns ``observer``."""
    with _observers_lock:
        if observer not in _observers:
            _observers.append(observer)
    return observer


def remove_network_observer(observer: NetworkObserver) -> None:
    """Stop calling ``observer`` (no-op when it is not registered)."""
    with _observers_lock:
        if observer in _observers:
            _observers.remove(observer)


def network_observers() -> tuple[NetworkObserver, ...]:
    with _observers_lock:
        return tuple(_observers)


def _observe(network: Any, metadata: EngineMetadata, name: str) -> None:
    with _observers_lock:
        observers = list(_observers)
    for observer in observers:
        entries = observer(network)
        for key, value in (entries or {}).items():
            if key not in EngineMetadata.OBSERVABLE:
                raise ValueError(
                    f"engine {name!r}: network observer {getattr(observer, '__qualname__', observer)!r} returned "
                    f"metadata entry {key!r}; observers may set only {', '.join(EngineMetadata.OBSERVABLE)}"
                )
            setattr(metadata, key, value)


def _rename_bindings(result: NetworkResult, inputs: list[str], outputs: list[str], *, engine: str) -> None:
    """Name the network's inputs and outputs (``*_binding_names`` settings); a count mismatch is a ValueError."""
    for kind, names, specs in (("input", inputs, result.inputs), ("output", outputs, result.outputs)):
        if not names:
            continue
        if len(names) != len(specs):
            raise ValueError(
                f"engine {engine!r}: {len(names)} {kind} binding name(s) given ({', '.join(names)}) but the engine "
                f"has {len(specs)} {kind}(s) ({', '.join(s.name for s in specs)})"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"engine {engine!r}: {kind} binding names must be unique, got {names}")
    net = result.network
    for i, name in enumerate(inputs or []):
        old = result.inputs[i].name
        net.get_input(i).name = name
        result.inputs[i].name = name
        for source in result.symbols.values():  # [input name, dimension] of each shape symbol
            if source[0] == old:
                source[0] = name
    for i, name in enumerate(outputs or []):
        tensor = net.get_output(i)
        old = tensor.name
        tensor.name = name
        result.outputs[i].name = name
        for names in result.node_tensors.values():
            names[:] = [name if n == old else n for n in names]


@dataclass
class ConvertedEngine:
    name: str
    #: the plan (a byte view of TensorRT's serialized memory: ``bytes(engine)`` copies it)
    engine: memoryview
    metadata: EngineMetadata
    network: NetworkResult
    build: BuildResult
    #: the FX graph that was converted (its node names key ``network.node_tensors``)
    graph_module: torch.fx.GraphModule

    @property
    def input_names(self) -> list[str]:
        return [s.name for s in self.metadata.inputs]

    @property
    def output_names(self) -> list[str]:
        return [s.name for s in self.metadata.outputs]


def convert_module(
    gm: torch.fx.GraphModule,
    settings: CompilationSettings,
    ranges: SymbolRanges,
    name: str = "engine",
    progress: Optional[Callable[[str], None]] = None,
    binding_names: Optional[tuple[list[str], list[str]]] = None,
) -> ConvertedEngine:
    """Convert and build ``gm``; registered network observers then see the network. With ``settings.debug`` the
    conversion and the build log at DEBUG (TensorRT's verbose log included). Inside an active
    :class:`~torch_tensorrt.dynamo.conversion._provenance.WeightTracker` the metadata gets the weight map.
    ``binding_names``: (input names, output names) to give the engine's bindings (counts must match)."""
    verbose = settings.debug and torchtrt_logging.get_level() > torchtrt_logging.Level.Debug  # never less verbose
    with torchtrt_logging.debug() if verbose else contextlib.nullcontext():
        result = convert_graph(gm, settings, ranges, name)
        if binding_names is not None:
            _rename_bindings(result, *binding_names, engine=name)
        # several optimization profiles only where some input is dynamic (a static engine has TensorRT's one)
        profiles = result.profiles if any(spec.is_dynamic for spec in result.inputs) else []
        build = build_serialized(result.builder, result.network, settings, result.inputs, name, progress, profiles)
        metadata = EngineMetadata(
            inputs=result.inputs,
            outputs=result.outputs,
            symbols=result.symbols,
            settings=settings.to_json(),
            requires_output_allocator=result.requires_output_allocator,
            profiles=profiles_json(result.inputs, profiles),
        )
        tracker = _provenance.current()
        if tracker is not None:
            with torch.utils._python_dispatch._disable_current_modes():  # writing the map computes no weight
                weight_map = _provenance.build_weight_map(
                    result.network, result.weights, tracker, stripped=settings.strip_engine_weights, engine=name
                )
            metadata.weight_map = weight_map.to_json()
        _observe(result.network, metadata, name)
    return ConvertedEngine(name, build.engine, metadata, result, build, gm)
