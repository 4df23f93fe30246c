"""A simulated TensorRT runtime: the subset of ``trt.Runtime`` / ``ICudaEngine`` / ``IExecutionContext`` that
:class:`~torch_tensorrt.runtime._engine.TRTEngine` uses, computing with the reference evaluator.

A *simulated plan* is UTF-8 JSON ``{"format": PLAN_FORMAT, "metadata": <EngineMetadata JSON>}`` whose
metadata carries the recorded network (``metadata["network"]``, see :mod:`torch_tensorrt.testing._recording`).
I/O bindings, dtypes and profile shapes come from the metadata (several optimization profiles from its
``profiles``: a context is in one at a time, ``set_optimization_profile_async`` switches, ``set_input_shape``
refuses shapes outside the active one, as TensorRT does); output shapes are the metadata's shape expressions
evaluated with the symbols bound from the input shapes (solved from derived sizes such as ``2*s0`` where no input
has the plain symbol: :func:`~torch_tensorrt.runtime._shape_expr.bind_symbols`) -- an output whose expression
names a symbol no input defines (a data-dependent size) reports ``-1`` and needs an output allocator, as in
TensorRT.

Execution reads each input from the address given to ``set_tensor_address`` and writes each output to its
address (or to the memory its ``IOutputAllocator`` returns). Addresses are host pointers when the runtime's
``device`` is the CPU, and CUDA device pointers otherwise (read through ``__cuda_array_interface__``).
"""

from __future__ import annotations

import ctypes
import json
from typing import Any, Optional, Sequence

import torch

from torch_tensorrt._dtypes import torch_dtype_of, trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.runtime import _shape_expr
from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec
from torch_tensorrt.runtime._record import KIND_SIMULATED
from torch_tensorrt.testing._recording import RecordedNetwork, RecordingError

PLAN_FORMAT = "torch_tensorrt.simulated_plan"
#: Alignment passed to ``IOutputAllocator.reallocate_output_async`` (TensorRT uses 256 for device memory).
ALIGNMENT = 256


class SimulationError(RuntimeError):
    """Misuse of the simulated runtime that real TensorRT would also reject (missing address, bad shape...)."""


def serialize_plan(metadata: EngineMetadata | dict[str, Any]) -> bytes:
    """The simulated plan for ``metadata`` (which must carry a recorded network)."""
    meta = metadata.to_json_with_kind() if isinstance(metadata, EngineMetadata) else dict(metadata)
    if not meta.get("network"):
        raise ValueError("a simulated plan needs metadata['network'] (record it with testing.record_network)")
    return json.dumps({"format": PLAN_FORMAT, "metadata": meta}).encode("utf-8")


def is_simulated_plan(plan: bytes) -> bool:
    return plan[:64].lstrip().startswith(b"{") and PLAN_FORMAT.encode() in plan[:128]


class _CudaArray:
    def __init__(self, ptr: int, nbytes: int) -> None:
        self.__cuda_array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (ptr, False), "version": 3}


