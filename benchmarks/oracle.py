"""The ONNX oracle table: how the reference evaluator fares on ONNX's operator test cases parsed by TensorRT's
ONNX parser (see tests/oracle).

    .venv/bin/python benchmarks/oracle.py [--by layer|op] [--details]

Rows are TensorRT layer types (``--by op``: ONNX operator types); a case counts once in the row of every layer
type its network contains. Columns: checked cases (parsed, tensor I/O), agree (exactly), agree (property) (the
cases of tests/oracle/property_checks.py, where TensorRT leaves open what ONNX fixes -- tie order, random values --
and a documented property comparison passes), agree (parser's model) (listed differences where the parser builds
the network of another ONNX model -- an attribute it ignores, an input it never reads -- and the outputs match ONNX's
reference implementation run on that model), listed difference (the other entries of
tests/oracle/known_differences.py), not built
(TensorRT's builder rejects the network; the evaluator need not agree), not modelled (the evaluator raised
NotImplementedError on a network the builder builds) and other disagreements (evaluator bugs). The last row is the total over cases. ``--details`` lists every case that does
not agree, with its reason.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "oracle"))

from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from _onnx_oracle import (  # noqa: E402
    AGREE,
    AGREE_PARSER_MODEL,
    AGREE_PROPERTY,
    NOT_MODELLED,
    NOT_PARSED,
    NOT_TENSOR_IO,
    CaseResult,
    Oracle,
    agreement,
)
from known_differences import KNOWN  # noqa: E402
from property_checks import PROPERTY  # noqa: E402
from torch_tensorrt._console import console as make_console  # noqa: E402

COLUMNS = (
    "cases",
    "agree",
    "agree (property)",
    "agree (parser's model)",
    "listed difference",
    "not built",
    "not modelled",
    "other disagreement",
)


def column(result: CaseResult) -> str:
    """The table column of one checked case."""
    if result.outcome == AGREE:
        return "agree"
    if result.outcome == AGREE_PROPERTY:
        return "agree (property)"
    if result.outcome == AGREE_PARSER_MODEL:
        return "agree (parser's model)"
    if result.name in KNOWN:
        return "listed difference"
    if result.builds is False:
        return "not built"
    return "not modelled" if result.outcome == NOT_MODELLED else "other disagreement"


def table(results: list[CaseResult], by: str) -> Table:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    total: collections.Counter = collections.Counter()
    for r in results:
        col = column(r)
        for key in r.layer_types if by == "layer" else r.op_types:
            counts[key]["cases"] += 1
            counts[key][col] += 1
        total["cases"] += 1
        total[col] += 1
    out = Table(title=f"ONNX oracle by {'TensorRT layer type' if by == 'layer' else 'ONNX operator'}")
    out.add_column("layer type" if by == "layer" else "ONNX op")
    for c in COLUMNS:
        out.add_column(c, justify="right")
    for key in sorted(counts):
        out.add_row(key, *(str(counts[key][c]) for c in COLUMNS))
    out.add_row("all cases", *(str(total[c]) for c in COLUMNS), style="bold")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--by", choices=("layer", "op"), default="layer")
    parser.add_argument("--details", action="store_true", help="list every case that does not agree")
    args = parser.parse_args()
    console = make_console()
    start = time.perf_counter()
    oracle = Oracle()
    results = oracle.results()
    seconds = time.perf_counter() - start
    checked = [r for r in results if r.outcome not in (NOT_PARSED, NOT_TENSOR_IO)]
    console.print(table(checked, args.by))
    exact = sum(r.outcome == AGREE for r in checked)
    by_property = sum(r.outcome == AGREE_PROPERTY for r in checked)
    by_parser_model = sum(r.outcome == AGREE_PARSER_MODEL for r in checked)
    agree, _ = agreement(results)
    console.print(
        f"{len(results)} ONNX node cases: {sum(r.outcome == NOT_PARSED for r in results)} rejected by the parser, "
        f"{sum(r.outcome == NOT_TENSOR_IO for r in results)} without tensor I/O, {len(checked)} checked; "
        f"{agree} agree ({agree / max(len(checked), 1):.1%}: {exact} exactly, {by_property} by property, "
        f"{by_parser_model} against the parser's model); {seconds:.0f} s"
    )
    if args.details:
        for r in checked:
            if r.outcome != AGREE:
                why = (
                    KNOWN[r.name].reason
                    if r.name in KNOWN
                    else PROPERTY[r.name].reason
                    if r.name in PROPERTY
                    else r.detail
                )
                console.print(f"[bold]{r.name}[/bold] ({column(r)}): {escape(why)}")


if __name__ == "__main__":
    main()
