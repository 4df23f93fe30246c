"""Whole-graph CUDA graphs: one captured graph for a compiled module's whole forward (engines and PyTorch ops).

:func:`enable_cudagraphs` is the user's entry point::

    with torch_tensorrt.runtime.enable_cudagraphs(trt_gm) as m:
        out = m(x)          # first call per input shape set captures, later calls replay

It chooses, from what ``module`` is:

* a compiled GraphModule (``torch_tensorrt.compile``, a loaded ``.ep``), a TorchScript module or any other module
  -- :class:`CudaGraphsModule` around it, whole-graph mode. Before that, :func:`uncapturable_part` looks for a part
  that cannot be captured (an engine with data-dependent output shapes, a PyTorch operator whose output shape
  depends on data or that reads values on the host); with one, the block runs per-engine graphs instead and says
  so once, naming the part;
* a ``torch.compile(backend="tensorrt")`` module -- whole-graph mode, the module itself: each graph dynamo hands
  to the backend is captured on its own (:func:`graph_runner`), while guards and code between graphs run in
  Python on every call, as they must;
* a single ``TorchTensorRTModule`` -- per-engine graphs, the module itself.

The previous mode is restored when the block ends; the returned wrapper then runs its module plainly.

:class:`CudaGraphsModule` keeps one graph per input shape set (shapes, dtypes and the values of non-tensor
arguments), at most ``max_cuda_graphs`` shape sets. A call copies the tensors into the graph's static inputs,
replays it and returns tensors that no later call overwrites: the graph's own output buffers while nobody else
holds them, else a second graph's, else copies (:mod:`~torch_tensorrt.runtime._graph_slots`: up to three graphs
per shape set, each captured when first needed) -- or, with ``reuse_output_buffers=True``, the static outputs
themselves, which the next call overwrites. A tensor on another device than the captured graphs is an error before anything
is replayed. If a capture fails all the same, the wrapper says why once and runs per-engine graphs from then on.
Graphs are inference-only: capture and replay run under ``torch.no_grad()``; one wrapper's static buffers serve one
call at a time (no concurrent calls from several threads).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from typing import Any, Callable, Iterator, Optional, Sequence

import torch
import torch.utils._pytree as pytree

from torch_tensorrt.runtime import _cpp, _cudagraphs, _execute_op, _graph_capture
from torch_tensorrt.runtime._graph_capture import (
    DEFAULT_MAX_CUDA_GRAPHS,
    CudaGraphsError,
    CudaGraphsMode,
    GraphCache,
    require_graphs,
)
from torch_tensorrt.runtime._graph_slots import NOT_CAPTURED, Captured, ShapeSet, module_tensors
from torch_tensorrt.runtime._module import CPP, TorchTensorRTModule

logger = logging.getLogger(__name__)

#: Tensor methods that compute on the host (a capture would freeze their result).
_HOST_METHODS = frozenset({"item", "tolist", "cpu", "numpy", "__bool__", "__int__", "__float__"})
_BAD_TAGS = {
    torch.Tag.dynamic_output_shape: "has a data-dependent output shape",
    torch.Tag.data_dependent_output: "reads tensor values on the host",
}


# ------------------------------------------------------------------------------------------- capturability
def uncapturable_part(module: Any) -> Optional[str]:
    """The first part of ``module`` that a whole-graph capture cannot hold, described and named (None: none
    found). Engines on a C++ runtime without CUDA-graph support raise ``NotImplementedError`` instead."""
    if isinstance(module, TorchTensorRTModule):
        return _engine_problem(module, module.name)
    if isinstance(module, torch.fx.GraphModule):
        return _graph_problem(module, "")
    if isinstance(module, torch.nn.Module):
        for path, sub in module.named_modules():
            if isinstance(sub, TorchTensorRTModule):
                problem = _engine_problem(sub, path or sub.name)
                if problem:
                    return problem
    return None  # anything else shows itself when captured


def _engine_problem(module: TorchTensorRTModule, where: str) -> Optional[str]:
    if module.runtime == CPP:
        require_cpp_support(module.name)
    if module.requires_output_allocator:
        return f"engine {where!r} has data-dependent output shapes (output allocator)"
    return None


def require_cpp_support(name: str) -> None:
    """Raise ``NotImplementedError`` when engine ``name`` runs on a C++ runtime without CUDA-graph support."""
    if not _cudagraphs.cpp_supports_cudagraphs():
        raise _cudagraphs.cpp_unsupported(name)


def _graph_problem(gm: torch.fx.GraphModule, prefix: str) -> Optional[str]:
    for node in gm.graph.nodes:
        if node.op == "call_module":
            sub = gm.get_submodule(node.target)
            path = prefix + str(node.target)
            if isinstance(sub, TorchTensorRTModule):
                problem = _engine_problem(sub, path)
            elif isinstance(sub, torch.fx.GraphModule):
                problem = _graph_problem(sub, path + ".")
            else:
                problem = uncapturable_part(sub)
            if problem:
                return problem
        elif node.op in ("call_function", "call_method"):
            why = _node_problem(gm, node)
            if why:
                where = f"partition {prefix[:-1]!r}" if prefix else "the graph"
                return f"{where}: node {node.name!r} {why}"
    return None


def _node_problem(gm: torch.fx.GraphModule, node: torch.fx.Node) -> Optional[str]:
    """Why ``node`` cannot be captured (None: it can)."""
    target = node.target
    if node.op == "call_method":
        if target in _HOST_METHODS:
            return f"(.{target}()) computes on the host"
        why = _aten_problem(target)
        return f"(.{target}()) {why}" if why else None
    if target is _py_op():
        engine = _execute_op.engine_for(str(node.args[2]), _attr(gm, node.args[1]))
        if engine.requires_output_allocator:
            return f"runs engine {engine.name!r}, which has data-dependent output shapes (output allocator)"
        return None
    if _cpp.is_loaded() and target is torch.ops.tensorrt.execute_engine.default:
        require_cpp_support(node.name)
        return None
    if isinstance(target, torch._ops.OpOverload):
        return next((f"({target}) {why}" for tag, why in _BAD_TAGS.items() if tag in target.tags), None)
    name = getattr(target, "__name__", "")
    if isinstance(target, torch._ops.OpOverloadPacket) or getattr(target, "__module__", "") in _TORCH_MODULES:
        why = _aten_problem(name)
        return f"(torch.{name}) {why}" if why else None
    return None


_TORCH_MODULES = ("torch", "torch.functional", "torch._C._VariableFunctions")


def _aten_problem(name: Any) -> Optional[str]:
    """Why the aten operator called ``name`` cannot be captured (its default overload, else any overload)."""
    packet = getattr(torch.ops.aten, str(name), None) if isinstance(name, str) else None
    if not isinstance(packet, torch._ops.OpOverloadPacket):
        return None
    overloads = ["default"] if "default" in packet.overloads() else packet.overloads()
    for overload in overloads:
        tags = getattr(packet, overload).tags
        for tag, why in _BAD_TAGS.items():
            if tag in tags:
                return why
    return None


def _py_op() -> Any:
    return torch.ops.tensorrt.execute_engine_python.default


def _attr(gm: torch.nn.Module, node: Any) -> Any:
    value: Any = gm
    for part in str(node.target).split("."):
        value = getattr(value, part)
    return value


# ----------------------------------------------------------------------------------------------- the wrapper
class CudaGraphsModule(torch.nn.Module):
    """Runs ``compiled_module`` as one CUDA graph per input shape set while whole-graph mode is on (inside
    :func:`enable_cudagraphs`), plainly otherwise. See the module docstring."""

    def __init__(
        self,
        compiled_module: torch.nn.Module,
        *,
        reuse_output_buffers: bool = False,
        max_cuda_graphs: Optional[int] = None,
        name: str = "",
    ) -> None:
        super().__init__()
        self.compiled_module = compiled_module
        self.reuse_output_buffers = bool(reuse_output_buffers)
        self.name = name or type(compiled_module).__name__
        self._graphs: GraphCache[ShapeSet] = GraphCache(max_cuda_graphs or _max_graphs_of(compiled_module))
        self._device: Optional[torch.device] = None
        #: why capturing failed (then per-engine graphs run instead); None while capturing works
        self.fallback_reason: Optional[str] = None

    @property
    def captured_shapes(self) -> list[Any]:
        """Keys (input shape sets) of the captured graphs, least recently used first."""
        return self._graphs.keys()

    def forward(self, *args: Any) -> Any:
        if _graph_capture.MODE != _WHOLE or self.fallback_reason is not None:
            return self._not_captured(args)
        # The hot path: plain arguments with a graph already captured for their shape set.
        device = self._device
        key: list[Any] = []
        add = key.append
        for a in args:
            if isinstance(a, torch.Tensor):
                if a.device != device:
                    return self._call(args)  # says what is wrong (or captures the first graph)
                add(a.shape)
                add(a.dtype)
            elif a is None or isinstance(a, (list, tuple, dict)):
                return self._call(args)  # nested arguments: flattened there
            else:
                add(a)
        shape_set = self._graphs.get(tuple(key))
        if shape_set is None:
            return self._call(args)
        out = shape_set.replay(args, self.reuse_output_buffers)
        return out if out is not NOT_CAPTURED else _run_per_engine(self.compiled_module, args)

    def _not_captured(self, args: Sequence[Any]) -> Any:
        if _graph_capture.MODE != _WHOLE:
            return self.compiled_module(*args)
        return _run_per_engine(self.compiled_module, args)

    def _call(self, args: Sequence[Any]) -> Any:
        """Any call: checks every input's device, captures a graph for a new shape set, replays."""
        device = self._device if self._device is not None else self._pick_device(args)
        leaves, spec = pytree.tree_flatten(list(args))
        nested = any(a is None or isinstance(a, (list, tuple, dict)) for a in args)
        parts: list[Any] = [spec] if nested else []
        for a in leaves:
            if isinstance(a, torch.Tensor):
                if a.device != device:
                    self._device_error(leaves, device)
                parts += [a.shape, a.dtype]
            else:
                parts.append(a)
        key = tuple(parts)
        shape_set = self._graphs.get(key)
        if shape_set is None:
            shape_set = self._capture(key, leaves, spec, device)
            if shape_set is None:
                return _run_per_engine(self.compiled_module, args)
        out = shape_set.replay(leaves, self.reuse_output_buffers)
        return out if out is not NOT_CAPTURED else _run_per_engine(self.compiled_module, args)

    def _pick_device(self, args: Sequence[Any]) -> torch.device:
        found = [t for t in pytree.tree_leaves(list(args)) if isinstance(t, torch.Tensor)]
        device = found[0].device if found else torch.device("cuda", torch.cuda.current_device())
        if not _graph_capture.BACKEND.supports(device):
            raise CudaGraphsError(
                f"CudaGraphsModule({self.name}): {_graph_capture.BACKEND.name} need CUDA tensors; input 0 is on "
                f"{device}. Move the inputs to the GPU (.cuda())"
            )
        return device

    def _device_error(self, leaves: Sequence[Any], device: torch.device) -> None:
        index, bad = next((i, t) for i, t in enumerate(leaves) if isinstance(t, torch.Tensor) and t.device != device)
        raise CudaGraphsError(
            f"CudaGraphsModule({self.name}): input {index} is on {bad.device}, and the captured graphs run on "
            f"{device}; move the inputs with .to({str(device)!r}) (nothing was replayed)"
        )

    def _capture(self, key: tuple[Any, ...], leaves: list[Any], spec: Any, device: torch.device) -> Optional[ShapeSet]:
        static_leaves = [a.clone() if isinstance(a, torch.Tensor) else a for a in leaves]
        static_inputs = [a for a in static_leaves if isinstance(a, torch.Tensor)]
        positions = [i for i, a in enumerate(static_leaves) if isinstance(a, torch.Tensor)]
        call_args = pytree.tree_unflatten(static_leaves, spec)

        def run() -> Any:
            with torch.no_grad():
                return self.compiled_module(*call_args)

        _graph_capture.BACKEND.warm_up(run, device)  # bad inputs raise here, as they would without graphs

        def capture() -> Optional[Captured]:
            try:
                graph, out = _graph_capture.BACKEND.capture(run, device)
            except Exception as exc:  # an operation that cannot be captured: fall back, once, saying why
                self.fallback_reason = _reason(exc)
                self._graphs.clear()
                logger.warning(
                    "CudaGraphsModule(%s): the forward could not be captured as one CUDA graph (%s); running it "
                    "with per-engine CUDA graphs instead",
                    self.name,
                    self.fallback_reason,
                )
                return None
            return Captured(graph, out)

        first = capture()
        if first is None:
            return None
        self._device = device
        all_tensors = len(positions) == len(static_leaves)
        shape_set = ShapeSet(
            static_inputs, None if all_tensors else positions, first, capture, module_tensors(self.compiled_module)
        )
        self._graphs.put(key, shape_set)
        logger.debug("CudaGraphsModule(%s): captured a CUDA graph for %s", self.name, key)
        return shape_set

    def extra_repr(self) -> str:
        return f"name={self.name!r}, graphs={len(self._graphs)}/{self._graphs.limit}, reuse_output_buffers={self.reuse_output_buffers}"


