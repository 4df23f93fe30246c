"""Builds the C++ runtime against the stand-in TensorRT for tests (tests/cpp/CMakeLists.txt).

The build goes to ``build/cpp-tests`` under the repository and is incremental: configured once, then
``cmake --build`` recompiles only what changed (a no-op build takes about a second). Used by
tests/runtime/test_cpp_runtime.py; also runnable as ``python tests/runtime/cpp_build.py``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE_DIR = os.path.join(REPO, "tests", "cpp")
BUILD_DIR = os.path.join(REPO, "build", "cpp-tests")


@dataclass
class CppBuild:
    build_dir: str
    runtime_library: str  # libtorchtrt_runtime.so built with TORCHTRT_FAKE_TENSORRT
    fake_library: str  # libfake_nvinfer.so (the stand-in TensorRT, with its test C API)


def missing_tools() -> Optional[str]:
    """Why the build cannot run here (None when cmake and a C++ compiler are present)."""
    if not shutil.which("cmake"):
        return "cmake not found on PATH"
    if not (os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")):
        return "no C++ compiler found (c++, g++, clang++ or $CXX)"
    return None


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}")


def build(jobs: int = 2) -> CppBuild:
    """Configure (first time only) and build; raises RuntimeError with the build log's tail on failure.

    Serialized with a file lock: pytest-xdist runs session fixtures once per worker, and two CMake runs in one
    build directory corrupt each other (the second waits, then finds an up-to-date build)."""
    os.makedirs(BUILD_DIR, exist_ok=True)
    with open(os.path.join(os.path.dirname(BUILD_DIR), ".cpp-tests.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.path.exists(os.path.join(BUILD_DIR, "CMakeCache.txt")):
                cmd = ["cmake", "-S", SOURCE_DIR, "-B", BUILD_DIR, f"-DTORCHTRT_PYTHON={sys.executable}"]
                if shutil.which("ninja"):
                    cmd += ["-G", "Ninja"]
                _run(cmd)
            _run(["cmake", "--build", BUILD_DIR, "-j", str(jobs)])
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return CppBuild(
        build_dir=BUILD_DIR,
        runtime_library=os.path.join(BUILD_DIR, "libtorchtrt_runtime.so"),
        fake_library=os.path.join(BUILD_DIR, "libfake_nvinfer.so"),
    )


if __name__ == "__main__":
    print(build())
