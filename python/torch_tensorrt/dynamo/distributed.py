"""Tensor-parallel models: each rank compiles its shard; collectives stay in PyTorch, between engines.

Two kinds of model are supported, on every rank, with ``torch_tensorrt.compile``, ``dynamo.trace`` +
``dynamo.compile`` and ``torch.compile(backend="tensorrt")``:

* models that call functional collectives themselves (``torch.distributed._functional_collectives``): they
  export as they are;
* models sharded with ``torch.distributed.tensor.parallel.parallelize_module`` (DTensor parameters,
  ``ColwiseParallel`` / ``RowwiseParallel`` ...). ``torch.export`` cannot trace DTensor construction, so
  :func:`localize` first traces the model to ATen on *local* tensors -- DTensor's own dispatch turns each
  redistribution into functional collectives -- and freezes this rank's shards as constants. The result is a
  plain module, exported and compiled like any other (:func:`export_sharded`).

Collectives are recognised by :mod:`torch_tensorrt._collectives`; the partitioner keeps them in PyTorch
(reason: ``"collective: runs in PyTorch on the process group"``) and groups each collective with its
``wait_tensor`` into one PyTorch partition, so a block between two collectives is one engine.
:func:`summarize` reports, per rank, the engines and the operators left to PyTorch.

Tracing runs on fake tensors: nothing communicates, nothing touches CUDA. Shapes are static (the example
inputs'); dynamic ranges on a DTensor model are refused with a clear error.
"""

from __future__ import annotations

import operator
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch
import torch.fx
from torch.utils import _pytree as pytree

from torch_tensorrt._collectives import COLLECTIVE_NAMESPACES, is_collective
from torch_tensorrt._errors import op_name

__all__ = [
    "is_sharded",
    "localize",
    "export_sharded",
    "is_sharded_graph",
    "compile_sharded_graph",
    "RankSummary",
    "summarize",
]


def _dtensor_type() -> Any:
    """DTensor, if anything imported it (no DTensor can exist otherwise; importing it costs ~0.5 s)."""
    module = sys.modules.get("torch.distributed.tensor")
    return getattr(module, "DTensor", None)


def _is_dtensor(value: Any) -> bool:
    dtensor = _dtensor_type()
    return dtensor is not None and isinstance(value, dtensor)


def is_sharded(module: torch.nn.Module) -> bool:
    """True when a parameter or buffer of ``module`` is a DTensor (``parallelize_module`` / ``distribute_tensor``)."""
    return any(_is_dtensor(t) for t in (*module.parameters(), *module.buffers()))


# ------------------------------------------------------------------------------------------- local tracing
@dataclass
class _LocalTrace:
    """A graph over local tensors: ``gm(*inputs)`` takes the traced positions not frozen, returns flat outputs."""

    gm: torch.fx.GraphModule
    input_positions: list[int]
    out_spec: pytree.TreeSpec


