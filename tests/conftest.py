"""Suite-wide fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for `import examples.models`


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
