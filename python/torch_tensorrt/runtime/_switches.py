"""Runtime switches of the incumbent Torch-TensorRT, over the engines of a compiled module (Python runtime).

=================================  ===========================================================================
``enable_output_allocator(m)``     real: the engines run with an output allocator inside the context (TensorRT
                                   sizes the outputs), as for data-dependent shapes; restored on exit
``weight_streaming(m)``            real where the engine exposes TensorRT's weight-streaming budget
                                   (``streamable_weights_size`` / ``weight_streaming_budget_v2``): the device
                                   budget is split over the engines by their streamable sizes; engines must be
                                   built with ``enable_weight_streaming=True``
``runtime_config(m, **fields)``    real on TensorRT-RTX: :class:`RuntimeSettings` (dynamic-shape kernel
``set_runtime_settings(m, s)``     specialization, CUDA-graph strategy, runtime cache) are applied through an
``set_dynamic_shapes_kernel_...``  ``IRuntimeConfig`` when each execution context is (re)created
                                   (:func:`~._runtime_config.runtime_config_for`); elsewhere they are validated and stored
``enable_pre_allocated_outputs``   real, in :mod:`~torch_tensorrt.runtime._whole_graph` (next to the CUDA graphs
                                   whose replays it speeds up)
``set_multi_device_safe_mode``     accepted: engines already run on the device chosen at set-up; the flag is
                                   kept (:func:`get_multi_device_safe_mode`) and a one-time warning says so
=================================  ===========================================================================

The engines' modules are found with :func:`engine_modules` (every ``TorchTensorRTModule`` inside ``module``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Iterator, Optional, Union

import torch

from torch_tensorrt._settings import warn_once
from torch_tensorrt.runtime._runtime_config import RuntimeSettings


def engine_modules(module: torch.nn.Module) -> list[Any]:
    """The ``TorchTensorRTModule``s in ``module`` (itself included); a module without engines is an error."""
    from torch_tensorrt.runtime._module import TorchTensorRTModule

    found = [m for m in module.modules() if isinstance(m, TorchTensorRTModule)]
    if not found:
        raise ValueError(f"{type(module).__name__} holds no TensorRT engine (compile it with torch_tensorrt first)")
    return found


def _engines(module: torch.nn.Module, what: str) -> list[Any]:
    return [m._python_engine(what) for m in engine_modules(module)]


# ------------------------------------------------------------------------------------------ output allocator
@contextlib.contextmanager
def enable_output_allocator(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Run ``module``'s engines with an output allocator inside the context."""
    engines = _engines(module, "enable_output_allocator")
    for engine in engines:
        if engine.cuda_graphs:
            raise RuntimeError(f"engine {engine.name!r}: an output allocator cannot run inside a CUDA graph")
    saved = [e.requires_output_allocator for e in engines]
    try:
        for engine in engines:
            if not engine.requires_output_allocator:
                engine.requires_output_allocator = True
                engine.reset()  # the next execution sets the allocator on a new context
        yield module
    finally:
        for engine, flag in zip(engines, saved):
            if engine.requires_output_allocator != flag:
                engine.requires_output_allocator = flag
                engine.reset()


# ------------------------------------------------------------------------------------------ multi-device mode
_multi_device_safe_mode = False


class _MultiDeviceMode:
    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> "_MultiDeviceMode":
        return self

    def __exit__(self, *exc: Any) -> None:
        global _multi_device_safe_mode
        _multi_device_safe_mode = self._previous


def set_multi_device_safe_mode(enabled: bool) -> _MultiDeviceMode:
    """Set the flag (also usable as a context manager restoring the previous value on exit)."""
    global _multi_device_safe_mode
    previous, _multi_device_safe_mode = _multi_device_safe_mode, bool(enabled)
    if enabled:
        warn_once(
            "set_multi_device_safe_mode",
            "set_multi_device_safe_mode(True) changes nothing here: each engine runs on the device selected when it "
            "is set up (torch_tensorrt.runtime chooses a compatible GPU); the flag is recorded",
        )
    return _MultiDeviceMode(previous)


def get_multi_device_safe_mode() -> bool:
    return _multi_device_safe_mode


