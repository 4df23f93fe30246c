"""cmake/FindTensorRTSDK.cmake: headers and library must be one flavour and version; the versioned library names
the wheels ship (libnvinfer.so.N, libtensorrt_rtx.so.1) are found. Scratch SDKs: NvInferVersion.h written here,
libraries that are either tiny ones built here (exporting getInferLibVersion) or the TensorRT-RTX wheel's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "cpp" / "sdk_probe"
pytestmark = pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("c++") is None, reason="needs cmake and a C++ compiler"
)


def rtx_wheel_library() -> Path:
    try:
        import tensorrt_rtx_libs
    except ImportError:
        pytest.skip("the TensorRT-RTX wheel (tensorrt-rtx-cu13-libs) is not installed")
    return Path(tensorrt_rtx_libs.__path__[0]) / "libtensorrt_rtx.so.1"


def sdk(tmp_path: Path, version_h: str, libs: dict[str, int] | None = None) -> Path:
    """``tmp_path/sdk`` with include/{NvInferVersion.h, NvInferRuntime.h} and lib/<name> libraries whose
    getInferLibVersion() returns the given value."""
    root = tmp_path / "sdk"
    (root / "include").mkdir(parents=True)
    (root / "include" / "NvInferVersion.h").write_text(version_h)
    (root / "include" / "NvInferRuntime.h").write_text("#pragma once\n")
    for name, value in (libs or {}).items():
        (root / "lib").mkdir(exist_ok=True)
        src = tmp_path / f"{name}.cpp"
        src.write_text(f'extern "C" int getInferLibVersion() noexcept {{ return {value}; }}\n')
        subprocess.run(["c++", "-shared", "-fPIC", "-o", str(root / "lib" / name), str(src)], check=True)
    return root


def trt_header(major: int, minor: int, patch: int) -> str:
    return (
        f"#define TRT_MAJOR_ENTERPRISE {major}\n#define TRT_MINOR_ENTERPRISE {minor}\n"
        f"#define TRT_PATCH_ENTERPRISE {patch}\n#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE\n"
    )


def rtx_header(major: int, minor: int, patch: int) -> str:
    return f"#define TRT_MAJOR_RTX {major}\n#define TRT_MINOR_RTX {minor}\n#define TRT_PATCH_RTX {patch}\n"


def probe(tmp_path: Path, *defines: str) -> dict[str, str]:
    out = subprocess.run(
        ["cmake", "-S", str(PROBE), "-B", str(tmp_path / "build"), f"-DTORCHTRT_PYTHON={sys.executable}", *defines],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return dict(re.findall(r"-- TORCHTRT_TENSORRT_(\w+)=(.*)", out.stdout))


def test_versioned_library_beside_the_headers(tmp_path):
    root = sdk(tmp_path, trt_header(11, 1, 0), {"libnvinfer.so.11": 110100})
    found = probe(tmp_path, f"-DTENSORRT_ROOT={root}")
    assert found["FOUND"] == "TRUE", found
    assert (found["FLAVOUR"], found["VERSION"]) == ("tensorrt", "11.1.0")
    assert found["LIBRARY"] == str(root / "lib" / "libnvinfer.so.11")


def test_library_of_another_version_is_a_mismatch(tmp_path):
    root = sdk(tmp_path, trt_header(11, 1, 0), {"libnvinfer.so.11": 110000})
    found = probe(tmp_path, f"-DTENSORRT_ROOT={root}")
    assert found["FOUND"] == "FALSE"
    assert f"are TensorRT 11.1.0 but the library {root}/lib/libnvinfer.so.11 is TensorRT 11.0.0" in found["MISMATCH"]


def test_headers_without_their_library(tmp_path):
    root = sdk(tmp_path, trt_header(10, 16, 0))
    found = probe(tmp_path, f"-DTENSORRT_ROOT={root}")
    assert found["FOUND"] == "FALSE" and not found["MISMATCH"]
    assert (
        "TensorRT 10.16.0 headers found in" in found["WHY"]
        and "no libnvinfer (nvinfer;libnvinfer.so.10)" in found["WHY"]
    )


def test_rtx_headers_find_the_rtx_wheel_library(tmp_path):
    wheel = rtx_wheel_library()
    root = sdk(tmp_path, rtx_header(1, 7, 1))
    found = probe(tmp_path, f"-DTENSORRT_ROOT={root}")
    assert found["FOUND"] == "TRUE", found
    assert (found["FLAVOUR"], found["VERSION"]) == ("tensorrt_rtx", "1.7.1")
    assert os.path.realpath(found["LIBRARY"]) == os.path.realpath(wheel)


def test_tensorrt_headers_with_an_rtx_library_are_refused(tmp_path):
    wheel = rtx_wheel_library()
    root = sdk(tmp_path, trt_header(11, 1, 0))
    found = probe(tmp_path, f"-DTENSORRT_ROOT={root}", f"-DTENSORRT_LIBRARY={wheel}")
    assert found["FOUND"] == "FALSE"
    assert f"are TensorRT 11.1.0 but the library {wheel} is TensorRT-RTX 1.7.1" in found["MISMATCH"]
    # The package build stops with that message instead of quietly building Python-only.
    out = subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT),
            "-B",
            str(tmp_path / "pkg"),
            f"-DTENSORRT_ROOT={root}",
            f"-DTENSORRT_LIBRARY={wheel}",
            f"-DTORCHTRT_PYTHON={sys.executable}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode != 0
    assert "is TensorRT-RTX 1.7.1; point TENSORRT_ROOT (or TENSORRT_LIBRARY) at one SDK" in out.stderr


def test_rtx_headers_of_another_release(tmp_path):
    rtx_wheel_library()
    root = sdk(tmp_path, rtx_header(1, 6, 0))
    found = probe(tmp_path, f"-DTENSORRT_ROOT={root}")
    assert (
        "are TensorRT-RTX 1.6.0 but the library" in found["MISMATCH"] and "is TensorRT-RTX 1.7.1" in found["MISMATCH"]
    )
