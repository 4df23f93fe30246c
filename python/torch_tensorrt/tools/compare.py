"""``torch_tensorrt.reference.compare``: layer-by-layer accuracy of the converted network against eager PyTorch.

Every FX node that produced network tensors (the interpreter records them) is compared with the node's eager
value; the first node whose error exceeds the tolerance is the *first divergence* -- usually the converter to
look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import torch
import torch.fx
import torch.utils._pytree as pytree

from torch_tensorrt._errors import op_name, short_source_line
from torch_tensorrt.dynamo import convert_exported_program
from torch_tensorrt.dynamo._frontend import to_exported_program, user_inputs
from torch_tensorrt.reference import evaluate_network
from torch_tensorrt.reference._model import engine_inputs, relative_error


@dataclass
class NodeError:
    """One row of the report: a network tensor of an FX node against the node's eager value."""

    node: str
    op: str
    max_abs: float
    rel_norm: float
    shape: tuple[int, ...]
    source: str


@dataclass
class CompareReport:
    rows: list[NodeError] = field(default_factory=list)
    tolerance: float = 1e-4
    first_divergence: Optional[NodeError] = None

    def __str__(self) -> str:
        from torch_tensorrt._console import console as make_console

        console = make_console(width=200)
        with console.capture() as captured:
            console.print(self.table())
        return captured.get()

    def table(self) -> Any:
        from rich.table import Table

        first = self.first_divergence
        title = "reference vs eager, per FX node" + (
            f" -- first divergence: {first.node}" if first else " -- no divergence"
        )
        table = Table(title=title)
        for col in ("node", "op", "shape", "max abs err", "rel norm err", "source"):
            table.add_column(col, overflow="fold")
        for row in self.rows:
            style = "bold red" if row is first else ("yellow" if row.rel_norm > self.tolerance else None)
            table.add_row(
                row.node,
                row.op,
                "x".join(map(str, row.shape)),
                f"{row.max_abs:.2e}",
                f"{row.rel_norm:.2e}",
                row.source,
                style=style,
            )
        return table


class _Recorder(torch.fx.Interpreter):
    def __init__(self, gm: torch.fx.GraphModule) -> None:
        super().__init__(gm)
        self.values: dict[str, Any] = {}

    def run_node(self, n: torch.fx.Node) -> Any:
        out = super().run_node(n)
        self.values[n.name] = out
        return out


def compare(
    model_or_ep: Any,
    arg_inputs: Any,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    *,
    tolerance: Optional[float] = None,
    print_table: bool = True,
    **settings: Any,
) -> CompareReport:
    """Convert ``model_or_ep`` into one network and report, per FX node, the reference evaluation's error
    against eager PyTorch (relative norm error; the tolerance defaults to 1e-4, or 1e-2 under fp16/bf16)."""
    where = "torch_tensorrt.reference.compare"
    spec = user_inputs(arg_inputs, kwarg_inputs, where=where)
    ep = to_exported_program(model_or_ep, spec, where=where)
    converted = convert_exported_program(ep, spec.args, kwarg_inputs=spec.kwargs, **settings)
    tensors = spec.example_tensors()
    values = evaluate_network(converted.network.network, engine_inputs(converted, tensors), outputs="all")
    recorder = _Recorder(converted.graph_module)
    with torch.no_grad():
        recorder.run(*[t for t in tensors if isinstance(t, torch.Tensor)])
    reduced = any(
        p in converted.metadata.settings.get("enabled_precisions", []) for p in ("torch.float16", "torch.bfloat16")
    )
    tol = tolerance if tolerance is not None else (1e-2 if reduced else 1e-4)
    report = CompareReport(tolerance=tol)
    nodes = {n.name: n for n in converted.graph_module.graph.nodes}
    for node_name, tensor_names in converted.network.node_tensors.items():
        eager = [v for v in pytree.tree_leaves(recorder.values.get(node_name)) if isinstance(v, torch.Tensor)]
        if len(eager) != len(tensor_names):
            continue  # e.g. a converter returning a subset of a multi-output op
        for i, (tname, expected) in enumerate(zip(tensor_names, eager)):
            actual = values[tname]
            if tuple(actual.shape) != tuple(expected.shape):
                continue
            max_abs, rel = relative_error(actual, expected)
            node = nodes[node_name]
            label = node_name if len(tensor_names) == 1 else f"{node_name}[{i}]"
            row = NodeError(
                node=label,
                op=op_name(node),
                max_abs=max_abs,
                rel_norm=rel,
                shape=tuple(expected.shape),
                source=short_source_line(node),
            )
            report.rows.append(row)
            if report.first_divergence is None and rel > tol:
                report.first_divergence = row
    if print_table:
        from torch_tensorrt._console import console as make_console

        make_console().print(report.table())
    return report