def _trace_local(fn: Callable[..., Any], leaves: Sequence[Any], frozen: set[int], what: str) -> _LocalTrace:
    """Trace ``fn(*leaves)`` to ATen on local tensors.

    DTensor leaves are passed as their local tensors and rebuilt inside the trace (``DTensor.from_local`` with the
    global shape: no communication), so the ops DTensor dispatches to -- local compute and functional
    collectives -- are what gets recorded. Tensor leaves at ``frozen`` positions become constants of the graph
    (this rank's shard); non-tensor leaves (device meshes, flags) are baked in.
    """
    from torch.fx.experimental.proxy_tensor import make_fx

    dtensor = _dtensor_type()
    specs = {
        i: (v.device_mesh, tuple(v.placements), v.shape, v.stride())
        for i, v in enumerate(leaves)
        if dtensor is not None and isinstance(v, dtensor)
    }
    traced = [i for i, v in enumerate(leaves) if isinstance(v, torch.Tensor)]
    values = [(leaves[i].to_local() if i in specs else leaves[i]).detach() for i in traced]
    out_specs: list[pytree.TreeSpec] = []

    def flat(*tensors: torch.Tensor) -> list[Any]:
        call = list(leaves)
        for i, t in zip(traced, tensors):
            if i in specs:
                mesh, placements, shape, stride = specs[i]
                t = dtensor.from_local(  # type: ignore[union-attr]
                    t, mesh, placements, run_check=False, shape=shape, stride=stride
                )
            call[i] = t
        outputs, spec = pytree.tree_flatten(fn(*call))
        out_specs.append(spec)
        for k, out in enumerate(outputs):
            if _is_dtensor(out):
                raise TypeError(
                    f"{what}: output {k} is a DTensor; compiled programs return this rank's plain tensors -- end the "
                    "model with a parallel style that returns local tensors (use_local_output=True, the default) "
                    "or call .to_local() on the output"
                )
        return outputs

    # A fresh fake mode: inside torch.compile's backend, make_fx would adopt dynamo's (symbolic sizes, guards).
    with torch.no_grad(), torch._guards.tracing(None):
        gm = make_fx(flat, tracing_mode="fake")(*values)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    for k, (i, node) in enumerate(zip(traced, placeholders)):
        if i not in frozen:
            continue
        name = f"_shard_{k}"
        gm.register_buffer(name, values[k].contiguous())
        with gm.graph.inserting_before(node):
            attr = gm.graph.get_attr(name)
        attr.meta = dict(node.meta)
        node.replace_all_uses_with(attr)
        gm.graph.erase_node(node)
    _views_as_reshapes(gm)
    _recompose_attention(gm)
    gm.graph._codegen = torch.fx.graph.CodeGen()  # plain positional forward: the flat tensors in, a list out
    gm.graph.lint()
    gm.recompile()
    return _LocalTrace(gm, [i for i in traced if i not in frozen], out_specs[-1])


_VIEWS = (torch.ops.aten.view.default, torch.ops.aten._unsafe_view.default)

#: The kernels ``scaled_dot_product_attention`` dispatches to, by device; only their output 0 is the attention.
_SDPA_KERNELS = tuple(
    getattr(torch.ops.aten, name).default
    for name in (
        "_scaled_dot_product_flash_attention_for_cpu",
        "_scaled_dot_product_flash_attention",
        "_scaled_dot_product_efficient_attention",
        "_scaled_dot_product_cudnn_attention",
    )
    if hasattr(torch.ops.aten, name)
)


def _recompose_attention(gm: torch.fx.GraphModule) -> None:
    """Put ``scaled_dot_product_attention`` back where the trace recorded the kernel it dispatched to (flash,
    efficient, cuDNN): the converter builds the whole attention from it, the kernel would only decompose."""
    from torch.fx.operator_schemas import normalize_function

    for node in list(gm.graph.nodes):
        if node.op != "call_function" or node.target not in _SDPA_KERNELS:
            continue
        if any(u.target is not operator.getitem or (u.args[1] != 0 and u.users) for u in node.users):
            continue  # something else than the attention output is used (logsumexp: training)
        users = list(node.users)
        found = normalize_function(node.target, node.args, node.kwargs, normalize_to_only_use_kwargs=True)
        if found is None:
            continue
        kw = found.kwargs
        mask = kw.get("attn_mask", kw.get("attn_bias"))
        with gm.graph.inserting_before(node):
            sdpa = gm.graph.call_function(
                torch.ops.aten.scaled_dot_product_attention.default,
                (kw["query"], kw["key"], kw["value"], mask, kw.get("dropout_p", 0.0), kw.get("is_causal", False)),
                {"scale": kw.get("scale")},
            )
        sdpa.meta = dict(next((u.meta for u in users if u.args[1] == 0), {}))
        for user in users:
            user.replace_all_uses_with(sdpa)
            gm.graph.erase_node(user)
        gm.graph.erase_node(node)


