"""``torch.compile(model, backend="tensorrt", options={...})``.

Dynamo hands the backend an FX graph and example inputs. Parameters and buffers arrive as graph inputs (torch
inlines nn.Modules); the backend freezes them into the graph as constants, so they become engine weights, and
the returned callable drops them from each call. The rest follows the AOT path: ``torch.export`` ->
:func:`torch_tensorrt.dynamo.compile`. Engines are built on the first call (JIT) and live in memory only; use
``torch_tensorrt.compile(..., ir="dynamo")`` + ``torch_tensorrt.save`` for artifacts.

Graphs with symbolic sizes (``dynamic=True`` or automatic dynamic shapes after a recompile) run in PyTorch with
a warning: give the ranges with ``torch_tensorrt.Input`` on the AOT path, or pass ``dynamic=False``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Sequence

import torch
import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings

logger = logging.getLogger(__name__)


def _is_frozen_input(value: Any) -> bool:
    return isinstance(value, torch.nn.Parameter) or getattr(value, "_dynamo_static_input_type", None) is not None


def _freeze_inputs(gm: torch.fx.GraphModule, example_inputs: Sequence[Any]) -> tuple[torch.fx.GraphModule, set[int]]:
    """A copy of ``gm`` whose placeholders fed by parameters/buffers are ``get_attr`` constants, and their
    indices. (Dynamo reads the placeholders of the graph it handed over after the backend returns, so that
    graph must stay as it is.)"""
    graph = torch.fx.Graph()
    graph.output(graph.graph_copy(gm.graph, {}))
    gm = torch.fx.GraphModule(gm, graph)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    frozen = {i for i, v in enumerate(example_inputs) if _is_frozen_input(v)}
    for i in sorted(frozen):
        name = f"_torchtrt_frozen_{i}"
        gm.register_buffer(name, example_inputs[i].detach())
        node = placeholders[i]
        with gm.graph.inserting_before(node):
            attr = gm.graph.get_attr(name)
        attr.meta = dict(node.meta)
        node.replace_all_uses_with(attr)
        gm.graph.erase_node(node)
    gm.graph.lint()
    gm.recompile()
    return gm, frozen


def tensorrt_backend(
    gm: torch.fx.GraphModule, example_inputs: Sequence[Any], *, options: Optional[dict[str, Any]] = None, **_: Any
) -> Callable[..., Any]:
    """The dynamo backend (registered as ``tensorrt`` and ``torch_tensorrt``)."""
    from torch_tensorrt import dynamo
    from torch_tensorrt.dynamo import _frontend

    settings = CompilationSettings.from_kwargs(**(options or {}))
    symbolic = any(
        isinstance(v, torch.SymInt) or (isinstance(v, torch.Tensor) and any(isinstance(s, torch.SymInt) for s in v.shape))
        for v in example_inputs
    )
    if symbolic:
        logger.warning(
            "torch_tensorrt backend: graph has symbolic sizes; running it in PyTorch. Use torch.compile(..., "
            "dynamic=False) or torch_tensorrt.compile with torch_tensorrt.Input ranges for dynamic engines."
        )
        return gm.forward
    from torch_tensorrt.dynamo import distributed

    if distributed.is_sharded_graph(example_inputs):  # DTensor model: trace to this rank's local tensors
        return distributed.compile_sharded_graph(gm, example_inputs, settings, dynamo.compile)
    gm, frozen = _freeze_inputs(gm, example_inputs)
    spec = _frontend.UserInputs([v for i, v in enumerate(example_inputs) if i not in frozen])
    with torch.no_grad():
        ep = _frontend.export(gm, spec)  # static: the example tensors as they are
        compiled = dynamo.compile(ep, spec.args, settings=settings)

    def run(*args: Any) -> Any:
        return compiled(*[a for i, a in enumerate(args) if i not in frozen])

    run.compiled_module = compiled  # type: ignore[attr-defined]
    return run
