"""Fixtures of the reference-evaluator self-tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `from _net import NetBuilder`

from _net import NetBuilder, make_net  # noqa: E402


@pytest.fixture
def net() -> NetBuilder:
    """A fresh strongly typed network builder (see ``tests/reference/_net.py``)."""
    return make_net()
