"""From the graph dynamo hands the ``torch.compile`` backend to what ``torch.export`` and the compiler need.

Dynamo passes an FX graph whose placeholders are parameters/buffers, tensors (sizes possibly symbolic: ``s0``,
``2*s0``) and SymInts (sizes lifted as inputs, or integer arguments made dynamic). :func:`plan_graph` decides,
for each placeholder, what the compiled graph takes and builds:

* the export arguments and ``dynamic_shapes`` -- one ``torch.export.Dim`` per shape symbol, so inputs that share
  a symbol stay tied, and ``a*s + b`` sizes become derived Dims;
* per tensor a :class:`torch_tensorrt.Input` with each symbol's engine profile (:class:`SymbolProfile`): min/max
  from the shape environment's value range, opt from the hint of the call being compiled; an unbounded max
  becomes ``settings.dynamic_shape_max`` (doubled until it covers the hint);
* the guards that make dynamo recompile outside what the graph serves (the clamped max, a min raised to 1):
  :meth:`GraphPlan.install_guards` adds them to the shape environment, whose guards dynamo turns into the
  compiled frame's guards after the backend returns.

SymInt placeholders that equal a tensor input's dimension become ``aten.sym_size`` nodes (the engine rebuilds
them from its inputs); other SymInts (integer arguments) stay inputs with a dynamic export Dim, and the nodes
that use them run in PyTorch. Python floats that dynamo passed as 0-d tensors are made constants by asking
dynamo to trace again (:func:`restart_with_constant_floats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import sympy
import torch
import torch.fx

from torch_tensorrt._input import Input
from torch_tensorrt.dynamo._settings import CompilationSettings


class PlanError(ValueError):
    """The graph's inputs cannot be described to ``torch.export`` (the graph then runs in PyTorch)."""


@dataclass(frozen=True)
class SymbolProfile:
    """The ranges chosen for one shape symbol.

    ``need_min..need_max`` is what the graph must serve: PyTorch's value range, an unbounded max replaced by
    ``dynamic_shape_max`` (doubled until it covers the hint) and guarded. Export traces with it. ``min..max``
    is what the engine is built for: the needed range widened to the user's ``mark_dynamic`` bounds, or an upper
    bound narrowed only by PyTorch's own tracing guards (e.g. CPU convolution kernel choice at batch 16) widened
    to ``dynamic_shape_max`` -- so the graph dynamo traces next, across that guard, reuses the engine.
    """

    symbol: str
    source: str
    opt: int
    need_min: int
    need_max: int
    min: int
    max: int
    #: PyTorch's value range when the graph was traced (None = unbounded)
    torch_min: Optional[int]
    torch_max: Optional[int]

    def describe(self) -> str:
        hi = "inf" if self.torch_max is None else self.torch_max
        return (
            f"{self.symbol} ({self.source}): engine min {self.min} opt {self.opt} max {self.max}; graph serves "
            f"{self.need_min}..{self.need_max} (PyTorch range {self.torch_min}..{hi})"
        )


@dataclass(frozen=True)
class DynamicDim:
    """Dimension ``dim`` of export argument ``arg`` is ``a * symbol + b``."""

    arg: int
    dim: int
    symbol: str
    a: int
    b: int


