"""Zoo benchmark: what ``torch_tensorrt.dynamo.compile`` does with each zoo model (examples/zoo.py), in fp32.

    .venv/bin/python benchmarks/zoo.py [--models resnet50,bert] [--size 224] [--precision fp16]

Per model: export s (``dynamo.trace``), conversion s (lowering + partitioning + network construction), build s
(the TensorRT builder), engines built and their network layers, operators left to PyTorch, and sizes against the
model's weight MB: ``plan MB`` is what TensorRT serialized, ``stored MB`` what the engine record stores of it (the
plan packed, :mod:`torch_tensorrt.runtime._plan_pack`: metadata and generated-kernel sources zstd-compressed,
weights verbatim) -- what a saved model carries and what the size target is on.
Targets: every model one engine with nothing left to PyTorch, and (fp32) stored engine <= 1.05x the weights.
``kernels`` / ``kernel src MB``: the generated-kernel sources a TensorRT-RTX plan embeds (CUDA C++ compiled on the
GPU at load, ~130 KB each, nearly all a prelude repeated per kernel: :mod:`torch_tensorrt.tools._plan_contents`):
why ``plan/weights`` exceeds the target on small models and on models with many generated kernels.
``--size`` is the image side for vision models and the sequence length for text models (default: each entry's
CI size).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from rich.table import Table  # noqa: E402

from examples.zoo import BY_NAME, ZOO, ZooModel  # noqa: E402
from torch_tensorrt._console import console as make_console  # noqa: E402

ENGINE_TO_WEIGHTS_TARGET = 1.05
MB = 1024 * 1024


def weight_bytes(model: torch.nn.Module) -> int:
    """Bytes of the model's floating-point parameters and buffers (what an engine must carry as weights)."""
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()] if t.is_floating_point()}
    return sum(t.numel() * t.element_size() for t in tensors.values())


def left_in_pytorch(gm: torch.fx.GraphModule) -> int:
    """Operator nodes that run in PyTorch: in the compiled top-level graph and in its ``_run_on_gpu_N``
    submodules (everything outside the TensorRT ``_run_on_acc_N`` submodules)."""
    from torch_tensorrt.dynamo.partitioning._partitioner import is_compute_node

    count = sum(1 for n in gm.graph.nodes if is_compute_node(n))
    for n in gm.graph.nodes:
        if n.op == "call_module" and str(n.target).startswith("_run_on_gpu_"):
            sub = gm.get_submodule(str(n.target))
            count += (
                sum(1 for m in sub.graph.nodes if is_compute_node(m)) if isinstance(sub, torch.fx.GraphModule) else 1
            )
    return count


def measure(entry: ZooModel, size: Optional[int], precision: torch.dtype) -> dict[str, Any]:
    from torch_tensorrt.dynamo import compile as trt_compile
    from torch_tensorrt.dynamo import trace
    from torch_tensorrt.tools._plan_contents import kernel_sources

    model, inputs = entry.build(size)
    start = time.perf_counter()
    ep = trace(model, arg_inputs=list(inputs))
    export_s = time.perf_counter() - start
    gm = trt_compile(ep, arg_inputs=list(inputs), enabled_precisions={precision})
    report = gm.compile_report
    build_s = sum(e.build_s for e in report.engines)
    engine = sum(e.engine_bytes for e in report.engines)
    weights = weight_bytes(model)
    records = [m.record for m in gm.modules() if getattr(m, "record", None) is not None]
    stored = sum(r.stored_engine_bytes for r in records)
    sources = [kernel_sources(r.engine) for r in records]
    source_bytes = sum(k.bytes for k in sources)
    return {
        "export_s": export_s,
        "conversion_s": report.lowering_s + report.partitioning_s + report.conversion_s - build_s,
        "build_s": build_s,
        "engines": len(report.engines),
        "layers": sum(e.layers for e in report.engines),
        "left": left_in_pytorch(gm),
        "engine_mb": engine / MB,
        "stored_mb": stored / MB,
        "weight_mb": weights / MB,
        "plan_ratio": engine / max(weights, 1),
        "ratio": stored / max(weights, 1),
        "kernels": sum(k.count for k in sources),
        "source_mb": source_bytes / MB,
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="", help="comma-separated zoo names (default: all); " + ", ".join(BY_NAME))
    parser.add_argument("--size", type=int, default=None, help="image side (vision) / sequence length (text)")
    parser.add_argument("--precision", choices=("fp32", "fp16"), default="fp32")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()] or [m.name for m in ZOO]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {sorted(BY_NAME)}")
    precision = torch.float16 if args.precision == "fp16" else torch.float32

    console = make_console()
    table = Table(title=f"zoo compile ({args.precision}, size {args.size or 'default'})")
    for col in (
        "model",
        "export s",
        "conversion s",
        "build s",
        "engines",
        "layers",
        "left to PyTorch",
        "plan MB",
        "stored MB",
        "weight MB",
        "plan/weights",
        "stored/weights",
        "kernels",
        "kernel src MB",
        "ok",
    ):
        table.add_column(col, justify="left" if col == "model" else "right")
    failures = 0
    with torch.no_grad():
        for name in names:
            entry = BY_NAME[name]
            if importlib.util.find_spec(entry.requires) is None:
                table.add_row(name, *[""] * 13, f"skipped: no {entry.requires}")
                continue
            try:
                r = measure(entry, args.size, precision)
            except Exception as exc:  # report and go on with the other models
                failures += 1
                table.add_row(name, *[""] * 13, f"[red]{type(exc).__name__}: {str(exc).splitlines()[0][:80]}[/red]")
                continue
            size_ok = precision != torch.float32 or r["ratio"] <= ENGINE_TO_WEIGHTS_TARGET
            ok = r["engines"] == 1 and r["left"] == 0 and size_ok
            failures += not ok
            table.add_row(
                name,
                f"{r['export_s']:.2f}",
                f"{r['conversion_s']:.2f}",
                f"{r['build_s']:.2f}",
                str(r["engines"]),
                str(r["layers"]),
                str(r["left"]),
                f"{r['engine_mb']:.1f}",
                f"{r['stored_mb']:.1f}",
                f"{r['weight_mb']:.1f}",
                f"{r['plan_ratio']:.3f}",
                f"{r['ratio']:.3f}",
                str(r["kernels"]),
                f"{r['source_mb']:.1f}",
                "yes" if ok else "[red]NO[/red]",
            )
    console.print(table)
    console.print(
        f"targets: one engine per model, nothing left to PyTorch, fp32 stored engine <= {ENGINE_TO_WEIGHTS_TARGET}x weights"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
