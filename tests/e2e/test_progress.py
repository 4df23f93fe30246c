"""Progress per engine while compiling: the events the compiler reports, rich bars, quiet off a terminal."""

from __future__ import annotations

import io

import torch
from rich.console import Console

import torch_tensorrt
from torch_tensorrt.dynamo import _progress


class TwoEngines(torch.nn.Module):
    def forward(self, x):
        y = torch.relu(x + 1) * 2
        return torch.special.bessel_j0(y).abs() - 1  # bessel_j0 has no converter: two engines around it


def _compile():
    x = torch.randn(4, 3)
    return torch_tensorrt.dynamo.compile(torch.export.export(TwoEngines(), (x,)), [x], min_block_size=1)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, engine, total):
        self.events.append(("start", engine, total))

    def advance(self, engine, steps=1):
        self.events.append(("advance", engine, steps))

    def phase(self, engine, text):
        self.events.append(("phase", engine, text.split(" (")[0]))

    def finish(self, engine, text="done"):
        self.events.append(("finish", engine, text.split(" in ")[0]))


def test_compiler_reports_every_operator_then_the_build_per_engine():
    rec = Recorder()
    with _progress.reporting(rec):
        _compile()
    assert not _progress.active()
    per_engine = {}
    for kind, engine, value in rec.events:
        per_engine.setdefault(engine, []).append((kind, value))
    assert sorted(per_engine) == ["_run_on_acc_0", "_run_on_acc_1"]
    for events in per_engine.values():
        (start, total), *middle, build, done = events
        assert start == "start" and middle == [("advance", 1)] * total
        assert build == ("phase", "building") and done == ("finish", "built")


def test_rich_bars_show_each_engine_on_a_terminal():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    with _progress.bars(enabled=True, console=console) as sink:
        assert sink is not None and _progress.active()
        _compile()
    text = buf.getvalue()
    assert "_run_on_acc_0" in text and "_run_on_acc_1" in text and "built in" in text
    assert not _progress.active()


def test_quiet_when_stdout_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "BIG_MODEL_OPS", 1)  # every program is "big": bars only if stdout is a tty
    with _progress.bars() as sink:
        assert sink is None and not _progress.active()
    _compile()
    assert capsys.readouterr().out == ""
