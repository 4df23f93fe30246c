"""From an FX graph (one TensorRT partition) to a strongly typed ``INetworkDefinition``.

Placeholders become network inputs (dynamic dimensions as -1, ranges from :class:`SymbolRanges`), ``get_attr``
nodes become constants, each ``call_function`` node goes through its registered converter, and the graph's
outputs are marked in order. SymInt placeholders (sizes computed outside the partition) are not engine inputs:
their expression is rebuilt from the dimensions of the tensor inputs (a symbol that only a derived size carries,
e.g. ``2*s0`` after a graph break, is solved from it). Every layer is named after, and tagged with, the FX node it
came from (``layer.metadata``), which the accuracy report uses to map nodes to tensors.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Optional, cast

import sympy
import torch
import torch.fx
from torch.fx.node import map_arg

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._errors import ConversionError, UnsupportedOperatorError, op_name
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo import _progress
from torch_tensorrt.dynamo._graph import get_attr_value
from torch_tensorrt.dynamo._settings import CompilationSettings, normalize_op_names
from torch_tensorrt.dynamo.conversion import _provenance
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS
from torch_tensorrt.dynamo.conversion._shapes import SymbolRanges, dim_expr, shape_dims
from torch_tensorrt.runtime import _shape_expr
from torch_tensorrt.runtime._metadata import TensorSpec, dtype_name

logger = logging.getLogger(__name__)


@dataclass
class NetworkResult:
    """A converted network and what the runtime and the tools need to know about it."""

    network: Any
    builder: Any
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    symbols: dict[str, list[Any]]
    #: FX node name -> names of the network tensors it produced (for reference.compare)
    node_tensors: dict[str, list[str]] = field(default_factory=dict)
    #: Host buffers the network's weights point at (must outlive the build)
    keep_alive: list[Any] = field(default_factory=list)
    #: The network's weights by the name given to TensorRT (``set_weights_name``), with their recipes
    weights: dict[str, _provenance.NetworkWeight] = field(default_factory=dict)
    #: a converter used makes data-dependent shapes (see ``ConverterSpec.output_allocator``)
    requires_output_allocator: bool = False
    #: several optimization profiles: per profile, each input's (min, opt, max) shapes in input order (the
    #: ``inputs`` specs hold the envelope); empty for one profile
    profiles: list[list[tuple[list[int], list[int], list[int]]]] = field(default_factory=list)


def create_network() -> tuple[Any, Any]:
    """A builder and an empty strongly typed network."""
    from torch_tensorrt.dynamo.conversion._builder import make_builder

    builder = make_builder()
    flag = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    network = builder.create_network(0 if flag is None else 1 << int(flag))
    return builder, network


class TRTInterpreter:
    def __init__(
        self, gm: torch.fx.GraphModule, settings: CompilationSettings, ranges: SymbolRanges, name: str = "engine"
    ) -> None:
        self.gm = gm
        self.settings = settings
        self.ranges = ranges
        self.name = name
        self.builder, self.network = create_network()
        self.ctx = ConversionContext(self.network, settings)
        self.env: dict[torch.fx.Node, Any] = {}
        self.inputs: list[TensorSpec] = []
        self.outputs: list[TensorSpec] = []
        #: symbol name -> (network input tensor, dimension) that carries it
        self.symbol_sources: dict[str, tuple[Any, int]] = {}
        self.symbols: dict[str, list[Any]] = {}
        #: (spec, network input tensor) of each tensor input, for symbols only derived sizes carry (``2*s0``)
        self.input_tensors: list[tuple[TensorSpec, Any]] = []
        self.node_tensors: dict[str, list[str]] = {}
        self.requires_output_allocator = False
        self.profiles: list[list[tuple[list[int], list[int], list[int]]]] = [[] for _ in ranges.profile_ranges]

    # -- driver ----------------------------------------------------------------------------------------------
    def run(self) -> NetworkResult:
        self._check_supported()
        nodes = list(self.gm.graph.nodes)
        tensor_placeholders = [
            n for n in nodes if n.op == "placeholder" and isinstance(n.meta.get("val"), torch.Tensor)
        ]
        for node in tensor_placeholders:
            self._add_input(node)
        _progress.start(self.name, sum(n.op == "call_function" for n in nodes))
        for node in nodes:
            if node.op == "placeholder" and node not in self.env:
                self.env[node] = self._symint_placeholder(node)
            elif node.op == "get_attr":
                self.env[node] = get_attr_value(self.gm, node.target)
            elif node.op == "call_function":
                self._convert(node)
                _progress.advance(self.name)
            elif node.op == "output":
                self._mark_outputs(node)
            elif node.op == "call_module":
                raise ConversionError(
                    node, "call_module nodes cannot be converted (partitioning should have excluded it)"
                )
        weights = _provenance.name_weights(self.network, self.ctx.network_weights)
        return NetworkResult(
            self.network,
            self.builder,
            self.inputs,
            self.outputs,
            self.symbols,
            self.node_tensors,
            self.ctx._keep_alive,
            weights,
            self.requires_output_allocator,
            self.profiles,
        )

    def _check_supported(self) -> None:
        bad = []
        for node in self.gm.graph.nodes:
            if node.op == "call_function":
                decision = CONVERTERS.decide(node, self.settings)
                if not decision.supported:
                    bad.append((node, decision.reason))
        if bad:
            raise UnsupportedOperatorError(bad, f"engine {self.name!r}")

    # -- inputs ------------------------------------------------------------------------------------------------
    def _add_input(self, node: torch.fx.Node) -> None:
        val = node.meta["val"]
        exprs = [dim_expr(d) for d in val.shape]
        dtype = val.dtype
        if dtype == torch.float64:
            if not self.settings.truncate_double:
                raise ConversionError(node, "float64 input: TensorRT has no float64; set truncate_double=True")
            dtype = torch.float32
        try:
            mn, opt, mx = self.ranges.profile(exprs)
            for profile, shapes in zip(self.profiles, self.ranges.profiles(exprs)):
                profile.append(shapes)
        except KeyError as exc:
            raise ConversionError(node, f"no range known for shape symbol {exc.args[0]}") from exc
        trt_shape = tuple(d if isinstance(d, int) else -1 for d in exprs)
        tensor = self.network.add_input(node.name, trt_dtype_of(dtype), trt_shape)
        for d, e in enumerate(exprs):
            if isinstance(e, sympy.Symbol) and e.name not in self.symbol_sources:
                self.symbol_sources[e.name] = (tensor, d)
                self.symbols[e.name] = [node.name, d]
        self.inputs.append(TensorSpec(node.name, dtype_name(dtype), shape_dims(exprs), mn, opt, mx))
        self.input_tensors.append((self.inputs[-1], tensor))
        value = tensor
        if dtype.is_floating_point and self.ctx.float_dtype(dtype) != dtype:
            before = self.network.num_layers
            value = T.cast(self.ctx, tensor, self.ctx.float_dtype(dtype))
            self._name_layers(before, f"{node.name}.cast", node.name)
        self.env[node] = value

    def _symint_placeholder(self, node: torch.fx.Node) -> Any:
        val = node.meta.get("val")
        if isinstance(val, (int, float, bool)):
            return val
        if not isinstance(val, torch.SymInt):
            raise ConversionError(node, f"unsupported engine input of type {type(val).__name__}")
        before = self.network.num_layers
        out = self._build_expr(node, dim_expr(val))
        self._name_layers(before, node.name, node.name)
        return out

    def _build_expr(self, node: torch.fx.Node, expr: Any) -> Any:
        """A 1-element int64 tensor computing a sympy size expression from the inputs' dimensions."""
        ctx = self.ctx
        if isinstance(expr, int) or (isinstance(expr, sympy.Expr) and expr.is_Integer):
            return ctx.constant(torch.tensor([int(expr)], dtype=torch.int64))
        if isinstance(expr, sympy.Symbol):
            if expr.name not in self.symbol_sources:
                return self._solved_symbol(node, expr.name)
            tensor, d = self.symbol_sources[expr.name]
            return T.dim_size(ctx, tensor, d)
        args = [self._build_expr(node, a) for a in expr.args]
        fn = type(expr).__name__
        ops = {"Add": "+", "Mul": "*", "FloorDiv": "//"}
        if fn in ops:
            out = args[0]
            for a in args[1:]:
                out = T.scalar_arith(ctx, out, a, ops[fn])
            return out
        if fn in ("Max", "Min"):
            op = trt.ElementWiseOperation.MAX if fn == "Max" else trt.ElementWiseOperation.MIN
            out = args[0]
            for a in args[1:]:
                out = T.elementwise(ctx, out, a, op, torch.int64)
            return out
        if fn in ("Mod", "PythonMod"):
            q = T.scalar_arith(ctx, args[0], args[1], "//")
            return T.scalar_arith(ctx, args[0], T.scalar_arith(ctx, q, args[1], "*"), "-")
        raise ConversionError(node, f"size expression {expr} ({fn}) is not supported")

    def _solved_symbol(self, node: torch.fx.Node, name: str) -> Any:
        """Symbol ``name`` computed from an input dimension ``a*name + b`` (after a graph break an engine may only
        see derived sizes such as ``2*s0``): ``(size - b) // a``, solved as the runtimes solve it."""
        for spec, tensor in self.input_tensors:
            for d, dim in enumerate(spec.shape):
                form = _shape_expr.linear_form(dim, name) if isinstance(dim, str) else None
                if form is not None and _shape_expr.symbols_of(cast(str, dim)) == {name}:
                    a, b = form
                    size = T.scalar_arith(self.ctx, T.dim_size(self.ctx, tensor, d), cast(int, b), "-")
                    return T.scalar_arith(self.ctx, size, a, "//")
        raise ConversionError(
            node, f"size symbol {name} is not a dimension of any engine input, nor solvable from one's size"
        )

    # -- nodes -------------------------------------------------------------------------------------------------
    def _convert(self, node: torch.fx.Node) -> None:
        decision = CONVERTERS.decide(node, self.settings)
        spec = decision.spec
        assert spec is not None  # checked in _check_supported
        self.requires_output_allocator |= spec.output_allocator
        args = map_arg(node.args, lambda n: self.env[n])
        kwargs = map_arg(node.kwargs, lambda n: self.env[n])
        before = self.network.num_layers
        self.ctx.current_node = node
        reduced = (spec.fp32 or computes_in_fp32(node, self.settings)) and self.ctx.compute_dtype != torch.float32
        try:
            if reduced:
                args, kwargs = _cast_floats((args, kwargs), self.ctx, torch.float32)
                with self.ctx.computing_in(torch.float32):
                    out = spec.fn(self.ctx, node, args, kwargs)
                out = _cast_floats(out, self.ctx, self.ctx.compute_dtype)
            else:
                out = spec.fn(self.ctx, node, args, kwargs)
        except ConversionError:
            raise
        except Exception as exc:
            raise ConversionError(node, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.ctx.current_node = None
        self.env[node] = out
        self._name_layers(before, node.name, node.name)
        produced = [t.name for t in _flatten(out) if T.is_trt(t)]
        if produced:
            self.node_tensors[node.name] = produced

    def _name_layers(self, start: int, base: str, tag: str) -> None:
        stop = self.network.num_layers
        for i in range(start, stop):
            layer = self.network.get_layer(i)
            layer.name = base if (i == stop - 1) else f"{base}/{i - start}"
            layer.metadata = tag

    def _rename_tensor(self, tensor: Any, name: str) -> None:
        """Rename a network tensor, keeping :attr:`node_tensors` (FX node -> tensor names) in step."""
        old = tensor.name
        tensor.name = name
        for names in self.node_tensors.values():
            for k, n in enumerate(names):
                if n == old:
                    names[k] = name

    # -- outputs -----------------------------------------------------------------------------------------------
    def _mark_outputs(self, node: torch.fx.Node) -> None:
        results = node.args[0]
        items = list(results) if isinstance(results, (list, tuple)) else [results]
        seen: set[int] = set()
        for i, item in enumerate(items):
            if not isinstance(item, torch.fx.Node):
                raise ConversionError(node, f"output {i} is a constant ({item!r}); engines only return tensors")
            val = item.meta.get("val")
            if not isinstance(val, torch.Tensor):
                raise ConversionError(item, f"output {i} is a {type(val).__name__}, not a tensor")
            before = self.network.num_layers
            tensor = T.to_trt(self.ctx, self.env[item])
            want = torch.float32 if val.dtype == torch.float64 else val.dtype
            tensor = T.cast(self.ctx, tensor, want)
            if tensor.is_network_input or id(tensor) in seen or tensor.is_network_output:
                tensor = self.network.add_identity(tensor).get_output(0)
            self._name_layers(before, f"output{i}", item.name)
            seen.add(id(tensor))
            name = f"output{i}"
            self._rename_tensor(tensor, name)
            self.network.mark_output(tensor)
            exprs = [dim_expr(d) for d in val.shape]
            bounds: tuple[Optional[list[int]], Optional[list[int]], Optional[list[int]]]
            try:
                bounds = self.ranges.profile(exprs)
            except KeyError:  # a size only known at run time (data-dependent): no profile range
                bounds = (None, None, None)
            self.outputs.append(TensorSpec(name, dtype_name(want), shape_dims(exprs), *bounds))


def _fp32_acc_ops() -> frozenset[Any]:
    """The matmul-like ops ``use_fp32_acc`` computes in float32 under reduced precision."""
    aten = torch.ops.aten
    return frozenset(
        {
            aten.mm.default,
            aten.bmm.default,
            aten.addmm.default,
            aten.matmul.default,
            aten.linear.default,
            aten.baddbmm.default,
            aten.scaled_dot_product_attention.default,
        }
    )


def computes_in_fp32(node: torch.fx.Node, settings: CompilationSettings) -> bool:
    """Whether ``node`` computes in float32 under reduced precision because of a setting: ``use_fp32_acc`` for
    matmul-like ops, ``autocast_excluded_ops`` / ``autocast_excluded_nodes`` (regular expressions over node
    names) under ``enable_autocast``."""
    if settings.use_fp32_acc and node.target in _fp32_acc_ops():
        return True
    if not settings.enable_autocast:
        return False
    if settings.autocast_excluded_ops:
        name = op_name(node)
        excluded = normalize_op_names(settings.autocast_excluded_ops)
        if name in excluded or name.rsplit(".", 1)[0] in excluded:
            return True
    return any(re.search(pattern, node.name) for pattern in settings.autocast_excluded_nodes)


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _cast_floats(value: Any, ctx: ConversionContext, dtype: torch.dtype) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floats(v, ctx, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floats(v, ctx, dtype) for k, v in value.items()}
    if T.is_trt(value) and T.dtype_of(value).is_floating_point:
        return T.cast(ctx, value, dtype)
    return value


def convert_graph(
    gm: torch.fx.GraphModule, settings: CompilationSettings, ranges: SymbolRanges, name: str = "engine"
) -> NetworkResult:
    """Convert ``gm`` (every call_function node must have a converter) to a network."""
    return TRTInterpreter(gm, settings, ranges, name).run()
