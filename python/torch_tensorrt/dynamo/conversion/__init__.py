"""Conversion: FX graph -> TensorRT network -> serialized engine.

:func:`convert_module` is the single path used by ``compile``, ``convert_exported_program_to_serialized_trt_engine``
and the reference tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._builder import BuildResult, build_serialized
from torch_tensorrt.dynamo.conversion._interpreter import NetworkResult, convert_graph
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS, ConverterRegistry, Priority, converter
from torch_tensorrt.dynamo.conversion._shapes import SymbolRanges
from torch_tensorrt.runtime._metadata import EngineMetadata

__all__ = [
    "CONVERTERS", "ConverterRegistry", "Priority", "converter", "convert_module", "ConvertedEngine", "SymbolRanges",
]


@dataclass
class ConvertedEngine:
    name: str
    engine: bytes
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
) -> ConvertedEngine:
    """Convert and build ``gm``. Under ``torch_tensorrt.testing.simulate()`` the network is also recorded."""
    result = convert_graph(gm, settings, ranges, name)
    build = build_serialized(result.builder, result.network, settings, result.inputs, name, progress)
    metadata = EngineMetadata(
        inputs=result.inputs, outputs=result.outputs, symbols=result.symbols, settings=settings.to_json()
    )
    recorder = _simulation_recorder()
    if recorder is not None:
        metadata.network = recorder(result.network)
    return ConvertedEngine(name, build.engine, metadata, result, build, gm)


def _simulation_recorder() -> Optional[Callable[[object], dict]]:
    try:
        from torch_tensorrt.testing import _simulate
    except ImportError:
        return None
    if getattr(_simulate, "is_active", lambda: False)():
        return _simulate.record_network
    return None
