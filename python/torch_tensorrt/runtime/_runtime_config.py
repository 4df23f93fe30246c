"""``RuntimeSettings`` (the TensorRT-RTX runtime options) and :func:`runtime_config_for`, the ``IRuntimeConfig``
carrying them that the engine creates each execution context with. Kept apart from the switches
(:mod:`._switches`) so that the engine imports only this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

_STRATEGIES = ("lazy", "eager", "none")
_GRAPH_STRATEGIES = ("disabled", "whole_graph_capture")


@dataclass(frozen=True)
class RuntimeSettings:
    """TensorRT-RTX runtime options, sampled when an engine's execution context is created."""

    cuda_graph_strategy: str = "disabled"
    dynamic_shapes_kernel_specialization_strategy: str = "lazy"
    runtime_cache: Optional[str] = None

    def __post_init__(self) -> None:
        if self.cuda_graph_strategy not in _GRAPH_STRATEGIES:
            raise ValueError(
                f"cuda_graph_strategy must be one of {_GRAPH_STRATEGIES}, got {self.cuda_graph_strategy!r}"
            )
        if self.dynamic_shapes_kernel_specialization_strategy not in _STRATEGIES:
            raise ValueError(
                f"dynamic_shapes_kernel_specialization_strategy must be one of {_STRATEGIES}, "
                f"got {self.dynamic_shapes_kernel_specialization_strategy!r}"
            )


def runtime_config_for(engine: Any, settings: Optional[RuntimeSettings]) -> Any:
    """An ``IRuntimeConfig`` of TensorRT ``engine`` carrying ``settings``, for ``create_execution_context`` -- or
    None when there are no settings or the engine offers no runtime config (not TensorRT-RTX; the settings then
    have no effect)."""
    make_config = getattr(engine, "create_runtime_config", None)
    if settings is None or not callable(make_config):
        return None
    from torch_tensorrt._trt import trt

    config = make_config()
    strategy = getattr(trt, "DynamicShapesKernelSpecializationStrategy", None)
    if strategy is not None:
        config.dynamic_shapes_kernel_specialization_strategy = getattr(
            strategy, settings.dynamic_shapes_kernel_specialization_strategy.upper()
        )
    graphs = getattr(trt, "CudaGraphStrategy", None)
    if graphs is not None:
        config.cuda_graph_strategy = getattr(graphs, settings.cuda_graph_strategy.upper())
    if settings.runtime_cache is not None:
        cache = config.create_runtime_cache()
        try:
            with open(settings.runtime_cache, "rb") as f:
                cache.deserialize(f.read())
        except FileNotFoundError:
            pass
        config.set_runtime_cache(cache)
    return config


__all__ = ["RuntimeSettings", "runtime_config_for"]
