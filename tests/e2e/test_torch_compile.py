"""``torch.compile(backend="tensorrt")`` as users run it, on CPU with simulated engines.

Dynamic shapes (automatic, ``dynamic=True``, ``mark_dynamic``), recompiles, graph breaks, options, autograd,
the in-process cache, visibility (``backend_stats``, debug log) and the entry-point registration.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import torch_tensorrt
from examples import models
from torch_tensorrt.dynamo import backend_stats
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.testing import simulate

ROOT = Path(__file__).resolve().parents[2]
BACKEND_LOG = "torch_tensorrt.dynamo.backend"


class Block(nn.Module):
    """A pre-norm transformer block (attention through ``scaled_dot_product_attention``, GELU MLP)."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.norm2(x))


def _cnn() -> tuple[nn.Module, tuple[int, ...]]:
    model, (x,) = models.small_cnn()
    return model, tuple(x.shape[1:])


def _block() -> tuple[nn.Module, tuple[int, ...]]:
    return Block().eval(), (8, 32)


MODELS = {"cnn": _cnn, "transformer_block": _block}


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    backend_stats(reset=True)
    yield
    torch._dynamo.reset()
    backend_stats(reset=True)


@pytest.fixture
def engine_calls(monkeypatch):
    """Counts engine executions (every call of a TorchTensorRTModule)."""
    calls = []
    forward = TorchTensorRTModule.forward

    def counting(self, *inputs):
        calls.append(self.name)
        return forward(self, *inputs)

    monkeypatch.setattr(TorchTensorRTModule, "forward", counting)
    return calls


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


# -- dynamic shapes and recompiles --------------------------------------------------------------------------------
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_batch_sweep_builds_at_most_two_engines_and_never_runs_wholly_in_pytorch(name, device, engine_calls):
    model, item_shape = MODELS[name]()
    model = model.to(device)
    compiled = torch.compile(model, backend="tensorrt")
    with simulate(), torch.no_grad():
        for batch in (1, 2, 5, 8, 16):
            x = torch.randn(batch, *item_shape, device=device)
            before = len(engine_calls)
            _close(compiled(x), model(x))
            assert len(engine_calls) > before, f"batch {batch} ran wholly in PyTorch"
        graphs = backend_stats().graphs_compiled
        calls = len(engine_calls)
        compiled(torch.randn(5, *item_shape, device=device))  # same shape again: no recompile, no rebuild
        assert len(engine_calls) > calls and backend_stats().graphs_compiled == graphs
    stats = backend_stats()
    assert stats.engines_built <= 2
    assert stats.fallbacks == 0
    assert all(g.outcome in ("engines", "cache_hit") for g in stats.graphs)
    dynamic = [spec for g in stats.graphs for spec in g.engine_inputs if spec.is_dynamic]
    assert dynamic and all(spec.min[0] <= 2 and spec.max[0] >= 16 for spec in dynamic)


def test_dynamic_true_builds_one_dynamic_engine(engine_calls):
    model, item_shape = _block()
    compiled = torch.compile(model, backend="tensorrt", dynamic=True)
    with simulate(), torch.no_grad():
        for batch in (2, 5, 8):
            x = torch.randn(batch, *item_shape)
            _close(compiled(x), model(x))
    stats = backend_stats()
    assert (stats.graphs_compiled, stats.engines_built, stats.fallbacks) == (1, 1, 0)
    (spec,) = stats.graphs[0].engine_inputs
    assert isinstance(spec.shape[0], str) and spec.min[0] == 2 and spec.max[0] >= 8
    assert len(engine_calls) == 3


def test_mark_dynamic_min_max_is_the_engine_profile():
    model, item_shape = _block()
    compiled = torch.compile(model, backend="tensorrt")
    x = torch.randn(6, *item_shape)
    torch._dynamo.mark_dynamic(x, 0, min=3, max=40)
    with simulate(), torch.no_grad():
        _close(compiled(x), model(x))
    (graph,) = backend_stats().graphs
    (spec,) = graph.engine_inputs
    assert (spec.min[0], spec.opt[0], spec.max[0]) == (3, 6, 40)
    assert [(p.min, p.max) for p in graph.symbols] == [(3, 40)]


