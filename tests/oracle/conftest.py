"""Makes the oracle's helper modules (``_onnx_oracle``, ``known_differences``) importable by the tests here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