@dataclass
class GraphPlan:
    """What the backend exports and compiles for one dynamo graph."""

    #: the graph to export: frozen weights as buffers, lifted sizes as ``sym_size`` nodes
    gm: torch.fx.GraphModule
    #: positions (in dynamo's call arguments) of the values the compiled graph takes, in order
    keep: list[int]
    #: positions of the parameters and buffers frozen into the graph (engine weights)
    frozen: list[int]
    #: attribute of each frozen weight in :attr:`gm` -> the name of dynamo's placeholder it came from
    frozen_names: dict[str, str]
    export_args: tuple[Any, ...]
    dynamic_shapes: Optional[tuple[Any, ...]]
    symbols: dict[str, SymbolProfile] = field(default_factory=dict)
    dims: list[DynamicDim] = field(default_factory=list)
    #: (SymInt carrying the symbol, lower bound or None, upper bound or None) to guard on
    guards: list[tuple[torch.SymInt, Optional[int], Optional[int]]] = field(default_factory=list)

    @property
    def dynamic(self) -> bool:
        return bool(self.symbols)

    def ranges(self, engine: bool = True) -> dict[tuple[int, int], tuple[int, int]]:
        """(arg, dim) -> (min, max) of every dynamic dimension: the engine range, or the needed one."""
        out = {}
        for d in self.dims:
            p = self.symbols[d.symbol]
            lo, hi = (p.min, p.max) if engine else (p.need_min, p.need_max)
            out[(d.arg, d.dim)] = (d.a * lo + d.b, d.a * hi + d.b)
        return out

    def arg_specs(self, engine: bool = True) -> list[Any]:
        """Per export argument: an :class:`Input` with the engine (or needed) profile for a dynamic tensor, else
        the example value itself."""
        ranges = self.ranges(engine)
        specs: list[Any] = []
        for i, arg in enumerate(self.export_args):
            dyn = {d.dim: d for d in self.dims if d.arg == i}
            if not isinstance(arg, torch.Tensor) or not dyn:
                specs.append(arg)
                continue
            shape = list(arg.shape)
            lo, opt, hi = list(shape), list(shape), list(shape)
            for k, d in dyn.items():
                lo[k], hi[k] = ranges[(i, k)]
                opt[k] = d.a * self.symbols[d.symbol].opt + d.b
            specs.append(Input(min_shape=lo, opt_shape=opt, max_shape=hi, dtype=arg.dtype, name=f"input{i}"))
        return specs

    def install_guards(self) -> None:
        """Make dynamo recompile for sizes outside the needed ranges (evaluating a SymInt comparison records a
        guard in its shape environment, which dynamo adds to the frame's guards after the backend returns)."""
        for sym, lo, hi in self.guards:
            if lo is not None and not bool(sym >= lo):
                raise AssertionError(f"guard {sym} >= {lo} is false for the call being compiled")
            if hi is not None and not bool(sym <= hi):
                raise AssertionError(f"guard {sym} <= {hi} is false for the call being compiled")


def is_frozen_input(value: Any) -> bool:
    """Parameters and buffers (dynamo marks static inputs): they become engine weights."""
    return isinstance(value, torch.nn.Parameter) or getattr(value, "_dynamo_static_input_type", None) is not None


def _fake_value(node: torch.fx.Node) -> Any:
    return node.meta.get("example_value", node.meta.get("val"))


def _expr(size: Any) -> Any:
    if isinstance(size, torch.SymInt):
        expr = size.node.expr
        return int(expr) if expr.is_number else expr
    return int(size)


def _hint(size: Any) -> int:
    if isinstance(size, torch.SymInt):
        hint = size.node.hint
        if hint is None:
            raise PlanError(f"size {size} has no example value (data-dependent size)")
        return int(hint)
    return int(size)


def unbounded_max(dynamic_shape_max: int, hint: int) -> int:
    """Profile max of a symbol PyTorch leaves unbounded: ``dynamic_shape_max``, doubled until it covers the
    call being compiled (so sizes growing past it recompile a logarithmic number of times)."""
    hi = dynamic_shape_max
    while hi < hint:
        hi *= 2
    return hi


def _finite(bound: Any) -> Optional[int]:
    """A value-range bound as an int (None for the infinities)."""
    return int(bound) if isinstance(bound, (int, sympy.Integer)) else None


def _linear(expr: sympy.Expr) -> Optional[tuple[int, sympy.Symbol, int]]:
    """``(a, s, b)`` when ``expr == a*s + b`` with integers a > 0, b."""
    syms = list(expr.free_symbols)
    if len(syms) != 1:
        return None
    s = syms[0]
    poly = sympy.Poly(expr, s) if expr.is_polynomial(s) else None
    if poly is None or poly.degree() != 1:
        return None
    a, b = (int(c) for c in poly.all_coeffs())
    return (a, s, b) if a > 0 else None


