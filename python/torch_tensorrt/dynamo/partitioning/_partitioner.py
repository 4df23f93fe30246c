"""Capability-based partitioning into TensorRT and PyTorch parts.

A node is *supported* when the converter registry has a converter whose validator accepts it (and it is not in
``torch_executed_ops``). ``operator.getitem`` follows the node it indexes. Size computations (nodes producing
SymInts) always stay in PyTorch: inside an engine they are rebuilt from the inputs' dimensions -- so a node
using an integer input that no tensor input's shape carries (a dynamic ``int`` argument), or a symbolic float,
stays in PyTorch too.
Partitions with fewer than ``min_block_size`` operators are dropped (their ops run in PyTorch). The operators
left to PyTorch are grouped into ``_run_on_gpu_N`` submodules, TensorRT partitions are ``_run_on_acc_N``.
"""

from __future__ import annotations

import heapq
import operator
from dataclasses import dataclass, field
from typing import Mapping, Optional, cast

import torch
import torch.fx
from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner, Partition
from torch.fx.passes.operator_support import OperatorSupportBase
from torch.fx.passes.utils.fuser_utils import erase_nodes, fuse_as_graphmodule, insert_subgm, topo_sort

from torch_tensorrt._collectives import COLLECTIVE_REASON, is_collective
from torch_tensorrt._errors import TorchTensorRTError, UnsupportedOperatorError
from torch_tensorrt.dynamo import _codegen
from torch_tensorrt.dynamo._graph import get_attr_value
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS

#: Prefix of the submodules holding TensorRT partitions.
ACC_PREFIX = "_run_on_acc_"
#: Prefix of the submodules holding the operators that run in PyTorch.
TORCH_PREFIX = "_run_on_gpu_"


def _is_tensor_node(node: torch.fx.Node) -> bool:
    val = node.meta.get("val")
    if isinstance(val, torch.Tensor):
        return True
    if isinstance(val, (list, tuple)) and val and all(isinstance(v, torch.Tensor) or v is None for v in val):
        return True
    return False


@dataclass
class SupportReport:
    """Per-node decision of the partitioner (also used by the coverage report)."""

    supported: dict[torch.fx.Node, bool] = field(default_factory=dict)
    reasons: dict[torch.fx.Node, str] = field(default_factory=dict)


class TensorRTSupport(OperatorSupportBase):
    def __init__(self, settings: CompilationSettings) -> None:
        self.settings = settings
        self.report = SupportReport()

    def is_node_supported(self, submodules: Mapping[str, torch.nn.Module], node: torch.fx.Node) -> bool:
        if node in self.report.supported:
            return self.report.supported[node]
        ok, reason = self._decide(submodules, node)
        self.report.supported[node] = ok
        if not ok:
            self.report.reasons[node] = reason
        return ok

    def _decide(self, submodules: Mapping[str, torch.nn.Module], node: torch.fx.Node) -> tuple[bool, str]:
        if node.op != "call_function":
            return False, f"{node.op} node"
        if is_collective(node):
            return False, COLLECTIVE_REASON
        if node.target is operator.getitem:
            src = node.args[0]
            ok = isinstance(src, torch.fx.Node) and self.is_node_supported(submodules, src) and _is_tensor_node(node)
            return ok, "" if ok else "indexes a node that runs in PyTorch"
        if not _is_tensor_node(node):
            return False, "size computation (runs in PyTorch)"
        floats = [
            a.name for a in node.all_input_nodes if isinstance(a.meta.get("val"), (torch.SymFloat, torch.SymBool))
        ]
        if floats:
            return False, f"uses the scalar(s) {', '.join(floats)} computed in PyTorch (engines take tensors and sizes)"
        foreign = _foreign_symbols(node)
        if foreign:
            return False, f"uses the integer input(s) {', '.join(foreign)}, which no tensor input's shape carries"
        decision = CONVERTERS.decide(node, self.settings)
        return decision.supported, decision.reason


def _foreign_symbols(node: torch.fx.Node) -> list[str]:
    """Shape symbols of ``node``'s SymInt arguments that are not a dimension of any tensor placeholder."""
    used: set[str] = set()
    for arg in node.all_input_nodes:
        val = arg.meta.get("val")
        for v in val if isinstance(val, (list, tuple)) else [val]:
            if isinstance(v, torch.SymInt):
                used |= {str(s) for s in v.node.expr.free_symbols}
    if not used:
        return []
    carried: set[str] = set()
    names: dict[str, str] = {}
    for ph in node.graph.find_nodes(op="placeholder"):
        val = ph.meta.get("val")
        if isinstance(val, torch.Tensor):
            carried |= {str(cast(torch.SymInt, d).node.expr) for d in val.shape if isinstance(d, torch.SymInt)}
        elif isinstance(val, torch.SymInt):
            names[str(val.node.expr)] = f"{ph.name} ({val.node.expr})"
    return sorted(names.get(s, s) for s in used - carried)