def test_call_beyond_the_built_range_recompiles_instead_of_failing():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    compiled = torch.compile(model, backend="tensorrt", options={"dynamic_shape_max": 8, "min_block_size": 1})
    with simulate(), torch.no_grad():
        for batch in (2, 3, 8, 20, 9):
            x = torch.randn(batch, 4)
            _close(compiled(x), model(x))
    stats = backend_stats()
    # 2: static engine; 3: dynamic 2..8 (unbounded max -> dynamic_shape_max, guarded); 20 fails that guard:
    # dynamic 2..32 (8 doubled until it covers 20). 8 and 9 are served without compiling.
    assert stats.graphs_compiled == 3 and stats.fallbacks == 0
    maxima = [spec.max[0] for g in stats.graphs for spec in g.engine_inputs]
    assert maxima == [2, 8, 32]


def test_exhausted_recompiles_run_in_pytorch_never_a_wrong_result(engine_calls):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    compiled = torch.compile(model, backend="tensorrt", options={"dynamic_shape_max": 4, "min_block_size": 1})
    with simulate(), torch.no_grad(), torch._dynamo.config.patch(recompile_limit=3):
        for batch in (2, 3, 9, 40):  # static 2; dynamic 2..4; dynamic 2..16; 40 is past the limit
            x = torch.randn(batch, 4)
            _close(compiled(x), model(x))
    assert backend_stats().graphs_compiled == 3
    assert len(engine_calls) == 3  # the call past the recompile limit ran in PyTorch (dynamo's fallback)


def test_dtype_change_recompiles():
    def f(x):
        return torch.relu(x) * 2 + torch.sigmoid(x)

    compiled = torch.compile(f, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.no_grad():
        for dtype in (torch.float32, torch.float16):
            x = torch.randn(4, 8).to(dtype)
            out = compiled(x)
            assert out.dtype == dtype
            torch.testing.assert_close(out, f(x), rtol=1e-2, atol=1e-2)
    stats = backend_stats()
    assert stats.graphs_compiled == 2 and stats.engines_built == 2
    assert [g.engine_inputs[0].dtype for g in stats.graphs] == ["float32", "float16"]


def test_inputs_sharing_a_size_share_one_symbol():
    lin = nn.Linear(4, 8).eval()

    def f(x, y):
        return torch.relu(lin(x)) + y

    compiled = torch.compile(f, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.no_grad():
        for batch in (2, 3, 5):
            x, y = torch.randn(batch, 4), torch.randn(batch, 8)
            _close(compiled(x, y), f(x, y))
    graph = backend_stats().graphs[-1]
    assert len(graph.symbols) == 1
    specs = graph.engine_inputs
    assert len(specs) == 2 and specs[0].shape[0] == specs[1].shape[0]


def test_integer_argument_stays_dynamic_and_its_uses_run_in_pytorch():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8)).eval()

    def f(x, n):
        return torch.relu(model(x) * n + x.shape[0])

    compiled = torch.compile(f, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.no_grad():
        for batch, n in ((2, 3), (3, 4), (5, 7), (6, 9)):
            x = torch.randn(batch, 4)
            _close(compiled(x, n), f(x, n))
    stats = backend_stats()
    assert stats.graphs_compiled == 2 and stats.fallbacks == 0  # static first call, then one dynamic graph
    left = stats.graphs[-1].ops_in_pytorch
    assert [o.op for o in left] == ["aten.mul.Tensor"] and "integer input" in left[0].reason


# -- graph breaks and partial conversion --------------------------------------------------------------------------
@pytest.mark.parametrize("break_with", ["print", "graph_break"])
def test_graph_break_gives_two_graphs_both_with_engines(break_with, engine_calls, capsys):
    first = nn.Sequential(nn.Linear(4, 8), nn.ReLU()).eval()
    second = nn.Sequential(nn.Linear(8, 8), nn.Sigmoid()).eval()

    def f(x):
        y = first(x)
        if break_with == "print":
            print("between the graphs")
        else:
            torch._dynamo.graph_break()
        return second(y)

    compiled = torch.compile(f, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.no_grad():
        x = torch.randn(3, 4)
        _close(compiled(x), f(x))
    stats = backend_stats()
    assert stats.graphs_compiled == 2 and stats.engines_built == 2
    assert all(g.outcome == "engines" for g in stats.graphs)
    assert len(engine_calls) == 2


def test_operator_without_engine_stays_in_pytorch_inside_its_graph(engine_calls):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)).eval()
    compiled = torch.compile(
        model, backend="tensorrt", options={"min_block_size": 1, "torch_executed_ops": {"aten.tanh.default"}}
    )
    with simulate(), torch.no_grad():
        x = torch.randn(3, 4)
        _close(compiled(x), model(x))
    (graph,) = backend_stats().graphs
    assert graph.outcome == "engines" and len(graph.engines) == 2
    assert [(o.op, o.reason) for o in graph.ops_in_pytorch] == [("aten.tanh.default", "listed in torch_executed_ops")]
    assert len(engine_calls) == 2


