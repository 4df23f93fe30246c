"""Deferred code generation (``dynamo._codegen``): the passes, the partitioner and the compiler regenerate a
module's Python code once, not after every edit -- and every module anyone can call or observe is up to date."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import torch_tensorrt
from torch_tensorrt.dynamo import CompilationSettings, _codegen, _stages
from torch_tensorrt.dynamo.lowering import passes
from torch_tensorrt.dynamo.lowering import run_passes
from torch_tensorrt.dynamo.partitioning import partition
from torch_tensorrt.testing import simulate


class _ConvNet(nn.Module):
    """Conv + BatchNorm (folded), in-place ReLU (functionalized), a residual add: several passes change it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu_(self.bn(self.conv(x)))
        return y + x


def _module() -> tuple[nn.Module, torch.Tensor, torch.fx.GraphModule]:
    torch.manual_seed(0)
    model, x = _ConvNet().eval(), torch.randn(1, 3, 8, 8)
    return model, x, torch.export.export(model, (x,)).module()


def _up_to_date(gm: torch.fx.GraphModule) -> bool:
    """Whether ``gm``'s generated code is the code of its graph now (and so for its GraphModule children)."""
    fresh = gm.graph.python_code(root_module="self").src
    children = [c for c in gm.children() if isinstance(c, torch.fx.GraphModule)]
    return gm.code == fresh and all(_up_to_date(c) for c in children)


@pytest.fixture
def recompiles(monkeypatch):
    """The GraphModules ``GraphModule.recompile`` is called on, in order (the recursion into children included)."""
    calls: list[torch.fx.GraphModule] = []
    original = torch.fx.GraphModule.recompile

    def counting(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(torch.fx.GraphModule, "recompile", counting)
    return calls


def test_run_passes_recompiles_once_and_leaves_a_runnable_module(recompiles):
    model, x, gm = _module()
    recompiles.clear()
    out = run_passes(gm, CompilationSettings())
    assert recompiles == [out]  # several passes changed the graph; one code generation at the end
    assert _up_to_date(out)
    torch.testing.assert_close(out(x), model(x), rtol=1e-5, atol=1e-5)


def test_a_pass_on_its_own_leaves_a_runnable_module():
    model, x, gm = _module()
    before = gm.code
    out = passes.fold_batch_norm(gm, CompilationSettings())
    assert out.code != before and _up_to_date(out)
    torch.testing.assert_close(out(x), model(x), rtol=1e-5, atol=1e-5)


def test_stage_observers_see_runnable_modules_after_every_pass():
    model, x, gm = _module()
    seen: list[str] = []

    def observer(stage: str, module: torch.fx.GraphModule) -> None:
        assert _up_to_date(module), stage
        torch.testing.assert_close(module(x), model(x), rtol=1e-5, atol=1e-5)
        seen.append(stage)

    _stages.add_stage_observer(observer)
    try:
        run_passes(gm, CompilationSettings())
    finally:
        _stages.remove_stage_observer(observer)
    assert seen == [p.__name__ for p in passes.PASSES]
    assert not _stages.has_observers()


def test_partition_leaves_runnable_modules_and_never_rebuilds_the_submodule_map_per_node(monkeypatch):
    model, x, gm = _module()
    settings = CompilationSettings(min_block_size=1)
    gm = run_passes(gm, settings)
    nodes = len(gm.graph.nodes)
    walks = []
    original = torch.nn.Module.named_modules

    def counting(self, *args, **kwargs):
        if self is gm:
            walks.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "named_modules", counting)
    result = partition(gm, settings)
    assert result.acc_names and len(walks) <= 3 < nodes  # one map per proposal (torch's own: one per node)
    assert _up_to_date(result.gm)
    torch.testing.assert_close(result.gm(x), model(x), rtol=1e-5, atol=1e-5)


def test_compile_generates_code_once_after_unlifting(recompiles, monkeypatch):
    model, x, _ = _module()
    ep = torch.export.export(model, (x,))
    unlifted: list[int] = []  # how many recompiles torch's unlifting (ExportedProgram.module) did
    original = torch.export.ExportedProgram.module

    def module(self, *args, **kwargs):
        gm = original(self, *args, **kwargs)
        unlifted.append(len(recompiles))
        return gm

    monkeypatch.setattr(torch.export.ExportedProgram, "module", module)
    with simulate():
        compiled = torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1)
        assert len(compiled.compile_report.engines) == 1 and len(unlifted) == 1
        after = recompiles[unlifted[0] :]
        # the partition's code is generated once, as it is fused (torch's lift_subgraph_as_module); the passes, the
        # partitioner's sort, renames and moves and the engine swap generate none; the result's code is generated
        # once, at the end (before: 13 recompiles here, 6 of them of the partition or the whole graph)
        conv = torch.ops.aten.conv2d.default
        assert len([gm for gm in after if gm.graph.find_nodes(op="call_function", target=conv)]) == 1
        assert after[-1] is compiled and len(after) == 2 and _up_to_date(compiled)
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-3, atol=1e-3)


