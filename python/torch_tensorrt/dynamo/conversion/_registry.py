"""The converter registry.

A converter turns one FX node into TensorRT layers. Register it next to its implementation::

    @converter(torch.ops.aten.relu.default)
    def relu(ctx: ConversionContext, node: fx.Node, args: tuple, kwargs: dict) -> trt.ITensor: ...

``args``/``kwargs`` are the node's arguments with every FX node replaced by its converted value: a
``trt.ITensor``, a ``torch.Tensor`` (weights and other constants), a Python scalar or list, or -- for a
symbolic size (SymInt) -- a 1-element int64 ``trt.ITensor``.

Options:

* ``validator(node, settings) -> None | str``: capability check; a string is the reason the node stays in
  PyTorch (shown by the partitioner and the coverage report).
* ``dynamic``: False when the converter only handles static shapes (nodes with symbolic shapes are then
  rejected with that reason).
* ``priority``: among several converters for one target, the highest priority whose validator accepts wins.
* ``fp32``: the op is accumulation-sensitive (normalizations, softmax, reductions): under reduced precision its
  float inputs are cast to float32 and its float outputs back to the compute dtype.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union, cast

import torch
import torch.fx

from torch_tensorrt._errors import op_name
from torch_tensorrt.dynamo._settings import CompilationSettings, normalize_op_names

ConverterFn = Callable[..., Any]
Validator = Callable[[torch.fx.Node, CompilationSettings], Optional[str]]
Target = Union[torch._ops.OpOverload, Callable[..., Any]]


class Priority(enum.IntEnum):
    LOW = 0
    STANDARD = 1
    HIGH = 2


@dataclass(frozen=True)
class ConverterSpec:
    target: Target
    fn: ConverterFn
    validator: Optional[Validator]
    dynamic: bool
    priority: int
    fp32: bool

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


@dataclass(frozen=True)
class Decision:
    """Outcome of :meth:`ConverterRegistry.decide` for one node."""

    spec: Optional[ConverterSpec]
    reason: str = ""

    @property
    def supported(self) -> bool:
        return self.spec is not None


def node_has_dynamic_shape(node: torch.fx.Node) -> bool:
    """True when the node's output or any tensor input has a symbolic size."""

    def dyn(val: Any) -> bool:
        if isinstance(val, torch.Tensor):
            return any(isinstance(s, torch.SymInt) for s in val.shape)
        if isinstance(val, (list, tuple)):
            return any(dyn(v) for v in val)
        return isinstance(val, torch.SymInt)

    if dyn(node.meta.get("val")):
        return True
    return any(dyn(a.meta.get("val")) for a in node.all_input_nodes)


class ConverterRegistry:
    def __init__(self) -> None:
        self._specs: dict[Target, list[ConverterSpec]] = {}
        self._loaded = False

    def register(self, spec: ConverterSpec) -> None:
        specs = self._specs.setdefault(spec.target, [])
        specs.append(spec)
        specs.sort(key=lambda s: -s.priority)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from torch_tensorrt.dynamo.conversion import converters

        for mod in pkgutil.iter_modules(converters.__path__):
            importlib.import_module(f"{converters.__name__}.{mod.name}")

    def targets(self) -> set[Target]:
        self._ensure_loaded()
        return set(self._specs)

    def specs_for(self, target: Target) -> list[ConverterSpec]:
        self._ensure_loaded()
        return list(self._specs.get(target, []))

    def decide(self, node: torch.fx.Node, settings: CompilationSettings) -> Decision:
        """Which converter (if any) handles ``node`` under ``settings``, or why none does."""
        self._ensure_loaded()
        if node.op != "call_function":
            return Decision(None, f"{node.op} nodes are not converted")
        name = op_name(node)
        excluded = normalize_op_names(settings.torch_executed_ops)
        packet = name.rsplit(".", 1)[0]
        if name in excluded or packet in excluded:
            return Decision(None, "listed in torch_executed_ops")
        specs = self._specs.get(cast(Any, node.target))
        if not specs:
            return Decision(None, f"no converter for {name}")
        reasons = []
        dynamic = None
        for spec in specs:
            if not spec.dynamic:
                if dynamic is None:
                    dynamic = node_has_dynamic_shape(node)
                if dynamic:
                    reasons.append("the converter does not support dynamic shapes")
                    continue
            if spec.validator is not None:
                reason = spec.validator(node, settings)
                if reason:
                    reasons.append(reason)
                    continue
            return Decision(spec)
        return Decision(None, "; ".join(reasons))


#: The registry every converter module registers into.
CONVERTERS = ConverterRegistry()


def converter(
    *targets: Target,
    validator: Optional[Validator] = None,
    dynamic: bool = True,
    priority: int = Priority.STANDARD,
    fp32: bool = False,
) -> Callable[[ConverterFn], ConverterFn]:
    """Register the decorated function as the converter of each of ``targets``."""
    if not targets:
        raise ValueError("converter() needs at least one target")

    def register(fn: ConverterFn) -> ConverterFn:
        for target in targets:
            CONVERTERS.register(ConverterSpec(target, fn, validator, dynamic, int(priority), fp32))
        return fn

    return register


def all_of(*validators: Validator) -> Validator:
    """Combine validators: the first reason wins."""

    def check(node: torch.fx.Node, settings: CompilationSettings) -> Optional[str]:
        for v in validators:
            reason = v(node, settings)
            if reason:
                return reason
        return None

    return check
