"""Fixtures of the reliability suite: the C++ runtime's test build (the fixtures of tests/runtime/conftest.py)."""

from __future__ import annotations

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

_spec = importlib.util.spec_from_file_location("_runtime_conftest", os.path.join(HERE, "..", "runtime", "conftest.py"))
_runtime_conftest = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_runtime_conftest)  # type: ignore[union-attr]

cpp_build_dir = _runtime_conftest.cpp_build_dir
rt = _runtime_conftest.rt