def tensor_at(ptr: int, shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A tensor viewing ``numel(shape) * itemsize`` bytes at address ``ptr`` on ``device`` (no copy)."""
    numel = 1
    for d in shape:
        numel *= int(d)
    nbytes = numel * torch.empty((), dtype=dtype).element_size()
    if nbytes == 0:
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    if not ptr:
        raise SimulationError("null tensor address")
    if device.type == "cpu":
        raw = torch.frombuffer((ctypes.c_byte * nbytes).from_address(ptr), dtype=torch.uint8)
    else:
        raw = torch.as_tensor(_CudaArray(ptr, nbytes), device=device)
    return raw.view(dtype).reshape(tuple(shape))


class Runtime:
    """Stands in for ``trt.Runtime``. ``device`` says where tensor addresses point (``"cpu"`` or a CUDA device)."""

    def __init__(self, logger: Any = None, device: torch.device | str = "cpu") -> None:
        self.logger = logger
        self.device = torch.device(device)

    def deserialize_cuda_engine(self, serialized_engine: bytes) -> Optional["Engine"]:
        try:
            value = json.loads(bytes(serialized_engine).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SimulationError(f"not a simulated plan ({exc}); real TensorRT plans need a real runtime") from exc
        if not isinstance(value, dict) or value.get("format") != PLAN_FORMAT:
            raise SimulationError("not a simulated plan (wrong 'format')")
        try:
            metadata = value["metadata"]
            if isinstance(metadata, dict) and not metadata.get("engine_kind"):
                # A plan made from a record's metadata (the C++ runtime's stand-in plan): the record's ENGINE_KIND
                # is not in its metadata, and a simulated plan is of the simulated kind unless it says otherwise.
                metadata = dict(metadata, engine_kind=KIND_SIMULATED)
            return Engine(EngineMetadata.from_json(metadata), self.device)
        except (RecordingError, ValueError, KeyError, TypeError) as exc:
            raise SimulationError(f"simulated plan: {type(exc).__name__}: {exc}") from None


class Engine:
    """Stands in for ``ICudaEngine`` (I/O queries, optimization profiles, ``create_execution_context``)."""

    def __init__(self, metadata: EngineMetadata, device: torch.device) -> None:
        if metadata.network is None:
            raise SimulationError("simulated plan has no recorded network")
        self.metadata = metadata
        self.network = RecordedNetwork(metadata.network)
        self.device = device
        self.name = self.network.name
        self._specs: dict[str, TensorSpec] = {s.name: s for s in metadata.inputs + metadata.outputs}
        self._io = [s.name for s in metadata.inputs] + [s.name for s in metadata.outputs]
        net_ins = {self.network.get_input(i).name for i in range(self.network.num_inputs)}
        net_outs = {self.network.get_output(i).name for i in range(self.network.num_outputs)}
        if net_ins != {s.name for s in metadata.inputs} or net_outs != {s.name for s in metadata.outputs}:
            raise SimulationError(
                f"simulated plan: metadata bindings {self._io} do not match the network's inputs {sorted(net_ins)} "
                f"and outputs {sorted(net_outs)}"
            )
        self._inputs = {s.name for s in metadata.inputs}
        self.device_memory_size_v2 = 0
        self.num_optimization_profiles = metadata.num_profiles
        from torch_tensorrt.testing import _sim_refit

        #: built with REFIT (or STRIP_PLAN): a refitter may change its named weights (see ``_sim_refit``)
        self.refittable = _sim_refit.is_refittable(metadata)
        #: named weights a weight-stripped plan lacks until a refit supplies them
        stripped = bool((metadata.weight_map or {}).get("stripped"))
        self.missing_weights: set[str] = set(_sim_refit.weight_table(metadata)) if stripped else set()

    def create_serialization_config(self) -> Any:
        from torch_tensorrt.testing._sim_refit import SerializationConfig

        return SerializationConfig()

    def serialize_with_config(self, config: Any, /) -> bytes:  # the binding's argument has no name
        """The simulated plan of this engine as it is now (refitted weights included)."""
        return serialize_plan(self.metadata)

    def serialize(self) -> bytes:
        return serialize_plan(self.metadata)

    @property
    def num_io_tensors(self) -> int:
        return len(self._io)

    def get_tensor_name(self, index: int) -> str:
        return self._io[index]

    def _spec(self, name: str) -> TensorSpec:
        if name not in self._specs:
            raise SimulationError(f"simulated engine {self.name!r} has no I/O tensor {name!r}")
        return self._specs[name]

    def get_tensor_mode(self, name: str) -> Any:
        self._spec(name)
        return trt.TensorIOMode.INPUT if name in self._inputs else trt.TensorIOMode.OUTPUT

    def get_tensor_dtype(self, name: str) -> Any:
        return trt_dtype_of(self._spec(name).torch_dtype)

    def get_tensor_shape(self, name: str) -> Any:
        return trt.Dims([d if isinstance(d, int) else -1 for d in self._spec(name).shape])

    def get_aliased_input_tensor(self, name: str) -> Optional[str]:
        """The input an output shares memory with: the cache input of an ``IKVCacheUpdateLayer`` producing it (the
        one layer TensorRT aliases), when that cache is a network input; None otherwise."""
        if name in self._inputs or name not in self._specs:
            return None
        for layer in self.network:
            if any(layer.get_output(i).name == name for i in range(layer.num_outputs)):
                if layer.type == trt.LayerType.KV_CACHE_UPDATE:
                    cache = layer.get_input(0)
                    return cache.name if cache is not None and cache.name in self._inputs else None
                return None
        return None

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> list[Any]:
        return [trt.Dims(list(s)) for s in self._profile_shape(name, profile_index)]

    def _profile_shape(self, name: str, profile_index: int) -> tuple[list[int], list[int], list[int]]:
        spec = self._spec(name)
        if name not in self._inputs or not 0 <= profile_index < self.num_optimization_profiles:
            raise SimulationError(f"no profile shape for {name!r} in profile {profile_index}")
        if self.metadata.profiles:
            return self.metadata.profile_shapes(profile_index)[name]
        # Without recorded profile shapes, dynamic dimensions range over every size (what set_input_shape accepts).
        fill = lambda s, v: list(s) if s is not None else [d if isinstance(d, int) else v for d in spec.shape]  # noqa: E731
        return fill(spec.min, 0), fill(spec.opt, 1), fill(spec.max, 2**31 - 1)

    def create_execution_context(self, *args: Any) -> "ExecutionContext":
        return ExecutionContext(self)


class ExecutionContext:
    """Stands in for ``IExecutionContext``: shapes, addresses, output allocators and ``execute_async_v3``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._addresses: dict[str, int] = {}
        self._allocators: dict[str, Any] = {}
        self.executions = 0
        #: the optimization profile input shapes are checked against (0 for a new context, as in TensorRT)
        self.active_optimization_profile = 0

    def set_optimization_profile_async(self, profile_index: int, stream_handle: int) -> bool:
        """Switch profiles; the input shapes must be set again afterwards (TensorRT's rule)."""
        if not 0 <= int(profile_index) < self.engine.num_optimization_profiles:
            return False
        self.active_optimization_profile = int(profile_index)
        self._shapes.clear()
        return True

    def set_input_shape(self, name: str, shape: Sequence[int]) -> bool:
        spec = self.engine._spec(name)
        shape = tuple(int(d) for d in shape)
        if name not in self.engine._inputs or len(shape) != len(spec.shape):
            return False
        lo, _, hi = self.engine._profile_shape(name, self.active_optimization_profile)
        for i, d in enumerate(spec.shape):
            if isinstance(d, int):
                if shape[i] != d:
                    return False
                continue
            if not int(lo[i]) <= shape[i] <= int(hi[i]):
                return False
        self._shapes[name] = shape
        return True

    @property
    def all_binding_shapes_specified(self) -> bool:
        return all(n in self._shapes for n in self.engine._inputs)

    def infer_shapes(self) -> list[str]:
        return [n for n in self.engine._inputs if n not in self._shapes]

    def _symbols(self) -> dict[str, int]:
        meta = self.engine.metadata
        names = [s.name for s in meta.inputs]
        shapes = [self._shapes.get(n, tuple(-1 for _ in self.engine._spec(n).shape)) for n in names]
        exprs = [s.shape for s in meta.inputs]
        try:
            values = _shape_expr.bind_symbols(meta.symbols, names, shapes, exprs)
        except _shape_expr.ShapeExprError as exc:  # e.g. an input size its shape expression cannot have
            raise SimulationError(f"simulated engine {self.name!r}: {exc}") from None
        return {k: int(v) for k, v in values.items()}

    def get_tensor_shape(self, name: str) -> Any:
        spec = self.engine._spec(name)
        if name in self.engine._inputs:
            return trt.Dims(list(self._shapes.get(name, tuple(self.engine.get_tensor_shape(name)))))
        if not self.all_binding_shapes_specified:
            return trt.Dims([d if isinstance(d, int) else -1 for d in spec.shape])
        values = self._symbols()
        dims: list[int] = []
        for d in spec.shape:
            try:
                dims.append(int(_shape_expr.evaluate(d, values)))
            except _shape_expr.UnboundSymbol:
                dims.append(-1)
            except _shape_expr.ShapeExprError as exc:  # e.g. a division by a size that is zero for these inputs
                raise SimulationError(f"simulated engine {self.name!r}: output {name!r}: {exc}") from None
        if any(not 0 <= d <= 2**31 - 1 for d in dims if d != -1):
            raise SimulationError(f"simulated engine {self.name!r}: output {name!r} would have shape {dims}")
        return trt.Dims(dims)

    def set_tensor_address(self, name: str, memory: int) -> bool:
        self.engine._spec(name)
        self._addresses[name] = int(memory)
        return True

    def get_tensor_address(self, name: str) -> int:
        return self._addresses.get(name, 0)

    def set_output_allocator(self, name: str, output_allocator: Any) -> bool:
        if self.engine.get_tensor_mode(name) != trt.TensorIOMode.OUTPUT:
            return False
        self._allocators[name] = output_allocator
        return True

    def get_output_allocator(self, name: str) -> Any:
        return self._allocators.get(name)

    def execute_async_v3(self, stream_handle: int) -> bool:
        device = self.engine.device
        if device.type == "cuda" and stream_handle:
            with torch.cuda.stream(torch.cuda.ExternalStream(int(stream_handle), device=device)):
                self._execute(int(stream_handle))
        else:
            self._execute(int(stream_handle))
        self.executions += 1
        return True

    def _execute(self, stream_handle: int) -> None:
        from torch_tensorrt.reference import evaluate_network

        engine, device = self.engine, self.engine.device
        if engine.missing_weights:
            raise SimulationError(
                f"simulated engine {engine.name!r} is weight-stripped and was executed before a refit supplied its "
                f"weights ({len(engine.missing_weights)} missing)"
            )
        if not self.all_binding_shapes_specified:
            raise SimulationError(f"simulated engine {engine.name!r}: input shapes not set for {self.infer_shapes()}")
        inputs: dict[str, torch.Tensor] = {}
        for spec in engine.metadata.inputs:
            if spec.name not in self._addresses:
                raise SimulationError(f"simulated engine {engine.name!r}: no address set for input {spec.name!r}")
            inputs[spec.name] = tensor_at(self._addresses[spec.name], self._shapes[spec.name], spec.torch_dtype, device)
        results = evaluate_network(engine.network, inputs)
        for spec in engine.metadata.outputs:
            value = results[spec.name]
            expected_dtype = torch_dtype_of(engine.get_tensor_dtype(spec.name))
            if value.dtype != expected_dtype:
                raise SimulationError(
                    f"output {spec.name!r} computed as {value.dtype}, engine declares {expected_dtype}"
                )
            declared = tuple(self.get_tensor_shape(spec.name))
            if any(d != -1 and d != s for d, s in zip(declared, value.shape)) or len(declared) != value.dim():
                raise SimulationError(
                    f"simulated engine {engine.name!r}: output {spec.name!r} computed with shape {tuple(value.shape)}, "
                    f"metadata shape expressions give {declared}"
                )
            allocator = self._allocators.get(spec.name)
            if allocator is not None:
                nbytes = value.numel() * value.element_size()
                ptr = allocator.reallocate_output_async(
                    spec.name, self._addresses.get(spec.name, 0), max(nbytes, 1), ALIGNMENT, stream_handle
                )
                if not ptr and nbytes:
                    raise SimulationError(f"output allocator returned null for {spec.name!r}")
                tensor_at(ptr, value.shape, value.dtype, device).copy_(value)
                allocator.notify_shape(spec.name, trt.Dims(list(value.shape)))
            else:
                if -1 in declared:
                    raise SimulationError(
                        f"simulated engine {engine.name!r}: output {spec.name!r} has a data-dependent shape; "
                        "set an IOutputAllocator for it"
                    )
                if spec.name not in self._addresses and value.numel():
                    raise SimulationError(f"simulated engine {engine.name!r}: no address set for output {spec.name!r}")
                tensor_at(self._addresses.get(spec.name, 0), value.shape, value.dtype, device).copy_(value)
