"""``torch_tensorrt.logging``: how much torch_tensorrt (and TensorRT through it) reports.

Everything the package logs goes to Python :mod:`logging` under the ``torch_tensorrt`` logger; TensorRT's own
messages arrive at its child ``torch_tensorrt.tensorrt`` (severities mapped: INTERNAL_ERROR -> CRITICAL, ERROR,
WARNING, INFO, VERBOSE -> DEBUG; see :mod:`torch_tensorrt._trt_logging`). So ordinary ``logging`` configuration
works, and this module adds the product's short forms::

    torch_tensorrt.logging.set_level(torch_tensorrt.logging.Level.Info)   # or "info", or logging.INFO
    with torch_tensorrt.logging.debug():                                  # DEBUG for this block only
        trt_gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=inputs)

The context managers :func:`internal_errors`, :func:`errors`, :func:`warnings`, :func:`info`, :func:`debug`
and :func:`graphs` set the level for their block and restore it afterwards (:func:`graphs` is DEBUG plus
graph dumps). When nothing in the process has configured a logging handler, :func:`set_level` and the
context managers attach one stream handler (stderr) to the ``torch_tensorrt`` logger, so that what was asked
for is actually printed; a configured application keeps full control.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import sys
from typing import Iterator, Union

__all__ = [
    "Level",
    "LOGGER_NAME",
    "get_level",
    "set_level",
    "get_reportable_log_level",
    "set_reportable_log_level",
    "log",
    "level",
    "internal_errors",
    "errors",
    "warnings",
    "info",
    "debug",
    "graphs",
]

#: The package's root logger; every module logs below it.
LOGGER_NAME = "torch_tensorrt"
#: Python logging level of graph dumps (below DEBUG).
GRAPH = 5
logging.addLevelName(GRAPH, "GRAPH")


class Level(enum.IntEnum):
    """Reportable levels (values are Python logging levels)."""

    InternalError = logging.CRITICAL
    Error = logging.ERROR
    Warning = logging.WARNING
    Info = logging.INFO
    Debug = logging.DEBUG
    Graph = GRAPH


LevelLike = Union[Level, int, str]

_logger = logging.getLogger(LOGGER_NAME)
#: The stream handler this module attached (at most one), when no other handler was configured.
_handler: "logging.Handler | None" = None


def _as_level(value: LevelLike) -> int:
    if isinstance(value, bool):
        raise TypeError(f"log level must be a Level, an int or a name, got {value!r}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        key = value.strip().lower().replace("_", "").replace(" ", "")
        for member in Level:
            if member.name.lower() == key:
                return int(member)
        aliases = {
            "critical": Level.InternalError,
            "warn": Level.Warning,
            "verbose": Level.Debug,
            "graphs": Level.Graph,
        }
        if key in aliases:
            return int(aliases[key])
    names = ", ".join(m.name for m in Level)
    raise ValueError(f"unknown log level {value!r}; use one of {names} (or a Python logging level)")


def _ensure_handler() -> "logging.Handler | None":
    """Attach a stderr handler when nothing would print the records; returns it when it was attached now."""
    global _handler
    if _logger.hasHandlers():
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    _logger.addHandler(handler)
    _handler = handler
    return handler


def get_level() -> Union[Level, int]:
    """The effective level of the ``torch_tensorrt`` logger (a :class:`Level` when it is one of them)."""
    value = _logger.getEffectiveLevel()
    try:
        return Level(value)
    except ValueError:
        return value


def set_level(value: LevelLike) -> Union[Level, int]:
    """Report messages at ``value`` and above from now on; returns the previous level."""
    previous = get_level()
    _logger.setLevel(_as_level(value))
    _ensure_handler()
    return previous


#: The product's long names for :func:`get_level` / :func:`set_level`.
get_reportable_log_level = get_level
set_reportable_log_level = set_level


def log(value: LevelLike, msg: str) -> None:
    """Log ``msg`` at ``value`` on the ``torch_tensorrt`` logger."""
    _logger.log(_as_level(value), msg)


@contextlib.contextmanager
def level(value: LevelLike) -> Iterator[None]:
    """Report at ``value`` inside the block; the previous level (and handlers) come back afterwards."""
    previous = _logger.level
    _logger.setLevel(_as_level(value))
    added = _ensure_handler()
    try:
        yield
    finally:
        _logger.setLevel(previous)
        if added is not None:
            _logger.removeHandler(added)
            global _handler
            if _handler is added:
                _handler = None


def internal_errors() -> "contextlib.AbstractContextManager[None]":
    """Only internal errors inside the block."""
    return level(Level.InternalError)


def errors() -> "contextlib.AbstractContextManager[None]":
    """Errors and worse inside the block."""
    return level(Level.Error)


def warnings() -> "contextlib.AbstractContextManager[None]":
    """Warnings and worse inside the block (the default of an unconfigured process)."""
    return level(Level.Warning)


def info() -> "contextlib.AbstractContextManager[None]":
    """Informational messages and worse inside the block."""
    return level(Level.Info)


def debug() -> "contextlib.AbstractContextManager[None]":
    """Everything but graph dumps inside the block (TensorRT's verbose log included)."""
    return level(Level.Debug)


def graphs() -> "contextlib.AbstractContextManager[None]":
    """Everything, graph dumps included, inside the block."""
    return level(Level.Graph)
