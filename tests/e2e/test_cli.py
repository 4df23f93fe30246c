"""The ``torchtrt`` command: main job and argument errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from torch_tensorrt import cli

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "torch_tensorrt.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_compile_dynamic_writes_engine_and_prints_summary(tmp_path):
    out_file = tmp_path / "sub" / "mlp.engine"
    res = _run(
        "compile", "examples/models.py:mlp", "--input", "8x64", "--input-range", "1x64:8x64:32x64", "-o", str(out_file)
    )
    assert res.returncode == 0, res.stderr
    assert out_file.stat().st_size > 1000
    text = res.stdout
    assert "1x64" in text and "32x64" in text and "output0" in text and "conversion+build" in text
    assert not list(out_file.parent.glob(".mlp.engine.*"))  # no temp file left behind


@pytest.mark.parametrize(
    "args, message",
    [
        (["compile", "examples/models.py:nope", "-o", "x.engine"], "no callable 'nope'"),
        (["compile", "missing.py:f", "-o", "x.engine"], "does not exist"),
        (["compile", "examples/models.py", "-o", "x.engine"], "FILE.py:FACTORY"),
        (["compile", "examples/models.py:mlp", "--input", "8xq", "-o", "x.engine"], "not a shape"),
        (["compile", "examples/models.py:mlp", "--input-range", "1x64:8x64", "-o", "x.engine"], "MIN:OPT:MAX"),
        (["compile", "examples/models.py:mlp", "--input-range", "9x64:8x64:32x64", "-o", "x.engine"], "MIN <= OPT"),
    ],
)
def test_usage_errors_are_not_tracebacks(args, message, capsys):
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == cli.USAGE_EXIT
    assert message in err and "Traceback" not in err and "usage: torchtrt" in err


def test_missing_required_option_is_usage_error():
    res = _run("compile", "examples/models.py:mlp")
    assert res.returncode == 2 and "required" in res.stderr and "Traceback" not in res.stderr
