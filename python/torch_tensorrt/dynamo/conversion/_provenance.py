"""Where each engine weight comes from: a dispatch mode that records the ATen ops applied to program tensors.

Refit needs, for every weight given to TensorRT, a recipe computing it from the state dict (see
:mod:`torch_tensorrt.runtime._weight_map`). Weights are derived in many places -- BatchNorm folding, constant
folding, the precision policy's casts, converters reshaping or transposing kernels -- and listing the rules of
each would drift from the code. Instead, a :class:`WeightTracker` (a ``TorchDispatchMode``) is active while the
lowering passes and the converters run: the program's tensors are *sources* (:meth:`WeightTracker.seed`), and
every ATen op with a tracked input gives its outputs a :class:`Recipe` naming the op and its arguments. When a
converter hands a tensor to TensorRT (``ConversionContext.weights``), its recipe is already known.

Ops outside ``aten``, or arguments that cannot be written down, make a value *opaque*: a weight depending on one
is stored as a constant and never follows a refit (logged once). A source read as a Python value
(``item()``, ``equal``...) is *baked* into the engine's structure: a refit that changes it is refused.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.weak import WeakIdKeyDictionary

from torch_tensorrt.runtime._metadata import dtype_name
from torch_tensorrt.runtime._weight_map import WeightMap, digest, encode_scalar_arg, encode_tensor, tensor_spec

logger = logging.getLogger(__name__)
aten = torch.ops.aten

#: Ops whose result is a Python value computed from tensor contents: their tracked inputs are baked.
_VALUE_READS = {aten._local_scalar_dense.default, aten.equal.default, aten.is_nonzero.default}
_current: contextvars.ContextVar[Optional["WeightTracker"]] = contextvars.ContextVar(
    "torchtrt_weight_tracker", default=None
)


@dataclass(eq=False)
class Recipe:
    """How one tensor was computed: a source (``src``), a fixed tensor (``const``), an op over other recipes
    (``op``/``args``/``kwargs``/``out``), or ``opaque`` (not reproducible)."""

    src: Optional[str] = None
    const: Optional[torch.Tensor] = None
    op: Optional[str] = None
    args: Any = None
    kwargs: Any = None
    out: Optional[int] = None
    opaque: bool = False
    sources: frozenset[str] = field(default_factory=frozenset)


def op_name(func: Any) -> Optional[str]:
    """``aten.mul.Tensor`` for ``torch.ops.aten.mul.Tensor``; None for ops outside ``aten``."""
    if not isinstance(func, torch._ops.OpOverload) or func.namespace != "aten":
        return None
    return f"aten.{func._schema.name.split('::')[-1]}.{func._overloadname}"


class WeightTracker(TorchDispatchMode):
    """Records a :class:`Recipe` for every tensor computed from a seeded source (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.origins: WeakIdKeyDictionary = WeakIdKeyDictionary()
        #: source name -> tensor (for the source specs of the weight map)
        self.sources: dict[str, torch.Tensor] = {}
        #: sources whose value was read as a Python value, with a digest of that value
        self.baked: dict[str, str] = {}
        self._consts: WeakIdKeyDictionary = WeakIdKeyDictionary()
        #: the exported program's call_function nodes (see ``runtime._weight_map.program_listing``)
        self.program: list[list[str]] = []

    # ------------------------------------------------------------------------------------------ seeding
    def seed(self, name: str, tensor: torch.Tensor) -> None:
        """Make ``tensor`` the source ``name`` (a state-dict or constant name of the program)."""
        if tensor in self.origins:
            return  # an alias of a source already seeded (tied weights): keep the first name
        self.origins[tensor] = Recipe(src=name, sources=frozenset({name}))
        self.sources[name] = tensor

    def seed_program(self, ep: Any, graph: Any) -> None:
        """Seed the state dict and tensor constants of the (lowered) ExportedProgram ``ep`` by name -- the tensors
        ``ep.module()`` holds -- and list the call_function nodes of ``graph`` (the program as exported)."""
        from torch_tensorrt.runtime._weight_map import program_listing

        for name, value in {**ep.state_dict, **ep.constants}.items():
            if isinstance(value, torch.Tensor):
                self.seed(name, value)
        self.program = program_listing(graph)

    def recipe(self, tensor: torch.Tensor) -> Recipe:
        """The recipe of ``tensor``; a ``const`` recipe for a tensor computed from no source."""
        found = self.origins.get(tensor)
        if found is not None:
            return found
        const = self._consts.get(tensor)
        if const is None:
            const = Recipe(const=tensor)
            self._consts[tensor] = const
        return const

    # --------------------------------------------------------------------------------------------- mode
    @contextlib.contextmanager
    def active(self) -> Iterator["WeightTracker"]:
        token = _current.set(self)
        try:
            with self:
                yield self
        finally:
            _current.reset(token)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        flat, _ = tree_flatten((args, kwargs))
        tracked = [self.origins[t] for t in flat if isinstance(t, torch.Tensor) and t in self.origins]
        if not tracked:
            return out
        sources = frozenset().union(*(r.sources for r in tracked))
        if func in _VALUE_READS:
            for r in tracked:
                for name in r.sources:
                    self.baked.setdefault(name, digest(self.sources[name]))
            return out
        name = op_name(func)
        recipe_args = recipe_kwargs = None
        opaque = name is None or any(r.opaque for r in tracked)
        if not opaque:
            try:
                recipe_args = tree_map(self._arg, list(args))
                recipe_kwargs = {k: tree_map(self._arg, v) for k, v in kwargs.items()}
            except TypeError:
                opaque = True
        outs, _ = tree_flatten(out)
        tensors = [t for t in outs if isinstance(t, torch.Tensor)]
        for i, t in enumerate(tensors):
            if opaque:
                self.origins[t] = Recipe(opaque=True, sources=sources)
            else:
                index = i if (len(tensors) > 1 or not isinstance(out, torch.Tensor)) else None
                self.origins[t] = Recipe(op=name, args=recipe_args, kwargs=recipe_kwargs, out=index, sources=sources)
        return out

    def _arg(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return self.recipe(value)
        encode_scalar_arg(value)  # TypeError for what cannot be written down
        return value


def current() -> Optional[WeightTracker]:
    """The tracker active in this context (None when conversion records no weight map)."""
    return _current.get()


# --------------------------------------------------------------------------------------------------------------
# The weights of one network: named, located, and written down as a weight map
# --------------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class NetworkWeight:
    """One ``trt.Weights`` given to the network: the FX node whose converter made it, the host tensor it points
    at, and its recipe (None when no tracker was active)."""

    node: str
    host: torch.Tensor
    weights: Any
    recipe: Optional[Recipe]
    name: str = ""


#: Layer types holding weights: (``trt`` class name, [(property, ``trt.WeightsRole`` name)]).
_WEIGHT_SLOTS = {
    "CONSTANT": ("IConstantLayer", [("weights", "CONSTANT")]),
    "CONVOLUTION": ("IConvolutionLayer", [("kernel", "KERNEL"), ("bias", "BIAS")]),
    "DECONVOLUTION": ("IDeconvolutionLayer", [("kernel", "KERNEL"), ("bias", "BIAS")]),
    "SCALE": ("IScaleLayer", [("scale", "SCALE"), ("shift", "SHIFT"), ("power", "POWER")]),
}


def name_weights(network: Any, weights: list[NetworkWeight]) -> dict[str, NetworkWeight]:
    """Give every recorded weight its name (``w<index>_<fx node>``, unique and the same for the same program)
    through ``INetworkDefinition.set_weights_name`` -- after all uses, as TensorRT requires."""
    named: dict[str, NetworkWeight] = {}
    for i, w in enumerate(weights):
        w.name = f"w{i}_{w.node}"
        if network.set_weights_name(w.weights, w.name):
            named[w.name] = w
        elif w.recipe is not None:
            logger.warning("TensorRT refused the weights name %r; the weight cannot be refitted", w.name)
    return named


def weight_locations(network: Any, named: dict[str, NetworkWeight]) -> dict[str, list[list[str]]]:
    """Weight name -> [layer name, role] of each layer using it (matched by the host address TensorRT holds)."""
    from torch_tensorrt._trt import trt

    by_address = {w.host.data_ptr(): name for name, w in named.items()}
    found: dict[str, list[list[str]]] = {name: [] for name in named}
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        slots = _WEIGHT_SLOTS.get(layer.type.name)
        if slots is None:
            continue
        layer.__class__ = getattr(trt, slots[0])
        for prop, role in slots[1]:
            value: Any = getattr(layer, prop, None)
            address = value.__array_interface__["data"][0] if hasattr(value, "__array_interface__") else None
            if address in by_address:
                found[by_address[address]].append([layer.name, role])
    return found


class MapWriter:
    """Writes recipes as the node table of a weight map (shared sub-recipes once). With ``const_digests`` a
    constant is written as the digest of its value (for the engine cache's key) instead of the value."""

    def __init__(self, tracker: Optional[WeightTracker], const_digests: bool = False) -> None:
        self.tracker = tracker
        self.const_digests = const_digests
        self.nodes: list[dict[str, Any]] = []
        self.consts: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self._index: dict[int, int] = {}

    def const(self, tensor: torch.Tensor) -> int:
        key = f"c{len(self.consts)}"
        self.consts[key] = {"digest": digest(tensor)} if self.const_digests else encode_tensor(tensor)
        self.nodes.append({"const": key})
        return len(self.nodes) - 1

    def recipe(self, r: Recipe) -> int:
        if id(r) in self._index:
            return self._index[id(r)]
        if r.src is not None:
            assert self.tracker is not None
            self.sources[r.src] = tensor_spec(self.tracker.sources[r.src])
            self.nodes.append({"src": r.src})
            index = len(self.nodes) - 1
        elif r.op is not None:
            node: dict[str, Any] = {"op": r.op, "args": self._arg(r.args), "kwargs": self._arg(r.kwargs or {})}
            if r.out is not None:
                node["out"] = r.out
            self.nodes.append(node)
            index = len(self.nodes) - 1
        else:
            assert r.const is not None
            index = self.const(r.const)
        self._index[id(r)] = index
        return index

    def _arg(self, value: Any) -> Any:
        if isinstance(value, Recipe):
            return {"ref": self.recipe(value)}
        if isinstance(value, (list, tuple)):
            return [self._arg(v) for v in value]
        if isinstance(value, dict):
            return {k: self._arg(v) for k, v in value.items()}
        return encode_scalar_arg(value)


def build_weight_map(
    network: Any,
    named: dict[str, NetworkWeight],
    tracker: Optional[WeightTracker],
    *,
    stripped: bool,
    engine: str,
) -> WeightMap:
    """The :class:`~torch_tensorrt.runtime._weight_map.WeightMap` of a converted network."""
    writer = MapWriter(tracker)
    locations = weight_locations(network, named)
    weights: dict[str, dict[str, Any]] = {}
    opaque: list[str] = []
    for name, w in named.items():
        r = w.recipe
        if r is None or r.opaque or r.src is None and r.op is None:
            if r is not None and r.opaque:
                opaque.append(f"{name} (from {', '.join(sorted(r.sources))})")
            node = writer.const(w.host)
        else:
            node = writer.recipe(r)
        weights[name] = {
            "node": node,
            "dtype": dtype_name(w.host.dtype),
            "shape": list(w.host.shape),
            "locations": locations[name],
        }
    if opaque:
        logger.warning(
            "engine %s: %d weight(s) are computed by ops the weight map cannot record; they keep their compiled "
            "values on refit: %s",
            engine,
            len(opaque),
            "; ".join(opaque[:5]),
        )
    baked = {k: v for k, v in (tracker.baked if tracker else {}).items()}
    return WeightMap(
        weights=weights,
        nodes=writer.nodes,
        consts=writer.consts,
        sources=writer.sources,
        program=list(getattr(tracker, "program", []) or []),
        stripped=stripped,
        baked=baked,
    )
