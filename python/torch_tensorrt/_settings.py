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
from dataclasses import dataclass, field
from typing import Any, Collection, Optional, Union

import torch

from torch_tensorrt._device import Device

#: Precisions the network may compute in. float32 is always allowed; float16/bfloat16 cast the float computation.
SUPPORTED_PRECISIONS = (torch.float32, torch.float16, torch.bfloat16)
_PRECISION_ALIASES = {
    "fp32": torch.float32, "float32": torch.float32, "float": torch.float32,
    "fp16": torch.float16, "float16": torch.float16, "half": torch.float16,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
}


def parse_precision(value: Union[str, torch.dtype]) -> torch.dtype:
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

    #: Aliases accepted by :meth:`from_kwargs` (old or alternative spellings).
    ALIASES = {"truncate_long_and_double": "truncate_double", "precision": "enabled_precisions"}

    def __post_init__(self) -> None:
        if isinstance(self.enabled_precisions, (str, torch.dtype)):
            self.enabled_precisions = {self.enabled_precisions}  # type: ignore[assignment]
        self.enabled_precisions = {parse_precision(p) for p in self.enabled_precisions}
        self.enabled_precisions.add(torch.float32)
        if torch.float16 in self.enabled_precisions and torch.bfloat16 in self.enabled_precisions:
            raise ValueError("enabled_precisions: choose one of float16 and bfloat16, not both")
        self.torch_executed_ops = set(self.torch_executed_ops)
        self.device = Device.parse(self.device)
        if not isinstance(self.min_block_size, int) or self.min_block_size < 1:
            raise ValueError(f"min_block_size must be an int >= 1, got {self.min_block_size!r}")
        if self.optimization_level is not None and not 0 <= self.optimization_level <= 5:
            raise ValueError(f"optimization_level must be in 0..5, got {self.optimization_level}")
        if not isinstance(self.dynamic_shape_max, int) or self.dynamic_shape_max < 1:
            raise ValueError(f"dynamic_shape_max must be an int >= 1, got {self.dynamic_shape_max!r}")
        if not isinstance(self.max_cuda_graphs, int) or isinstance(self.max_cuda_graphs, bool) or self.max_cuda_graphs < 1:
            raise ValueError(f"max_cuda_graphs must be an int >= 1, got {self.max_cuda_graphs!r}")
        if self.workspace_size < 0:
            raise ValueError(f"workspace_size must be >= 0, got {self.workspace_size}")
        if not isinstance(self.engine_cache_size, int) or self.engine_cache_size < 0:
            raise ValueError(f"engine_cache_size must be an int >= 0 (bytes), got {self.engine_cache_size!r}")
        if self.custom_engine_cache is not None and not (
            callable(getattr(self.custom_engine_cache, "save", None)) and callable(getattr(self.custom_engine_cache, "load", None))
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
            elif f.name == "custom_engine_cache" and v is not None:
                v = type(v).__qualname__
            out[f.name] = v
        return out


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
