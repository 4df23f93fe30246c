"""Coverage report: which nodes convert, why the others don't, and the engines the graph would produce.

``torch_tensorrt.dynamo.coverage(model_or_ep, arg_inputs, **settings)`` and ``torchtrt report``.

The report is plain data (this module), shown two ways in the same order -- summary, partition strip, reasons
grouped by op, one card per projected engine, then the per-node table -- by :mod:`._coverage_terminal` (rich)
and :mod:`._coverage_html` (one self-contained page: inline CSS/JS, nothing fetched). The projection lowers and
partitions exactly as ``compile`` does, without building; ``build=True`` also compiles (on the CPU builder) and
adds layers, engine bytes, build seconds and precision to each engine card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, cast

import torch
import torch.fx

from torch_tensorrt._errors import op_name, short_source_line
from torch_tensorrt.dynamo._compiler import _symbol_ranges
from torch_tensorrt.dynamo._frontend import to_exported_program, user_inputs
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS
from torch_tensorrt.dynamo.conversion._shapes import SymbolRanges, dim_expr
from torch_tensorrt.dynamo.lowering import lower_exported_program, run_passes
from torch_tensorrt.dynamo.partitioning import ACC_PREFIX, partition
from torch_tensorrt.dynamo.partitioning._partitioner import is_compute_node

#: ``Segment.kind`` of a TensorRT engine / of operators that run in PyTorch.
TENSORRT, PYTORCH = "tensorrt", "pytorch"


@dataclass
class NodeCoverage:
    node: str
    op: str
    converts: bool
    reason: str
    partition: str  # the projected engine, "" when the node runs in PyTorch
    source: str  # "model.py:12 return x.relu()", "" when export recorded no stack


@dataclass
class Segment:
    """A run of consecutive operators (execution order) that runs in one engine or in PyTorch."""

    name: str  # the engine's name, or "pytorch_N"
    kind: str  # TENSORRT or PYTORCH
    nodes: list[str] = field(default_factory=list)

    @property
    def in_pytorch(self) -> bool:
        return self.kind == PYTORCH


@dataclass
class TensorInfo:
    """An engine input or output: ``shape`` as export sees it (symbols for dynamic dimensions) and, when dynamic,
    the profile's ``min``/``opt``/``max`` shapes."""

    name: str
    dtype: str
    shape: str
    min: Optional[str] = None
    opt: Optional[str] = None
    max: Optional[str] = None

    @property
    def range(self) -> str:
        return f"{self.min} .. {self.opt} .. {self.max}" if self.min is not None else ""


@dataclass
class BuildStats:
    layers: int
    engine_bytes: int
    build_s: float
    precision: str


@dataclass
class EngineCard:
    """One projected engine: its bindings, its operators by converter family and, after a build, what was built."""

    name: str
    ops: int
    families: dict[str, int] = field(default_factory=dict)
    inputs: list[TensorInfo] = field(default_factory=list)
    outputs: list[TensorInfo] = field(default_factory=list)
    build: Optional[BuildStats] = None


@dataclass
class SourceLine:
    where: str  # "model.py:12"
    code: str


@dataclass
class ReasonGroup:
    """The operators of one op that run in PyTorch, with why and where they come from."""

    op: str
    count: int
    reasons: list[str]
    sources: list[SourceLine]
    nodes: list[str]


@dataclass
class CoverageReport:
    nodes: list[NodeCoverage] = field(default_factory=list)
    engines: dict[str, int] = field(default_factory=dict)  # partition -> number of operators
    segments: list[Segment] = field(default_factory=list)
    cards: dict[str, EngineCard] = field(default_factory=dict)
    title: str = "model"

    @property
    def converted(self) -> int:
        return sum(n.converts for n in self.nodes)

    @property
    def left_in_pytorch(self) -> list[NodeCoverage]:
        return [n for n in self.nodes if not n.partition]

    def summary(self) -> str:
        return (
            f"{self.converted}/{len(self.nodes)} operators have converters; {len(self.engines)} projected "
            f"engine(s); {len(self.left_in_pytorch)} operator(s) run in PyTorch"
        )

    def engine_names(self) -> list[str]:
        """The projected engines in execution order (``_run_on_acc_0``, ``_run_on_acc_1``, ...)."""
        return sorted(self.engines, key=lambda n: int(n[len(ACC_PREFIX) :]) if n[len(ACC_PREFIX) :].isdigit() else 0)

    def reason_groups(self) -> list[ReasonGroup]:
        """Operators left in PyTorch grouped by op, most frequent first."""
        groups: dict[str, ReasonGroup] = {}
        for n in self.left_in_pytorch:
            g = groups.setdefault(n.op, ReasonGroup(n.op, 0, [], [], []))
            g.count += 1
            g.nodes.append(n.node)
            reason = n.reason or "runs in PyTorch"
            if reason not in g.reasons:
                g.reasons.append(reason)
            src = split_source(n.source)
            if src is not None and all(s.where != src.where for s in g.sources):
                g.sources.append(src)
        return sorted(groups.values(), key=lambda g: (-g.count, g.op))

    def to_html(self, path: str) -> None:
        """Write the report as one self-contained HTML page (atomically)."""
        from torch_tensorrt.tools._coverage_html import write_html as _write

        _write(self, path)

    def print(self, show_all: bool = False, console: Any = None) -> None:
        """Print the report to the terminal (rich); the per-node table only with ``show_all``."""
        from torch_tensorrt.tools._coverage_terminal import print_report as _print

        _print(self, show_all=show_all, console=console)


def split_source(source: str) -> Optional[SourceLine]:
    """``"model.py:12 return x"`` -> ``SourceLine("model.py:12", "return x")``."""
    if not source:
        return None
    where, _, code = source.partition(" ")
    return SourceLine(where, code.strip())