def _reason(exc: BaseException) -> str:
    """One line saying why: the message's first line (for TorchScript, whose first line only says that the
    interpreter failed, the line of the error raised inside it)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("The following operation failed in the TorchScript"):
        inner = [line for line in lines if re.match(r"^[\w.]*(Error|Exception): ", line)]
        if inner:
            return inner[0].split(": ", 1)[1] if inner[0].startswith("RuntimeError: ") else inner[0]
    return f"{type(exc).__name__}: {lines[0]}"


_WHOLE = CudaGraphsMode.WHOLE_GRAPH.value


def _run_per_engine(module: Callable[..., Any], args: Sequence[Any]) -> Any:
    with _cudagraphs.mode_scope(CudaGraphsMode.PER_ENGINE):
        return module(*args)


def _max_graphs_of(module: Any) -> int:
    if isinstance(module, torch.nn.Module):
        for sub in module.modules():
            if isinstance(sub, TorchTensorRTModule):
                return int(sub.settings.max_cuda_graphs)
    return DEFAULT_MAX_CUDA_GRAPHS


# ---------------------------------------------------------------------------------------------- entry points
def _is_torch_compiled(module: Any) -> bool:
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")  # not imported: nothing was torch.compile'd
    if eval_frame is None:
        return False
    return isinstance(module, eval_frame.OptimizedModule) or hasattr(module, "_torchdynamo_orig_callable")


def _plan(module: Any, reuse_output_buffers: bool) -> tuple[Any, CudaGraphsMode]:
    if isinstance(module, CudaGraphsModule):
        module.reuse_output_buffers = bool(reuse_output_buffers) or module.reuse_output_buffers
        return module, CudaGraphsMode.WHOLE_GRAPH
    if isinstance(module, TorchTensorRTModule):
        if module.runtime == CPP:
            require_cpp_support(module.name)
        return module, CudaGraphsMode.PER_ENGINE
    if _is_torch_compiled(module):
        return module, CudaGraphsMode.WHOLE_GRAPH
    problem = uncapturable_part(module)
    if problem:
        logger.warning(
            "enable_cudagraphs(%s): %s, which a CUDA graph cannot capture; running per-engine CUDA graphs instead "
            "of one graph for the whole module",
            type(module).__name__,
            problem,
        )
        return module, CudaGraphsMode.PER_ENGINE
    return CudaGraphsModule(module, reuse_output_buffers=reuse_output_buffers), CudaGraphsMode.WHOLE_GRAPH


@contextlib.contextmanager
def enable_cudagraphs(module: Any, *, reuse_output_buffers: bool = False) -> Iterator[Any]:
    """``with enable_cudagraphs(compiled) as m:`` -- ``m`` runs with CUDA graphs inside the block (see the module
    docstring for what is captured); the previous mode comes back after it. Needs a CUDA GPU."""
    require_graphs("torch_tensorrt.runtime.enable_cudagraphs")
    target, mode = _plan(module, reuse_output_buffers)
    previous = _cudagraphs.set_mode(mode)
    try:
        yield target
    finally:
        _cudagraphs.set_mode(previous)


def graph_runner(module: torch.nn.Module, name: str) -> Callable[..., Any]:
    """What a ``torch.compile`` graph runs in whole-graph mode: its capture wrapper, or -- when a part cannot be
    captured, said once -- the graph itself under per-engine graphs."""
    problem = uncapturable_part(module)
    if problem is None:
        return CudaGraphsModule(module, name=name)
    logger.warning(
        "%s: %s, which a CUDA graph cannot capture; this graph runs per-engine CUDA graphs instead",
        name,
        problem,
    )
    return lambda *args: _run_per_engine(module, args)


@contextlib.contextmanager
def enable_pre_allocated_outputs(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``with enable_pre_allocated_outputs(compiled) as m:`` -- every Python-runtime engine of ``module``
    allocates its next outputs right after each launch inside the block (the ``use_pre_allocated_outputs``
    setting); each engine's previous choice comes back after it."""
    engines = [m for m in module.modules() if isinstance(m, TorchTensorRTModule) and m.runtime != CPP]
    previous = [m.use_pre_allocated_outputs for m in engines]
    for m in engines:
        m.set_pre_allocated_outputs(True)
    try:
        yield module
    finally:
        for m, was in zip(engines, previous):
            m.set_pre_allocated_outputs(was)
