"""Build wiring: PYTHON_ONLY skips the C++ runtime; without a TensorRT SDK the build says why in one line."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


def _configure(tmp_path, *defines):
    out = subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(tmp_path / "b"), *defines],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out.returncode, out.stdout + out.stderr


def test_python_only_skips_the_runtime(tmp_path):
    rc, log = _configure(tmp_path, "-DPYTHON_ONLY=ON")
    assert rc == 0, log
    assert "PYTHON_ONLY=1, building the Python-only package" in log
    assert "torchtrt_runtime" not in log


def test_missing_sdk_builds_python_only_and_says_why(tmp_path):
    rc, log = _configure(tmp_path, f"-DTENSORRT_ROOT={tmp_path / 'nowhere'}")
    assert rc == 0, log
    assert "no TensorRT SDK found (NvInferRuntime.h not found under TENSORRT_ROOT or the usual paths)" in log
    assert "building Python-only" in log


def test_pyproject_version_matches_package():
    import tomllib

    import torch_tensorrt

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["version"] == torch_tensorrt.__version__
