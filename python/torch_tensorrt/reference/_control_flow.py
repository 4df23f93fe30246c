"""Evaluation order and control flow of the reference evaluator: loops (``ILoop``) and conditionals (``IIfConditional``).

A network is a DAG once each loop's back edges -- the second input of an ``IRecurrenceLayer`` -- are set aside.
Loops and conditionals are *regions*: a loop holds its boundary layers (trip limits, recurrences, iterators, loop
outputs) and every layer that depends on a recurrence or iterator output; a conditional holds its condition,
input and output layers and every layer that depends on a conditional input. :func:`plan` orders the network as a
tree of regions (each region's layers contiguous, in data-flow order) and :func:`run` walks it: a loop runs its
body once per iteration, a conditional evaluates only the layers its taken branch needs.

Docs: https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-with-loops.html and
https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-with-conditionals.html
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import torch

from torch_tensorrt.reference._checks import check_output

#: Boundary layer types and the classes their attributes are read through.
LOOP_LAYERS = {
    "TRIP_LIMIT": "ITripLimitLayer",
    "RECURRENCE": "IRecurrenceLayer",
    "ITERATOR": "IIteratorLayer",
    "LOOP_OUTPUT": "ILoopOutputLayer",
}
CONDITIONAL_LAYERS = {
    "CONDITION": "IConditionLayer",
    "CONDITIONAL_INPUT": "IIfConditionalInputLayer",
    "CONDITIONAL_OUTPUT": "IIfConditionalOutputLayer",
}
CONTROL_FLOW_LAYERS = {**LOOP_LAYERS, **CONDITIONAL_LAYERS}

#: A region: ("loop" | "if", the ILoop / IIfConditional name, a key telling apart regions of equal names).
Region = tuple[str, str, int]


@dataclass
class Block:
    """One region's contents in evaluation order: layer indices and nested blocks."""

    region: Optional[Region]
    entries: list[Union[int, "Block"]] = field(default_factory=list)

    def layers(self) -> set[int]:
        """Every layer index in this block, nested blocks included."""
        out: set[int] = set()
        for e in self.entries:
            out |= e.layers() if isinstance(e, Block) else {e}
        return out


@dataclass
class Plan:
    """The network's layers (cast to their classes where control flow needs attributes), their data-flow
    dependencies and the region tree."""

    layers: list[Any]
    #: ``trt.LayerType`` names, read before any cast (some classes, e.g. IPoolingLayer, redefine ``type``)
    types: list[str]
    deps: list[set[int]]
    root: Block
    #: the region of each boundary layer (None for other layers)
    regions: list[Optional[Region]]
    #: ILoop / IIfConditional objects held for the evaluation (see :func:`_boundary_region`)
    keep: list[Any]


#: Evaluates one layer, given its index in the plan.
EvaluateLayer = Callable[[int], None]


def _boundary_region(layer: Any, type_name: str, cast: Callable[[Any, str], Any], keep: list[Any]) -> Optional[Region]:
    """The region of a boundary layer. The ILoop / IIfConditional objects are kept alive in ``keep`` for the
    whole evaluation, so the bindings hand out the same Python object for the same region and ``id`` tells
    apart two regions that share a name."""
    if type_name in LOOP_LAYERS:
        region = cast(layer, LOOP_LAYERS[type_name]).loop
        kind = "loop"
    elif type_name in CONDITIONAL_LAYERS:
        region = cast(layer, CONDITIONAL_LAYERS[type_name]).conditional
        kind = "if"
    else:
        return None
    keep.append(region)
    return (kind, region.name, id(region))