class _Planner:
    def __init__(
        self,
        gm: torch.fx.GraphModule,
        example_inputs: Sequence[Any],
        settings: CompilationSettings,
        frozen: Optional[Sequence[int]],
    ) -> None:
        self.settings = settings
        self.frozen = (
            list(frozen) if frozen is not None else [i for i, v in enumerate(example_inputs) if is_frozen_input(v)]
        )
        self.example_inputs = list(example_inputs)
        self.placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        if len(self.placeholders) != len(self.example_inputs):
            raise PlanError(f"{len(self.placeholders)} placeholders but {len(self.example_inputs)} example inputs")
        self.gm = _copy(gm)
        self.copied = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        self.symbols: dict[str, SymbolProfile] = {}
        self.export_dims: dict[str, Any] = {}
        self.dims: list[DynamicDim] = []
        self.guards: list[tuple[torch.SymInt, Optional[int], Optional[int]]] = []
        #: symbol name -> (placeholder index, dim) of a tensor dimension that is exactly the symbol
        self.dim_of: dict[str, tuple[int, int]] = {}

    def run(self) -> GraphPlan:
        frozen = self.frozen
        for i in frozen:
            self._freeze(i)
        for i, v in enumerate(self.example_inputs):
            if i not in frozen and isinstance(v, torch.Tensor):
                for d, size in enumerate(_fake_value(self.placeholders[i]).shape):
                    e = _expr(size)
                    if isinstance(e, sympy.Symbol):
                        self.dim_of.setdefault(e.name, (i, d))
        keep: list[int] = []
        args: list[Any] = []
        dyn: list[Any] = []
        for i, value in enumerate(self.example_inputs):
            if i in frozen:
                continue
            node = self.placeholders[i]
            arg: Any
            if isinstance(value, torch.Tensor):
                arg, dims = self._tensor(i, len(args), value)
            elif isinstance(value, (torch.SymInt, int)) and not isinstance(value, bool):
                if self._lift_size(i, value):
                    continue
                arg, dims = _hint(value), (torch.export.Dim.DYNAMIC if isinstance(value, torch.SymInt) else None)
            else:
                raise PlanError(f"input {node.name} is a {type(value).__name__}; only tensors and ints are supported")
            keep.append(i)
            args.append(arg)
            dyn.append(dims)
        self.gm.graph.lint()
        self.gm.recompile()
        dynamic = tuple(dyn) if any(d is not None for d in dyn) else None
        names = {_frozen_attr(i): self.placeholders[i].name for i in frozen}
        return GraphPlan(self.gm, keep, frozen, names, tuple(args), dynamic, dict(self.symbols), self.dims, self.guards)

    # -- placeholders ------------------------------------------------------------------------------------------
    def _freeze(self, i: int) -> None:
        node = self.copied[i]
        name = _frozen_attr(i)
        self.gm.register_buffer(name, self.example_inputs[i].detach())
        with self.gm.graph.inserting_before(node):
            attr = self.gm.graph.get_attr(name)
        attr.meta = dict(node.meta)
        node.replace_all_uses_with(attr)
        self.gm.graph.erase_node(node)

    def _lift_size(self, i: int, value: Any) -> bool:
        """Replace a SymInt placeholder equal to a tensor input's dimension by ``sym_size`` of that input."""
        e = _expr(value)
        if not isinstance(e, sympy.Symbol) or e.name not in self.dim_of:
            return False
        src, d = self.dim_of[e.name]
        node = self.copied[i]
        with self.gm.graph.inserting_after(self.copied[-1]):
            size = self.gm.graph.call_function(torch.ops.aten.sym_size.int, (self.copied[src], d))
        size.meta = dict(node.meta)
        node.replace_all_uses_with(size)
        self.gm.graph.erase_node(node)
        return True

    def _tensor(self, i: int, pos: int, value: torch.Tensor) -> tuple[torch.Tensor, Optional[dict[int, Any]]]:
        """The export example and Dims of tensor input ``i`` (export argument ``pos``)."""
        fake = _fake_value(self.placeholders[i])
        name = self.placeholders[i].name
        user = {r.dim: r for r in getattr(value, "_dynamo_dynamic_range", ())}
        dims: dict[int, Any] = {}
        example_shape: list[int] = []
        for d, size in enumerate(fake.shape):
            e = _expr(size)
            if isinstance(e, int):
                example_shape.append(e)
                continue
            lin = _linear(e)
            if lin is None:
                raise PlanError(f"input {name} dimension {d} has size {e}; only sizes a*s+b are supported")
            a, sym, b = lin
            prof = self._profile(sym, f"{name} dim {d}", size, a, b, user.get(d) if (a, b) == (1, 0) else None)
            root = self.export_dims.setdefault(
                sym.name, torch.export.Dim(sym.name, min=prof.need_min, max=prof.need_max)
            )
            dims[d] = root if (a, b) == (1, 0) else root * a + b
            self.dims.append(DynamicDim(pos, d, sym.name, a, b))
            # export specializes sizes 0 and 1: trace at 2 where the call's size is smaller
            example = prof.opt if prof.opt >= 2 else min(2, prof.need_max)
            example_shape.append(a * example + b)
        if not dims:
            return value, None
        if list(value.shape) != example_shape:
            value = torch.zeros(example_shape, dtype=value.dtype, device=value.device)
        return value, dims

    def _profile(self, s: sympy.Symbol, source: str, size: torch.SymInt, a: int, b: int, user: Any) -> SymbolProfile:
        known = self.symbols.get(s.name)
        if known is not None:
            return known
        shape_env = size.node.shape_env
        assert shape_env is not None, "a symbolic size always has a shape environment"
        vr = shape_env.var_to_range.get(s)
        torch_lo = _finite(vr.lower) if vr is not None else None
        torch_hi = _finite(vr.upper) if vr is not None else None
        hints = getattr(shape_env, "backed_var_to_val", None) or shape_env.var_to_val
        if hints.get(s) is None:
            raise PlanError(f"{source}: symbol {s} has no example value")
        hint = int(hints[s])
        need_lo = max(torch_lo if torch_lo is not None else 1, 1)
        default_hi = unbounded_max(self.settings.dynamic_shape_max, hint)
        need_hi = torch_hi if torch_hi is not None else default_hi
        user_lo = getattr(user, "min", None)
        user_hi = getattr(user, "max", None)
        lo = min(need_lo, max(user_lo, 1)) if user_lo is not None else need_lo
        hi = max(need_hi, user_hi if user_hi is not None else default_hi)
        prof = SymbolProfile(
            s.name, source, min(max(hint, need_lo), need_hi), need_lo, need_hi, lo, hi, torch_lo, torch_hi
        )
        self.symbols[s.name] = prof
        guard_lo = need_lo if torch_lo is None or torch_lo < need_lo else None
        guard_hi = need_hi if torch_hi is None or torch_hi > need_hi else None
        if guard_lo is not None or guard_hi is not None:
            self.guards.append((self._carrier(size, a, b), guard_lo, guard_hi))
        return prof

    @staticmethod
    def _carrier(size: torch.SymInt, a: int, b: int) -> torch.SymInt:
        """A SymInt whose expression is the symbol itself (guards are stated on the symbol)."""
        return size if (a, b) == (1, 0) else (size - b) // a


