"""Fixtures of the drop-in compatibility tests (issue 19)."""

from __future__ import annotations

import pytest

from torch_tensorrt import _settings


@pytest.fixture(autouse=True)
def _fresh_one_time_warnings():
    """Each test sees the one-time compatibility warnings again."""
    _settings.reset_warnings()
    yield
    _settings.reset_warnings()
