"""``TorchTensorRTModule``: the one module type that runs a TensorRT engine inside PyTorch.

The execution path is chosen per module (see :func:`torch_tensorrt.runtime.choose_runtime`): the C++ runtime
(``torch.classes.tensorrt.Engine`` + ``torch.ops.tensorrt.execute_engine``) when its library is loaded, else the
Python :class:`~torch_tensorrt.runtime._engine.TRTEngine` run through
``torch.ops.tensorrt.execute_engine_python`` (called directly, skipping the dispatcher, when nothing traces).

The module's whole state is one :class:`~torch_tensorrt.runtime._record.EngineRecord` (plus ``name`` and
``weight_name_map``): it travels in ``state_dict()`` (``get_extra_state``), in ``torch.save`` pickles and in
exported programs, and either runtime can load what the other saved. Construction never touches CUDA.

An engine whose plan cannot run as it is -- weight-stripped, or taken from the engine cache with another model's
weights (its weight map says ``stripped``/``pending``) -- comes with its weights as buffers of the child module
``engine_weights`` (they travel in the state dict, pickles and exported programs too); the first setup refits the
engine with them (:mod:`torch_tensorrt.runtime._refit`) and drops them. :meth:`TorchTensorRTModule.refit` refits it
with new weights at any time.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Optional, Sequence, Union

import torch

from torch_tensorrt import _trt
from torch_tensorrt._settings import CompilationSettings, normalize_op_names
from torch_tensorrt.runtime import _cudagraphs, _execute_op, _graph_capture
from torch_tensorrt.runtime._choice import choose_runtime
from torch_tensorrt.runtime._compat import build_capability, check_records, this_platform
from torch_tensorrt.runtime._engine import PostCallback, PreCallback, TRTEngine
from torch_tensorrt.runtime._kinds import KIND_TENSORRT
from torch_tensorrt.runtime._metadata import EngineMetadata
from torch_tensorrt.runtime._record import EngineRecord, RecordError
from torch_tensorrt.runtime._weight_map import WeightMap

logger = logging.getLogger(__name__)

EXTRA_STATE_VERSION = 2  # 2: the record is a framed uint8 tensor (1: an ABI 2 list of strings, still read)
PYTHON, CPP = "python", "cpp"

_execute_op.register_python_op()


def _trt_identity() -> tuple[str, str]:
    try:
        from torch_tensorrt import _trt

        info = _trt.info()
        return info.flavour, info.version
    except ImportError:
        return "", ""


class EngineWeights(torch.nn.Module):
    """The weights an engine needs before it can run (TensorRT weight name -> buffer). Loading a state dict
    creates the buffers it names, so an empty module loads them too."""

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any, **kwargs: Any) -> None:
        for key, value in state_dict.items():
            if key.startswith(prefix) and "." not in key[len(prefix) :] and isinstance(value, torch.Tensor):
                name = key[len(prefix) :]
                if name not in self._buffers:
                    self.register_buffer(name, torch.empty_like(value, device="cpu"))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _kept_plan(serialized_engine: Any) -> Any:
    """The plan the module keeps: bytes and a byte view of a TensorRT ``IHostMemory`` (a fresh build's plan, which
    nobody else holds) as they are -- a large engine is not copied -- any other buffer copied into bytes (a view
    of an engine-cache entry may map a file)."""
    if isinstance(serialized_engine, bytes):
        return serialized_engine
    if isinstance(serialized_engine, memoryview) and serialized_engine.format == "B":
        if _trt.is_host_memory(serialized_engine.obj):
            return serialized_engine
    return bytes(serialized_engine)


def _picklable_settings(settings: CompilationSettings) -> CompilationSettings:
    """``settings`` with ``torch_executed_ops`` as names (OpOverload objects cannot be pickled)."""
    if all(isinstance(op, str) for op in settings.torch_executed_ops):
        return settings
    return settings.replace(torch_executed_ops=normalize_op_names(settings.torch_executed_ops))


class TorchTensorRTModule(torch.nn.Module):
    """Runs one serialized TensorRT engine.

    Args:
        serialized_engine: the serialized plan (``None`` for an empty module filled by ``load_state_dict``).
        input_binding_names: TensorRT input names, in the order ``forward`` receives the tensors.
        output_binding_names: TensorRT output names, in the order ``forward`` returns them.
        name: engine name, for logs, errors and serialization.
        settings: the :class:`CompilationSettings` the engine was built with (device, runtime choice,
            ``lazy_engine_init``).
        weight_name_map: TensorRT weight name -> state-dict name, for refit (default: read from the metadata's
            weight map).
        requires_output_allocator: the engine has data-dependent output shapes.
        metadata: the compiler's :class:`EngineMetadata` (I/O specs and shape expressions, used for input
            checks and by the fake kernel). Its ``engine_kind`` becomes the record's ``ENGINE_KIND`` (see
            :mod:`torch_tensorrt.runtime._kinds`).
        weights: TensorRT weight name -> tensor, for an engine whose weight map says it must be refitted before
            its first run (a weight-stripped plan); kept as the ``engine_weights`` buffers until then.
    """

    def __init__(
        self,
        serialized_engine: Optional[bytes] = None,
        input_binding_names: Optional[Sequence[str]] = None,
        output_binding_names: Optional[Sequence[str]] = None,
        name: str = "",
        settings: Optional[CompilationSettings] = None,
        weight_name_map: Optional[dict[str, Any]] = None,
        requires_output_allocator: bool = False,
        metadata: Optional[Union[EngineMetadata, dict[str, Any]]] = None,
        weights: Optional[dict[str, torch.Tensor]] = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.settings = settings if settings is not None else CompilationSettings()
        self.engine_weights = EngineWeights()
        for wname, value in (weights or {}).items():
            self.engine_weights.register_buffer(wname, value.detach())
        self.weight_name_map = weight_name_map
        self.requires_output_allocator = requires_output_allocator
        self._record: Optional[EngineRecord] = None
        self._engine: Any = None
        self._runtime: Optional[str] = None
        self._info = ""
        self._cuda_graphs = False
        self._pre_allocated: Optional[bool] = None  # None: the use_pre_allocated_outputs setting
        self._profile: Optional[int] = None  # pinned optimization profile (None: auto); see runtime._profiles
        self._pending_refit = False
        self._cpp_execute: Any = None  # the C++ Engine's bound execute() (set up with the engine)
        if serialized_engine is not None:
            if not input_binding_names and not output_binding_names:
                raise ValueError(
                    f"TorchTensorRTModule {name!r}: input_binding_names and output_binding_names are required"
                )
            self._install(
                self._make_record(
                    _kept_plan(serialized_engine),
                    list(input_binding_names or []),
                    list(output_binding_names or []),
                    metadata,
                )
            )
            if self.weight_name_map is None and self.weight_map is not None:
                self.weight_name_map = self.weight_map.name_map()
            if not self.settings.lazy_engine_init:
                self._eager_setup()

    # ---------------------------------------------------------------------------------------------- record
    def _make_record(
        self,
        engine: bytes,
        inputs: list[str],
        outputs: list[str],
        metadata: Optional[Union[EngineMetadata, dict[str, Any]]],
    ) -> EngineRecord:
        from torch_tensorrt._version import __version__

        if metadata is None:
            metadata = EngineMetadata(inputs=[], outputs=[])
        elif not isinstance(metadata, EngineMetadata):
            metadata = EngineMetadata.from_json(metadata)  # validates the schema
        meta = metadata.to_json()
        kind = metadata.engine_kind or KIND_TENSORRT  # the record's ENGINE_KIND, not metadata
        if not meta.get("settings"):
            meta["settings"] = self.settings.to_json()
        if not meta.get("torch_version"):
            meta["torch_version"] = torch.__version__
        flavour, version = _trt_identity()
        return EngineRecord(
            name=self.name or "engine",
            engine=engine,
            input_binding_names=inputs,
            output_binding_names=outputs,
            device_id=self.settings.device.gpu_id,
            device_capability=build_capability(flavour, self.settings.device.gpu_id),
            hardware_compatible=self.settings.hardware_compatible,
            metadata=meta,
            target_platform=this_platform(),
            requires_output_allocator=self.requires_output_allocator,
            torchtrt_version=__version__,
            trt_flavour=flavour,
            trt_version=version,
            engine_kind=kind,
        )

    def _install(self, record: EngineRecord, runtime: Optional[str] = None) -> None:
        """Adopt ``record`` and pick the runtime (no deserialization yet)."""
        self._record = record
        wmap = (record.metadata or {}).get("weight_map")
        #: the plan must be refitted (from ``engine_weights``) before it runs
        self._pending_refit = bool(wmap and (wmap.get("stripped") or wmap.get("pending")))
        self.requires_output_allocator = record.requires_output_allocator
        self._engine = self._cpp_execute = None
        self._runtime = runtime or choose_runtime(self.settings.use_python_runtime, record)
        self._info = ""
        if self._runtime == PYTHON:
            self._info = _execute_op.engine_info(record, _execute_op.new_key(record))
        else:
            _execute_op.register_cpp_fakes()

    def _eager_setup(self) -> None:
        """Create the engine now; deserialize now only where that cannot start CUDA (engines whose kind needs no
        GPU, or a process that already uses CUDA). Otherwise the first call does it -- always for an engine that
        needs a refit first."""
        if self._pending_refit:
            return
        engine = self.setup_engine(deserialize=False)
        if isinstance(engine, TRTEngine) and (not engine.kind.needs_gpu or torch.cuda.is_initialized()):
            engine.setup()

    @property
    def _blob(self) -> Optional[torch.Tensor]:
        """The record as the Python op's ``engine_blob`` (Python runtime). Encoded when a trace asks for it --
        never kept: it is as large as the engine, and a tensor attribute assigned while ``torch.export`` traces
        is refused -- outside any mode, so that tracing lifts it as a real constant."""
        if self._record is None or self._runtime != PYTHON:
            return None
        with torch.utils._python_dispatch._disable_current_modes():
            return _execute_op.encode_blob(self._record)

    @property
    def record(self) -> Optional[EngineRecord]:
        return self._record

    @property
    def runtime(self) -> Optional[str]:
        """``"python"`` or ``"cpp"`` (``None`` for an empty module)."""
        return self._runtime

    @property
    def engine(self) -> Any:
        """The live engine (``TRTEngine`` or ``torch.classes.tensorrt.Engine``), created on demand (a ``TRTEngine``
        deserializes on its first execution or :meth:`setup_engine`)."""
        return self._engine if self._engine is not None else self.setup_engine(deserialize=False)

    @property
    def input_binding_names(self) -> list[str]:
        return list(self._record.input_binding_names) if self._record else []

    @property
    def output_binding_names(self) -> list[str]:
        return list(self._record.output_binding_names) if self._record else []

    @property
    def metadata(self) -> Optional[EngineMetadata]:
        return EngineMetadata.from_json(self._record.metadata) if self._record and self._record.metadata else None

    @property
    def weight_map(self) -> Optional[WeightMap]:
        """How each engine weight is computed from the state dict (None: compiled without refit support)."""
        value = (self._record.metadata or {}).get("weight_map") if self._record else None
        return WeightMap.from_json(value) if value else None

    # ------------------------------------------------------------------------------------------------ refit
    def refit(self, weights: dict[str, torch.Tensor]) -> None:
        """Refit the engine with ``weights`` (TensorRT weight name -> tensor; see :attr:`weight_map`) through
        TensorRT's refitter, without building, and run the refitted engine from now on."""
        from torch_tensorrt.runtime._refit import refit_record

        if self._record is None:
            raise RuntimeError(f"TorchTensorRTModule {self.name!r} holds no engine")
        record = refit_record(self._record, weights)
        self._install(record, self._runtime)
        for wname in list(self.engine_weights._buffers):
            delattr(self.engine_weights, wname)

    def _materialize(self) -> None:
        """Refit a stripped/pending engine from its ``engine_weights`` before its first setup."""
        from torch_tensorrt.runtime._engine import EngineExecutionError

        wmap = self.weight_map
        assert wmap is not None
        held = dict(self.engine_weights.named_buffers())
        absent = [n for n, e in wmap.weights.items() if n not in held and (wmap.stripped or wmap.sources_of(e["node"]))]
        if absent:
            what = "is weight-stripped" if wmap.stripped else "was taken from the engine cache with other weights"
            raise EngineExecutionError(
                f"engine {self.name!r} {what} and its weights did not come with it ({len(absent)} missing, e.g. "
                f"{absent[0]!r}); refit it first: torch_tensorrt.dynamo.refit_module_weights(module, model_with_weights)"
            )
        self.refit(held)

    def setup_engine(self, deserialize: bool = True) -> Any:
        """Create the runtime's engine object from the record (idempotent)."""
        if self._record is None:
            raise RuntimeError(f"TorchTensorRTModule {self.name!r} holds no engine (load a state dict first)")
        if self._pending_refit and (deserialize or self._runtime != PYTHON):  # the C++ engine deserializes now
            self._materialize()
        if self._engine is None:
            if self._runtime == PYTHON:
                engine = TRTEngine(self._record)
                engine.set_cuda_graphs(self._cuda_graphs)
                chosen = getattr(self, "_pre_allocated", None)  # pickles of older versions lack it
                if chosen is not None:
                    engine.pre_allocated_outputs = chosen
                _execute_op.register_engine(_execute_op.parse_info(self._info)["key"], engine)
                engine.set_optimization_profile(getattr(self, "_profile", None))
                self._engine = engine
            else:
                engine = torch.classes.tensorrt.Engine(self._record.to_tensor())
                if engine._has_method("set_max_cuda_graphs"):  # libraries with per-engine CUDA graphs
                    engine.set_max_cuda_graphs(self.settings.max_cuda_graphs)
                self._cpp_execute = engine.execute if engine._has_method("execute") else None
                if getattr(self, "_profile", None) is not None:
                    engine.set_optimization_profile(self._profile)
                self._engine = engine
        if deserialize and isinstance(self._engine, TRTEngine):
            self._engine.setup()
        return self._engine

    @property
    def aliased_io(self) -> dict[str, str]:
        """Output binding -> input binding it shares memory with (what ``ICudaEngine.getAliasedInputTensor``
        reports, e.g. the cache of a KV-cache update written in place): such an output is returned as that very
        input tensor, updated. Read from the deserialized engine: known once it is set up (its first run, or at
        once where that cannot start CUDA; the C++ runtime's engine reads it when it is created); empty when
        nothing aliases, before a GPU engine's first run on the Python runtime, and with a C++ runtime built
        against TensorRT older than 10.15."""
        engine = self.engine
        if not isinstance(engine, TRTEngine):
            return dict(engine.aliased_io()) if engine._has_method("aliased_io") else {}
        if not engine.is_set_up and (not engine.kind.needs_gpu or torch.cuda.is_initialized()):
            engine.setup()  # where that cannot start CUDA, as _eager_setup
        return dict(engine.aliased_io)

    # ---------------------------------------------------------------------------------- optimization profiles
    @property
    def num_optimization_profiles(self) -> int:
        """How many optimization profiles the engine has (``Input(profiles=[...])``; 1 otherwise)."""
        engine = self.engine
        if isinstance(engine, TRTEngine):
            return engine.num_optimization_profiles
        return int(engine.num_optimization_profiles()) if engine._has_method("num_optimization_profiles") else 1

    @property
    def optimization_profile(self) -> Optional[int]:
        """The pinned optimization profile (None: the first whose ranges contain the input shapes)."""
        return getattr(self, "_profile", None)

    def set_optimization_profile(self, index: Union[int, str, None]) -> None:
        """Pin optimization profile ``index`` (``None``/``"auto"``: un-pin); see
        :func:`torch_tensorrt.runtime.optimization_profile`, the API for whole compiled modules."""
        engine = self.engine
        if isinstance(engine, TRTEngine):
            engine.set_optimization_profile(index)
            self._profile = engine.optimization_profile
            return
        if not engine._has_method("set_optimization_profile"):
            raise RuntimeError(f"engine {self.name!r}: the loaded C++ runtime cannot select optimization profiles")
        pinned = None if index is None or index == "auto" else index
        if pinned is not None and (isinstance(pinned, bool) or not isinstance(pinned, int)):
            raise TypeError(f"engine {self.name!r}: an optimization profile is an int index or 'auto', got {index!r}")
        engine.set_optimization_profile(-1 if pinned is None else pinned)
        self._profile = pinned

    def set_runtime(self, runtime: str) -> None:
        """Switch this module to the ``"python"`` or ``"cpp"`` runtime (the engine is set up again)."""
        if self._record is None:
            raise RuntimeError(f"TorchTensorRTModule {self.name!r} holds no engine")
        self._install(self._record, choose_runtime(runtime == PYTHON, self._record, strict=True))

    # ------------------------------------------------------------------------------------------- execution
    def forward(self, *inputs: Any) -> Union[torch.Tensor, tuple[torch.Tensor, ...]]:
        execute = self._cpp_execute
        if execute is not None and not _graph_capture.MODE and not self._pending_refit and _untraced(inputs):
            # the hot path of an eager call on the C++ runtime (the general path below does the same, with checks)
            outputs = execute(list(inputs))
            return outputs[0] if len(outputs) == 1 else tuple(outputs)
        tensors = self._as_tensors(inputs)
        if self._pending_refit and _untraced(tensors):  # tracing keeps the plan as it is (a saved program
            self._materialize()  # carries it with its engine_weights)
        engine = self._engine if self._engine is not None else self.setup_engine(deserialize=False)
        if self._runtime == PYTHON:
            if _untraced(tensors):
                outputs = engine.execute(tensors)
            else:
                outputs = torch.ops.tensorrt.execute_engine_python(tensors, self._blob, self._info)
        else:
            if _graph_capture.MODE:  # checked first: a library without CUDA graphs must refuse the mode
                _cudagraphs.check_cpp_engine(self.name)
            if _untraced(tensors):
                # eager: Engine.execute, the op without the dispatcher (passing the Engine to torch.ops from
                # Python costs ~20 us a call: torch's argument conversion walks and raises on it); bound once.
                execute = self._cpp_execute if self._cpp_execute is not None else engine.execute
                outputs = execute(tensors if type(tensors) is list else list(tensors))
            else:
                outputs = torch.ops.tensorrt.execute_engine(tensors, engine)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _as_tensors(self, inputs: Sequence[Any]) -> Sequence[torch.Tensor]:
        for x in inputs:
            if not isinstance(x, torch.Tensor):
                break
        else:
            return inputs
        meta = self.metadata
        device = next((x.device for x in inputs if isinstance(x, torch.Tensor)), None)
        out = []
        for i, x in enumerate(inputs):
            if isinstance(x, torch.Tensor):
                out.append(x)
            elif isinstance(x, (int, float, bool, torch.SymInt)) and meta is not None and i < len(meta.inputs):
                out.append(torch.tensor(x, dtype=meta.inputs[i].torch_dtype, device=device))
            else:
                raise TypeError(f"engine {self.name!r}: input {i} must be a tensor, got {type(x).__name__}")
        return out

    # ------------------------------------------------------------------------------- debugging / profiling
    def _python_engine(self, what: str) -> TRTEngine:
        engine = self.setup_engine(deserialize=False)
        if not isinstance(engine, TRTEngine):
            raise NotImplementedError(f"{what} is a Python-runtime feature; module {self.name!r} uses the C++ runtime")
        return engine

    def register_pre_execution_callback(self, fn: PreCallback) -> Any:
        """``fn(engine_name, inputs)`` before each execution (Python runtime). Returns a removable handle."""
        return self._python_engine("register_pre_execution_callback").register_pre_execution_callback(fn)

    def register_post_execution_callback(self, fn: PostCallback) -> Any:
        """``fn(engine_name, outputs, ExecutionInfo)`` after each execution (Python runtime)."""
        return self._python_engine("register_post_execution_callback").register_post_execution_callback(fn)

    def use_cuda_graphs(self, enabled: bool = True) -> None:
        """Capture and replay this engine's executions as CUDA graphs (Python runtime, CUDA devices), whatever
        the process-wide mode (:func:`torch_tensorrt.runtime.set_cudagraphs_mode`) says."""
        self._python_engine("use_cuda_graphs").set_cuda_graphs(enabled)
        self._cuda_graphs = bool(enabled)

    def set_pre_allocated_outputs(self, enabled: bool = True) -> None:
        """Allocate the outputs of the next call right after each launch (the ``use_pre_allocated_outputs``
        setting, switched at run time; Python runtime)."""
        self._python_engine("set_pre_allocated_outputs").pre_allocated_outputs = bool(enabled)
        self._pre_allocated = bool(enabled)

    @property
    def use_pre_allocated_outputs(self) -> bool:
        """Whether outputs are allocated ahead (:meth:`set_pre_allocated_outputs`, else the setting)."""
        chosen = getattr(self, "_pre_allocated", None)
        return self.settings.use_pre_allocated_outputs if chosen is None else chosen

    # ------------------------------------------------------------------------------------------ state
    def get_extra_state(self) -> dict[str, Any]:
        return {
            "version": EXTRA_STATE_VERSION,
            "name": self.name,
            "record": self._record.to_tensor() if self._record is not None else None,
            "weight_name_map": self.weight_name_map,
        }

    def set_extra_state(self, state: Any) -> None:
        if not isinstance(state, dict) or "record" not in state:
            raise RecordError(f"TorchTensorRTModule {self.name!r}: extra state is not a TorchTensorRTModule state")
        if int(state.get("version", 0)) > EXTRA_STATE_VERSION:
            raise RecordError(
                f"TorchTensorRTModule {self.name!r}: state version {state['version']} is newer than {EXTRA_STATE_VERSION}"
            )
        self.name = state.get("name", self.name)
        self.weight_name_map = state.get("weight_name_map")
        if "engine_weights" not in self._modules:  # a module pickled before engine weights existed
            self.engine_weights = EngineWeights()
        if state["record"] is None:
            self._record = self._engine = self._runtime = self._cpp_execute = None
            self._pending_refit = False
            return
        record = EngineRecord.from_state(state["record"])
        runtime = choose_runtime(self.settings.use_python_runtime, record)
        check_records([record], f"TorchTensorRTModule {self.name!r} (load_state_dict)", runtime)
        self._install(record, runtime)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_record"] = self._record.to_tensor() if self._record is not None else None
        state["settings"] = _picklable_settings(self.settings)
        for transient in ("_engine", "_info", "_runtime"):
            state[transient] = None
        state["_cpp_execute"] = None
        return state

    def __deepcopy__(self, memo: dict[int, Any]) -> "TorchTensorRTModule":
        """A copy sharing the (never mutated) record and its encoded blob, with its own live engine."""
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        shared = {"_record", "_info", "_runtime"}
        for key, value in self.__dict__.items():
            new.__dict__[key] = (
                None if key in ("_engine", "_cpp_execute") else value if key in shared else copy.deepcopy(value, memo)
            )
        if self._record is not None and self._runtime == PYTHON:
            new._info = _execute_op.engine_info(self._record, _execute_op.new_key(self._record))
        return new

    def __setstate__(self, state: dict[str, Any]) -> None:
        record = state.get("_record")
        self.__dict__.update(state)
        self._record = None
        if record is not None:
            decoded = EngineRecord.from_state(record)
            runtime = choose_runtime(self.settings.use_python_runtime, decoded)
            check_records([decoded], f"TorchTensorRTModule {self.name!r} (unpickled)", runtime)
            self._install(decoded, runtime)

    def extra_repr(self) -> str:
        if self._record is None:
            return f"name={self.name!r}, empty"
        kind = f", kind={self._record.engine_kind}" if self._record.engine_kind != KIND_TENSORRT else ""
        return (
            f"name={self.name!r}, runtime={self._runtime}{kind}, inputs={self._record.input_binding_names}, "
            f"outputs={self._record.output_binding_names}"
        )


def _untraced(tensors: Sequence[torch.Tensor]) -> bool:
    """True when plain eager execution is happening (no tracer, mode, fake or proxy tensors): the engine can
    be called without going through the dispatcher."""
    if (
        torch._C._get_tracing_state() is not None
        or torch._C._len_torch_dispatch_stack()
        or torch._C._is_torch_function_mode_enabled()
        or _is_compiling()
    ):
        return False
    for t in tensors:
        if type(t) is not torch.Tensor:
            return False
    return True


_is_compiling = torch.compiler.is_compiling
