"""Coverage report: which nodes convert, why the others don't, and the engines the graph would produce.

``torch_tensorrt.dynamo.coverage(model_or_ep, arg_inputs, **settings)`` and ``torchtrt report``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Optional

from torch_tensorrt._errors import op_name, short_source_line
from torch_tensorrt._io import atomic_write_bytes
from torch_tensorrt.dynamo._frontend import to_exported_program, user_inputs
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.lowering import lower_exported_program, run_passes
from torch_tensorrt.dynamo.partitioning import partition
from torch_tensorrt.dynamo.partitioning._partitioner import is_compute_node


@dataclass
class NodeCoverage:
    node: str
    op: str
    converts: bool
    reason: str
    partition: str
    source: str


@dataclass
class CoverageReport:
    nodes: list[NodeCoverage] = field(default_factory=list)
    engines: dict[str, int] = field(default_factory=dict)  # partition -> number of operators

    @property
    def converted(self) -> int:
        return sum(n.converts for n in self.nodes)

    @property
    def left_in_pytorch(self) -> list[NodeCoverage]:
        return [n for n in self.nodes if not n.partition]

    def summary(self) -> str:
        return (f"{self.converted}/{len(self.nodes)} operators have converters; {len(self.engines)} projected "
                f"engine(s); {len(self.left_in_pytorch)} operator(s) run in PyTorch")


def coverage(
    model_or_ep: Any,
    arg_inputs: Any,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    **settings: Any,
) -> CoverageReport:
    """Partition (without building) and report every operator node."""
    cfg = CompilationSettings.from_kwargs(**settings)
    where = "torch_tensorrt.dynamo.coverage"
    ep = to_exported_program(model_or_ep, user_inputs(arg_inputs, kwarg_inputs, where=where), where=where)
    gm = run_passes(lower_exported_program(ep, cfg).module(), cfg)
    nodes = [n for n in gm.graph.nodes if is_compute_node(n)]
    info = {n.name: (op_name(n), short_source_line(n)) for n in nodes}
    result = partition(gm, cfg)
    report = CoverageReport()
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
    return report


def _rows(report: CoverageReport) -> list[tuple[str, ...]]:
    return [(n.node, n.op, "yes" if n.converts else "no", n.partition or "PyTorch", n.reason, n.source) for n in report.nodes]


COLUMNS = ("node", "op", "converts", "runs in", "why not", "source")


def print_report(report: CoverageReport) -> None:
    from torch_tensorrt._console import console as make_console
    from rich.table import Table

    table = Table(title="operator coverage")
    for col in COLUMNS:
        table.add_column(col, overflow="fold")
    for row, n in zip(_rows(report), report.nodes):
        table.add_row(*row, style=None if n.partition else "yellow")
    console = make_console()
    console.print(table)
    for name, count in report.engines.items():
        console.print(f"engine {name}: {count} operators")
    console.print(report.summary())


def write_html(report: CoverageReport, path: str) -> None:
    """The same report as a standalone HTML page (written atomically)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        f"<tr class='{'trt' if n.partition else 'torch'}'>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row, n in zip(_rows(report), report.nodes)
    )
    engines = "".join(f"<li>{html.escape(k)}: {v} operators</li>" for k, v in report.engines.items())
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>torch_tensorrt coverage</title><style>"
        "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        "tr.torch{background:#fff3cd}</style></head><body><h1>Operator coverage</h1>"
        f"<p>{html.escape(report.summary())}</p><ul>{engines}</ul><table><tr>{head}</tr>{body}</table></body></html>"
    )
    atomic_write_bytes(path, page.encode("utf-8"), make_dirs=True, what="coverage report")
