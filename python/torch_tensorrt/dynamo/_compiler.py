"""The ahead-of-time compile pipeline: lower -> partition -> convert -> build -> wrap.

* :func:`compile` returns a ``torch.fx.GraphModule`` whose TensorRT partitions are ``TorchTensorRTModule``
  submodules (``_run_on_acc_N``); everything else runs in PyTorch.
* :func:`convert_exported_program_to_serialized_trt_engine` converts the whole program into one engine.

Nothing here touches CUDA: every stage runs on a CPU-only machine with CPU example tensors.
"""

from __future__ import annotations

import contextlib
import logging
import operator
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, cast

import torch
import torch.fx

from torch_tensorrt._errors import EngineBuildError, TorchTensorRTError
from torch_tensorrt._input import Input
from torch_tensorrt.dynamo import _codegen, _frontend, _progress, _stages
from torch_tensorrt.dynamo._graph import ASSERT_OPS
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion import ConvertedEngine, SymbolRanges, convert_module
from torch_tensorrt.dynamo._engine_cache import BuiltEngine, build_engine
from torch_tensorrt.dynamo.conversion._provenance import WeightTracker
from torch_tensorrt.dynamo.lowering import lower_exported_program, run_passes
from torch_tensorrt.dynamo.partitioning import PartitionResult, partition

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class EngineSummary:
    """What was built for one TensorRT partition (plain data: the report pickles with the module)."""

    name: str
    engine_bytes: int
    layers: int
    build_s: float
    inputs: list[Any]
    outputs: list[Any]
    #: engine cache outcome: "off", "miss", "hit" or "hit-refit" (see dynamo._engine_cache)
    cache: str = "off"
    #: seconds to get the plan (conversion + build, or the cache lookup)
    stage_s: float = 0.0

    @classmethod
    def of(cls, built: BuiltEngine) -> "EngineSummary":
        return cls(
            built.name,
            len(built.engine),
            built.layers,
            built.build_s,
            built.metadata.inputs,
            built.metadata.outputs,
            built.cache,
            built.stage_s,
        )


@dataclass
class CompileReport:
    """Timings and engines of one compilation (attached to the result as ``gm.compile_report``)."""

    lowering_s: float = 0.0
    partitioning_s: float = 0.0
    engines: list[EngineSummary] = field(default_factory=list)
    conversion_s: float = 0.0


def _symbol_ranges(gm: torch.fx.GraphModule, ep: torch.export.ExportedProgram, user_inputs: list[Any]) -> SymbolRanges:
    placeholders = [n.meta.get("val") for n in gm.graph.nodes if n.op == "placeholder"]
    specs: list[Optional[Input]] = [i if isinstance(i, Input) else None for i in user_inputs]
    specs += [None] * (len(placeholders) - len(specs))
    return SymbolRanges.from_graph_inputs(placeholders, specs, ep.range_constraints)


def _prepare(
    where: str,
    exported_program: Any,
    arg_inputs: Any,
    inputs: Any,
    kwarg_inputs: Optional[dict[str, Any]],
    settings: Optional[CompilationSettings],
    kwargs: dict[str, Any],
) -> tuple[CompilationSettings, torch.fx.GraphModule, SymbolRanges, CompileReport, Optional[WeightTracker]]:
    """The start of every entry point here: settings from keywords, the inputs normalized by the front end, the
    program lowered (decompositions, then the graph passes), and the symbol ranges of its dynamic inputs. When
    the settings need a weight map, the graph passes run under a :class:`WeightTracker` seeded with the program's
    state dict and constants (returned, to be active during conversion too)."""
    settings = CompilationSettings.from_kwargs(settings, **kwargs)
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, inputs=inputs, where=where)
    exported_program = _frontend.require_exported_program(exported_program, where=where)
    report = CompileReport()
    start = time.perf_counter()
    _stages.notify("exported", exported_program.graph_module)
    ep = lower_exported_program(exported_program, settings)
    _stages.notify("lowered", ep.graph_module)
    tracker = WeightTracker() if settings.needs_weight_map else None
    module = ep.module(check_guards=False)  # no _guards_fn to generate (remove_export_guards would drop it)
    if tracker is not None:
        tracker.seed_program(ep, exported_program.graph)
    with tracker.active() if tracker is not None else contextlib.nullcontext():
        gm = run_passes(module, settings)
    report.lowering_s = time.perf_counter() - start
    return settings, gm, _symbol_ranges(gm, ep, spec.flat), report, tracker


