"""Compile-time benchmark: export time, conversion+build time and engine size (median of 3 after 1 warm-up).

    .venv/bin/python benchmarks/compile_time.py

Targets on the 2-core CPU machine (fp32, eval): conversion+build <= 0.3 s (MLP), 0.5 s (ResNet-18-like),
0.35 s (TransformerEncoderLayer); ``import torch_tensorrt`` adds <= 0.5 s to ``import torch``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch_tensorrt._console import console as make_console  # noqa: E402
from rich.table import Table  # noqa: E402

import torch_tensorrt  # noqa: E402
from examples import models  # noqa: E402
from torch_tensorrt.dynamo import convert_exported_program  # noqa: E402

CASES = [
    ("MLP 64-256-256-10, x=(8,64)", models.mlp, 0.30),
    ("ResNet-18-like, x=(1,3,224,224)", models.resnet_like, 0.50),
    ("TransformerEncoderLayer(256,4,1024), x=(2,32,256)", models.transformer_encoder, 0.35),
]


def _median_timed(fn, repeats: int = 3):
    fn()  # warm-up
    runs = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def import_overhead() -> tuple[float, float]:
    def t(code: str) -> float:
        samples = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", f"import time; s=time.perf_counter(); {code}; print(time.perf_counter()-s)"],
                capture_output=True,
                text=True,
                check=True,
            )
            samples.append(float(out.stdout.strip().splitlines()[-1]))
        return statistics.median(samples)

    base = t("import torch")
    both = t("import torch, torch_tensorrt")
    return base, both - base


def main() -> None:
    console = make_console()
    table = Table(title="compile time (median of 3, 1 warm-up)")
    for col in ("model", "export s", "conversion+build s", "target s", "engine KB", "layers", "ok"):
        table.add_column(col)
    with torch.no_grad():
        for label, factory, target in CASES:
            model, (x,) = factory()
            export_s, ep = _median_timed(lambda: torch.export.export(model, (x,)))
            convert_s, converted = _median_timed(lambda: convert_exported_program(ep, [x]))
            table.add_row(
                label,
                f"{export_s:.3f}",
                f"{convert_s:.3f}",
                f"{target:.2f}",
                f"{len(converted.engine) / 1024:.0f}",
                str(converted.network.network.num_layers),
                "yes" if convert_s <= target else "NO",
            )
    base, extra = import_overhead()
    console.print(table)
    console.print(
        f"import torch: {base:.2f} s; import torch_tensorrt adds {extra:.3f} s (target <= 0.5 s) "
        f"[{torch_tensorrt._trt.info().flavour} {torch_tensorrt._trt.info().version}]"
    )


if __name__ == "__main__":
    main()
