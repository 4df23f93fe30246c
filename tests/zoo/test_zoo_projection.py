"""coverage() projects what compile() does: for every zoo model the engines it names are the engines compile
partitions into, the operators it leaves to PyTorch are the ones compile leaves there, and no engine output exists
only for a PyTorch no-op (an export assert, an alias) -- a check kept in the graph would turn every tensor it
looks at into an extra engine output.

Affordable: each model is exported once at its CI size and compiled with ``dryrun=True`` (lowering and
partitioning, the stages that decide engines and outputs; no TensorRT build). The tiny-decoder test in
tests/unit/test_runtime_checks.py builds for real.
"""

from __future__ import annotations

import operator
from typing import Iterator

import pytest
import torch
import torch.fx

from examples.zoo import BY_NAME, ZOO
from torch_tensorrt.dynamo._graph import ASSERT_OPS, NOOP_OPS
from torch_tensorrt.dynamo.partitioning._partitioner import ACC_PREFIX, TORCH_PREFIX, is_compute_node

pytestmark = pytest.mark.zoo


def _submodule_calls(gm: torch.fx.GraphModule, prefix: str) -> Iterator[torch.fx.Node]:
    return (n for n in gm.graph.nodes if n.op == "call_module" and str(n.target).startswith(prefix))


def pytorch_nodes(gm: torch.fx.GraphModule) -> list[torch.fx.Node]:
    """The nodes outside the TensorRT submodules: the top-level graph and the ``_run_on_gpu_N`` segments."""
    nodes = list(gm.graph.nodes)
    for call in _submodule_calls(gm, TORCH_PREFIX):
        nodes += list(gm.get_submodule(str(call.target)).graph.nodes)
    return nodes


def engine_outputs(call: torch.fx.Node) -> list[torch.fx.Node]:
    """The nodes holding an engine call's outputs: its ``getitem`` users (several outputs) or the call itself."""
    items = [u for u in call.users if u.op == "call_function" and u.target is operator.getitem]
    return items if items else [call]


def _real_uses(gm: torch.fx.GraphModule, node: torch.fx.Node) -> list[torch.fx.Node]:
    """The uses of ``node`` that compute something, looking through indexing, no-ops and into the PyTorch
    segments (an argument of ``_run_on_gpu_N`` continues at that segment's placeholder)."""
    uses: list[torch.fx.Node] = []
    for user in node.users:
        if user.op == "call_function" and (user.target in NOOP_OPS or user.target is operator.getitem):
            uses += _real_uses(gm, user)
        elif user.op == "call_function" and user.target in ASSERT_OPS:
            continue
        elif user.op == "call_module" and str(user.target).startswith(TORCH_PREFIX):
            sub = gm.get_submodule(str(user.target))
            placeholders = [p for p in sub.graph.nodes if p.op == "placeholder"]
            for arg, ph in zip(user.args, placeholders):
                if arg is node:
                    uses += _real_uses(sub, ph)
        else:
            uses.append(user)
    return uses


@pytest.mark.parametrize("name", [m.name for m in ZOO])
def test_coverage_projection_equals_compile(name: str) -> None:
    import torch_tensorrt
    from torch_tensorrt.dynamo import coverage

    entry = BY_NAME[name]
    pytest.importorskip(entry.requires)
    model, inputs = entry.build()
    ep = torch.export.export(model, tuple(inputs))
    report = coverage(ep, list(inputs))
    gm = torch_tensorrt.dynamo.compile(ep, list(inputs), dryrun=True)

    engines = {str(c.target): c for c in _submodule_calls(gm, ACC_PREFIX)}
    assert sorted(engines) == sorted(report.engines), report.summary()
    for engine, count in report.engines.items():
        assert sum(is_compute_node(n) for n in gm.get_submodule(engine).graph.nodes) == count, engine
    in_pytorch = pytorch_nodes(gm)
    assert sorted(n.name for n in in_pytorch if is_compute_node(n)) == sorted(n.node for n in report.left_in_pytorch)
    asserts = [n.name for n in in_pytorch if n.op == "call_function" and n.target in ASSERT_OPS]
    assert not asserts, f"export checks left in the compiled graph: {asserts}"
    for engine, call in engines.items():
        useless = [v.name for v in engine_outputs(call) if not _real_uses(gm, v)]
        assert not useless, f"{engine}: outputs {useless} feed only PyTorch no-ops"