def compile(
    exported_program: torch.export.ExportedProgram,
    arg_inputs: Any = None,
    *,
    inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    settings: Optional[CompilationSettings] = None,
    progress: Optional[Progress] = None,
    **kwargs: Any,
) -> torch.fx.GraphModule:
    """Compile an ExportedProgram; keyword arguments are :class:`CompilationSettings` fields."""
    # Code generation is deferred (see dynamo._codegen): the graph is edited by the passes, the partitioner and
    # the engine swaps below, and its Python code is generated once, when the result is built from it.
    with _codegen.deferred() as pending:
        settings, gm, ranges, report, tracker = _prepare(
            "torch_tensorrt.dynamo.compile", exported_program, arg_inputs, inputs, kwarg_inputs, settings, kwargs
        )
        start = time.perf_counter()
        with tracker.active() if tracker is not None else contextlib.nullcontext():  # constants it moves keep recipes
            parts: PartitionResult = partition(gm, settings)
        report.partitioning_s = time.perf_counter() - start
        # Built now when someone looks at the partitioned module (the caller of a dry run, a stage observer), else
        # once the engines are in place, so that the partitions they replace are never turned into code.
        result: Optional[torch.fx.GraphModule] = None
        if settings.dryrun or _stages.has_observers():
            result = _plain_module(parts.gm, pending)
            _stages.notify("partitioned", result)
        if settings.dryrun:
            assert result is not None
            result.compile_report = report  # type: ignore[assignment]
            return result
        target = result if result is not None else parts.gm
        _build_engines(target, parts, settings, ranges, report, tracker, progress, pending)
        if result is None:
            result = _plain_module(target, pending)
        else:
            pending.flush()  # the engine swaps' edits, before the observers see the result
    result.compile_report = report  # type: ignore[assignment]
    _stages.notify("compiled", result)
    return result


def _plain_module(gm: torch.fx.GraphModule, pending: _codegen.Pending) -> torch.fx.GraphModule:
    """A plain GraphModule of ``gm``'s graph and submodules, its code (and its GraphModule submodules') generated
    now. ``ep.module()``'s class carries lambda hooks that cannot be pickled (``torch.save``); the graph (and its
    pytree codegen for the model's input/output structure) is kept."""
    result = torch.fx.GraphModule(gm, gm.graph, class_name="CompiledTensorRTModule")
    # Loading a pickled GraphModule re-traces its code with the tracer class its graph came from; export's tracer
    # cannot be made without arguments, and the code here is plain FX code: the default tracer.
    result._tracer_cls = None
    result._tracer_extras = {}
    pending.forget(gm)  # thrown away; its submodules are the result's, just regenerated
    return result


def _build_engines(
    gm: torch.fx.GraphModule,
    parts: PartitionResult,
    settings: CompilationSettings,
    ranges: SymbolRanges,
    report: CompileReport,
    tracker: Optional[WeightTracker],
    progress: Optional[Progress],
    pending: _codegen.Pending,
) -> None:
    """Build an engine for each TensorRT partition of ``gm`` and put it in the partition's place (a partition
    whose build fails stays, to run in PyTorch, unless the settings say to raise)."""
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    start = time.perf_counter()
    big = len(parts.node_partition) >= _progress.BIG_MODEL_OPS  # bars per engine (only when stdout is a terminal)
    with (
        _progress.bars(enabled=None if big else False),
        tracker.active() if tracker is not None else contextlib.nullcontext(),
    ):
        for name in parts.acc_names:
            submodule = cast(torch.fx.GraphModule, gm.get_submodule(name))
            try:
                built = build_engine(submodule, settings, ranges, name, tracker, progress)
            except EngineBuildError:
                if settings.pass_through_build_failures or settings.require_full_compilation:
                    raise
                logger.warning("engine %s failed to build; its operators run in PyTorch", name, exc_info=True)
                continue
            report.engines.append(EngineSummary.of(built))
            trt_module = TorchTensorRTModule(
                serialized_engine=built.engine,
                input_binding_names=built.input_names,
                output_binding_names=built.output_names,
                name=name,
                settings=settings,
                metadata=built.metadata,
                weights=built.weights,
                requires_output_allocator=built.metadata.requires_output_allocator,
            )
            setattr(gm, name, trt_module)
            pending.forget(submodule)  # replaced by its engine: never run
            _pass_only_engine_inputs(gm, name, submodule, len(built.input_names))
            _cast_float64_at_boundary(gm, name)
    report.conversion_s = time.perf_counter() - start


def _pass_only_engine_inputs(gm: torch.fx.GraphModule, name: str, partition: torch.fx.GraphModule, count: int) -> None:
    """Make the calls of engine ``name`` pass only its tensor inputs. A partition's SymInt placeholders (sizes
    computed in PyTorch) are not engine inputs -- the interpreter rebuilds them from the input dimensions -- so
    the caller's size arguments are dropped (the engine module takes exactly its bindings)."""
    placeholders = [p for p in partition.graph.nodes if p.op == "placeholder"]
    keep = [i for i, p in enumerate(placeholders) if isinstance(p.meta.get("val"), torch.Tensor)]
    if len(keep) != count:
        return  # not the interpreter's rule: leave the call as it is
    changed = False
    for node in gm.graph.nodes:
        if node.op == "call_module" and node.target == name and len(node.args) > len(keep):
            node.args = tuple(node.args[i] for i in keep)
            changed = True
    if changed:
        # the size computations that only fed the engine -- not a PyTorch segment that exists for its effect
        # (writing an updated cache back into an input with ``copy_``), whose results nobody reads either
        gm.graph.eliminate_dead_code(is_impure_node=lambda n: n.is_impure() or _has_effects(gm, n))
        gm.delete_all_unused_submodules()
        _codegen.recompile(gm)


