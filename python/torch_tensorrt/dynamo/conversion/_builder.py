"""Builder configuration and engine build.

Each setting is applied where the installed TensorRT flavour has the knob; otherwise the build logs (once per
setting) that the flavour ignores it. Nothing here touches CUDA: TensorRT-RTX builds on a CPU-only machine --
except refittable and weight-stripped engines, which its builder makes only where a CUDA GPU is present.

Extension point: *config observers* (:func:`add_config_observer`) see each builder configuration before the
build and may adjust it -- a package whose engines do not run on TensorRT (the simulation of
:mod:`torch_tensorrt.testing`) clears flags the CPU-only builder cannot honour. :func:`builds_done` counts builds
(refit and the engine cache promise that they build nothing).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from torch_tensorrt import _trt
from torch_tensorrt._errors import EngineBuildError
from torch_tensorrt._settings import CompilationSettings
from torch_tensorrt._trt import trt
from torch_tensorrt._trt_logging import trt_logger
from torch_tensorrt.dynamo import _progress
from torch_tensorrt.runtime._metadata import TensorSpec

logger = logging.getLogger(__name__)
_warned: set[str] = set()

#: ``observer(config, settings)``: may adjust the ``IBuilderConfig`` before the build.
ConfigObserver = Callable[[Any, CompilationSettings], None]
_lock = threading.Lock()
_config_observers: list[ConfigObserver] = []
_builds = 0


def add_config_observer(observer: ConfigObserver) -> ConfigObserver:
    """Call ``observer(config, settings)`` before every build from now on (the same observer is added once)."""
    with _lock:
        if observer not in _config_observers:
            _config_observers.append(observer)
    return observer


def remove_config_observer(observer: ConfigObserver) -> None:
    with _lock:
        if observer in _config_observers:
            _config_observers.remove(observer)


def config_observers() -> tuple[ConfigObserver, ...]:
    with _lock:
        return tuple(_config_observers)


def builds_done() -> int:
    """How many times this process has called the TensorRT builder (successful or not)."""
    return _builds


def make_builder() -> Any:
    """A ``trt.Builder`` logging through the package's TensorRT logger (see :mod:`torch_tensorrt._trt_logging`)."""
    return trt.Builder(trt_logger())


def _unsupported(setting: str) -> None:
    if setting not in _warned:
        _warned.add(setting)
        info = _trt.info()
        logger.warning("%s is not supported by %s %s; ignoring it", setting, info.flavour, info.version)


def _set_flag(config: Any, flag_name: str, setting: str, on: bool = True) -> None:
    flag = getattr(trt.BuilderFlag, flag_name, None)
    if flag is None:
        _unsupported(setting)
        return
    if on:
        config.set_flag(flag)
    else:
        config.clear_flag(flag)


def configure(builder: Any, settings: CompilationSettings) -> Any:
    """An ``IBuilderConfig`` reflecting ``settings``."""
    config = builder.create_builder_config()
    info = _trt.info()
    if settings.optimization_level is not None:
        config.builder_optimization_level = settings.optimization_level
    if settings.workspace_size:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_size)
    if settings.hardware_compatible:
        level = getattr(trt.HardwareCompatibilityLevel, "AMPERE_PLUS", None)
        if level is None:
            _unsupported("hardware_compatible")
        else:
            config.hardware_compatibility_level = level
    if settings.version_compatible:
        if info.is_rtx:
            _unsupported("version_compatible")  # RTX engines are JIT-compiled per GPU; no lean runtime
        else:
            _set_flag(config, "VERSION_COMPATIBLE", "version_compatible")
    if not settings.immutable_weights:
        _set_flag(config, "REFIT", "immutable_weights=False")
    if settings.refit_identical_engine_weights or (settings.strip_engine_weights and settings.immutable_weights):
        # a stripped plan is refitted at load with the weights it was built with: REFIT_IDENTICAL says so
        _set_flag(config, "REFIT_IDENTICAL", "refit_identical_engine_weights")
    if settings.strip_engine_weights:
        _set_flag(config, "STRIP_PLAN", "strip_engine_weights")
    if settings.enable_weight_streaming:
        _set_flag(config, "WEIGHT_STREAMING", "enable_weight_streaming")
    if settings.sparse_weights:
        _set_flag(config, "SPARSE_WEIGHTS", "sparse_weights")
    if settings.disable_tf32 and hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)
    if settings.max_aux_streams is not None:
        config.max_aux_streams = settings.max_aux_streams
    return config


def add_profile(
    builder: Any, config: Any, inputs: list[TensorSpec], profiles: Optional[list[list[Any]]] = None
) -> None:
    """The optimization profiles (only when some input is dynamic): one from the inputs' min/opt/max shapes, or,
    with ``profiles`` (per profile, each input's (min, opt, max) in input order), one per entry, in order -- the
    list index is the TensorRT profile index."""
    if not any(spec.is_dynamic for spec in inputs):
        return
    for shapes in profiles or [[(spec.min, spec.opt, spec.max) for spec in inputs]]:
        profile = builder.create_optimization_profile()
        for spec, (mn, opt, mx) in zip(inputs, shapes):
            profile.set_shape(spec.name, tuple(mn), tuple(opt), tuple(mx))
        if config.add_optimization_profile(profile) < 0:
            raise EngineBuildError(
                f"TensorRT refused optimization profile {shapes} for inputs {[s.name for s in inputs]}"
            )


@dataclass
class BuildResult:
    #: the plan: a byte view of TensorRT's ``IHostMemory``, which it keeps alive (no copy of a plan as large as
    #: the weights; ``bytes(engine)`` makes one where bytes are needed)
    engine: memoryview
    seconds: float


def build_serialized(
    builder: Any,
    network: Any,
    settings: CompilationSettings,
    inputs: list[TensorSpec],
    name: str,
    progress: Optional[Callable[[str], None]] = None,
    profiles: Optional[list[list[Any]]] = None,
) -> BuildResult:
    """Build the network into a serialized engine (a byte view, see :class:`BuildResult`); an
    :class:`EngineBuildError` when the builder fails. ``profiles``: several optimization profiles (see
    :func:`add_profile`)."""
    global _builds
    config = configure(builder, settings)
    add_profile(builder, config, inputs, profiles)
    for observer in config_observers():
        observer(config, settings)
    if progress:
        progress(f"building engine {name} ({network.num_layers} layers)")
    _progress.phase(name, f"building ({network.num_layers} layers)")
    start = time.perf_counter()
    with _lock:
        _builds += 1
    serialized = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - start
    _progress.finish(name, f"built in {seconds:.1f} s" if serialized is not None else "build failed")
    if serialized is None:
        error = EngineBuildError(
            f"TensorRT failed to build engine {name!r} ({network.num_layers} layers); see the TensorRT log above"
        )
        if _trt.info().is_rtx and (not settings.immutable_weights or settings.strip_engine_weights) and not _has_gpu():
            error.add_note(
                "TensorRT-RTX builds refittable or weight-stripped engines (immutable_weights=False, "
                "strip_engine_weights=True) only on a machine with a CUDA GPU; this one has none"
            )
        raise error
    return BuildResult(memoryview(serialized).cast("B"), seconds)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()