def is_compute_node(node: torch.fx.Node) -> bool:
    """Nodes that count towards ``min_block_size`` and ``require_full_compilation``."""
    return node.op == "call_function" and node.target is not operator.getitem and _is_tensor_node(node)


class _Partitioner(CapabilityBasedPartitioner):
    """torch's partitioner, with two costs removed: it asks about every node with one map of the submodules per
    proposal (torch's builds the map for every node: a walk of the whole module tree each time, 40 ms on a
    ResNet-50), and fusing sorts the graph in place (torch's sort gives the module a new graph, which regenerates
    the code of the module and of every partition just fused)."""

    _submodules: Optional[dict[str, torch.nn.Module]] = None

    def propose_partitions(self) -> list[Partition]:
        self._submodules = dict(self.graph_module.named_modules())
        try:
            return super().propose_partitions()
        finally:
            self._submodules = None

    def _is_node_supported(self, node: torch.fx.Node) -> bool:
        if self._submodules is None:
            return super()._is_node_supported(node)
        return self.operator_support.is_node_supported(self._submodules, node)

    def fuse_partitions(self, partitions: list[Partition], prefix: str = "fused_") -> torch.fx.GraphModule:
        """torch's ``fuse_by_partitions`` from the same steps: each partition becomes a ``<prefix><i>`` submodule
        called where its last node was; then the graph is sorted (:func:`_stable_sort`) and checked."""
        gm = self.graph_module
        for i, part in enumerate(partitions):
            nodes = topo_sort(list(part.nodes))
            sub, inputs, outputs = fuse_as_graphmodule(gm, nodes, f"{prefix}{i}", part.nodes)
            insert_subgm(gm, sub, inputs, outputs, nodes[-1])
            erase_nodes(gm, nodes)
        _stable_sort(gm.graph)
        gm.graph.lint()
        return gm


def _stable_sort(graph: torch.fx.Graph) -> None:
    """Reorder ``graph``'s nodes, in place, so that each comes after its inputs, keeping the present order where
    the dependencies allow (the order of torch's ``stable_topological_sort``: of the nodes whose inputs are placed,
    the earliest goes next). A fused partition's call sits where its last node was; a node between its nodes that
    uses one of its results moves after it."""
    position = {node: i for i, node in enumerate(graph.nodes)}
    if all(position[arg] < i for node, i in position.items() for arg in node.all_input_nodes):
        return
    waiting = {node: len(node.all_input_nodes) for node in position}
    ready = [(i, node) for node, i in position.items() if waiting[node] == 0]
    heapq.heapify(ready)
    order: list[torch.fx.Node] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for user in node.users:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (position[user], user))
    if len(order) != len(position):
        raise TorchTensorRTError(
            f"partitioning left a cycle in the graph among {sorted(n.name for n in waiting if waiting[n])}"
        )
    previous = order[0]
    if next(iter(graph.nodes)) is not previous:
        next(iter(graph.nodes)).prepend(previous)
    for node in order[1:]:
        if previous.next is not node:
            previous.append(node)
        previous = node


@dataclass
class PartitionResult:
    gm: torch.fx.GraphModule
    acc_names: list[str]
    report: SupportReport
    #: node name (in the partitioned graph) -> name of the TensorRT submodule it went into
    node_partition: dict[str, str] = field(default_factory=dict)


def partition(gm: torch.fx.GraphModule, settings: CompilationSettings) -> PartitionResult:
    """Fuse supported regions of ``gm`` into ``_run_on_acc_N`` submodules (in graph order). ``gm`` is changed in
    place; its code (and its submodules') is regenerated once, at the end (or at the end of the caller's
    :func:`~torch_tensorrt.dynamo._codegen.deferred` block)."""
    support = TensorRTSupport(settings)
    partitioner = _Partitioner(gm, support, allows_single_node_partition=True)
    partitions: list[Partition] = partitioner.propose_partitions()
    if settings.require_full_compilation:
        _check_full(gm, support, partitions)
    else:
        partitions = [p for p in partitions if sum(is_compute_node(n) for n in p.nodes) >= settings.min_block_size]
    members = {f"fused_{i}": [n.name for n in p.nodes] for i, p in enumerate(partitions)}
    with _codegen.deferred():
        fused = partitioner.fuse_partitions(partitions) if partitions else gm
        renamed = _rename_fused(fused)
        _inline_constants(fused, list(renamed.values()))
        _group_torch_segments(fused)
    node_partition = {name: renamed[fid] for fid, names in members.items() for name in names}
    return PartitionResult(fused, list(renamed.values()), support.report, node_partition)


