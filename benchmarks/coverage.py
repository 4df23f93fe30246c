"""Converter coverage: passing harness cases per converter family, and aten op names with passing static AND
dynamic harness cases.

    .venv/bin/python benchmarks/coverage.py [-n 2]

Runs tests/converters with the harness log on (TORCHTRT_HARNESS_LOG) and a JUnit report, then prints two tables
and the op list.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from torch_tensorrt._console import console as make_console  # noqa: E402


def run_suite(workers: str) -> tuple[Path, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="torchtrt-cov-"))
    log, junit = tmp / "harness.jsonl", tmp / "junit.xml"
    env = dict(os.environ, TORCHTRT_HARNESS_LOG=str(log))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "tests/converters"]
    if workers != "0":
        cmd[3:3] = ["-n", workers]
    subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    return log, junit


def family_table(junit: Path):
    from rich.table import Table

    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for case in ET.parse(junit).getroot().iter("testcase"):
        family = case.get("classname", "").split(".")[-1].removeprefix("test_") or "?"
        outcome = (
            "failed"
            if case.find("failure") is not None or case.find("error") is not None
            else ("skipped" if case.find("skipped") is not None else "passed")
        )
        counts[family][outcome] += 1
    table = Table(title="harness cases per converter family")
    for col in ("family", "passed", "failed", "skipped"):
        table.add_column(col)
    for family in sorted(counts):
        c = counts[family]
        table.add_row(family, str(c["passed"]), str(c["failed"]), str(c["skipped"]))
    total = sum(counts.values(), collections.Counter())
    table.add_row("total", str(total["passed"]), str(total["failed"]), str(total["skipped"]), style="bold")
    return table


def op_coverage(log: Path) -> tuple[list[str], list[str]]:
    static, dynamic = set(), set()
    if log.exists():
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            (dynamic if entry["dynamic"] else static).update(entry["ops"])
    both = sorted(op for op in static & dynamic if op.startswith("aten."))
    only = sorted(op for op in (static ^ dynamic) if op.startswith("aten."))
    return both, only


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", default="2", help="pytest-xdist workers (0 = no xdist)")
    args = parser.parse_args()
    log, junit = run_suite(args.n)
    console = make_console()
    console.print(family_table(junit))
    both, only = op_coverage(log)
    console.print(f"aten op names with passing static AND dynamic harness cases: {len(both)}")
    console.print(", ".join(both))
    if only:
        console.print(f"aten op names covered only statically or only dynamically ({len(only)}): " + ", ".join(only))


if __name__ == "__main__":
    main()