def _cast_float64_at_boundary(gm: torch.fx.GraphModule, name: str) -> None:
    """``truncate_double``: engine ``name`` computes float64 values in float32 (TensorRT has no float64), so the
    graph casts at the engine's boundary -- float64 arguments to float32 before the call, float32 results back to
    float64 after it -- and callers pass and get the dtypes of the eager model. Without the setting, a float64
    engine input is a conversion error, so there is nothing to cast."""
    aten = torch.ops.aten
    changed = False
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or node.target != name:
            continue
        args = []
        for arg in node.args:
            val = arg.meta.get("val") if isinstance(arg, torch.fx.Node) else None
            if isinstance(val, torch.Tensor) and val.dtype == torch.float64:
                with gm.graph.inserting_before(node):
                    arg = gm.graph.call_function(aten._to_copy.default, (arg,), {"dtype": torch.float32})
                arg.meta["val"] = val.to(torch.float32)
                changed = True
            args.append(arg)
        node.args = tuple(args)
        single = isinstance(node.meta.get("val"), torch.Tensor)
        results = [node] if single else [u for u in node.users if u.target is operator.getitem]
        for out in results:
            val = out.meta.get("val")
            if not (isinstance(val, torch.Tensor) and val.dtype == torch.float64):
                continue
            with gm.graph.inserting_after(out):
                back = gm.graph.call_function(aten._to_copy.default, (out,), {"dtype": torch.float64})
            back.meta["val"] = val
            out.replace_all_uses_with(back, delete_user_cb=lambda user, back=back: user is not back)
            changed = True
    if changed:
        _codegen.recompile(gm)


def _has_effects(gm: torch.fx.GraphModule, node: torch.fx.Node) -> bool:
    """Whether ``node`` calls a submodule whose graph has an impure node (an in-place write, an assert)."""
    if node.op != "call_module":
        return False
    sub = gm.get_submodule(str(node.target))
    return isinstance(sub, torch.fx.GraphModule) and any(
        n.op == "call_function" and n.is_impure() for n in sub.graph.nodes
    )


def convert_exported_program_to_serialized_trt_engine(
    exported_program: torch.export.ExportedProgram, arg_inputs: Any = None, **kwargs: Any
) -> bytes:
    """The whole program as one serialized TensorRT engine (no partitioning: every op must convert).
    Arguments as :func:`convert_exported_program` (keyword arguments: inputs, kwarg_inputs, settings, progress
    and :class:`CompilationSettings` fields)."""
    return bytes(convert_exported_program(exported_program, arg_inputs, **kwargs).engine)


def convert_exported_program(
    exported_program: torch.export.ExportedProgram,
    arg_inputs: Any = None,
    *,
    inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    settings: Optional[CompilationSettings] = None,
    progress: Optional[Progress] = None,
    **kwargs: Any,
) -> ConvertedEngine:
    """Like :func:`convert_exported_program_to_serialized_trt_engine`, returning the engine with its metadata
    and network (used by the reference tools and the CLI)."""
    with _codegen.deferred():  # the converted graph module's code: generated once, at the end
        settings, gm, ranges, _, tracker = _prepare(
            "torch_tensorrt.dynamo.convert_exported_program",
            exported_program,
            arg_inputs,
            inputs,
            kwarg_inputs,
            settings,
            kwargs,
        )
        engine_gm = _single_engine_graph(gm)
        try:
            with tracker.active() if tracker is not None else contextlib.nullcontext():
                return convert_module(engine_gm, settings, ranges, "engine", progress, _binding_names(settings))
        except TorchTensorRTError as exc:
            exc.add_note(
                "convert_exported_program_to_serialized_trt_engine builds one engine from the whole program; "
                "torch_tensorrt.dynamo.compile runs unsupported operators in PyTorch instead"
            )
            raise


def _binding_names(settings: CompilationSettings) -> Optional[tuple[list[str], list[str]]]:
    """The ``*_binding_names`` settings as (input names, output names), or None when none is given."""
    inputs = [*(settings.arg_input_binding_names or []), *(settings.kwarg_input_binding_names or [])]
    outputs = list(settings.output_binding_names or [])
    return (inputs, outputs) if inputs or outputs else None


def _single_engine_graph(gm: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """``gm`` without the nodes that never go into an engine (asserts, unused size nodes)."""
    graph = gm.graph
    for node in list(graph.nodes):
        if node.op == "call_function" and not node.users and node.target in ASSERT_OPS:
            graph.erase_node(node)
    graph.eliminate_dead_code()
    _codegen.recompile(gm)
    return gm
