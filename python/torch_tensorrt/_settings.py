"""``CompilationSettings``: every compilation option, in one dataclass passed as one object.

Entry points accept these as keyword arguments and build the object with :meth:`CompilationSettings.from_kwargs`,
which rejects an unknown keyword with a TypeError that lists the valid ones. Nothing else in the package re-lists
the options.

This module sits in the bottom layer (it needs only torch and :mod:`torch_tensorrt._device`) because both the
compiler (:mod:`torch_tensorrt.dynamo`) and the runtime (:class:`~torch_tensorrt.runtime.TorchTensorRTModule`
keeps the settings an engine was built with) use it. ``torch_tensorrt.dynamo._settings`` re-exports it.
"""

from __future__ import annotations

import dataclasses
import difflib
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Collection, Optional, Union

import torch

from torch_tensorrt._device import Device
from torch_tensorrt._enums import to_torch_dtype

#: Precisions the network may compute in. float32 is always allowed; float16/bfloat16 cast the float computation.
SUPPORTED_PRECISIONS = (torch.float32, torch.float16, torch.bfloat16)
_PRECISION_ALIASES = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "float": torch.float32,
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
}


def parse_precision(value: Union[str, torch.dtype]) -> torch.dtype:
    value = to_torch_dtype(value)
    if isinstance(value, torch.dtype):
        dtype = value
    elif isinstance(value, str) and value.lower() in _PRECISION_ALIASES:
        dtype = _PRECISION_ALIASES[value.lower()]
    else:
        raise ValueError(f"unknown precision {value!r}; use one of fp32, fp16, bf16 (or the torch dtypes)")
    if dtype not in SUPPORTED_PRECISIONS:
        raise ValueError(f"precision {dtype} is not supported; supported: {SUPPORTED_PRECISIONS}")
    return dtype


