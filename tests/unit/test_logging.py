"""torch_tensorrt.logging: levels, per-block verbosity, and TensorRT's log routed into Python logging."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import _trt_logging
from torch_tensorrt import logging as ttl
from torch_tensorrt._trt import trt

ROOT = logging.getLogger("torch_tensorrt")


@pytest.fixture(autouse=True)
def _restore_level():
    level = ROOT.level
    yield
    ROOT.setLevel(level)


def _tiny_network(builder):
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    x = network.add_input("x", trt.DataType.FLOAT, (2, 3))
    network.mark_output(network.add_activation(x, trt.ActivationType.RELU).get_output(0))
    return network


def _build(builder) -> bytes:
    network = _tiny_network(builder)
    return bytes(builder.build_serialized_network(network, builder.create_builder_config()))


def _trt_records(caplog, level=None):
    return [r for r in caplog.records if r.name == _trt_logging.LOGGER_NAME and (level is None or r.levelno == level)]


def test_levels_are_python_logging_levels():
    assert [int(level) for level in ttl.Level] == [50, 40, 30, 20, 10, 5]
    assert logging.getLevelName(int(ttl.Level.Graph)) == "GRAPH"


@pytest.mark.parametrize(
    "value, expected",
    [
        (ttl.Level.Info, ttl.Level.Info),
        ("debug", ttl.Level.Debug),
        ("Internal_Error", ttl.Level.InternalError),
        ("warn", ttl.Level.Warning),
        (logging.ERROR, ttl.Level.Error),
        ("graphs", ttl.Level.Graph),
        (25, 25),
    ],
)
def test_set_and_get_level(value, expected):
    previous = ttl.set_level(ttl.Level.Warning)
    assert ttl.set_level(value) == ttl.Level.Warning
    assert ttl.get_level() == expected and ROOT.getEffectiveLevel() == int(expected)
    assert ttl.get_reportable_log_level() == expected
    ttl.set_reportable_log_level(previous)


def test_bad_level_names_the_choices():
    with pytest.raises(ValueError, match="unknown log level 'loud'; use one of InternalError, Error, Warning"):
        ttl.set_level("loud")
    with pytest.raises(TypeError):
        ttl.set_level(True)


@pytest.mark.parametrize(
    "block, level",
    [
        (ttl.internal_errors, logging.CRITICAL),
        (ttl.errors, logging.ERROR),
        (ttl.warnings, logging.WARNING),
        (ttl.info, logging.INFO),
        (ttl.debug, logging.DEBUG),
        (ttl.graphs, ttl.GRAPH),
    ],
)
def test_blocks_set_the_level_and_restore_it(block, level):
    ROOT.setLevel(logging.WARNING)
    child = logging.getLogger("torch_tensorrt.dynamo.some_module")
    with block():
        assert ROOT.level == level and child.getEffectiveLevel() == level
    assert ROOT.level == logging.WARNING
    with pytest.raises(RuntimeError):
        with block():
            raise RuntimeError("boom")
    assert ROOT.level == logging.WARNING


def test_log_goes_to_the_package_logger(caplog):
    caplog.set_level(logging.DEBUG)  # the capture handler takes everything that reaches it
    with ttl.info():
        ttl.log(ttl.Level.Info, "hello from the test")
        ttl.log("debug", "not shown")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("torch_tensorrt", 20, "hello from the test")
    ]


def test_tensorrt_severities_map_to_logging_levels():
    sev = trt.ILogger.Severity
    assert [_trt_logging.level_of(s) for s in (sev.INTERNAL_ERROR, sev.ERROR, sev.WARNING, sev.INFO, sev.VERBOSE)] == [
        logging.CRITICAL,
        logging.ERROR,
        logging.WARNING,
        logging.INFO,
        logging.DEBUG,
    ]
    assert _trt_logging.level_of("VERBOSE") == logging.DEBUG


def test_tensorrt_log_follows_the_package_level(caplog):
    """The builder's verbose log arrives as DEBUG records of torch_tensorrt.tensorrt inside debug() only."""
    from torch_tensorrt.dynamo.conversion._builder import make_builder

    builder = make_builder()
    assert builder is not None
    caplog.set_level(logging.DEBUG)  # the capture handler takes everything that reaches it
    ROOT.setLevel(logging.WARNING)
    _build(builder)
    assert not _trt_records(caplog, logging.DEBUG) and not _trt_records(caplog, logging.INFO)
    with ttl.debug():
        _build(builder)
    debug = _trt_records(caplog, logging.DEBUG)
    assert debug, "TensorRT's VERBOSE messages should arrive at DEBUG inside torch_tensorrt.logging.debug()"
    caplog.clear()
    _build(builder)
    assert not _trt_records(caplog, logging.DEBUG)


def test_tensorrt_errors_arrive_as_errors(caplog):
    runtime = trt.Runtime(_trt_logging.trt_logger())
    assert runtime.deserialize_cuda_engine(b"definitely not a plan") is None
    errors = _trt_records(caplog, logging.ERROR)
    assert errors and all(r.getMessage() for r in errors)


def test_one_logger_object_for_the_process():
    assert _trt_logging.trt_logger() is _trt_logging.trt_logger()


def test_debug_setting_logs_the_compile_at_debug(caplog):
    """CompilationSettings.debug: the conversion and build of each engine log at DEBUG, TensorRT included;
    the level comes back afterwards."""

    class M(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x) + 1.0

    x = torch.randn(2, 3)
    ep = torch.export.export(M(), (x,))
    caplog.set_level(logging.DEBUG)  # the capture handler takes everything that reaches it
    ROOT.setLevel(logging.WARNING)
    torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1)
    assert not _trt_records(caplog, logging.DEBUG)
    torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1, debug=True)
    assert _trt_records(caplog, logging.DEBUG)
    assert ROOT.level == logging.WARNING
    levels: list[int] = []
    torch_tensorrt.dynamo.convert_exported_program(ep, [x], debug=True, progress=lambda _: levels.append(ROOT.level))
    with ttl.graphs():  # already more verbose than DEBUG: debug=True does not make it quieter
        torch_tensorrt.dynamo.convert_exported_program(
            ep, [x], debug=True, progress=lambda _: levels.append(ROOT.level)
        )
    assert levels == [logging.DEBUG, ttl.GRAPH] and ROOT.level == logging.WARNING


def test_unconfigured_process_prints_what_was_asked_for():
    """With no handler configured anywhere, a block still prints (one stderr handler, removed afterwards)."""
    code = (
        "import logging, torch_tensorrt\n"
        "log = logging.getLogger('torch_tensorrt.dynamo.example')\n"
        "with torch_tensorrt.logging.info():\n"
        "    log.info('inside the block')\n"
        "log.info('after the block')\n"
        "assert logging.getLogger('torch_tensorrt').handlers == []\n"
        "torch_tensorrt.logging.set_level('debug')\n"
        "log.debug('after set_level')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "INFO torch_tensorrt.dynamo.example: inside the block" in proc.stderr
    assert "after the block" not in proc.stderr
    assert "DEBUG torch_tensorrt.dynamo.example: after set_level" in proc.stderr


def test_star_import_and_attribute():
    namespace: dict = {}
    exec("from torch_tensorrt import *", namespace)
    assert namespace["logging"] is ttl and torch_tensorrt.logging is ttl
