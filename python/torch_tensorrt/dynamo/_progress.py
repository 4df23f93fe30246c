"""Progress of conversion and build, per engine: a bar per engine (rich) while big models compile.

The compiler reports through four calls -- :func:`start` (an engine's conversion begins, with its operator
count), :func:`advance` (one operator converted), :func:`phase` (e.g. the builder started) and :func:`finish` --
which go to the *sink* installed with :func:`reporting`, and nowhere when none is. :func:`bars` installs rich
progress bars; it is quiet (installs nothing) unless stdout is a terminal, so logs, pipes and CI stay clean.

``dynamo.compile`` shows bars by itself for programs of at least :data:`BIG_MODEL_OPS` operators (when stdout
is a terminal); ``torchtrt compile`` always does (when stdout is a terminal).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Iterator, Optional, Protocol

#: Programs with at least this many operators in TensorRT partitions get progress bars from ``dynamo.compile``.
BIG_MODEL_OPS = 300


class ProgressSink(Protocol):
    def start(self, engine: str, total: int) -> None: ...

    def advance(self, engine: str, steps: int = 1) -> None: ...

    def phase(self, engine: str, text: str) -> None: ...

    def finish(self, engine: str, text: str = "done") -> None: ...


_lock = threading.Lock()
_sink: Optional[ProgressSink] = None


@contextlib.contextmanager
def reporting(sink: ProgressSink) -> Iterator[ProgressSink]:
    """Send the compiler's progress to ``sink`` while the block runs."""
    global _sink
    with _lock:
        previous, _sink = _sink, sink
    try:
        yield sink
    finally:
        with _lock:
            _sink = previous


def active() -> bool:
    return _sink is not None


def start(engine: str, total: int) -> None:
    if _sink is not None:
        _sink.start(engine, total)


def advance(engine: str, steps: int = 1) -> None:
    if _sink is not None:
        _sink.advance(engine, steps)


def phase(engine: str, text: str) -> None:
    if _sink is not None:
        _sink.phase(engine, text)


def finish(engine: str, text: str = "done") -> None:
    if _sink is not None:
        _sink.finish(engine, text)


class RichBars:
    """A :class:`ProgressSink` drawing one rich progress bar per engine: operators converted, then the build."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, engine: str, total: int) -> None:
        task = self.tasks.get(engine)
        if task is None:
            self.tasks[engine] = self.progress.add_task(engine, total=max(total, 1) + 1, phase="converting")
        else:
            self.progress.reset(task, total=max(total, 1) + 1, phase="converting")

    def advance(self, engine: str, steps: int = 1) -> None:
        if engine in self.tasks:
            self.progress.advance(self.tasks[engine], steps)

    def phase(self, engine: str, text: str) -> None:
        if engine in self.tasks:
            self.progress.update(self.tasks[engine], phase=text)

    def finish(self, engine: str, text: str = "done") -> None:
        if engine in self.tasks:
            task = self.tasks[engine]
            total = self.progress.tasks[[t.id for t in self.progress.tasks].index(task)].total
            self.progress.update(task, completed=total, phase=text)


@contextlib.contextmanager
def bars(enabled: Optional[bool] = None, console: Any = None) -> Iterator[Optional[RichBars]]:
    """Rich bars per engine while the block runs. ``enabled=None``: only when stdout is a terminal. Nothing is
    installed when another sink is already active (the outer one keeps reporting)."""
    if enabled is None:
        enabled = sys.stdout.isatty()
    if not enabled or active():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from torch_tensorrt._console import console as make_console

    progress = Progress(
        TextColumn("engine [bold]{task.description}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]}"),
        TimeElapsedColumn(),
        console=console or make_console(),
    )
    sink = RichBars(progress)
    with progress, reporting(sink):
        yield sink