@dataclass
class CompilationSettings:
    """Options of ``torch_tensorrt.dynamo.compile`` and friends. Defaults are the documented ones.

    Precision
        ``enabled_precisions``: set of dtypes the network may compute in (default ``{torch.float32}``). TensorRT
        networks here are strongly typed, so ``{torch.float16}`` / ``{torch.bfloat16}`` are honoured by casting the
        float computation inside each engine to that dtype (I/O dtypes stay the user's). Normalizations, softmax
        and reductions (converters registered with ``fp32=True``, see :mod:`torch_tensorrt.dynamo.conversion._registry`)
        compute in float32 and cast back.
        ``truncate_double``: float64 inputs and constants are computed as float32 (TensorRT has no float64).
        ``use_explicit_typing``: accepted for compatibility; networks are always strongly typed.

    Partitioning
        ``min_block_size``: minimum number of operators in a TensorRT partition (default 5).
        ``torch_executed_ops``: ops (OpOverload, OpOverloadPacket or "aten.name" strings) forced to PyTorch.
        ``require_full_compilation``: fail unless the whole graph becomes one engine.

    Builder
        ``optimization_level`` (0-5, None = TensorRT's default 3), ``workspace_size`` (bytes, 0 = TensorRT's
        default), ``hardware_compatible`` (Ampere+ engines), ``version_compatible``, ``immutable_weights``
        (False builds a refittable engine), ``refit_identical_engine_weights``, ``strip_engine_weights``,
        ``enable_weight_streaming``, ``max_aux_streams``, ``disable_tf32``, ``sparse_weights``.
        Each is applied where the installed TensorRT flavour supports it; otherwise the build logs a warning.

    Runtime
        ``device``: target GPU. ``use_python_runtime``: None picks the C++ runtime when loaded, else Python.
        ``lazy_engine_init``: defer engine deserialization to the first call.
        ``max_cuda_graphs``: CUDA graphs kept per engine (and per whole-graph wrapper) in CUDA-graphs mode, one per
        input shape set; the least recently used is dropped beyond it (default 8).
        ``use_pre_allocated_outputs``: allocate each engine's outputs for its next call right after launching the
        current one (the returned tensors are still new on every call), so the next launch does not wait for
        allocation; ``TorchTensorRTModule.set_pre_allocated_outputs`` switches it at run time.

    Refit and engine cache (see :mod:`torch_tensorrt.dynamo._refit` and :mod:`torch_tensorrt.dynamo._engine_cache`)
        ``immutable_weights=False`` also records, for every engine weight, how it is computed from the program's
        state dict (the weight map that ``refit_module_weights`` uses). ``strip_engine_weights``: the plan carries
        no weights; the module keeps them beside it and refits the engine before its first run.
        ``cache_built_engines``: store each built engine in the engine cache; ``reuse_cached_engines``: take an
        engine from the cache instead of converting and building when the partition, its inputs, the
        builder-relevant settings and the TensorRT version match (weights are not part of the key: a hit with
        other weights is refitted, or rebuilt when the engine is not refittable). ``engine_cache_dir`` (default
        ``$TORCHTRT_ENGINE_CACHE_DIR`` or ``~/.cache/torch_tensorrt/engines``) and ``engine_cache_size`` (bytes)
        configure the default disk cache; ``custom_engine_cache`` replaces it (a
        :class:`~torch_tensorrt.dynamo._engine_cache.BaseEngineCache`).

    Lowering
        ``fold_constants``: compute subgraphs that depend on constants only at compile time (default True).

    ``torch.compile`` backend
        ``dynamic_shape_max``: the profile max of a dynamic dimension whose range PyTorch leaves unbounded
        (automatic dynamic shapes, ``dynamic=True``, ``mark_dynamic`` without ``max``); default 512, doubled
        until it covers the size of the call being compiled. A call beyond it fails a guard and recompiles.

    Mixed precision
        ``use_fp32_acc``: under float16/bfloat16, matmul-like layers (mm, bmm, addmm, linear, matmul, baddbmm,
        scaled dot-product attention) take float32 inputs and compute in float32 (accumulation in float32),
        their results cast back to the compute dtype.
        ``enable_autocast``: compute in ``autocast_low_precision_type`` (float16 or bfloat16; default float16)
        except the nodes whose names match a regular expression of ``autocast_excluded_nodes`` and the ops in
        ``autocast_excluded_ops``, which compute in float32 (with the accumulation-sensitive converters).
        ``autocast_max_output_threshold``, ``autocast_max_depth_of_reduction`` and
        ``autocast_calibration_dataloader`` are accepted; rules that need calibration data are not applied
        (a one-time warning says so when they are given).

    Bindings
        ``arg_input_binding_names`` / ``kwarg_input_binding_names`` / ``output_binding_names``: the names of the
        engine's inputs and outputs, honoured where one engine carries the whole program
        (``convert_exported_program_to_serialized_trt_engine``); their count must match the program's inputs /
        outputs (a ValueError names both counts).

    Accepted for compatibility
        ``offload_module_to_cpu``: always the case here (compilation never moves the module off the CPU).
        ``use_distributed_mode_trace``: sharded (DTensor) modules are detected and traced per rank anyway.
        ``assume_dynamic_shape_support``: treat every converter as supporting dynamic shapes (real).
        ``enable_resource_partitioning`` / ``cpu_memory_budget`` / ``dynamically_allocate_resources``: stored;
        engines are built one at a time on the CPU, so there is nothing to split (one-time warning).
        Keywords of the incumbent that cannot mean anything with TensorRT-RTX (:data:`NO_EFFECT_KEYWORDS`) are
        accepted by :meth:`from_kwargs` with a one-time warning saying why; other unknown keywords are a TypeError.

    Behaviour
        ``pass_through_build_failures``: raise on a failed engine build instead of falling back to PyTorch.
        ``dryrun``: partition and report, build nothing. ``debug``: log the conversion and engine build of each
        engine at DEBUG level (the ``torch_tensorrt`` logger, TensorRT's verbose builder log included), as
        ``with torch_tensorrt.logging.debug():`` around the call would.
    """

    enabled_precisions: set[torch.dtype] = field(default_factory=lambda: {torch.float32})
    truncate_double: bool = False
    use_explicit_typing: bool = True
    min_block_size: int = 5
    torch_executed_ops: set[Any] = field(default_factory=set)
    require_full_compilation: bool = False
    optimization_level: Optional[int] = None
    workspace_size: int = 0
    hardware_compatible: bool = False
    version_compatible: bool = False
    immutable_weights: bool = True
    refit_identical_engine_weights: bool = False
    strip_engine_weights: bool = False
    enable_weight_streaming: bool = False
    max_aux_streams: Optional[int] = None
    disable_tf32: bool = False
    sparse_weights: bool = False
    device: Device = field(default_factory=Device)
    use_python_runtime: Optional[bool] = None
    lazy_engine_init: bool = False
    max_cuda_graphs: int = 8
    use_pre_allocated_outputs: bool = False
    cache_built_engines: bool = False
    reuse_cached_engines: bool = False
    engine_cache_dir: Optional[str] = None
    engine_cache_size: int = 5 << 30
    custom_engine_cache: Optional[Any] = None
    fold_constants: bool = True
    dynamic_shape_max: int = 512
    pass_through_build_failures: bool = False
    dryrun: bool = False
    debug: bool = False
    use_fp32_acc: bool = False
    enable_autocast: bool = False
    autocast_low_precision_type: Optional[Any] = None
    autocast_excluded_nodes: set[str] = field(default_factory=set)
    autocast_excluded_ops: set[Any] = field(default_factory=set)
    autocast_max_output_threshold: float = 512.0
    autocast_max_depth_of_reduction: Optional[int] = None
    autocast_calibration_dataloader: Optional[Any] = None
    arg_input_binding_names: Optional[list[str]] = None
    kwarg_input_binding_names: Optional[list[str]] = None
    output_binding_names: Optional[list[str]] = None
    offload_module_to_cpu: bool = False
    use_distributed_mode_trace: bool = False
    assume_dynamic_shape_support: bool = False
    enable_resource_partitioning: bool = False
    cpu_memory_budget: Optional[int] = None
    dynamically_allocate_resources: bool = False

    #: Aliases accepted by :meth:`from_kwargs` (old or alternative spellings).
    ALIASES = {"truncate_long_and_double": "truncate_double", "precision": "enabled_precisions"}

    def __post_init__(self) -> None:
        given: Any = self.enabled_precisions
        if isinstance(given, (str, torch.dtype)) or not hasattr(given, "__iter__"):
            given = {given}  # one precision, not a collection
        self.enabled_precisions = {parse_precision(p) for p in given}
        self.enabled_precisions.add(torch.float32)
        if torch.float16 in self.enabled_precisions and torch.bfloat16 in self.enabled_precisions:
            raise ValueError("enabled_precisions: choose one of float16 and bfloat16, not both")
        self.torch_executed_ops = set(self.torch_executed_ops)
        self.autocast_excluded_nodes = set(self.autocast_excluded_nodes)
        self.autocast_excluded_ops = set(self.autocast_excluded_ops)
        if self.enable_autocast:
            low = parse_precision(self.autocast_low_precision_type or torch.float16)
            if low == torch.float32:
                raise ValueError("autocast_low_precision_type must be float16 or bfloat16")
            self.autocast_low_precision_type = low
            self.enabled_precisions = {torch.float32, low}
        for key in ("arg_input_binding_names", "kwarg_input_binding_names", "output_binding_names"):
            names = getattr(self, key)
            if names is not None:
                if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                    raise TypeError(f"{key} must be a list of str, got {names!r}")
                setattr(self, key, list(names))
        self.device = Device.parse(self.device)
        if not isinstance(self.min_block_size, int) or self.min_block_size < 1:
            raise ValueError(f"min_block_size must be an int >= 1, got {self.min_block_size!r}")
        if self.optimization_level is not None and not 0 <= self.optimization_level <= 5:
            raise ValueError(f"optimization_level must be in 0..5, got {self.optimization_level}")
        if not isinstance(self.dynamic_shape_max, int) or self.dynamic_shape_max < 1:
            raise ValueError(f"dynamic_shape_max must be an int >= 1, got {self.dynamic_shape_max!r}")
        if (
            not isinstance(self.max_cuda_graphs, int)
            or isinstance(self.max_cuda_graphs, bool)
            or self.max_cuda_graphs < 1
        ):
            raise ValueError(f"max_cuda_graphs must be an int >= 1, got {self.max_cuda_graphs!r}")
        if self.workspace_size < 0:
            raise ValueError(f"workspace_size must be >= 0, got {self.workspace_size}")
        if not isinstance(self.engine_cache_size, int) or self.engine_cache_size < 0:
            raise ValueError(f"engine_cache_size must be an int >= 0 (bytes), got {self.engine_cache_size!r}")
        if self.custom_engine_cache is not None and not (
            callable(getattr(self.custom_engine_cache, "save", None))
            and callable(getattr(self.custom_engine_cache, "load", None))
        ):
            raise TypeError(
                f"custom_engine_cache must have save(key, data) and load(key) methods (subclass "
                f"torch_tensorrt.dynamo.BaseEngineCache), got {type(self.custom_engine_cache).__name__}"
            )

    @property
    def needs_weight_map(self) -> bool:
        """True when conversion must record where each engine weight comes from (refit, stripped engines, cache)."""
        return not self.immutable_weights or self.strip_engine_weights or self.uses_engine_cache

    @property
    def uses_engine_cache(self) -> bool:
        return self.cache_built_engines or self.reuse_cached_engines

    @property
    def compute_dtype(self) -> torch.dtype:
        """The float dtype engines compute in: float16/bfloat16 when enabled, else float32."""
        for dt in (torch.float16, torch.bfloat16):
            if dt in self.enabled_precisions:
                return dt
        return torch.float32

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_kwargs(cls, base: Optional["CompilationSettings"] = None, **kwargs: Any) -> "CompilationSettings":
        """Build settings from keyword arguments (over ``base`` when given). Unknown keywords are a TypeError."""
        valid = cls.field_names()
        values = {f.name: getattr(base, f.name) for f in dataclasses.fields(cls)} if base is not None else {}
        for key, value in kwargs.items():
            key = cls.ALIASES.get(key, key)
            if key == "make_refittable":  # the incumbent's older spelling of immutable_weights=False
                key, value = "immutable_weights", not value
            if key in NO_EFFECT_KEYWORDS:
                warn_once(
                    key, f"compilation setting {key!r} is accepted and has no effect here: {NO_EFFECT_KEYWORDS[key]}"
                )
                continue
            if key in _WARN_WHEN_SET and value not in (None, False):
                warn_once(key, f"compilation setting {key!r} is stored and has no effect here: {_WARN_WHEN_SET[key]}")
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown compilation setting {key!r}.{hint} Valid settings: {', '.join(valid)}")
            values[key] = value
        return cls(**values)

    def replace(self, **kwargs: Any) -> "CompilationSettings":
        return CompilationSettings.from_kwargs(self, **kwargs)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (stored in engine metadata)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, set):
                v = sorted(str(x) for x in v)
            elif isinstance(v, Device):
                v = str(v)
            elif f.name in ("custom_engine_cache", "autocast_calibration_dataloader") and v is not None:
                v = type(v).__qualname__
            elif isinstance(v, torch.dtype):
                v = str(v).replace("torch.", "")
            out[f.name] = v
        return out


