"""The Python engine: runs one TensorRT engine through the TensorRT Python API.

:class:`TRTEngine` is built from an :class:`~torch_tensorrt.runtime._record.EngineRecord`. Deserialization is
deferred to :meth:`TRTEngine.setup` (called by the first :meth:`TRTEngine.execute`), so constructing one never
touches CUDA. Execution follows TensorRT 10+'s name-based I/O:

1. validate inputs: count, dtype and device on every call; rank, static dims and profile min/max once per input
   shape set (errors name engine and binding);
2. ``set_input_shape`` per input when the shape set changed, ``set_tensor_address`` per binding;
3. outputs allocated with the shapes cached for the shape set -- or, for engines that
   ``requires_output_allocator`` (data-dependent shapes), through an ``IOutputAllocator``
   (``reallocate_output_async`` / ``notify_shape``);
4. ``execute_async_v3`` on the caller's current torch CUDA stream.

Everything that depends only on the input shape set is computed once per set (:class:`ShapeSet`), so a call
with known shapes builds no dicts and allocates only its outputs (with ``use_pre_allocated_outputs`` those are
allocated right after the previous launch). Observers (:meth:`register_pre_execution_callback`,
:meth:`register_post_execution_callback`) see every execution with host-side timings; with none registered
nothing is timed.

CUDA graphs (per-engine: :meth:`TRTEngine.set_cuda_graphs`, or the process-wide mode of
:mod:`torch_tensorrt.runtime._cudagraphs`) capture one graph per input shape set and replay it, keeping at most
``max_cuda_graphs``; engines with data-dependent output shapes are never graphed. In whole-graph mode engines
run plainly, as part of the wrapper's capture.

Engines with several optimization profiles run each shape set in the profile :mod:`~._profiles` selects (by
default the first whose ranges contain the shapes), set with ``set_optimization_profile_async`` before the shapes.

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
from torch_tensorrt.runtime import _graph_capture
from torch_tensorrt.runtime._aliasing import AliasedOutputs
from torch_tensorrt.runtime._graph_capture import DEFAULT_MAX_CUDA_GRAPHS, CudaGraphsMode, GraphCache, StaticGraph
from torch_tensorrt.runtime._kinds import KIND_TENSORRT, refusal
from torch_tensorrt.runtime._metadata import EngineMetadata, TensorSpec
from torch_tensorrt.runtime._output_allocator import output_allocator_class
from torch_tensorrt.runtime._placement import EngineExecutionError, engine_kind_of, select_device
from torch_tensorrt.runtime._profiles import ProfileSelector
from torch_tensorrt.runtime._record import EngineRecord
from torch_tensorrt.runtime._runtime_config import runtime_config_for
from torch_tensorrt.runtime._shape_sets import MAX_SHAPE_SETS, ShapeSet, data_ptr, empty_like, raw_stream, template

logger = logging.getLogger(__name__)


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


_PER_ENGINE = CudaGraphsMode.PER_ENGINE.value


class TRTEngine(AliasedOutputs):
    """One deserialized TensorRT engine with its execution context (see the module docstring)."""

    ERROR = EngineExecutionError

    def __init__(self, record: EngineRecord) -> None:
        self.record = record
        self.name = record.name
        #: how this engine's plan is deserialized (see :mod:`torch_tensorrt.runtime._kinds`)
        self.kind = engine_kind_of(record)
        self.input_names = list(record.input_binding_names)
        self.output_names = list(record.output_binding_names)
        self.metadata: Optional[EngineMetadata] = EngineMetadata.from_json(record.metadata) if record.metadata else None
        self.requires_output_allocator = record.requires_output_allocator
        self.device: Optional[torch.device] = None
        self.engine: Any = None
        self.context: Any = None
        self._runtime: Any = None
        self._output_dtypes: list[torch.dtype] = []
        self._input_dtypes: list[torch.dtype] = []
        self._allocator: Any = None
        self._shape_sets: dict[Any, ShapeSet] = {}
        #: the shape set whose input shapes the execution context holds
        self._active: Optional[ShapeSet] = None
        self._cuda_graphs = False
        settings = self.metadata.settings if self.metadata is not None else {}
        self._graphs: GraphCache[StaticGraph] = GraphCache(
            int(settings.get("max_cuda_graphs", DEFAULT_MAX_CUDA_GRAPHS))
        )
        #: allocate the next call's outputs right after each launch
        self.pre_allocated_outputs = bool(settings.get("use_pre_allocated_outputs", False))
        self._said_no_graph = False
        self._pre: "OrderedDict[int, PreCallback]" = OrderedDict()
        self._post: "OrderedDict[int, PostCallback]" = OrderedDict()
        self._empty: dict[torch.device, torch.Tensor] = {}
        #: the optimization profiles' bounds and the one asked for (runtime._profiles)
        self._profiles = ProfileSelector(self.name, self.input_names, EngineExecutionError)
        #: the profile the execution context is set to
        self._context_profile = 0
        #: output binding -> the input binding it shares memory with (``ICudaEngine.get_aliased_input_tensor``,
        #: read at setup; e.g. a KV-cache update written in place); such an output *is* that input tensor
        self.aliased_io: dict[str, str] = {}
        self._aliased: list[tuple[int, int]] = []  # (output index, input index)

    @property
    def max_cuda_graphs(self) -> int:
        """CUDA graphs kept (one per input shape set; the least recently used is dropped beyond it)."""
        return self._graphs.limit

    @max_cuda_graphs.setter
    def max_cuda_graphs(self, value: int) -> None:
        self._graphs.set_limit(value)

    @classmethod
    def from_state(cls, state: Any) -> "TRTEngine":
        """An engine from a saved record: framed bytes (``uint8`` tensor) or an ABI 2 list of strings."""
        return cls(EngineRecord.from_state(state))

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
        self._profiles.read(engine)
        self._context_profile = 0
        self._read_aliases(engine)
        self._runtime, self.engine, self.device = runtime, engine, device
        self._input_dtypes = [torch_dtype_of(engine.get_tensor_dtype(n)) for n in self.input_names]
        self._output_dtypes = [torch_dtype_of(engine.get_tensor_dtype(n)) for n in self.output_names]
        if self.requires_output_allocator:
            self._allocator = output_allocator_class()(device)
            for n in self.output_names:
                if not context.set_output_allocator(n, self._allocator):
                    raise EngineExecutionError(f"engine {self.name!r}: could not set the output allocator for {n!r}")
        self.context = context

    def _check_bindings(self, engine: Any) -> None:
        io = {
            engine.get_tensor_name(i): engine.get_tensor_mode(engine.get_tensor_name(i))
            for i in range(engine.num_io_tensors)
        }
        for names, mode, what in (
            (self.input_names, trt.TensorIOMode.INPUT, "input"),
            (self.output_names, trt.TensorIOMode.OUTPUT, "output"),
        ):
            for n in names:
                if io.get(n) != mode:
                    raise EngineExecutionError(
                        f"engine {self.name!r}: {what} binding {n!r} is not an {what} of the engine (engine I/O: {sorted(io)})"
                    )

    # ------------------------------------------------------------------------------- optimization profiles
    @property
    def num_optimization_profiles(self) -> int:
        """How many optimization profiles the engine has (from the engine once set up, else its metadata)."""
        if self.engine is not None:
            return self._profiles.count
        return self.metadata.num_profiles if self.metadata is not None else 1

    @property
    def optimization_profile(self) -> Optional[int]:
        """The pinned optimization profile, or None for the default rule (first profile containing the shapes)."""
        return self._profiles.request

    def set_optimization_profile(self, index: Optional[int | str]) -> None:
        """Run every call in profile ``index`` (None, or ``"auto"``: the first profile containing the shapes)."""
        index = self._profiles.check_request(index, self.num_optimization_profiles)
        if index == self._profiles.request:
            return
        self._profiles.request = index
        self._shape_sets.clear()  # each shape set holds the profile it was selected in
        self._active = None
        self._graphs.clear()

    def reset(self) -> None:
        """Drop the context, engine and captured graphs (the next execution sets up again)."""
        self._graphs.clear()
        self._shape_sets.clear()
        self._active = None
        self._context_profile = 0
        self.context = self.engine = self._runtime = self._allocator = None

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
        """Capture/replay this engine's executions as CUDA graphs, one per input shape set (CUDA devices only),
        whatever the process-wide mode (:mod:`torch_tensorrt.runtime._cudagraphs`) says."""
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

    def release_graphs(self) -> None:
        """Free the graphs captured for the process-wide mode (kept when :meth:`set_cuda_graphs` asked for them)."""
        if not self._cuda_graphs:
            self._graphs.clear()

    @property
    def captured_shapes(self) -> list[Any]:
        """The input shape sets with a captured graph, least recently used first."""
        return self._graphs.keys()

    # ------------------------------------------------------------------------------------------ validation
    def _spec(self, index: int) -> Optional[TensorSpec]:
        if self.metadata is not None and index < len(self.metadata.inputs):
            return self.metadata.inputs[index]
        return None

    def validate_inputs(self, inputs: Sequence[torch.Tensor]) -> None:
        """Raise :class:`EngineExecutionError` naming the engine and binding when ``inputs`` cannot run."""
        self._shape_set(inputs)

    def _shape_set(self, inputs: Sequence[torch.Tensor]) -> ShapeSet:
        """Check ``inputs`` (count, dtype, device every call; shapes once per shape set) and return their shape set."""
        if len(inputs) != len(self.input_names):
            raise EngineExecutionError(
                f"engine {self.name!r} takes {len(self.input_names)} inputs {self.input_names}, got {len(inputs)}"
            )
        device = self.device
        for t, dtype in zip(inputs, self._input_dtypes):
            if not isinstance(t, torch.Tensor) or t.dtype is not dtype or t.device != device:
                self._raise_input_error(inputs)
        key = inputs[0].shape if len(inputs) == 1 else tuple([t.shape for t in inputs])
        shape_set = self._shape_sets.get(key)
        if shape_set is None:
            shapes = tuple(tuple(t.shape) for t in inputs)
            for i, (name, shape) in enumerate(zip(self.input_names, shapes)):
                self._check_shape(name, shape, i)
            profile = self._profiles.select(shapes)
            if len(self._shape_sets) >= MAX_SHAPE_SETS:
                self._shape_sets.clear()
                self._active = None
            shape_set = self._shape_sets[key] = ShapeSet(key, shapes)
            shape_set.profile = profile
        return shape_set

    def _raise_input_error(self, inputs: Sequence[torch.Tensor]) -> None:
        for i, (name, t) in enumerate(zip(self.input_names, inputs)):
            if not isinstance(t, torch.Tensor):
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} must be a torch.Tensor, got {type(t).__name__}"
                )
            if t.dtype != self._input_dtypes[i]:
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} has dtype {t.dtype}, the engine expects {self._input_dtypes[i]}"
                )
            if t.device != self.device:
                raise EngineExecutionError(
                    f"engine {self.name!r}: input {name!r} is on {t.device}, the engine runs on {self.device}; "
                    f"move the inputs with .to({str(self.device)!r})"
                )

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
        elif -1 in declared and self._profiles.count == 1 and hasattr(self.engine, "get_tensor_profile_shape"):
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
        if self._pre or self._post:
            return self._execute_observed(inputs)
        if self.context is None:
            self.setup()
        shape_set = self._shape_set(inputs)
        if self._cuda_graphs or _graph_capture.MODE:
            return self._execute_in_mode(shape_set, inputs, None)
        return self._run(shape_set, inputs, self._stream(), None, self.pre_allocated_outputs)

    def _execute_observed(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """:meth:`execute` with the observers called and timed."""
        start = time.perf_counter()
        self.setup()
        setup_s = time.perf_counter() - start
        shape_set = self._shape_set(inputs)
        for fn in list(self._pre.values()):
            fn(self.name, inputs)
        info = ExecutionInfo(self.name, [tuple(t.shape) for t in inputs], setup_s=setup_s)
        if self._cuda_graphs or _graph_capture.MODE:
            outputs = self._execute_in_mode(shape_set, inputs, info)
        else:
            outputs = self._run(shape_set, inputs, self._stream(), info, self.pre_allocated_outputs)
        info.total_s = time.perf_counter() - start
        info.output_shapes = [tuple(o.shape) for o in outputs]
        for post in list(self._post.values()):
            post(self.name, outputs, info)
        return outputs

    def _device(self) -> torch.device:
        """The device of a set-up engine."""
        if self.device is None:
            raise EngineExecutionError(f"engine {self.name!r} is not set up")
        return self.device

    def _stream(self) -> int:
        """The caller's current CUDA stream (0 on the CPU)."""
        device = self.device
        if device.type == "cuda":  # type: ignore[union-attr]  # set up: a device
            return raw_stream(device.index)  # type: ignore[union-attr]
        return 0

    def _address(self, t: torch.Tensor) -> int:
        """``t``'s data pointer; a 1-byte placeholder for empty tensors (TensorRT wants non-null addresses)."""
        if t.numel():
            return t.data_ptr()
        if t.device not in self._empty:
            self._empty[t.device] = torch.empty(1, dtype=torch.uint8, device=t.device)
        return self._empty[t.device].data_ptr()

    def _activate(self, shape_set: ShapeSet, info: Optional[ExecutionInfo]) -> None:
        """Give the context ``shape_set``'s input shapes (and learn its output shapes the first time)."""
        if info is not None:
            info.shapes_changed = True
        self._active = None
        if shape_set.profile != self._context_profile:  # before the input shapes, as TensorRT requires
            if not self.context.set_optimization_profile_async(shape_set.profile, self._stream()):
                raise EngineExecutionError(
                    f"engine {self.name!r}: TensorRT refused to switch to optimization profile {shape_set.profile}"
                )
            self._context_profile = shape_set.profile
        for name, shape in zip(self.input_names, shape_set.shapes):
            if not self.context.set_input_shape(name, shape):
                raise EngineExecutionError(f"engine {self.name!r}: TensorRT rejected shape {shape} for input {name!r}")
        if shape_set.output_shapes is None:
            output_shapes = [tuple(self.context.get_tensor_shape(n)) for n in self.output_names]
            if not self.requires_output_allocator:
                for name, shape in zip(self.output_names, output_shapes):
                    if any(d < 0 for d in shape):
                        raise EngineExecutionError(
                            f"engine {self.name!r}: output {name!r} has a data-dependent shape {shape}; the engine must "
                            "be run with requires_output_allocator=True"
                        )
                if any(0 in s for s in output_shapes):
                    shape_set.has_empty = True
                shape_set.templates = [
                    template(shape, dtype, self._device()) for shape, dtype in zip(output_shapes, self._output_dtypes)
                ]
            shape_set.output_shapes = output_shapes
        self._active = shape_set

    @staticmethod
    def _new_outputs(shape_set: ShapeSet) -> list[torch.Tensor]:
        return [empty_like(t) for t in shape_set.templates]

    def _run(
        self,
        shape_set: ShapeSet,
        inputs: Sequence[torch.Tensor],
        stream: int,
        info: Optional[ExecutionInfo],
        pre_allocate: bool,
    ) -> list[torch.Tensor]:
        """Execute once, plainly (also what a graph capture records)."""
        t0 = time.perf_counter() if info is not None else 0.0
        if shape_set is not self._active:
            self._activate(shape_set, info)
        if self.requires_output_allocator:
            return self._run_with_allocator(inputs, stream, info, t0)
        ctx = self.context
        held: Optional[list[torch.Tensor]] = None  # contiguous copies, alive until the launch
        address = self._address if shape_set.has_empty else data_ptr
        for name, t in zip(self.input_names, inputs):
            if not t.is_contiguous() or t.is_neg() or t.is_conj():  # TensorRT reads raw dense memory: no lazy bits
                t = t.resolve_conj().resolve_neg().contiguous()
                held = [t] if held is None else held + [t]
            ctx.set_tensor_address(name, address(t))
        outputs = shape_set.next_outputs
        if outputs is None:
            outputs = self._new_outputs(shape_set)
        else:
            shape_set.next_outputs = None
        if self._aliased:
            outputs = self._alias_outputs(outputs, inputs)
        for name, out in zip(self.output_names, outputs):
            ctx.set_tensor_address(name, address(out))
        if info is not None:
            t1 = time.perf_counter()
            ok = ctx.execute_async_v3(stream)
            info.prepare_s, info.enqueue_s = t1 - t0, time.perf_counter() - t1
        else:
            ok = ctx.execute_async_v3(stream)
        if not ok:
            raise EngineExecutionError(f"engine {self.name!r}: execute_async_v3 failed; see the TensorRT log")
        if pre_allocate:
            shape_set.next_outputs = self._new_outputs(shape_set)
        return outputs

    def _run_with_allocator(
        self, inputs: Sequence[torch.Tensor], stream: int, info: Optional[ExecutionInfo], t0: float
    ) -> list[torch.Tensor]:
        """Execute an engine with data-dependent output shapes: outputs come from the output allocator."""
        if _graph_capture.MODE == CudaGraphsMode.WHOLE_GRAPH and _graph_capture.BACKEND.is_capturing():
            raise EngineExecutionError(
                f"engine {self.name!r} has data-dependent output shapes (output allocator), which cannot be "
                "captured in a CUDA graph"
            )
        ctx = self.context
        inputs = [
            t if t.is_contiguous() and not (t.is_neg() or t.is_conj()) else t.resolve_conj().resolve_neg().contiguous()
            for t in inputs
        ]
        for name, t in zip(self.input_names, inputs):
            ctx.set_tensor_address(name, self._address(t))
        self._allocator.reset()  # fresh buffers: outputs handed out earlier are never overwritten
        t1 = time.perf_counter()
        ok = ctx.execute_async_v3(stream)
        if info is not None:
            info.prepare_s, info.enqueue_s = t1 - t0, time.perf_counter() - t1
        if not ok:
            raise EngineExecutionError(f"engine {self.name!r}: execute_async_v3 failed; see the TensorRT log")
        outputs: list[torch.Tensor] = []
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

    # ------------------------------------------------------------------------------ CUDA-graph execution
    def _execute_in_mode(
        self, shape_set: ShapeSet, inputs: Sequence[torch.Tensor], info: Optional[ExecutionInfo]
    ) -> list[torch.Tensor]:
        """Execution while CUDA graphs are on for this engine or the process: per-engine graphs where they can
        be, else a plain run (in whole-graph mode this run is part of the wrapper's capture)."""
        if self._cuda_graphs or _graph_capture.MODE == _PER_ENGINE:
            graph = self._graphs.get(shape_set.key)
            if graph is not None:
                return self._replay(graph, inputs, info, "replayed")
            if self._may_capture():

                def run(static_inputs: list[torch.Tensor]) -> list[torch.Tensor]:
                    return self._run(shape_set, static_inputs, self._stream(), info, False)

                graph = StaticGraph.capture(run, inputs, self._device())
                self._graphs.put(shape_set.key, graph)
                _graph_capture.add_owner(self)
                logger.debug("engine %s: captured a CUDA graph for input shapes %s", self.name, list(shape_set.shapes))
                return self._replay(graph, inputs, info, "captured")
        return self._run(shape_set, inputs, self._stream(), info, self.pre_allocated_outputs)

    def _may_capture(self) -> bool:
        """Whether a graph can be captured for this engine now (says once why not for data-dependent shapes)."""
        if self.requires_output_allocator:
            if not self._said_no_graph:
                self._said_no_graph = True
                logger.warning(
                    "engine %s has data-dependent output shapes (output allocator): it runs without a CUDA graph in "
                    "CUDA-graphs mode",
                    self.name,
                )
            return False
        if not _graph_capture.BACKEND.supports(self._device()):
            raise EngineExecutionError(
                f"engine {self.name!r}: CUDA graphs need a CUDA device (engine runs on {self.device})"
            )
        return not _graph_capture.BACKEND.is_capturing()  # never nest in a capture the caller is making

    @staticmethod
    def _replay(
        graph: StaticGraph, inputs: Sequence[torch.Tensor], info: Optional[ExecutionInfo], state: str
    ) -> list[torch.Tensor]:
        if info is None:
            return graph.replay(inputs)
        info.cuda_graph = state
        t0 = time.perf_counter()
        outputs = graph.replay(inputs)
        info.enqueue_s = time.perf_counter() - t0
        return outputs

    def __repr__(self) -> str:
        state = f"on {self.device}" if self.is_set_up else "not set up"
        kind = f" kind={self.kind.name}" if self.kind.name != KIND_TENSORRT else ""
        return f"TRTEngine({self.name!r}{kind}, inputs={self.input_names}, outputs={self.output_names}, {state})"
