"""The Python engine: runs one TensorRT engine through the TensorRT Python API.

:class:`TRTEngine` is built from an :class:`~torch_tensorrt.runtime._record.EngineRecord`. Deserialization is
deferred to :meth:`TRTEngine.setup` (called by the first :meth:`TRTEngine.execute`), so constructing one never
touches CUDA. Execution follows TensorRT 10+'s name-based I/O:

1. validate inputs (count, dtype, device, rank, static dims, profile min/max -- errors name engine and binding);
2. ``set_input_shape`` per input when the shapes changed, ``set_tensor_address`` per binding;
3. outputs allocated from ``context.get_tensor_shape`` -- or, for engines that ``requires_output_allocator``
   (data-dependent shapes), through an ``IOutputAllocator`` (``reallocate_output_async`` / ``notify_shape``);
4. ``execute_async_v3`` on the caller's current torch CUDA stream.

Optional CUDA graphs (:meth:`TRTEngine.set_cuda_graphs`) capture one graph per input-shape signature and replay
it; they are refused for output-allocator engines. Observers (:meth:`register_pre_execution_callback`,
:meth:`register_post_execution_callback`) see every execution with host-side timings.

How the plan is deserialized, and whether the engine needs a GPU at all, is its record's engine kind
(:mod:`torch_tensorrt.runtime._kinds`; TensorRT's own runtime for ``"tensorrt"``): the execution path above is
the same for every kind.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch
from torch.utils.hooks import RemovableHandle

from torch_tensorrt._dtypes import torch_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.runtime._compat import sm_compatible
from torch_tensorrt.runtime._kinds import KIND_TENSORRT, EngineKind, engine_kind, refusal
from torch_tensorrt.runtime._runtime_config import runtime_config_for
from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec
from torch_tensorrt.runtime._record import EngineRecord

logger = logging.getLogger(__name__)


class EngineExecutionError(RuntimeError):
    """Bad inputs for an engine, or a failed setup/execution. The message names the engine (and binding)."""


@dataclass
class ExecutionInfo:
    """What a post-execution callback receives. Times are host-side seconds (execution is asynchronous:
    ``enqueue_s`` is the launch cost unless the caller synchronizes)."""

    engine: str
    input_shapes: list[tuple[int, ...]]
    output_shapes: list[tuple[int, ...]] = field(default_factory=list)
    setup_s: float = 0.0
    prepare_s: float = 0.0
    enqueue_s: float = 0.0
    total_s: float = 0.0
    cuda_graph: str = "off"  # "off" | "captured" | "replayed"
    shapes_changed: bool = False


PreCallback = Callable[[str, Sequence[torch.Tensor]], None]
PostCallback = Callable[[str, Sequence[torch.Tensor], ExecutionInfo], None]


def _kind(record: EngineRecord) -> EngineKind:
    try:
        return engine_kind(record.engine_kind, record.name)
    except LookupError as exc:
        raise EngineExecutionError(str(exc)) from None


def select_device(record: EngineRecord) -> torch.device:
    """The most compatible device for ``record``: the current CUDA device if compatible, else the recorded id,
    else the first compatible GPU. Engines whose kind does not need a GPU run on the CPU where there is none."""
    kind = _kind(record)
    if not torch.cuda.is_available():
        if not kind.needs_gpu:
            return torch.device("cpu")
        raise EngineExecutionError(
            f"engine {record.name!r}: TensorRT engines need a CUDA GPU and torch.cuda.is_available() is False"
        )
    count = torch.cuda.device_count()
    wanted = record.device_capability

    def compatible(i: int) -> bool:
        if not kind.device_specific or not wanted:
            return True
        return sm_compatible(wanted, record.hardware_compatible, *torch.cuda.get_device_capability(i))

    order = [torch.cuda.current_device()]
    if 0 <= record.device_id < count:
        order.append(record.device_id)
    order += list(range(count))
    for i in order:
        if compatible(i):
            if i != record.device_id and kind.device_specific and wanted:
                logger.warning("engine %s was built for device %d; running it on compatible device %d", record.name, record.device_id, i)
            return torch.device("cuda", i)
    found = ", ".join(f"{i}: {torch.cuda.get_device_name(i)} (SM {'.'.join(map(str, torch.cuda.get_device_capability(i)))})" for i in range(count))
    raise EngineExecutionError(
        f"engine {record.name!r} was built for SM {wanted} ({record.device_name or 'unknown GPU'}"
        f"{', hardware-compatible' if record.hardware_compatible else ''}); no compatible GPU among: {found}"
    )


def _output_allocator_class() -> type:
    """An ``IOutputAllocator`` subclass (created on first use so that importing this module never imports TensorRT)."""
    global _ALLOCATOR_CLASS
    if _ALLOCATOR_CLASS is None:

        class OutputAllocator(trt.IOutputAllocator):  # type: ignore[misc, name-defined]
            """Allocates each data-dependent output as a fresh torch byte buffer on ``device``."""

            def __init__(self, device: torch.device) -> None:
                trt.IOutputAllocator.__init__(self)
                self.device = device
                self.buffers: dict[str, torch.Tensor] = {}
                self.shapes: dict[str, tuple[int, ...]] = {}

            def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
                return self.reallocate_output_async(tensor_name, memory, size, alignment, 0)

            def reallocate_output_async(self, tensor_name: str, memory: int, size: int, alignment: int, stream: int) -> int:
                buf = self.buffers.get(tensor_name)
                if buf is None or buf.numel() < size or buf.data_ptr() % max(alignment, 1):
                    buf = torch.empty(max(int(size), 1), dtype=torch.uint8, device=self.device)
                    self.buffers[tensor_name] = buf
                return buf.data_ptr()

            def notify_shape(self, tensor_name: str, shape: Any) -> None:
                self.shapes[tensor_name] = tuple(int(d) for d in shape)

            def reset(self) -> None:
                self.buffers = {}
                self.shapes = {}

        _ALLOCATOR_CLASS = OutputAllocator
    return _ALLOCATOR_CLASS


_ALLOCATOR_CLASS: Optional[type] = None


@dataclass
class _Graph:
    graph: Any
    static_inputs: list[torch.Tensor]
    static_outputs: list[torch.Tensor]


class TRTEngine:
    """One deserialized TensorRT engine with its execution context (see the module docstring)."""

    def __init__(self, record: EngineRecord) -> None:
        self.record = record
        self.name = record.name
        #: how this engine's plan is deserialized (see :mod:`torch_tensorrt.runtime._kinds`)
        self.kind = _kind(record)
        self.input_names = list(record.input_binding_names)
        self.output_names = list(record.output_binding_names)
        self.metadata: Optional[EngineMetadata] = EngineMetadata.from_json(record.metadata) if record.metadata else None
        self.requires_output_allocator = record.requires_output_allocator
        self.device: Optional[torch.device] = None
        self.engine: Any = None
        self.context: Any = None
        self._runtime: Any = None
        self._last_shapes: Optional[tuple[tuple[int, ...], ...]] = None
        #: input shapes of the last call that passed the shape checks (checks rerun only when shapes change)
        self._validated_shapes: Optional[tuple[tuple[int, ...], ...]] = None
        self._output_shapes: list[tuple[int, ...]] = []
        self._output_dtypes: list[torch.dtype] = []
        self._input_dtypes: list[torch.dtype] = []
        self._allocator: Any = None
        self._cuda_graphs = False
        self._graphs: "OrderedDict[tuple, _Graph]" = OrderedDict()
        self.max_cuda_graphs = 16
        self._pre: "OrderedDict[int, PreCallback]" = OrderedDict()
        self._post: "OrderedDict[int, PostCallback]" = OrderedDict()
        self._empty: dict[torch.device, torch.Tensor] = {}

    @classmethod
    def from_list(cls, fields: list[str]) -> "TRTEngine":
        return cls(EngineRecord.from_list(fields))

    # ------------------------------------------------------------------------------------------------ setup
    @property
    def is_set_up(self) -> bool:
        return self.context is not None

    def setup(self) -> None:
        """Deserialize the engine and create its execution context (idempotent)."""
        if self.context is not None:
            return
        device = select_device(self.record)
        try:
            runtime = self.kind.make_runtime(device)
            plan = self.kind.plan(self.record)
        except (ValueError, LookupError) as exc:
            raise EngineExecutionError(f"engine {self.name!r} (kind {self.kind.name!r}): {exc}") from exc
        with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
            try:
                engine = runtime.deserialize_cuda_engine(plan)
            except Exception as exc:  # a simulated plan's recording, or TensorRT raising instead of returning None
                raise EngineExecutionError(f"engine {self.name!r}: could not deserialize it: {exc}") from exc
            if engine is None:
                raise EngineExecutionError(
                    f"engine {self.name!r}: TensorRT could not deserialize it (built with {self.record.trt_flavour} "
                    f"{self.record.trt_version or '?'} for SM {self.record.device_capability or '?'}); see the TensorRT log"
                )
            config = runtime_config_for(engine, getattr(self, "runtime_settings", None))
            if config is None:
                context = engine.create_execution_context()
            else:  # TensorRT-RTX runtime settings (runtime._runtime_config)
                context = engine.create_execution_context(config)
            if context is None:
                raise EngineExecutionError(f"engine {self.name!r}: could not create an execution context")
        self._check_bindings(engine)
        self._runtime, self.engine, self.device = runtime, engine, device
        self._input_dtypes = [torch_dtype_of(engine.get_tensor_dtype(n)) for n in self.input_names]
        self._output_dtypes = [torch_dtype_of(engine.get_tensor_dtype(n)) for n in self.output_names]
        if self.requires_output_allocator:
            self._allocator = _output_allocator_class()(device)
            for n in self.output_names:
                if not context.set_output_allocator(n, self._allocator):
                    raise EngineExecutionError(f"engine {self.name!r}: could not set the output allocator for {n!r}")
        self.context = context

    def _check_bindings(self, engine: Any) -> None:
        io = {engine.get_tensor_name(i): engine.get_tensor_mode(engine.get_tensor_name(i)) for i in range(engine.num_io_tensors)}
        for names, mode, what in ((self.input_names, trt.TensorIOMode.INPUT, "input"), (self.output_names, trt.TensorIOMode.OUTPUT, "output")):
            for n in names:
                if io.get(n) != mode:
                    raise EngineExecutionError(
                        f"engine {self.name!r}: {what} binding {n!r} is not an {what} of the engine (engine I/O: {sorted(io)})"
                    )

    def reset(self) -> None:
        """Drop the context, engine and captured graphs (the next execution sets up again)."""
        self._graphs.clear()
        self.context = self.engine = self._runtime = self._allocator = None
        self._last_shapes = None
        self._validated_shapes = None

    # -------------------------------------------------------------------------------------------- observers
    def register_pre_execution_callback(self, fn: PreCallback) -> RemovableHandle:
        """``fn(engine_name, inputs)`` before each execution. Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._pre)
        self._pre[handle.id] = fn
        return handle

    def register_post_execution_callback(self, fn: PostCallback) -> RemovableHandle:
        """``fn(engine_name, outputs, ExecutionInfo)`` after each execution. Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._post)
        self._post[handle.id] = fn
        return handle

    # ----------------------------------------------------------------------------------------- CUDA graphs
    def set_cuda_graphs(self, enabled: bool) -> None:
        """Capture/replay executions as CUDA graphs, one per input-shape signature (CUDA devices only)."""
        if enabled and self.requires_output_allocator:
            raise EngineExecutionError(
                f"engine {self.name!r} needs an output allocator (data-dependent output shapes), which cannot run "
                "inside a CUDA graph capture; leave CUDA graphs off for this engine"
            )
        self._cuda_graphs = bool(enabled)
        if not enabled:
            self._graphs.clear()

    @property
    def cuda_graphs(self) -> bool:
        return self._cuda_graphs

    # ------------------------------------------------------------------------------------------ validation
    def _spec(self, index: int) -> Optional[TensorSpec]:
        if self.metadata is not None and index < len(self.metadata.inputs):
            return self.metadata.inputs[index]
        return None

    def validate_inputs(self, inputs: Sequence[torch.Tensor]) -> None:
        if len(inputs) != len(self.input_names):
            raise EngineExecutionError(
                f"engine {self.name!r} takes {len(self.input_names)} inputs {self.input_names}, got {len(inputs)}"
            )
        for i, (name, t) in enumerate(zip(self.input_names, inputs)):
            if not isinstance(t, torch.Tensor):
                raise EngineExecutionError(f"engine {self.name!r}: input {name!r} must be a torch.Tensor, got {type(t).__name__}")
            if t.dtype != self._input_dtypes[i]:
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} has dtype {t.dtype}, the engine expects {self._input_dtypes[i]}"
                )
            if t.device != self.device:
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} is on {t.device}, the engine runs on {self.device}; "
                    f"move the inputs with .to({str(self.device)!r})"
                )
        shapes = tuple(tuple(t.shape) for t in inputs)
        if shapes == self._validated_shapes:  # same shapes as the last accepted call: nothing new to check
            return
        for i, (name, shape) in enumerate(zip(self.input_names, shapes)):
            self._check_shape(name, shape, i)
        self._validated_shapes = shapes

    def _check_shape(self, name: str, shape: tuple[int, ...], index: int) -> None:
        declared = tuple(self.engine.get_tensor_shape(name))
        if len(declared) != len(shape):
            raise EngineExecutionError(
                f"engine {self.name!r}: input {name!r} has rank {len(shape)} (shape {shape}), the engine expects "
                f"rank {len(declared)} (shape {declared})"
            )
        spec = self._spec(index)
        lo = hi = None
        if spec is not None and spec.min is not None and spec.max is not None:
            lo, hi = tuple(spec.min), tuple(spec.max)
        elif -1 in declared and hasattr(self.engine, "get_tensor_profile_shape"):
            lo, _, hi = (tuple(d) for d in self.engine.get_tensor_profile_shape(name, 0))
        for d, (want, got) in enumerate(zip(declared, shape)):
            if want != -1 and want != got:
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} has shape {shape}, the engine was built for {declared} "
                    f"(dimension {d} is static)"
                )
            if want == -1 and lo is not None and hi is not None and not lo[d] <= got <= hi[d]:
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} has shape {shape}, outside the engine's optimization profile "
                    f"min {lo} / max {hi} (dimension {d}); recompile with a wider torch_tensorrt.Input range"
                )

    # ------------------------------------------------------------------------------------------- execution
    def execute(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Run the engine on ``inputs`` (in binding order); returns the outputs in binding order."""
        if self.kind.may_run is not None:  # e.g. simulated engines: only inside testing.simulate()
            refused = refusal(self.kind, self.name)
            if refused:
                raise EngineExecutionError(refused)
        start = time.perf_counter()
        self.setup()
        setup_s = time.perf_counter() - start
        self.validate_inputs(inputs)
        for fn in list(self._pre.values()):
            fn(self.name, inputs)
        info = ExecutionInfo(self.name, [tuple(t.shape) for t in inputs], setup_s=setup_s)
        if self._cuda_graphs:
            outputs = self._execute_graph(inputs, info)
        else:
            device = self.device
            on_cuda = device is not None and device.type == "cuda"
            outputs = self._execute(inputs, info, torch.cuda.current_stream(device).cuda_stream if on_cuda else 0)
        info.total_s = time.perf_counter() - start
        info.output_shapes = [tuple(o.shape) for o in outputs]
        for post in list(self._post.values()):
            post(self.name, outputs, info)
        return outputs

    def _address(self, t: torch.Tensor) -> int:
        """``t``'s data pointer; a 1-byte placeholder for empty tensors (TensorRT wants non-null addresses)."""
        if t.numel():
            return t.data_ptr()
        if t.device not in self._empty:
            self._empty[t.device] = torch.empty(1, dtype=torch.uint8, device=t.device)
        return self._empty[t.device].data_ptr()

    def _set_shapes(self, inputs: Sequence[torch.Tensor], info: ExecutionInfo) -> None:
        shapes = tuple(tuple(t.shape) for t in inputs)
        if shapes == self._last_shapes:
            return
        info.shapes_changed = True
        for name, shape in zip(self.input_names, shapes):
            if not self.context.set_input_shape(name, shape):
                raise EngineExecutionError(f"engine {self.name!r}: TensorRT rejected shape {shape} for input {name!r}")
        self._output_shapes = [tuple(self.context.get_tensor_shape(n)) for n in self.output_names]
        if not self.requires_output_allocator:
            for name, shape in zip(self.output_names, self._output_shapes):
                if any(d < 0 for d in shape):
                    raise EngineExecutionError(
                        f"engine {self.name!r}: output {name!r} has a data-dependent shape {shape}; the engine must be "
                        "run with requires_output_allocator=True"
                    )
        self._last_shapes = shapes

    def _execute(self, inputs: Sequence[torch.Tensor], info: ExecutionInfo, stream: int) -> list[torch.Tensor]:
        t0 = time.perf_counter()
        # TensorRT reads raw dense memory: resolve lazy negation/conjugation bits, densify strided layouts.
        inputs = [t if t.is_contiguous() and not (t.is_neg() or t.is_conj()) else t.resolve_conj().resolve_neg().contiguous() for t in inputs]
        self._set_shapes(inputs, info)
        ctx = self.context
        for name, t in zip(self.input_names, inputs):
            ctx.set_tensor_address(name, self._address(t))
        outputs: list[torch.Tensor] = []
        if not self.requires_output_allocator:
            for name, shape, dtype in zip(self.output_names, self._output_shapes, self._output_dtypes):
                out = torch.empty(shape, dtype=dtype, device=self.device)
                ctx.set_tensor_address(name, self._address(out))
                outputs.append(out)
        else:
            self._allocator.reset()  # fresh buffers: outputs handed out earlier are never overwritten
        t1 = time.perf_counter()
        ok = ctx.execute_async_v3(stream)
        t2 = time.perf_counter()
        info.prepare_s, info.enqueue_s = t1 - t0, t2 - t1
        if not ok:
            raise EngineExecutionError(f"engine {self.name!r}: execute_async_v3 failed; see the TensorRT log")
        if self.requires_output_allocator:
            for name, dtype in zip(self.output_names, self._output_dtypes):
                if name not in self._allocator.shapes:
                    raise EngineExecutionError(f"engine {self.name!r}: TensorRT reported no shape for output {name!r}")
                shape = self._allocator.shapes[name]
                numel = 1
                for d in shape:
                    numel *= d
                itemsize = torch.empty((), dtype=dtype).element_size()
                buf = self._allocator.buffers.get(name, torch.empty(0, dtype=torch.uint8, device=self.device))
                outputs.append(buf[: numel * itemsize].view(dtype).reshape(shape))
        return outputs

    def _execute_graph(self, inputs: Sequence[torch.Tensor], info: ExecutionInfo) -> list[torch.Tensor]:
        if self.device is None or self.device.type != "cuda":
            raise EngineExecutionError(f"engine {self.name!r}: CUDA graphs need a CUDA device (engine runs on {self.device})")
        key = tuple((tuple(t.shape), t.dtype) for t in inputs)
        entry = self._graphs.get(key)
        if entry is None:
            entry = self._capture(inputs, info)
            self._graphs[key] = entry
            while len(self._graphs) > self.max_cuda_graphs:
                self._graphs.popitem(last=False)
            info.cuda_graph = "captured"
        else:
            self._graphs.move_to_end(key)
            info.cuda_graph = "replayed"
        for static, t in zip(entry.static_inputs, inputs):
            static.copy_(t)
        t0 = time.perf_counter()
        entry.graph.replay()
        info.enqueue_s = time.perf_counter() - t0
        return [o.clone() for o in entry.static_outputs]

    def _capture(self, inputs: Sequence[torch.Tensor], info: ExecutionInfo) -> _Graph:
        static_inputs = [t.resolve_conj().resolve_neg().contiguous().clone() for t in inputs]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):  # warm-up outside the capture: shapes set, lazy work done
            self._execute(static_inputs, info, side.cuda_stream)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_outputs = self._execute(static_inputs, info, torch.cuda.current_stream(self.device).cuda_stream)
        return _Graph(graph, static_inputs, static_outputs)

    def __repr__(self) -> str:
        state = f"on {self.device}" if self.is_set_up else "not set up"
        kind = f" kind={self.kind.name}" if self.kind.name != KIND_TENSORRT else ""
        return f"TRTEngine({self.name!r}{kind}, inputs={self.input_names}, outputs={self.output_names}, {state})"