def test_compile_with_observers_or_dryrun_shows_runnable_modules():
    model, x, _ = _module()
    ep = torch.export.export(model, (x,))
    stages: list[str] = []

    def observer(stage: str, module: torch.fx.GraphModule) -> None:
        assert _up_to_date(module), stage
        stages.append(stage)

    with simulate():
        _stages.add_stage_observer(observer)
        try:
            compiled = torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1)
        finally:
            _stages.remove_stage_observer(observer)
        assert stages[-2:] == ["partitioned", "compiled"]
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-3, atol=1e-3)
    dry = torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1, dryrun=True)
    assert _up_to_date(dry)
    torch.testing.assert_close(dry(x), model(x), rtol=1e-5, atol=1e-5)


def _graph_module() -> torch.fx.GraphModule:
    return torch.fx.symbolic_trace(nn.Sequential(nn.Linear(2, 2)))


def test_deferred_blocks_join_and_the_outermost_recompiles(recompiles):
    gm = _graph_module()
    recompiles.clear()
    with _codegen.deferred() as outer:
        with _codegen.deferred() as inner:
            assert inner is outer
            _codegen.recompile(gm)
            _codegen.recompile(gm)
        assert gm in outer and recompiles == []
    assert recompiles == [gm]
    _codegen.recompile(gm)  # outside any block: at once
    assert recompiles == [gm, gm]


def test_flush_recompiles_a_child_with_its_parent_once_and_forget_drops_children(recompiles):
    parent = _graph_module()
    child = _graph_module()
    parent.add_submodule("child", child)
    recompiles.clear()
    with _codegen.deferred() as pending:
        _codegen.recompile(child)
        _codegen.recompile(parent)
        pending.flush()
        assert recompiles == [parent, child]  # the child through its parent's recursion only
        _codegen.recompile(child)
        _codegen.recompile(parent)
        pending.forget(parent)
        assert len(pending) == 0
    assert len(recompiles) == 2


def test_a_failing_block_recompiles_nothing(recompiles):
    gm = _graph_module()
    recompiles.clear()
    with pytest.raises(RuntimeError), _codegen.deferred():
        _codegen.recompile(gm)
        raise RuntimeError("a pass failed")
    assert recompiles == []
    _codegen.recompile(gm)  # the block is gone: at once
    assert recompiles == [gm]


def test_map_weights_gives_the_sequential_results_without_autograd_and_restores_the_thread_count():
    from torch_tensorrt.dynamo.lowering.passes._common import map_weights

    weights = [nn.Parameter(torch.randn(n, 3, 3, 3)) for n in (4, 64, 7, 128)]
    before = torch.get_num_threads()
    threads: list[int] = []

    def scaled(w: torch.Tensor) -> torch.Tensor:
        threads.append(torch.get_num_threads())
        return w * 0.5

    out = map_weights(scaled, weights)
    assert torch.get_num_threads() == before
    assert set(threads) == {1}  # every op on one intra-op thread
    for w, o in zip(weights, out):
        assert not o.requires_grad and torch.equal(o, w.detach() * 0.5)

    def failing(w: torch.Tensor) -> torch.Tensor:
        raise ValueError("bad weight")

    with pytest.raises(ValueError):
        map_weights(failing, weights)
    assert torch.get_num_threads() == before


def test_map_weights_under_a_mode_runs_on_the_callers_thread():
    """Modes are per thread: refit's weight tracker must see every op that computes a folded weight."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from torch_tensorrt.dynamo.lowering.passes._common import map_weights

    class Recorder(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.ops: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(str(func))
            return func(*args, **(kwargs or {}))

    weights = [torch.randn(8, 3) for _ in range(4)]
    with Recorder() as recorder:
        map_weights(lambda w: w * 2, weights)
    assert recorder.ops.count("aten.mul.Tensor") == 4
