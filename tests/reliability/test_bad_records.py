"""The shared table of bad records (bad_records.json): Python and C++ give the same verdict and the same words.

The C++ side runs the same table in ``tests/cpp/test_record.cpp`` (``EngineRecord::from_bytes``/``from_list``,
through ctest) and here through Torch (``torch.ops.tensorrt.check_record`` / ``check_record_list`` of the stand-in
build), which also covers the conversion of tensors and Python strings at the boundary.
"""

from __future__ import annotations

import subprocess

import pytest
import torch

from torch_tensorrt.runtime._record import EngineRecord, RecordError

from _records import apply, load_table

TABLE = load_table()
CASES = TABLE["cases"]


def _python_error(record: bytes | list[str]) -> str | None:
    try:
        if isinstance(record, list):
            EngineRecord.from_list(record)
        else:
            EngineRecord.from_bytes(record)
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
        "frame",
        "metadata",
    } <= ids
    assert len(CASES) >= 150
    assert sum(c["error"] is None for c in CASES) >= 15  # valid edge cases are accepted, not just refused
    assert _python_error(apply(TABLE, {})) is None
    assert _python_error(apply(TABLE, {"abi2": True})) is None
    assert sum(bool(c.get("abi2")) for c in CASES) >= 20  # ABI 2 records are still read, with their own checks


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_python_matches_the_table(case):
    assert _python_error(apply(TABLE, case)) == case["error"]


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
    """Every case through the Torch boundary: framed records as uint8 tensors, ABI 2 lists whose fields are valid
    Python strings (not the raw-bytes ones) as ``str[]``."""
    checked = 0
    for case in CASES:
        if case.get("abi2") and "set_hex" in case:
            continue
        record = apply(TABLE, case)
        try:
            if isinstance(record, list):  # the kind refusal is not a record error
                torch.ops.tensorrt.check_record_list(record, real_runtime=False)
            else:
                blob = (
                    torch.frombuffer(bytearray(record), dtype=torch.uint8)
                    if record
                    else torch.empty(0, dtype=torch.uint8)
                )
                torch.ops.tensorrt.check_record(blob, real_runtime=False)
            got = None
        except ValueError as exc:
            got = str(exc).split("\n")[0]
        assert got == case["error"], case["id"]
        checked += 1
    assert checked >= 150