def _check_full(gm: torch.fx.GraphModule, support: TensorRTSupport, partitions: list[Partition]) -> None:
    submodules = dict(gm.named_modules())
    bad = [
        (n, support.report.reasons.get(n, "not supported"))
        for n in gm.graph.nodes
        if is_compute_node(n) and not support.is_node_supported(submodules, n)
    ]
    if bad:
        raise UnsupportedOperatorError(bad, "require_full_compilation=True")
    if len(partitions) > 1:
        raise TorchTensorRTError(
            f"require_full_compilation=True: the supported operators form {len(partitions)} separate TensorRT "
            "partitions (PyTorch-only nodes such as size computations or call_module nodes lie between them)"
        )


def _inline_constants(gm: torch.fx.GraphModule, acc_names: list[str]) -> None:
    """Move the constants (``get_attr`` tensors: weights, buffers) that feed a TensorRT partition into it.

    ``get_attr`` nodes are not operators, so the partitioner leaves them outside and the fused submodule would
    receive weights as call arguments -- they would become engine *inputs* instead of engine weights.
    """
    changed = False
    for node in gm.graph.nodes:
        if node.op != "call_module" or node.target not in acc_names:
            continue
        sub = cast(torch.fx.GraphModule, gm.get_submodule(node.target))
        placeholders = [n for n in sub.graph.nodes if n.op == "placeholder"]
        keep = []
        for i, (arg, ph) in enumerate(zip(node.args, placeholders)):
            if not (isinstance(arg, torch.fx.Node) and arg.op == "get_attr"):
                keep.append(arg)
                continue
            value = get_attr_value(gm, arg.target)
            if not isinstance(value, torch.Tensor):
                keep.append(arg)
                continue
            attr = f"_const_{i}_{str(arg.target).replace('.', '_')}"
            sub.register_buffer(attr, value.detach() if isinstance(value, torch.nn.Parameter) else value)
            with sub.graph.inserting_before(ph):
                get = sub.graph.get_attr(attr)
            get.meta = dict(ph.meta)
            ph.replace_all_uses_with(get)
            sub.graph.erase_node(ph)
            changed = True
        if len(keep) != len(node.args):
            node.args = tuple(keep)
            _codegen.recompile(sub)
    if changed:
        gm.graph.eliminate_dead_code()
        _codegen.recompile(gm)


class _TorchSegment(OperatorSupportBase):
    """The operators left in the parent graph (not the TensorRT submodules or indexing into their outputs)."""

    def is_node_supported(self, submodules: Mapping[str, torch.nn.Module], node: torch.fx.Node) -> bool:
        if node.op != "call_function":
            return False
        if node.target is operator.getitem:
            src = node.args[0]
            return not (isinstance(src, torch.fx.Node) and src.op == "call_module")
        return True


def _group_torch_segments(gm: torch.fx.GraphModule) -> list[str]:
    """Fuse the operators that run in PyTorch into ``_run_on_gpu_<k>`` submodules (in graph order)."""
    partitioner = _Partitioner(gm, _TorchSegment(), allows_single_node_partition=True)
    partitions = partitioner.propose_partitions()
    if not partitions:
        return []
    partitioner.fuse_partitions(partitions, prefix="torch_fused_")
    return list(_rename_fused(gm, "torch_fused_", TORCH_PREFIX).values())


def _rename_fused(gm: torch.fx.GraphModule, old_prefix: str = "fused_", new_prefix: str = ACC_PREFIX) -> dict[str, str]:
    """Rename ``<old_prefix><id>`` submodules to ``<new_prefix><k>`` in graph order; returns old -> new."""
    names: dict[str, str] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module" and str(node.target).startswith(old_prefix):
            new = f"{new_prefix}{len(names)}"
            module = gm.get_submodule(node.target)
            delattr(gm, node.target)
            gm.add_submodule(new, module)
            names[str(node.target)] = new
            node.target = new
    _codegen.recompile(gm)
    return names