_NO_DLA = "TensorRT-RTX has no DLA"
#: Keywords of the incumbent Torch-TensorRT that cannot mean anything with TensorRT-RTX: keyword -> why.
#: :meth:`CompilationSettings.from_kwargs` accepts them with a one-time warning (and drops them).
NO_EFFECT_KEYWORDS: dict[str, str] = {
    "engine_capability": "TensorRT-RTX builds standard engines only (no safety or DLA-standalone capability)",
    "num_avg_timing_iters": "TensorRT-RTX does not time kernels when building (kernels are compiled at run time)",
    "dla_sram_size": _NO_DLA,
    "dla_local_dram_size": _NO_DLA,
    "dla_global_dram_size": _NO_DLA,
    "timing_cache_path": "TensorRT-RTX has no timing cache (its replacement is the runtime cache)",
    "tiling_optimization_level": "TensorRT-RTX has no tiling optimization setting",
    "l2_limit_for_tiling": "TensorRT-RTX has no tiling optimization setting",
    "torch_executed_modules": "a TorchScript-frontend option; list the ops in torch_executed_ops instead",
    "use_fast_partitioner": "there is one partitioner (capability-based, over the whole graph)",
    "enable_experimental_decompositions": "the decomposition table is fixed (core ATen plus this project's)",
    "enable_cross_compile_for_windows": "Windows cross-compilation is not supported in this build",
    "calibrator": "INT8 calibration is not supported (quantize with explicit Q/DQ first)",
    "allow_shape_tensors": "a TorchScript-frontend option; shape tensors are handled by the converters",
}