def _views_as_reshapes(gm: torch.fx.GraphModule) -> None:
    """Turn the trace's ``view`` nodes into ``reshape`` (unless something mutates, where aliasing matters).

    The trace runs below the composite ops, so it records the strides of the kernels it saw (CPU flash
    attention, say); exporting and decomposing again may produce other strides, where a recorded ``view`` would
    no longer be legal. ``reshape`` computes the same values and views whenever it can."""
    nodes = [n for n in gm.graph.nodes if n.op == "call_function"]
    if any(isinstance(n.target, torch._ops.OpOverload) and n.target._schema.is_mutable for n in nodes):
        return
    for node in nodes:
        if node.target in _VIEWS:
            node.target = torch.ops.aten.reshape.default


class LocalShard(torch.nn.Module):
    """This rank's program of a DTensor model as a plain module: ``forward(*args, **kwargs)`` takes the model's
    inputs and runs the local graph (shards as buffers, collectives as functional ops)."""

    def __init__(self, trace: _LocalTrace, in_spec: pytree.TreeSpec) -> None:
        super().__init__()
        self.graph_module = trace.gm
        self._positions = trace.input_positions
        self._out_spec = trace.out_spec
        self._in_spec = in_spec

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        leaves, spec = pytree.tree_flatten((args, kwargs))
        if spec != self._in_spec:
            raise TypeError(f"LocalShard: inputs are structured as {spec}, the model was traced with {self._in_spec}")
        outputs = self.graph_module(*[leaves[i] for i in self._positions])
        return pytree.tree_unflatten(list(outputs), self._out_spec)


def localize(module: torch.nn.Module, args: Sequence[Any], kwargs: Optional[dict[str, Any]] = None) -> LocalShard:
    """``module`` (DTensor-sharded) as this rank's plain :class:`LocalShard`, traced with example ``args``."""
    state = {
        **dict(module.named_parameters(remove_duplicate=False)),
        **dict(module.named_buffers(remove_duplicate=False)),
    }
    names = list(state)
    user, in_spec = pytree.tree_flatten((tuple(args), dict(kwargs or {})))
    if any(_is_dtensor(v) for v in user):
        raise TypeError(
            f"{type(module).__name__}: pass the inputs as plain tensors (the model's input styles shard them)"
        )

    def call(*leaves: Any) -> Any:
        call_args, call_kwargs = pytree.tree_unflatten(list(leaves[len(names) :]), in_spec)
        return torch.func.functional_call(module, dict(zip(names, leaves[: len(names)])), call_args, call_kwargs)

    trace = _trace_local(call, [*state.values(), *user], set(range(len(names))), type(module).__name__)
    trace.input_positions = [i - len(names) for i in trace.input_positions]
    return LocalShard(trace, in_spec)


def export_sharded(
    module: torch.nn.Module, args: Sequence[Any], kwargs: Optional[dict[str, Any]] = None, dynamic_shapes: Any = None
) -> torch.export.ExportedProgram:
    """``torch.export`` of this rank's :func:`localize`\\ d program (static shapes)."""
    if dynamic_shapes is not None:
        raise NotImplementedError(
            f"{type(module).__name__} is sharded with DTensor: its ranks compile with static shapes; give example "
            "tensors (or torch_tensorrt.Input with min == opt == max) instead of dynamic ranges"
        )
    local = localize(module, args, kwargs)
    return torch.export.export(local, tuple(args), dict(kwargs or {}) or None, strict=False)


# ---------------------------------------------------------------------------------- torch.compile backend
def is_sharded_graph(example_inputs: Sequence[Any]) -> bool:
    """True when a graph handed to the ``torch.compile`` backend takes DTensors (or device meshes)."""
    mesh_type = getattr(sys.modules.get("torch.distributed.device_mesh"), "DeviceMesh", ())
    return any(_is_dtensor(v) or isinstance(v, mesh_type) for v in example_inputs)


def _is_state(value: Any) -> bool:
    return isinstance(value, torch.nn.Parameter) or getattr(value, "_dynamo_static_input_type", None) is not None