def plan(network: Any, cast: Callable[[Any, str], Any]) -> Plan:
    """Order the network's layers; ``cast(layer, class_name)`` gives a layer as its concrete class."""
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    types = [layer.type.name for layer in layers]
    keep: list[Any] = []
    regions = [_boundary_region(layer, t, cast, keep) for layer, t in zip(layers, types)]
    producer: dict[str, int] = {}
    for i, layer in enumerate(layers):
        for k in range(layer.num_outputs):
            producer[layer.get_output(k).name] = i
    condition_of: dict[Region, int] = {
        r: i for i, (r, t) in enumerate(zip(regions, types)) if t == "CONDITION" and r is not None
    }
    deps: list[set[int]] = []
    back_edges: dict[int, int] = {}  # recurrence -> producer of its second input
    for i, layer in enumerate(layers):
        needs = set()
        for k in range(layer.num_inputs):
            if types[i] == "RECURRENCE" and k == 1:
                t = layer.get_input(1)
                if t is not None and t.name in producer:
                    back_edges[i] = producer[t.name]
                continue  # the loop's back edge: not a data-flow dependency
            t = layer.get_input(k)
            if t is not None and t.name in producer and producer[t.name] != i:
                needs.add(producer[t.name])
        region = regions[i]
        if types[i] in ("CONDITIONAL_INPUT", "CONDITIONAL_OUTPUT") and region is not None and region in condition_of:
            needs.add(condition_of[region])  # branches are chosen by the condition
        deps.append(needs)
    order = _topological(list(range(len(layers))), deps)
    # Regions each layer belongs to (outermost first) and the region context of its outputs.
    member: dict[int, tuple[Region, ...]] = {}
    context: dict[int, tuple[Region, ...]] = {}
    for i in order:
        base: tuple[Region, ...] = ()
        for d in deps[i]:
            if len(context[d]) > len(base):
                base = context[d]
        region, kind = regions[i], types[i]
        if region is None:
            member[i] = context[i] = base
            continue
        inside = base[: base.index(region) + 1] if region in base else base + (region,)
        if kind == "CONDITIONAL_OUTPUT" and region in condition_of:
            inside = member[condition_of[region]]
        member[i] = inside
        context[i] = inside[:-1] if kind in ("LOOP_OUTPUT", "CONDITIONAL_OUTPUT") else inside
    # A back edge from a layer outside the loop (a loop-invariant next value) still has to be computed before
    # the loop runs: make it a dependency of the loop's region.
    region_deps = [set(d) for d in deps]
    for rec, source in back_edges.items():
        if regions[rec] not in member[source]:
            region_deps[rec].add(source)
    root = _block(None, order, 0, member, region_deps)
    return Plan(layers, types, deps, root, regions, keep)


