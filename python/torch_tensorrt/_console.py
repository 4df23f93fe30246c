"""The rich console used for every table the package prints (wide when output is not a terminal)."""

from __future__ import annotations

import sys
from typing import Any


def console(**kwargs: Any) -> Any:
    from rich.console import Console

    if not sys.stdout.isatty():
        kwargs.setdefault("width", 200)
    return Console(**kwargs)
