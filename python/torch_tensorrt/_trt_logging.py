"""TensorRT's own log, routed into Python :mod:`logging` (bottom layer: the builder and the runtime both use it).

TensorRT reports through an ``ILogger`` handed to ``trt.Builder`` / ``trt.Runtime``. :func:`trt_logger` returns
the one process-wide ``ILogger`` of this package: every TensorRT message becomes a record of the Python logger
``torch_tensorrt.tensorrt`` (a child of ``torch_tensorrt``, so :mod:`torch_tensorrt.logging` and ordinary
``logging`` configuration govern it), at the level :data:`SEVERITY_LEVELS` maps its severity to. Messages below
the logger's effective level are dropped before any formatting, so TensorRT's verbose build log costs nothing
unless asked for.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional

from torch_tensorrt._trt import trt

#: The Python logger TensorRT's messages go to.
LOGGER_NAME = "torch_tensorrt.tensorrt"

#: TensorRT severity name -> Python logging level.
SEVERITY_LEVELS: dict[str, int] = {
    "INTERNAL_ERROR": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "VERBOSE": logging.DEBUG,
}

logger = logging.getLogger(LOGGER_NAME)

_lock = threading.Lock()
_instance: Optional[Any] = None


def level_of(severity: Any) -> int:
    """The Python logging level of a TensorRT severity (an ``ILogger.Severity`` or its name)."""
    name = severity if isinstance(severity, str) else getattr(severity, "name", str(severity))
    return SEVERITY_LEVELS.get(str(name).rsplit(".", 1)[-1], logging.WARNING)


def _make() -> Any:
    """An instance of an ``ILogger`` subclass (defined here, on first use: importing this module never imports
    TensorRT)."""

    class PythonLoggingTRTLogger(trt.ILogger):  # type: ignore[misc, name-defined]
        """Forwards each TensorRT message to the ``torch_tensorrt.tensorrt`` Python logger."""

        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            level = level_of(severity)
            if logger.isEnabledFor(level):
                logger.log(level, "%s", msg)

    return PythonLoggingTRTLogger()


def trt_logger() -> Any:
    """The process-wide TensorRT ``ILogger`` (created on first use; imports TensorRT)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = _make()
    return _instance
