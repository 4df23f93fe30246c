"""Converter authoring as the incumbent Torch-TensorRT documents it, as an adapter over :mod:`._registry`.

Users write::

    @dynamo_tensorrt_converter(torch.ops.aten.relu.default, capability_validator=check,
                               priority=ConverterPriority.HIGH, supports_dynamic_shapes=True)
    def my_relu(ctx: ConversionContext, target, args, kwargs, name): ...

and the function is registered in the one registry (:data:`~._registry.CONVERTERS`) behind a thin wrapper that
calls it with the incumbent's argument list ``(ctx, target, args, kwargs, name)`` (``name``: the FX node's name;
``ctx.net`` / ``ctx.compilation_settings`` as there). Overriding follows the incumbent's rule: a ``HIGH``
converter is tried before the built-in ones, a ``STANDARD`` one after them (the built-ins are loaded before it is
registered). A ``capability_validator`` returning False (it takes ``(node)`` or ``(node, settings)``) hands the
node to the next converter, else to PyTorch, with the reason naming the validator.
``requires_output_allocator=True`` marks each engine using the converter as having data-dependent output
shapes (its module runs with an output allocator).
"""

from __future__ import annotations

import enum
import functools
import inspect
from typing import Any, Callable, Optional

import torch
import torch.fx

from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS, ConverterFn, ConverterSpec, Priority, Target


class ConverterPriority(enum.Enum):
    """Where a user converter goes among the converters of its target (the incumbent's two levels)."""

    STANDARD = enum.auto()
    HIGH = enum.auto()


class SourceIR(enum.Enum):
    """The IR a converter was written for (kept for the incumbent's converter signatures; informational here)."""

    NN = enum.auto()
    ACC = enum.auto()
    ATEN = enum.auto()
    PRIM = enum.auto()
    TORCHTRT_LOWERED = enum.auto()
    UNKNOWN = enum.auto()

    def __str__(self) -> str:
        return self.name.lower()


CapabilityValidator = Callable[..., bool]


def _targets(target: Any) -> list[Target]:
    """An OpOverloadPacket stands for all its overloads; anything else (OpOverload, function) for itself."""
    if isinstance(target, torch._ops.OpOverloadPacket):
        return [getattr(target, name) for name in target.overloads()]
    return [target]


def _as_validator(check: Optional[CapabilityValidator], converter: str) -> Optional[Callable[..., Optional[str]]]:
    """The incumbent's boolean ``capability_validator`` as a registry validator returning a reason."""
    if check is None:
        return None
    try:
        takes_settings = len(inspect.signature(check).parameters) >= 2
    except (TypeError, ValueError):
        takes_settings = True
    label = getattr(check, "__qualname__", repr(check))

    def validator(node: torch.fx.Node, settings: CompilationSettings) -> Optional[str]:
        ok = check(node, settings) if takes_settings else check(node)
        return None if ok else f"capability_validator {label} of converter {converter} returned False"

    return validator


def dynamo_tensorrt_converter(
    key: Any,
    *,
    enabled: bool = True,
    capability_validator: Optional[CapabilityValidator] = None,
    priority: ConverterPriority = ConverterPriority.STANDARD,
    supports_dynamic_shapes: bool = False,
    requires_output_allocator: bool = False,
) -> Callable[[ConverterFn], ConverterFn]:
    """Register the decorated ``(ctx, target, args, kwargs, name)`` function as a converter of ``key`` (an
    OpOverload, an OpOverloadPacket or a Python function such as ``operator.getitem``). ``enabled=False``
    registers nothing. Returns the function unchanged."""
    if not isinstance(priority, ConverterPriority):
        raise TypeError(f"priority must be a ConverterPriority (STANDARD or HIGH), got {priority!r}")

    def register(fn: ConverterFn) -> ConverterFn:
        if not enabled:
            return fn
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def call(ctx: Any, node: torch.fx.Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return fn(ctx, node.target, tuple(args), dict(kwargs), node.name)

        CONVERTERS.targets()  # the built-ins first: a STANDARD user converter comes after them
        level = Priority.HIGH + 1 if priority is ConverterPriority.HIGH else Priority.STANDARD
        for target in _targets(key):
            CONVERTERS.register(
                ConverterSpec(
                    target,
                    call,
                    _as_validator(capability_validator, name),
                    supports_dynamic_shapes,
                    int(level),
                    False,
                    requires_output_allocator,
                )
            )
        return fn

    return register


__all__ = ["dynamo_tensorrt_converter", "ConverterPriority", "SourceIR", "CapabilityValidator"]
