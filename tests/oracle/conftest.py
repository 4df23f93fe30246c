"""The ONNX oracle, shared by the tests of this directory: one per process, built at collection (the test
cases are parametrized by ONNX case name) and cached in memory only."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _onnx_oracle import Oracle  # noqa: E402


@functools.lru_cache(maxsize=1)
def oracle() -> Oracle:
    return Oracle()