def _frozen_attr(i: int) -> str:
    return f"_torchtrt_frozen_{i}"


#: ops whose schema does not say that they update running statistics: op -> index of the ``training`` flag
#: (the statistics are arguments 3 and 4)
_UPDATES_STATS = {
    torch.ops.aten.batch_norm.default: 5,
    torch.ops.aten.native_batch_norm.default: 5,
    torch.ops.aten.instance_norm.default: 5,
}


def mutated_weights(ep: torch.export.ExportedProgram, plan: GraphPlan) -> list[str]:
    """Frozen weights the exported graph writes to (BatchNorm statistics in training mode, ``buf.add_``): such
    a graph cannot have its weights frozen into engines. Names are dynamo's placeholder names."""
    from torch.export.graph_signature import InputKind

    weights = {
        s.arg.name: str(s.target)
        for s in ep.graph_signature.input_specs
        if s.kind in (InputKind.BUFFER, InputKind.PARAMETER) and s.target is not None
    }
    written = set(ep.graph_signature.buffers_to_mutate.values())
    for node in ep.graph.nodes:
        if node.op != "call_function" or not isinstance(node.target, torch._ops.OpOverload):
            continue
        training = _UPDATES_STATS.get(node.target)
        if training is not None and len(node.args) > training and node.args[training] is True:
            written |= {weights[a.name] for a in node.args[3:5] if isinstance(a, torch.fx.Node) and a.name in weights}
        for i, arg in enumerate(node.target._schema.arguments):
            value = node.args[i] if i < len(node.args) else node.kwargs.get(arg.name)
            if arg.alias_info is not None and arg.alias_info.is_write and isinstance(value, torch.fx.Node):
                if value.name in weights:
                    written.add(weights[value.name])
    return sorted(plan.frozen_names.get(w, w) for w in written)


