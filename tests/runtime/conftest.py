"""Fixtures shared by the runtime tests: the C++ runtime built against the stand-in TensorRT, loaded."""

from __future__ import annotations

import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402

from torch_tensorrt.runtime import _cpp  # noqa: E402


@pytest.fixture(scope="session")
def cpp_build_dir() -> cpp_build.CppBuild:
    why = cpp_build.missing_tools()
    if why:
        pytest.skip(f"cannot build the C++ runtime: {why}")
    try:
        return cpp_build.build()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def rt(request, cpp_build_dir):
    """The stand-in build, loaded for the module's tests (loading registers the Python simulator); reported
    unavailable again at the end of the module, so later tests keep choosing the Python runtime."""
    was_loaded = _cpp.is_loaded()
    old = os.environ.get(_cpp.ENV_VAR)
    os.environ[_cpp.ENV_VAR] = cpp_build_dir.runtime_library
    _cpp._reset_for_tests()
    assert _cpp.load(), _cpp.reason()
    assert torch.ops.tensorrt.runtime_flavour() == "stand-in"
    yield cpp_build_dir
    if old is None:
        os.environ.pop(_cpp.ENV_VAR, None)
    else:
        os.environ[_cpp.ENV_VAR] = old
    if not was_loaded:
        _cpp._hide_for_tests(f"the stand-in build loaded by {request.module.__name__} is not a real runtime")
