"""The coverage report in the terminal (rich), in the page's order: summary, partition strip, reasons grouped by
op, one line per engine; the per-node table only when asked (``torchtrt report --all``)."""

from __future__ import annotations

from typing import Any, Optional


_STYLES = ("green", "blue", "magenta", "cyan", "bright_green", "bright_blue")
COLUMNS = ("node", "op", "converts", "runs in", "why not", "source")


def _strip(report: Any, width: int) -> Any:
    """One character block per segment share of the operators (at least one per segment)."""
    from rich.text import Text

    total = max(1, sum(len(s.nodes) for s in report.segments))
    styles = {n: _STYLES[i % len(_STYLES)] for i, n in enumerate(report.engine_names())}
    text = Text()
    for seg in report.segments:
        cells = max(1, round(width * len(seg.nodes) / total))
        if seg.in_pytorch:
            text.append("░" * cells, style="yellow")
        else:
            text.append("█" * cells, style=styles[seg.name])
    return text


def print_report(report: Any, show_all: bool = False, console: Optional[Any] = None) -> None:
    from rich.table import Table

    from torch_tensorrt._console import console as make_console

    console = console or make_console()
    console.print(f"[bold]operator coverage[/bold]: {report.summary()}")
    if report.segments:
        console.print(_strip(report, min(100, max(20, console.width - 4))))
        console.print(
            "  ".join(
                f"{s.name}({len(s.nodes)})" if not s.in_pytorch else f"[yellow]PyTorch({len(s.nodes)})[/yellow]"
                for s in report.segments
            ),
            markup=True,
        )
    groups = report.reason_groups()
    if groups:
        table = Table(title="why operators run in PyTorch (grouped by op)")
        for col in ("op", "count", "reason", "source"):
            table.add_column(col, overflow="fold")
        for g in groups:
            sources = "\n".join(f"{s.where} {s.code}" for s in g.sources[:3])
            if len(g.sources) > 3:
                sources += f"\n... {len(g.sources) - 3} more"
            table.add_row(g.op, str(g.count), "\n".join(g.reasons), sources, style="yellow")
        console.print(table)
    for name in report.engine_names():
        card = report.cards.get(name)
        if card is None:
            console.print(f"engine {name}: {report.engines[name]} operators")
            continue
        ins = ", ".join(f"{t.name} {t.dtype}[{t.shape}]" + (f" ({t.range})" if t.range else "") for t in card.inputs)
        outs = ", ".join(f"{t.name} {t.dtype}[{t.shape}]" for t in card.outputs)
        fams = ", ".join(f"{f} {n}" for f, n in sorted(card.families.items(), key=lambda kv: (-kv[1], kv[0])))
        line = f"engine {name}: {card.ops} operators ({fams}); in: {ins}; out: {outs}"
        if card.build is not None:
            b = card.build
            line += f"; built {b.layers} layers, {b.engine_bytes / 1e6:.2f} MB in {b.build_s:.2f} s ({b.precision})"
        console.print(line, markup=False)
    if show_all:
        table = Table(title="operator coverage (every node)")
        for col in COLUMNS:
            table.add_column(col, overflow="fold")
        for n in report.nodes:
            row = (n.node, n.op, "yes" if n.converts else "no", n.partition or "PyTorch", n.reason, n.source)
            table.add_row(*row, style=None if n.partition else "yellow")
        console.print(table)
    elif report.nodes:
        console.print(f"({len(report.nodes)} operators; --all prints one row per operator)", style="dim")