def _copy(gm: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """A copy of ``gm`` (dynamo reads the placeholders of the graph it handed over after the backend returns)."""
    graph = torch.fx.Graph()
    graph.output(graph.graph_copy(gm.graph, {}))
    return torch.fx.GraphModule(gm, graph)


def restart_with_constant_floats(gm: torch.fx.GraphModule) -> None:
    """Where dynamo passed Python floats as 0-d tensors read with ``.item()`` (``dynamic=True``, automatic dynamic
    floats such as a LayerNorm's ``eps``), ask it to trace the frame again with those floats as constants (it
    guards on their values): engines take tensors and sizes, not float scalars. This is dynamo's protocol for
    backends that cannot use symbolic floats (``TensorifyScalarRestartAnalysis``); without it, nothing happens
    and the operators using the floats stay in PyTorch."""
    try:
        from torch._dynamo.exc import TensorifyScalarRestartAnalysis
        from torch._dynamo.symbolic_convert import TensorifyState
        from torch.utils._sympy.symbol import SymT, symbol_is_type
    except ImportError:  # pragma: no cover - other torch versions
        return
    tensorified = [
        n
        for n in gm.graph.nodes
        if n.op == "placeholder" and getattr(n.meta.get("grapharg"), "pass_arg_as_tensor", False)
    ]
    if not tensorified:
        return
    # The floats' symbols may already be replaced by their values inside the graph (PyTorch's argument parser
    # specializes some): specialize every float symbol of the frame, as PyTorch's own tensorify pass does.
    shape_env = _fake_value(tensorified[0]).fake_mode.shape_env
    hints = getattr(shape_env, "backed_var_to_val", None) or shape_env.var_to_val
    names = {str(s) for s in hints if symbol_is_type(s, SymT.FLOAT)}
    names = {n for n in names if not TensorifyState.should_specialize(n)}
    if names:
        for name in sorted(names):
            TensorifyState.specialize(name)
        raise TensorifyScalarRestartAnalysis


def plan_graph(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    settings: CompilationSettings,
    frozen: Optional[Sequence[int]] = None,
) -> GraphPlan:
    """Describe ``gm``'s inputs for export and compilation (raises :class:`PlanError` when it cannot).
    ``frozen``: positions of the weights (default: the parameters and buffers dynamo marked)."""
    return _Planner(gm, example_inputs, settings, frozen).run()
