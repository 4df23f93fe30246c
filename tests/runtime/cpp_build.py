"""Builds the C++ runtime against the stand-in TensorRT for tests (tests/cpp/CMakeLists.txt), and the C++
example (examples/cpp) against it.

The build goes to ``build/cpp-tests`` under the repository and is incremental: configured once, then
``cmake --build`` recompiles only what changed (a no-op build takes about a second). :func:`build_example`
installs that build into ``build/cpp-tests-install`` (the wheel's layout: lib/, include/torchtrt/,
share/cmake/torchtrt_runtime/) and builds examples/cpp against the installed package in ``build/cpp-example``.
Used by tests/runtime/test_cpp_*.py; also runnable as ``python tests/runtime/cpp_build.py [--example]``.
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
INSTALL_DIR = os.path.join(REPO, "build", "cpp-tests-install")
EXAMPLE_SOURCE_DIR = os.path.join(REPO, "examples", "cpp")
EXAMPLE_BUILD_DIR = os.path.join(REPO, "build", "cpp-example")


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


def _configure_and_build(source: str, build_dir: str, jobs: int, *defines: str) -> None:
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        cmd = ["cmake", "-S", source, "-B", build_dir, *defines]
        if shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        _run(cmd)
    _run(["cmake", "--build", build_dir, "-j", str(jobs)])


class _Locked:
    """Serializes builds across processes: pytest-xdist runs session fixtures once per worker, and two CMake runs
    in one build directory corrupt each other (the second waits, then finds an up-to-date build)."""

    def __enter__(self) -> "_Locked":
        os.makedirs(os.path.dirname(BUILD_DIR), exist_ok=True)
        self._file = open(os.path.join(os.path.dirname(BUILD_DIR), ".cpp-tests.lock"), "w")
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def build(jobs: int = 2) -> CppBuild:
    """Configure (first time only) and build; raises RuntimeError with the build log's tail on failure."""
    with _Locked():
        _configure_and_build(SOURCE_DIR, BUILD_DIR, jobs, f"-DTORCHTRT_PYTHON={sys.executable}")
    return CppBuild(
        build_dir=BUILD_DIR,
        runtime_library=os.path.join(BUILD_DIR, "libtorchtrt_runtime.so"),
        fake_library=os.path.join(BUILD_DIR, "libfake_nvinfer.so"),
    )


def torch_cmake_prefix() -> str:
    import torch

    return torch.utils.cmake_prefix_path


def build_example(jobs: int = 2) -> str:
    """Install the stand-in build into INSTALL_DIR and build examples/cpp against that installed package (found
    the way users find the wheel's: CMAKE_PREFIX_PATH = torch's and <prefix>/share/cmake). Returns the path of
    the ``torchtrt_example`` program."""
    build(jobs)
    with _Locked():
        _run(["cmake", "--install", BUILD_DIR, "--prefix", INSTALL_DIR])
        prefix = ";".join([torch_cmake_prefix(), os.path.join(INSTALL_DIR, "share", "cmake")])
        _configure_and_build(EXAMPLE_SOURCE_DIR, EXAMPLE_BUILD_DIR, jobs, f"-DCMAKE_PREFIX_PATH={prefix}")
    return os.path.join(EXAMPLE_BUILD_DIR, "torchtrt_example")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example", action="store_true", help="also install and build examples/cpp")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    print(build(args.jobs))
    if args.example:
        print(build_example(args.jobs))


def stand_in_record(plan: str, inputs=("x", "y"), outputs=("out", "pos"), **kw) -> list[str]:
    """The engine record of a stand-in text plan, as the runtimes install it: record validation requires metadata
    that lists the bindings (the text plan carries the shapes); simulated kinds also carry a network."""
    from torch_tensorrt.runtime._record import EngineRecord
    from torch_tensorrt.testing._simulate import KIND_SIMULATED

    spec = lambda n: {"name": n, "dtype": "float32", "shape": []}  # noqa: E731
    kw.setdefault("name", "adder")
    kw.setdefault(
        "metadata",
        {
            "inputs": [spec(n) for n in inputs],
            "outputs": [spec(n) for n in outputs],
            "network": {} if kw.get("engine_kind") == KIND_SIMULATED else None,
        },
    )
    return EngineRecord(
        engine=plan.encode(), input_binding_names=list(inputs), output_binding_names=list(outputs), **kw
    ).to_tensor()