def coverage(
    model_or_ep: Any,
    arg_inputs: Any,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    *,
    build: bool = False,
    **settings: Any,
) -> CoverageReport:
    """Partition (without building, unless ``build=True``) and report every operator node."""
    cfg = CompilationSettings.from_kwargs(**settings)
    where = "torch_tensorrt.dynamo.coverage"
    spec = user_inputs(arg_inputs, kwarg_inputs, where=where)
    ep = to_exported_program(model_or_ep, spec, where=where)
    lowered = lower_exported_program(ep, cfg)
    gm = run_passes(lowered.module(), cfg)
    nodes = [n for n in gm.graph.nodes if is_compute_node(n)]
    info = {n.name: (op_name(n), short_source_line(n)) for n in nodes}
    families = {n.name: _family(n, cfg) for n in nodes}
    ranges = _symbol_ranges(gm, lowered, spec.flat)
    result = partition(gm, cfg)
    report = CoverageReport(title=type(model_or_ep).__name__)
    by_name = {n.name: n for n in result.report.supported}
    for name, (op, source) in info.items():
        node = by_name.get(name)
        ok = bool(node is not None and result.report.supported.get(node))
        reason = "" if ok else (result.report.reasons.get(node, "") if node is not None else "")
        part = result.node_partition.get(name, "")
        if ok and not part:
            reason = f"partition smaller than min_block_size={cfg.min_block_size}"
        report.nodes.append(NodeCoverage(name, op, ok, reason, part, source))
        if part:
            report.engines[part] = report.engines.get(part, 0) + 1
    report.segments = _segments(report.nodes)
    for name, count in report.engines.items():
        card = EngineCard(name, count)
        for n in report.nodes:
            if n.partition == name:
                fam = families[n.node]
                card.families[fam] = card.families.get(fam, 0) + 1
        sub = result.gm.get_submodule(name)
        if isinstance(sub, torch.fx.GraphModule):
            card.inputs, card.outputs = _bindings(sub, ranges)
        report.cards[name] = card
    if build and report.engines:
        _add_build_stats(report, ep, spec, cfg)
    return report


def _family(node: torch.fx.Node, cfg: CompilationSettings) -> str:
    """The converter module that handles ``node`` (``conv``, ``elementwise``, ...): the op's family."""
    decision = CONVERTERS.decide(node, cfg)
    if decision.spec is None:
        return "unsupported"
    return str(getattr(decision.spec.fn, "__module__", "other")).rsplit(".", 1)[-1]


def _segments(nodes: list[NodeCoverage]) -> list[Segment]:
    """Consecutive runs of operators (execution order) in one engine, or in PyTorch."""
    segments: list[Segment] = []
    torch_runs = 0
    for n in nodes:
        kind = TENSORRT if n.partition else PYTORCH
        if segments and segments[-1].kind == kind and (kind == PYTORCH or segments[-1].name == n.partition):
            segments[-1].nodes.append(n.node)
            continue
        if kind == PYTORCH:
            segments.append(Segment(f"pytorch_{torch_runs}", PYTORCH, [n.node]))
            torch_runs += 1
        else:
            segments.append(Segment(n.partition, TENSORRT, [n.node]))
    return segments


def _fmt(dims: Any) -> str:
    return "x".join(str(d) for d in dims) if len(dims) else "scalar"


def _tensor_info(name: str, val: Any, ranges: SymbolRanges) -> Optional[TensorInfo]:
    if not isinstance(val, torch.Tensor):
        return None
    exprs = [dim_expr(d) for d in val.shape]
    info = TensorInfo(name, str(val.dtype).replace("torch.", ""), _fmt(exprs))
    if any(not isinstance(e, int) for e in exprs):
        try:
            mn, opt, mx = ranges.profile(exprs)
        except (KeyError, TypeError, ValueError):
            return info
        info.min, info.opt, info.max = _fmt(mn), _fmt(opt), _fmt(mx)
    return info


def _bindings(sub: torch.fx.GraphModule, ranges: SymbolRanges) -> tuple[list[TensorInfo], list[TensorInfo]]:
    inputs = [_tensor_info(p.name, p.meta.get("val"), ranges) for p in sub.graph.nodes if p.op == "placeholder"]
    outputs: list[Optional[TensorInfo]] = []
    out = next((n for n in sub.graph.nodes if n.op == "output"), None)
    if out is not None:
        args = out.args[0] if isinstance(out.args[0], (list, tuple)) else [out.args[0]]
        outputs = [_tensor_info(a.name, a.meta.get("val"), ranges) for a in args if isinstance(a, torch.fx.Node)]
    return [i for i in inputs if i is not None], [o for o in outputs if o is not None]


def _add_build_stats(report: CoverageReport, ep: Any, spec: Any, cfg: CompilationSettings) -> None:
    """Compile with the same settings (the same lowering and partitioning) and attach what each engine became."""
    from torch_tensorrt.dynamo._compiler import CompileReport, compile as compile_program

    compiled = compile_program(ep, spec.args, kwarg_inputs=spec.kwargs, settings=cfg)
    precision = ", ".join(sorted(str(p).replace("torch.", "") for p in cfg.enabled_precisions))
    compile_report = cast(CompileReport, compiled.compile_report)
    for summary in compile_report.engines:
        card = report.cards.get(summary.name)
        if card is not None:
            card.build = BuildStats(summary.layers, summary.engine_bytes, summary.build_s, precision)


# -- the earlier entry points (kept: the CLI and tests use them) ------------------------------------------------
def print_report(report: CoverageReport, show_all: bool = False) -> None:
    report.print(show_all=show_all)


def write_html(report: CoverageReport, path: str) -> None:
    """The report as a standalone HTML page (written atomically)."""
    report.to_html(path)