def test_graph_without_any_engine_runs_in_pytorch_saying_why(caplog):
    def f(x):
        return torch.relu(x) + 1

    compiled = torch.compile(
        f, backend="tensorrt", options={"torch_executed_ops": {"aten.relu.default", "aten.add.Tensor"}}
    )
    with simulate(), torch.no_grad(), caplog.at_level(logging.WARNING, logger=BACKEND_LOG):
        x = torch.randn(3, 4)
        _close(compiled(x), f(x))
    (graph,) = backend_stats().graphs
    assert graph.outcome == "pytorch" and "no TensorRT engine" in graph.reason
    assert "aten.relu.default: listed in torch_executed_ops" in graph.reason
    assert [r.getMessage() for r in caplog.records] == [
        f"torch_tensorrt backend: graph {graph.graph_id} runs in PyTorch: {graph.reason}"
    ]


# -- the in-process cache -----------------------------------------------------------------------------------------
def test_identical_graph_is_not_rebuilt_within_a_process():
    model, item_shape = _cnn()
    twin = copy.deepcopy(model)  # other parameter objects, equal weights
    other = copy.deepcopy(model)
    with torch.no_grad():
        other.fc.bias.add_(1.0)  # one weight differs
    x = torch.randn(2, *item_shape)
    with simulate(), torch.no_grad():
        for m in (model, twin, other):
            _close(torch.compile(m, backend="tensorrt")(x), m(x))
    stats = backend_stats()
    assert (stats.graphs_compiled, stats.engines_built, stats.cache_hits) == (3, 2, 1)
    assert [g.outcome for g in stats.graphs] == ["engines", "cache_hit", "engines"]


# -- options ------------------------------------------------------------------------------------------------------
def test_unknown_option_is_a_type_error_listing_the_valid_settings():
    compiled = torch.compile(nn.Linear(4, 4), backend="tensorrt", options={"min_blok_size": 2})
    with pytest.raises(TypeError, match="min_blok_size") as info, torch.no_grad():
        compiled(torch.randn(2, 4))
    message = str(info.value)
    assert "Did you mean 'min_block_size'" in message
    assert all(name in message for name in torch_tensorrt.dynamo.CompilationSettings.field_names())


def test_bad_option_value_is_a_value_error():
    compiled = torch.compile(nn.Linear(4, 4), backend="torch_tensorrt", options={"dynamic_shape_max": 0})
    with pytest.raises(ValueError, match="dynamic_shape_max"), torch.no_grad():
        compiled(torch.randn(2, 4))


def test_options_are_compilation_settings():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    compiled = torch.compile(
        model, backend="torch_tensorrt", options={"min_block_size": 1, "enabled_precisions": {torch.float16}}
    )
    with simulate(), torch.no_grad():
        x = torch.randn(3, 4)
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-2, atol=1e-2)
    (graph,) = backend_stats().graphs
    assert graph.outcome == "engines"


def test_entry_points_register_both_names_in_a_process_that_never_imports_torch_tensorrt(tmp_path):
    script = tmp_path / "fresh.py"
    script.write_text(
        textwrap.dedent("""
        import json, sys
        import torch

        backends = torch._dynamo.list_backends()
        before = "torch_tensorrt" in sys.modules
        results = {}
        for name in ("tensorrt", "torch_tensorrt"):
            torch._dynamo.reset()
            model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU())
            compiled = torch.compile(model, backend=name, options={"min_block_size": 1})
            with torch.no_grad():
                try:
                    compiled(torch.randn(2, 4))
                    ran = "ok"
                except Exception as exc:  # reported below; the test decides what is expected
                    ran = type(exc).__name__
            stats = sys.modules["torch_tensorrt.dynamo._backend_stats"].backend_stats(reset=True)
            results[name] = {"ran": ran, "engines": stats.engines_built, "fallbacks": stats.fallbacks}
        print(json.dumps({"listed": [b for b in ("tensorrt", "torch_tensorrt") if b in backends],
                          "imported_before_compile": before, "results": results}))
    """)
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["listed"] == ["tensorrt", "torch_tensorrt"]
    assert report["imported_before_compile"] is False
    expected_run = "ok" if torch.cuda.is_available() else "EngineExecutionError"  # real engines need a GPU
    for name in ("tensorrt", "torch_tensorrt"):
        assert report["results"][name] == {"ran": expected_run, "engines": 1, "fallbacks": 0}, name


# -- autograd -----------------------------------------------------------------------------------------------------
def test_graph_needing_gradients_runs_in_pytorch_with_one_message(caplog, engine_calls):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))  # parameters require grad
    compiled = torch.compile(model, backend="tensorrt", options={"min_block_size": 1})
    x = torch.randn(3, 4)
    with simulate(), caplog.at_level(logging.WARNING, logger=BACKEND_LOG):
        out = compiled(x)
        out.sum().backward()
        assert model[0].weight.grad is not None
        compiled(torch.randn(5, 4)).sum().backward()  # a second graph (new batch): no second message
    messages = [r.getMessage() for r in caplog.records if "inference-only" in r.getMessage()]
    assert len(messages) == 1 and "torch.no_grad()" in messages[0]
    assert engine_calls == []
    stats = backend_stats()
    assert stats.fallbacks == stats.graphs_compiled == 2
    with simulate(), torch.no_grad():
        _close(compiled(x), model(x))
    assert len(engine_calls) == 1