# ------------------------------------------------------------------------------------------ weight streaming
class WeightStreamingContext:
    """The device budget of ``module``'s engines (bytes of weights kept on the GPU)."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.modules = engine_modules(module)
        for m in self.modules:
            meta = m.metadata
            if not (meta is not None and meta.settings.get("enable_weight_streaming")):
                raise RuntimeError(
                    f"engine {m.name!r} was not built for weight streaming; compile with enable_weight_streaming=True"
                )
        self.engines = [m._python_engine("weight_streaming") for m in self.modules]
        for engine in self.engines:
            engine.setup()
        self._budget = self.total_device_budget

    @staticmethod
    def _size(engine: Any) -> int:
        return int(getattr(engine.engine, "streamable_weights_size", 0) or 0)

    @property
    def total_device_budget(self) -> int:
        """Streamable weight bytes of all the engines (the most that can be kept on the device)."""
        return sum(self._size(e) for e in self.engines)

    @property
    def device_budget(self) -> int:
        return self._budget

    @device_budget.setter
    def device_budget(self, value: int) -> None:
        total = self.total_device_budget
        if not isinstance(value, int) or not 0 <= value <= max(total, 0):
            raise ValueError(f"device_budget must be an int in 0..{total} (total_device_budget), got {value!r}")
        left = value
        for i, engine in enumerate(self.engines):
            size = self._size(engine)
            share = left if i == len(self.engines) - 1 else (value * size // total if total else 0)
            share = min(share, size)
            if hasattr(engine.engine, "weight_streaming_budget_v2"):
                engine.engine.weight_streaming_budget_v2 = share
            left -= share
        self._budget = value

    def get_automatic_weight_streaming_budget(self) -> int:
        """TensorRT's automatic budget summed over the engines (the total when an engine has none)."""
        total = 0
        for engine in self.engines:
            auto = getattr(engine.engine, "get_weight_streaming_automatic_budget", None)
            total += int(auto()) if callable(auto) else self._size(engine)
        return total


@contextlib.contextmanager
def weight_streaming(module: torch.nn.Module) -> Iterator[WeightStreamingContext]:
    """``with weight_streaming(m) as ctx: ctx.device_budget = n``; the full budget is restored on exit."""
    ctx = WeightStreamingContext(module)
    try:
        yield ctx
    finally:
        ctx.device_budget = ctx.total_device_budget


# ------------------------------------------------------------------------------------------- runtime settings
def set_runtime_settings(module: torch.nn.Module, settings: Optional[RuntimeSettings]) -> None:
    """Use ``settings`` for ``module``'s engines from their next execution context on."""
    if settings is not None and not isinstance(settings, RuntimeSettings):
        raise TypeError(f"expected a torch_tensorrt.runtime.RuntimeSettings, got {type(settings).__name__}")
    for engine in _engines(module, "runtime settings"):
        if getattr(engine, "runtime_settings", None) != settings:
            engine.runtime_settings = settings
            engine.reset()


def get_runtime_settings(module: torch.nn.Module) -> RuntimeSettings:
    engine = _engines(module, "runtime settings")[0]
    return getattr(engine, "runtime_settings", None) or RuntimeSettings()


@contextlib.contextmanager
def runtime_config(modules: Union[torch.nn.Module, list[torch.nn.Module]], **fields: Any) -> Iterator[None]:
    """Override :class:`RuntimeSettings` fields for ``modules`` inside the context (restored on exit)."""
    mods = modules if isinstance(modules, (list, tuple)) else [modules]
    saved = [get_runtime_settings(m) for m in mods]
    try:
        for m, old in zip(mods, saved):
            set_runtime_settings(m, dataclasses.replace(old, **fields))
        yield
    finally:
        for m, old in zip(mods, saved):
            set_runtime_settings(m, old)


def set_dynamic_shapes_kernel_strategy(module: torch.nn.Module, strategy: str) -> None:
    """Set the dynamic-shape kernel specialization strategy (``lazy``, ``eager`` or ``none``) of ``module``."""
    set_runtime_settings(
        module,
        dataclasses.replace(get_runtime_settings(module), dynamic_shapes_kernel_specialization_strategy=strategy),
    )


@contextlib.contextmanager
def runtime_cache(module: torch.nn.Module, path: str) -> Iterator[None]:
    """Use the runtime kernel cache file ``path`` for ``module`` inside the context."""
    with runtime_config(module, runtime_cache=path):
        yield


__all__ = [
    "RuntimeSettings",
    "enable_output_allocator",
    "set_multi_device_safe_mode",
    "get_multi_device_safe_mode",
    "weight_streaming",
    "WeightStreamingContext",
    "set_runtime_settings",
    "get_runtime_settings",
    "runtime_config",
    "set_dynamic_shapes_kernel_strategy",
    "runtime_cache",
    "engine_modules",
]
