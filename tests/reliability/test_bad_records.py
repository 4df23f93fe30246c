"""The shared table of bad records (bad_records.json): Python and C++ give the same verdict and the same words.

The C++ side runs the same table in ``tests/cpp/test_record.cpp`` (``EngineRecord::from_list``, through ctest) and
here through Torch (``torch.ops.tensorrt.check_record`` of the stand-in build), which also covers the conversion
of Python strings at the boundary.
"""

from __future__ import annotations

import subprocess

import pytest
import torch

from torch_tensorrt.runtime._record import EngineRecord, RecordError

from _records import apply, load_table

TABLE = load_table()
CASES = TABLE["cases"]


def _python_error(fields: list[str]) -> str | None:
    try:
        EngineRecord.from_list(fields)
    except RecordError as exc:
        return str(exc)
    return None


def test_table_covers_every_rule_family():
    ids = {c["id"].split("-")[0] for c in CASES}
    assert {
        "abi",
        "device",
        "capability",
        "engine",
        "input",
        "output",
        "flag",
        "kind",
        "sha",
        "json",
        "meta",
        "expr",
    } <= ids
    assert len(CASES) >= 150
    assert sum(c["error"] is None for c in CASES) >= 15  # valid edge cases are accepted, not just refused
    assert _python_error(TABLE["base"]) is None


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_python_matches_the_table(case):
    assert _python_error(apply(TABLE["base"], case)) == case["error"]


def test_cpp_record_tests_run_the_table(cpp_build_dir):
    proc = subprocess.run(
        ["./test_record"],
        cwd=cpp_build_dir.build_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "[ OK ] shared_bad_record_table" in proc.stdout


def test_cpp_check_record_through_torch(rt):
    """Every case whose fields are valid Python strings (not the raw-bytes ones) through the Torch boundary."""
    checked = 0
    for case in CASES:
        if "set_hex" in case:
            continue
        fields = apply(TABLE["base"], case)
        try:
            torch.ops.tensorrt.check_record(fields, real_runtime=False)  # the kind refusal is not a record error
            got = None
        except ValueError as exc:
            got = str(exc).split("\n")[0]
        assert got == case["error"], case["id"]
        checked += 1
    assert checked >= 150