def compile_sharded_graph(
    gm: torch.fx.GraphModule, example_inputs: Sequence[Any], settings: Any, compile_fn: Callable[..., Any]
) -> Callable[..., Any]:
    """The ``torch.compile`` backend for graphs over DTensors: trace to local tensors (parameters and this rank's
    shards frozen as engine weights), export, ``compile_fn`` (:func:`torch_tensorrt.dynamo.compile`, passed in: this
    module sits below the compiler). The returned callable takes the graph's inputs and passes the user tensors on."""
    frozen = {i for i, v in enumerate(example_inputs) if _is_state(v)}
    trace = _trace_local(gm, list(example_inputs), frozen, "torch.compile graph")
    positions = trace.input_positions
    user = tuple(example_inputs[i] for i in positions)
    if any(_is_dtensor(v) for v in user):
        raise TypeError("torch_tensorrt backend: DTensor graph inputs must be parameters or buffers of the model")
    ep = torch.export.export(trace.gm, user, strict=False)
    compiled = compile_fn(ep, list(user), settings=settings)

    def run(*inputs: Any) -> Any:
        return pytree.tree_unflatten(list(compiled(*[inputs[i] for i in positions])), trace.out_spec)

    run.compiled_module = compiled  # type: ignore[attr-defined]
    return run


# ------------------------------------------------------------------------------------------------ summary
@dataclass
class RankSummary:
    """What one rank's compiled program runs where."""

    engines: int = 0
    #: operators that run in PyTorch (``op_name``), in graph order
    torch_ops: list[str] = field(default_factory=list)
    #: PyTorch partitions of a compiled GraphModule (``_run_on_gpu_N``), each with its operators
    torch_partitions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def collectives(self) -> list[str]:
        return [op for op in self.torch_ops if _is_collective_name(op)]

    @property
    def only_collectives(self) -> bool:
        """True when every operator left to PyTorch is a collective."""
        return len(self.collectives) == len(self.torch_ops)


def _is_collective_name(name: str) -> bool:
    return name.split(".", 1)[0] in COLLECTIVE_NAMESPACES


def _is_engine_call(node: torch.fx.Node) -> bool:
    return node.op == "call_function" and getattr(node.target, "namespace", None) == "tensorrt"


def _counted(node: torch.fx.Node) -> bool:
    return node.op == "call_function" and node.target is not operator.getitem and not _is_engine_call(node)


def summarize(module: Any) -> RankSummary:
    """Engines and PyTorch operators of a compiled program: the GraphModule of ``compile``, the ``.module()`` of
    a loaded ExportedProgram, or an ExportedProgram."""
    from torch_tensorrt.runtime import TorchTensorRTModule

    if isinstance(module, torch.export.ExportedProgram):
        module = module.graph_module
    summary = RankSummary()
    if not isinstance(module, torch.fx.GraphModule):
        raise TypeError(f"summarize: expected a compiled GraphModule or ExportedProgram, got {type(module).__name__}")
    for node in module.graph.nodes:
        if _is_engine_call(node):
            summary.engines += 1
        elif node.op == "call_module":
            sub = module.get_submodule(str(node.target))
            if isinstance(sub, TorchTensorRTModule):
                summary.engines += 1
            elif isinstance(sub, torch.fx.GraphModule):
                ops = [op_name(n) for n in sub.graph.nodes if _counted(n)]
                summary.torch_partitions[str(node.target)] = ops
                summary.torch_ops += ops
        elif _counted(node) and not isinstance(node.meta.get("val"), (int, torch.SymInt)):
            summary.torch_ops.append(op_name(node))
    return summary


def collective_partitions(module: torch.fx.GraphModule) -> dict[str, list[str]]:
    """The PyTorch partitions of a compiled GraphModule that hold collectives, with their operators."""
    out = {}
    for name, sub in module.named_children():
        if isinstance(sub, torch.fx.GraphModule) and any(is_collective(n) for n in sub.graph.nodes):
            out[name] = [op_name(n) for n in sub.graph.nodes if _counted(n)]
    return out
