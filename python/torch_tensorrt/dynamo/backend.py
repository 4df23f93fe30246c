"""``torch.compile(model, backend="tensorrt", options={...})`` (also ``backend="torch_tensorrt"``).

Dynamo hands the backend one FX graph per compiled region (a graph break gives several) with example inputs.
For each graph the backend:

1. validates ``options`` -- exactly the :class:`CompilationSettings` fields (unknown key: ``TypeError``);
2. runs the graph in PyTorch, saying so once, when it needs gradients (TensorRT engines are inference-only);
3. plans its inputs (:mod:`._backend_shapes`): parameters/buffers become engine weights, symbolic sizes become
   dynamic profiles (min/max from the shape environment, opt from this call; unbounded max:
   ``dynamic_shape_max``) and guards make dynamo recompile outside them;
4. reuses the compiled module of an identical graph (:mod:`._backend_cache`), or exports the graph with those
   dynamic shapes and compiles it with :func:`torch_tensorrt.dynamo.compile` (unsupported operators stay in
   PyTorch inside the graph);
5. on a failure runs the graph in PyTorch with one warning naming the node and the reason, unless
   ``pass_through_build_failures=True``.

Every outcome is counted (:func:`backend_stats`); ``options={"debug": True}`` logs graph id, symbol ranges,
engines built, operators left to PyTorch with reasons and build time. Engines live in memory only: for artifacts
use ``torch_tensorrt.compile(..., ir="dynamo")`` and ``torch_tensorrt.save``. The entry point group
``torch_dynamo_backends`` (pyproject) registers both names without ``import torch_tensorrt``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import Any, Callable, Iterator, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt._errors import ConversionError, TorchTensorRTError, UnsupportedOperatorError, describe_node
from torch_tensorrt.dynamo import _backend_cache, _backend_stats
from torch_tensorrt.dynamo._backend_runner import CompiledGraph
from torch_tensorrt.dynamo._backend_shapes import (
    GraphPlan,
    PlanError,
    mutated_weights,
    plan_graph,
    restart_with_constant_floats,
)
from torch_tensorrt.dynamo._backend_stats import CACHE_HIT, ENGINES, GraphRecord, LeftOp, backend_stats
from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger("torch_tensorrt.dynamo.backend")

__all__ = [
    "tensorrt_backend",
    "backend_stats",
    "settings_from_options",
    "BackendOptionError",
    "BackendOptionValueError",
]

try:  # dynamo re-raises ShortenTraceback subclasses as they are instead of wrapping them in BackendCompilerFailed
    from torch._dynamo.exc import ShortenTraceback as _Passthrough
except ImportError:  # pragma: no cover - older torch
    _Passthrough = Exception  # type: ignore[misc,assignment]


class _OptionError(_Passthrough):  # type: ignore[misc,valid-type]
    def __init__(self, message: str) -> None:
        if _Passthrough is Exception:
            super().__init__(message)  # type: ignore[call-arg]  # (older torch: a plain Exception)
        else:
            super().__init__(message, first_useful_frame=None)


class BackendOptionError(_OptionError, TypeError):
    """An unknown key in ``torch.compile(..., options={...})``: a ``TypeError`` that dynamo raises as it is
    (instead of wrapping it in ``BackendCompilerFailed``)."""


class BackendOptionValueError(_OptionError, ValueError):
    """A bad value in ``options``: a ``ValueError``, also raised as it is."""


def settings_from_options(options: Optional[dict[str, Any]]) -> CompilationSettings:
    """:class:`CompilationSettings` from ``torch.compile``'s ``options``: exactly its fields (an unknown key is a
    ``TypeError`` listing the valid ones; a bad value a ``ValueError``)."""
    if options is not None and not isinstance(options, dict):
        raise BackendOptionError(
            f"torch.compile(backend='tensorrt'): options must be a dict, got {type(options).__name__}"
        )
    try:
        return CompilationSettings.from_kwargs(**(options or {}))
    except TypeError as exc:
        raise BackendOptionError(f"torch.compile(backend='tensorrt', options=...): {exc}") from None
    except ValueError as exc:
        raise BackendOptionValueError(f"torch.compile(backend='tensorrt', options=...): {exc}") from None


def tensorrt_backend(
    gm: torch.fx.GraphModule, example_inputs: Sequence[Any], *, options: Optional[dict[str, Any]] = None, **_: Any
) -> Callable[..., Any]:
    """The dynamo backend. Returns the compiled callable for ``gm`` (or ``gm.forward`` where it runs in PyTorch).
    Extra keywords ``torch.compile`` may pass (``mode``) are accepted and ignored."""
    settings = settings_from_options(options)
    if not _needs_grad(gm, example_inputs):
        restart_with_constant_floats(gm)  # may make dynamo trace the frame again (not counted as a graph)
    record = _backend_stats.new_record()
    start = time.perf_counter()
    with _debug_logging(settings.debug):
        try:
            fn = _compile_graph(gm, example_inputs, settings, record)
        finally:
            record.compile_s = time.perf_counter() - start
            _backend_stats.finish(record)
        _log_record(record)
    return fn


def _reset() -> None:
    _backend_cache.clear()


#: ``torch._dynamo.reset()`` calls the backend's ``reset``: identical graphs are rebuilt afterwards.
tensorrt_backend.reset = _reset  # type: ignore[attr-defined]


def _compile_graph(
    gm: torch.fx.GraphModule, example_inputs: Sequence[Any], settings: CompilationSettings, record: GraphRecord
) -> Callable[..., Any]:
    needs_grad = _needs_grad(gm, example_inputs)
    if needs_grad:
        record.reason = f"needs gradients ({needs_grad})"
        if _backend_stats.first_time("grad"):
            logger.warning(
                "torch_tensorrt backend: TensorRT engines are inference-only, and graph %d is called where "
                "gradients are needed (%s); running it in PyTorch. Call the compiled model under torch.no_grad() "
                "or torch.inference_mode() (or set requires_grad=False) to use TensorRT.",
                record.graph_id,
                needs_grad,
            )
        return gm.forward
    from torch_tensorrt.dynamo import distributed

    if distributed.is_sharded_graph(example_inputs):  # DTensor model: trace to this rank's local tensors
        from torch_tensorrt import dynamo

        return distributed.compile_sharded_graph(gm, example_inputs, settings, dynamo.compile)
    built = _build(gm, example_inputs, settings, record)
    if built is None:
        return gm.forward
    compiled, plan = built
    plan.install_guards()
    frozen = plan.frozen
    # what a rebuild for other weights needs: the SymInt example values (tensors come from the call)
    symbolic = [None if isinstance(v, torch.Tensor) else v for v in example_inputs]

    def rebuild(args: Sequence[Any]) -> Optional[tuple[torch.fx.GraphModule, list[int]]]:
        inputs = [a if s is None else s for a, s in zip(args, symbolic)]
        other = _backend_stats.new_record()
        other.note = f"graph {record.graph_id} called with other weights"
        start = time.perf_counter()
        with _debug_logging(settings.debug):
            try:
                result = _build(gm, inputs, settings, other, frozen)
            finally:
                other.compile_s = time.perf_counter() - start
                _backend_stats.finish(other)
            _log_record(other)
        return None if result is None else (result[0], result[1].keep)

    return CompiledGraph(
        compiled, plan.keep, frozen, [example_inputs[i] for i in frozen], rebuild, gm.forward, record.graph_id
    )


def _build(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    settings: CompilationSettings,
    record: GraphRecord,
    frozen: Optional[Sequence[int]] = None,
) -> Optional[tuple[torch.fx.GraphModule, GraphPlan]]:
    """Plan, export and compile ``gm`` (or reuse an identical compiled program). None: it runs in PyTorch (the
    reason is in ``record`` and was logged)."""
    try:
        plan = plan_graph(gm, example_inputs, settings, frozen)
        record.symbols = list(plan.symbols.values())
        ep = _export(plan)
    except Exception as exc:
        if settings.pass_through_build_failures:
            raise
        _fallback(record, settings, _describe_failure(exc), exc)
        return None
    key = _backend_cache.program_key(ep, plan, gm, example_inputs, settings)
    compiled = _backend_cache.lookup(key, plan.ranges(engine=False))
    if compiled is not None:
        record.outcome = CACHE_HIT
        record.engines = list(compiled.compile_report.engines)
    else:
        try:
            compiled, built = _compile(ep, plan, settings)
        except Exception as exc:
            if settings.pass_through_build_failures or _is_requested_failure(exc, settings):
                raise
            _fallback(record, settings, _describe_failure(exc), exc)
            return None
        record.engines = list(cast(Any, compiled).compile_report.engines)
        if not record.engines:
            record.ops_in_pytorch = ops_left_in_pytorch(compiled, settings)
            why = "dryrun=True: partitioned, nothing built" if settings.dryrun else "no TensorRT engine"
            _fallback(record, settings, why + _first_reasons(record.ops_in_pytorch))
            return None
        record.outcome = ENGINES
        _backend_cache.store(key, built, compiled)
    record.ops_in_pytorch = ops_left_in_pytorch(compiled, settings)
    return compiled, plan


def _export(plan: GraphPlan) -> torch.export.ExportedProgram:
    # Outside dynamo's tracing context: export must not take dynamo's fake mode (its symbols would become the
    # frame's guards); the guards the backend wants are added explicitly (GraphPlan.install_guards).
    with torch._guards.tracing(None), torch.inference_mode(False), torch.no_grad():
        ep = torch.export.export(plan.gm, plan.export_args, dynamic_shapes=plan.dynamic_shapes, strict=False)
    mutated = mutated_weights(ep, plan)
    if mutated:  # e.g. BatchNorm running statistics in training mode: engine weights are frozen copies
        raise PlanError(
            f"the graph updates {', '.join(mutated)} in place (a module in training mode?); engines hold frozen weights"
        )
    return ep


def _compile(
    ep: torch.export.ExportedProgram, plan: GraphPlan, settings: CompilationSettings
) -> tuple[torch.fx.GraphModule, dict[tuple[int, int], tuple[int, int]]]:
    """Compile with the engine ranges; where those are wider than the graph needs and the build fails, build
    again with the needed ranges. Returns the compiled graph and the ranges it was built for."""
    from torch_tensorrt.dynamo._compiler import compile as dynamo_compile

    wide, needed = plan.ranges(engine=True), plan.ranges(engine=False)
    with torch._guards.tracing(None), torch.inference_mode(False), torch.no_grad():
        try:
            compiled = dynamo_compile(ep, plan.arg_specs(engine=True), settings=settings)
            failed = _unbuilt_partitions(compiled)
            if wide == needed or not failed:
                return compiled, wide
            reason = f"partitions {', '.join(failed)} did not build"
        except TorchTensorRTError as exc:
            if wide == needed:
                raise
            reason = str(exc)
        logger.info("building with the widened ranges %s failed (%s); building with %s", wide, reason, needed)
        return dynamo_compile(ep, plan.arg_specs(engine=False), settings=settings), needed


def _unbuilt_partitions(compiled: torch.fx.GraphModule) -> list[str]:
    """TensorRT partitions whose engine failed to build (left as FX submodules running in PyTorch)."""
    from torch_tensorrt.dynamo.partitioning._partitioner import ACC_PREFIX

    return [n for n, m in compiled.named_children() if n.startswith(ACC_PREFIX) and isinstance(m, torch.fx.GraphModule)]


def _needs_grad(gm: torch.fx.GraphModule, example_inputs: Sequence[Any]) -> str:
    """Why the graph needs autograd ('' when it does not): grad mode is on and an input requires grad."""
    if not torch.is_grad_enabled():
        return ""
    names = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    for name, v in zip(names, example_inputs):
        if isinstance(v, torch.Tensor) and v.requires_grad:
            kind = "parameter" if isinstance(v, torch.nn.Parameter) else "input"
            return f"{kind} {name} requires grad and grad mode is on"
    return ""


def _is_requested_failure(exc: BaseException, settings: CompilationSettings) -> bool:
    return settings.require_full_compilation and isinstance(exc, (UnsupportedOperatorError, TorchTensorRTError))


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, ConversionError):
        return str(exc)
    if isinstance(exc, UnsupportedOperatorError):
        return "; ".join(describe_node(n) for n in exc.nodes) + " cannot be converted"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _fallback(
    record: GraphRecord, settings: CompilationSettings, reason: str, exc: Optional[BaseException] = None
) -> None:
    record.reason = reason
    logger.warning(
        "torch_tensorrt backend: graph %d runs in PyTorch: %s",
        record.graph_id,
        reason,
        exc_info=exc if settings.debug else None,
    )


def ops_left_in_pytorch(compiled: torch.fx.GraphModule, settings: CompilationSettings) -> list[LeftOp]:
    """The operators of a compiled graph that run in PyTorch (``_run_on_gpu_N`` submodules), with the reason
    (the partitioner's decision, taken again on the submodule's graph)."""
    from torch_tensorrt._errors import op_name
    from torch_tensorrt.dynamo.partitioning._partitioner import TORCH_PREFIX, TensorRTSupport, is_compute_node

    support = TensorRTSupport(settings)
    out = []
    for name, sub in compiled.named_children():
        if not name.startswith(TORCH_PREFIX) or not isinstance(sub, torch.fx.GraphModule):
            continue
        for node in sub.graph.nodes:
            if not is_compute_node(node):
                continue
            ok = support.is_node_supported({}, node)
            reason = (
                support.report.reasons.get(node, "")
                if not ok
                else (f"its partition is smaller than min_block_size={settings.min_block_size}")
            )
            out.append(LeftOp(node.name, op_name(node), reason))
    return out


def _first_reasons(left: list[LeftOp]) -> str:
    if not left:
        return ""
    shown = "; ".join(f"{o.op}: {o.reason}" for o in left[:3])
    return f" ({shown}{'; ...' if len(left) > 3 else ''})"


def _log_record(record: GraphRecord) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    lines = [
        f"graph {record.graph_id}: {record.outcome} in {record.compile_s:.3f}s"
        + (f" ({record.reason})" if record.reason else "")
        + (f" [{record.note}]" if record.note else "")
    ]
    lines += [f"  symbol {p.describe()}" for p in record.symbols]
    for e in record.engines:
        ins = ", ".join(f"{s.name} min {s.min} opt {s.opt} max {s.max}" for s in e.inputs)
        lines.append(f"  engine {e.name}: {e.layers} layers, {e.engine_bytes} bytes, built in {e.build_s:.3f}s; {ins}")
    lines += [f"  in PyTorch: {o.node} ({o.op}): {o.reason}" for o in record.ops_in_pytorch]
    logger.debug("\n".join(lines))


@contextlib.contextmanager
def _debug_logging(on: bool) -> Iterator[None]:
    """``options={"debug": True}``: the package logs at DEBUG for this compile (printed to stderr when no
    handler is configured), through ``torch_tensorrt.logging.debug()`` where that module exists."""
    if not on:
        yield
        return
    try:
        from torch_tensorrt import logging as trt_logging  # type: ignore[attr-defined]

        scope = trt_logging.debug()
    except (ImportError, AttributeError):
        scope = _local_debug()
    with scope:
        yield


@contextlib.contextmanager
def _local_debug() -> Iterator[None]:
    root = logging.getLogger("torch_tensorrt")
    previous = root.level
    handler = None
    if not root.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.setLevel(previous)
        if handler is not None:
            root.removeHandler(handler)