def test_graph_updating_its_buffers_runs_in_pytorch(caplog):
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU()).train()  # updates running statistics
    reference = copy.deepcopy(model)
    compiled = torch.compile(model, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.no_grad(), caplog.at_level(logging.WARNING, logger=BACKEND_LOG):
        for _ in range(2):
            x = torch.randn(3, 4)
            _close(compiled(x), reference(x))
    torch.testing.assert_close(model[1].running_mean, reference[1].running_mean)
    assert model[1].num_batches_tracked.item() == 2
    (graph,) = backend_stats().graphs
    assert graph.outcome == "pytorch" and "running_mean" in graph.reason and "training mode" in graph.reason


def test_inference_mode_uses_engines(engine_calls):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    compiled = torch.compile(model, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.inference_mode():
        for batch in (2, 3):
            x = torch.randn(batch, 4)
            _close(compiled(x), model(x))
    assert backend_stats().fallbacks == 0 and len(engine_calls) == 2


# -- failures and visibility --------------------------------------------------------------------------------------
def _fail_on_relu(monkeypatch):
    from torch_tensorrt._errors import ConversionError
    from torch_tensorrt.dynamo.conversion._interpreter import TRTInterpreter

    convert = TRTInterpreter._convert

    def failing(self, node):
        if node.target is torch.ops.aten.relu.default:
            raise ConversionError(node, "injected failure")
        return convert(self, node)

    monkeypatch.setattr(TRTInterpreter, "_convert", failing)


def test_build_failure_runs_the_graph_in_pytorch_with_one_warning(monkeypatch, caplog):
    _fail_on_relu(monkeypatch)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    compiled = torch.compile(model, backend="tensorrt", options={"min_block_size": 1})
    with simulate(), torch.no_grad(), caplog.at_level(logging.WARNING, logger="torch_tensorrt"):
        x = torch.randn(3, 4)
        _close(compiled(x), model(x))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "runs in PyTorch" in warnings[0] and "(aten.relu.default)" in warnings[0]
    assert "injected failure" in warnings[0]
    assert backend_stats().fallbacks == 1


def test_build_failure_raises_with_pass_through_build_failures(monkeypatch):
    _fail_on_relu(monkeypatch)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    compiled = torch.compile(
        model, backend="tensorrt", options={"min_block_size": 1, "pass_through_build_failures": True}
    )
    with simulate(), torch.no_grad(), pytest.raises(Exception, match="injected failure"):
        compiled(torch.randn(3, 4))


def test_debug_option_logs_graph_ranges_engines_fallback_ops_and_build_time(caplog):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)).eval()
    options = {"min_block_size": 1, "torch_executed_ops": {"aten.tanh.default"}, "debug": True}
    compiled = torch.compile(model, backend="tensorrt", options=options)
    with simulate(), torch.no_grad(), caplog.at_level(logging.DEBUG, logger=BACKEND_LOG):
        for batch in (2, 3):
            compiled(torch.randn(batch, 4))
    logs = [r.getMessage() for r in caplog.records if r.name == BACKEND_LOG and r.levelno == logging.DEBUG]
    assert len(logs) == 2
    dynamic = logs[1]
    assert dynamic.startswith("graph ") and "engines in" in dynamic
    assert "engine min 2 opt 3 max 512" in dynamic  # the symbol's range
    assert dynamic.count("  engine _run_on_acc_") == 2 and "built in" in dynamic
    assert "in PyTorch:" in dynamic and "(aten.tanh.default): listed in torch_executed_ops" in dynamic