def _topological(
    items: list[Any], deps: dict[Any, set[Any]] | list[set[int]], key: Callable[[Any], int] = lambda i: i
) -> list[Any]:
    """Kahn's algorithm, ties broken by ``key`` (insertion order); a ValueError on a cycle."""
    index = {item: n for n, item in enumerate(items)}
    users: dict[Any, list[Any]] = {}
    remaining = {}
    for item in items:
        needs = {d for d in deps[item] if d in index and d != item}
        remaining[item] = len(needs)
        for d in needs:
            users.setdefault(d, []).append(item)
    ready = [(key(item), index[item]) for item in items if remaining[item] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        item = items[n]
        order.append(item)
        for u in users.get(item, []):
            remaining[u] -= 1
            if remaining[u] == 0:
                heapq.heappush(ready, (key(u), index[u]))
    if len(order) != len(items):
        raise ValueError("reference evaluator: the network's layers form a cycle (other than loop recurrences)")
    return order


def _block(
    region: Optional[Region],
    members: list[int],
    depth: int,
    member: dict[int, tuple[Region, ...]],
    deps: list[set[int]],
) -> Block:
    """The block of ``members`` (all inside the regions ``member[i][:depth]``), nested regions grouped."""
    groups: dict[Any, list[int]] = {}
    for i in members:
        key = member[i][depth] if len(member[i]) > depth else i
        groups.setdefault(key, []).append(i)
    item_of = {i: key for key, group in groups.items() for i in group}
    items = list(groups)
    item_deps = {key: {item_of[d] for i in group for d in deps[i] if d in item_of} for key, group in groups.items()}
    first = {key: min(group) for key, group in groups.items()}
    ordered = _topological(items, item_deps, key=lambda k: first[k])
    block = Block(region)
    for key in ordered:
        if isinstance(key, int):
            block.entries.append(key)
        else:
            block.entries.append(_block(key, groups[key], depth + 1, member, deps))
    return block


def run(
    plan_: Plan, block: Block, values: dict[str, torch.Tensor], evaluate: EvaluateLayer, cast: Callable[[Any, str], Any]
) -> None:
    """Evaluate ``block``'s entries in order into ``values``."""
    for entry in block.entries:
        if isinstance(entry, int):
            evaluate(entry)
        elif entry.region is not None and entry.region[0] == "loop":
            _Loop(plan_, entry, values, evaluate, cast).run()
        else:
            _Conditional(plan_, entry, values, evaluate, cast).run()


def _ancestors(plan_: Plan, targets: set[int], within: set[int]) -> set[int]:
    """Layers of ``within`` that ``targets`` depend on (targets included), along forward edges."""
    seen: set[int] = set()
    stack = [t for t in targets if t in within]
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        stack.extend(d for d in plan_.deps[i] if d in within and d not in seen)
    return seen


def _restrict(block: Block, keep: set[int]) -> Block:
    """The entries of ``block`` holding a layer of ``keep`` (nested blocks kept whole)."""
    return Block(block.region, [e for e in block.entries if (e.layers() & keep if isinstance(e, Block) else e in keep)])


def _store(layer: Any, slot: int, value: torch.Tensor, values: dict[str, torch.Tensor]) -> None:
    check_output(layer, slot, value, type(layer).__name__)
    values[layer.get_output(slot).name] = value


class _Region:
    """What a loop and a conditional are evaluated with: the plan, the block of their layers, the values computed
    so far (read and written), how to evaluate one layer and how to cast; ``name`` is the region's name."""

    def __init__(
        self,
        plan_: Plan,
        block: Block,
        values: dict[str, torch.Tensor],
        evaluate: EvaluateLayer,
        cast: Callable[[Any, str], Any],
    ):
        self.plan, self.block, self.values, self.evaluate, self.cast = plan_, block, values, evaluate, cast
        self.name = block.region[1] if block.region else "?"


class _Loop(_Region):
    """One ``ILoop``: iterate the body, feeding recurrences and iterators, collecting loop outputs.

    Per the loop documentation: a COUNT trip limit (0-D int) runs the body that many times; a WHILE trip limit
    (0-D bool, usually computed from recurrences) is checked before each iteration and the loop stops when it is
    false; with both, whichever stops first. A recurrence outputs its first input in iteration 0 and its second
    input's value from iteration i-1 in iteration i. An iterator outputs slice i along ``axis`` of its input
    (slice M-1-i when ``reverse``, M the COUNT trip limit). A LAST_VALUE loop output (whose input is a recurrence
    output) is the recurrence's value after the last iteration; CONCATENATE stacks its input's value of every
    iteration along ``axis`` (REVERSE in reverse order), the output length being the value of its second input.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.limits: list[tuple[int, Any]] = []
        self.recurrences: list[Any] = []
        self.iterators: list[Any] = []
        self.outputs: list[Any] = []
        body = []
        for e in self.block.entries:
            kind = None if isinstance(e, Block) else self.plan.types[e]
            if kind in LOOP_LAYERS and not isinstance(e, Block) and self.plan.regions[e] == self.block.region:
                layer = self.cast(self.plan.layers[e], LOOP_LAYERS[kind])
                if kind == "TRIP_LIMIT":
                    self.limits.append((e, layer))
                else:
                    {"RECURRENCE": self.recurrences, "ITERATOR": self.iterators, "LOOP_OUTPUT": self.outputs}[
                        kind
                    ].append(layer)
            else:
                body.append(e)
        self.body = Block(self.block.region, body)

    def _error(self, what: str) -> ValueError:
        return ValueError(f"reference evaluator: loop {self.name!r}: {what}")

    def _limits(self, trt: Any) -> tuple[Optional[int], Optional[tuple[int, Any]]]:
        count, while_limit = None, None
        for index, limit in self.limits:
            if limit.kind == trt.TripLimit.COUNT:
                t = limit.get_input(0)
                if t.name not in self.values:
                    raise self._error("the COUNT trip limit must be computed before the loop starts")
                count = int(self.values[t.name].reshape(()).item())
            else:
                while_limit = (index, limit)
        if count is None and while_limit is None:
            raise self._error("no trip limit")
        return count, while_limit

    def run(self) -> None:
        from torch_tensorrt._trt import trt

        count, while_limit = self._limits(trt)
        while_layer = None if while_limit is None else while_limit[1]
        body_layers = self.body.layers()
        if while_limit is not None:
            cond_part = _ancestors(self.plan, set(self.plan.deps[while_limit[0]]), body_layers)
            first, rest = _restrict(self.body, cond_part), _restrict(self.body, body_layers - cond_part)
        else:
            first, rest = Block(self.body.region), self.body
        state = {r.name: self.values[r.get_input(0).name] for r in self.recurrences}
        collected: dict[str, list[torch.Tensor]] = {o.name: [] for o in self.outputs}
        i = 0
        while count is None or i < count:
            for r in self.recurrences:
                _store(r, 0, state[r.name], self.values)
            for it in self.iterators:
                self._iterate(it, i, count)
            run(self.plan, first, self.values, self.evaluate, self.cast)
            if while_layer is not None and not bool(self.values[while_layer.get_input(0).name].reshape(()).item()):
                break
            run(self.plan, rest, self.values, self.evaluate, self.cast)
            for o in self.outputs:
                if o.kind != trt.LoopOutput.LAST_VALUE:
                    collected[o.name].append(self.values[o.get_input(0).name])
            state = {r.name: self.values[r.get_input(1).name] for r in self.recurrences}
            i += 1
        by_output = {r.get_output(0).name: r.name for r in self.recurrences}
        for o in self.outputs:
            self._output(trt, o, state, by_output, collected[o.name])

    def _iterate(self, it: Any, i: int, count: Optional[int]) -> None:
        source = self.values[it.get_input(0).name]
        axis = int(it.axis) % max(source.dim(), 1)
        length = int(source.shape[axis])
        k = (count if count is not None else length) - 1 - i if it.reverse else i
        if not 0 <= k < length:
            if count is not None:
                raise self._error(f"iterator {it.name!r} reads index {k} of an axis of length {length}")
            # A WHILE loop may stop before reading it; a layer that reads it anyway finds no value.
            self.values.pop(it.get_output(0).name, None)
            return
        _store(it, 0, source.select(axis, k), self.values)

    def _output(
        self, trt: Any, o: Any, state: dict[str, torch.Tensor], by_output: dict[str, str], seq: list[torch.Tensor]
    ) -> None:
        if o.kind == trt.LoopOutput.LAST_VALUE:
            source = o.get_input(0).name
            if source not in by_output:
                raise self._error(f"LAST_VALUE output {o.name!r} reads {source!r}, which is not a recurrence output")
            _store(o, 0, state[by_output[source]], self.values)
            return
        length = int(self.values[o.get_input(1).name].reshape(()).item())
        if len(seq) != length:
            raise NotImplementedError(
                f"reference evaluator: loop {self.name!r}: output {o.name!r} has length {length} but the loop ran "
                f"{len(seq)} iterations; the contents of the remaining slices are not documented"
            )
        if o.kind == trt.LoopOutput.REVERSE:
            seq = seq[::-1]
        axis = int(o.axis)
        if seq:
            stacked = torch.stack(seq, dim=axis)
        else:
            shape = [max(int(d), 0) for d in o.get_output(0).shape]
            shape[axis] = 0
            stacked = torch.empty(shape, dtype=_dtype(o))
        _store(o, 0, stacked, self.values)


def _dtype(layer: Any) -> torch.dtype:
    from torch_tensorrt._dtypes import torch_dtype_of

    return torch_dtype_of(layer.get_output(0).dtype)


class _Conditional(_Region):
    """One ``IIfConditional``: the condition (a 0-D bool) picks, for every conditional output, its first (true)
    or second (false) input; only the layers the taken branch needs are evaluated. Conditional inputs pass
    their input through."""

    def run(self) -> None:
        members = self.block.layers()
        direct = [e for e in self.block.entries if isinstance(e, int)]  # nested conditionals have their own
        condition = [
            i for i in direct if self.plan.types[i] == "CONDITION" and self.plan.regions[i] == self.block.region
        ]
        if len(condition) != 1:
            raise ValueError(f"reference evaluator: conditional {self.name!r} has {len(condition)} condition layers")
        cond_layer = self.plan.layers[condition[0]]
        flag = self.values[cond_layer.get_input(0).name]
        if flag.dtype != torch.bool or flag.numel() != 1:
            raise ValueError(
                f"reference evaluator: conditional {self.name!r}: condition must be a 0-D bool, got {flag.dtype} {tuple(flag.shape)}"
            )
        taken = 0 if bool(flag.reshape(()).item()) else 1
        outputs = [
            i
            for i in direct
            if self.plan.types[i] == "CONDITIONAL_OUTPUT" and self.plan.regions[i] == self.block.region
        ]
        producer = {
            self.plan.layers[i].get_output(k).name: i for i in members for k in range(self.plan.layers[i].num_outputs)
        }
        targets = set()
        for i in outputs:
            t = self.plan.layers[i].get_input(taken)
            if t is not None and t.name in producer:
                targets.add(producer[t.name])
        needed = _ancestors(self.plan, targets, members - set(outputs) - set(condition))
        run(self.plan, _restrict(self.block, needed), self.values, self.evaluate, self.cast)
        for i in outputs:
            layer = self.plan.layers[i]
            _store(layer, 0, self.values[layer.get_input(taken).name], self.values)