#: Settings that are stored but cannot change anything here: warned once when given a true value.
_WARN_WHEN_SET: dict[str, str] = {
    "enable_resource_partitioning": "engines are built one at a time on the CPU; there is no GPU memory to split for",
    "cpu_memory_budget": "engines are built one at a time on the CPU; partitions are not split by memory",
    "dynamically_allocate_resources": "the runtime allocates engine memory per execution context already",
    "autocast_max_output_threshold": "autocast rules that need calibration data are not applied",
    "autocast_max_depth_of_reduction": "autocast rules that need calibration data are not applied",
    "autocast_calibration_dataloader": "autocast rules that need calibration data are not applied",
}

_warned_lock = threading.Lock()
_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """``warnings.warn(message)`` the first time ``key`` is seen in this process (compatibility notices)."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, UserWarning, stacklevel=4)


def reset_warnings() -> None:
    """Forget which one-time warnings were given (tests)."""
    with _warned_lock:
        _warned.clear()


def normalize_op_names(ops: Collection[Any]) -> set[str]:
    """``torch_executed_ops`` entries as qualified names: ``"aten.add.Tensor"`` or overload packets ``"aten.add"``."""
    names = set()
    for op in ops:
        if isinstance(op, str):
            name = op.replace("torch.ops.", "").replace("::", ".")
        elif isinstance(op, torch._ops.OpOverload):
            name = f"{op.namespace}.{op._schema.name.split('::')[-1]}.{op._overloadname}"
        elif isinstance(op, torch._ops.OpOverloadPacket):
            name = op._qualified_op_name.replace("::", ".")
        else:
            name = getattr(op, "__name__", str(op))
        names.add(name)
    return names
