"""The long fuzz campaign over every loader and record path (issue 9), and its outcome table.

    .venv/bin/python benchmarks/fuzz.py [--cases 10000] [--seed 0] [--time-budget SECONDS] [--no-cpp]

Cases are spread round-robin over the families of tests/reliability/_fuzz.py and run one by one in a worker
process (crashes and hangs are counted, the worker restarted). Prints the table family x clean error / correct /
wrong / unclear error / hang / crash, then the first failures; exits non-zero when any case is not clean/correct.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
sys.path.insert(0, str(ROOT / "tests" / "runtime"))

import _fuzz  # noqa: E402
import cpp_build  # noqa: E402
from torch_tensorrt._console import console as make_console  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-budget", type=float, default=float("inf"), help="stop after this many seconds")
    parser.add_argument("--no-cpp", action="store_true", help="skip the C++ runtime's families")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a case counts as a hang")
    args = parser.parse_args()
    console = make_console()
    library = None
    if not args.no_cpp:
        why = cpp_build.missing_tools()
        if why:
            console.print(f"C++ families skipped: {why}")
        else:
            library = cpp_build.build().runtime_library
    start = time.monotonic()

    def progress(n: int) -> None:
        if n % 500 == 0:
            console.print(f"{n} cases, {time.monotonic() - start:.0f} s")

    campaign = _fuzz.run_long(args.cases, args.seed, library, progress, args.time_budget)
    elapsed = time.monotonic() - start
    try:
        from rich.table import Table

        table = Table(
            title=f"fuzz outcomes: {sum(campaign.table[f].total() for f in campaign.table)} cases, "
            f"seed {args.seed}, {elapsed:.0f} s"
        )
        for col in ("family", "clean error", "correct", "wrong", "unclear error", "hang", "crash"):
            table.add_column(col, justify="left" if col == "family" else "right")
        for row in campaign.rows():
            table.add_row(*row, style="bold" if row[0] == "total" else None)
        console.print(table)
        for family, case, result in campaign.failures[:20]:
            shown = {k: ("..." if k == "fields" else v) for k, v in case.items()}
            console.print(f"[red]{family}[/red] {result['outcome']}: {result['detail'][:500]}  case={shown}")
        return 1 if campaign.failures else 0
    finally:
        campaign.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
