"""``torch_tensorrt.runtime.optimization_profile``: pin (or un-pin) the optimization profile of every engine of a
module. The selection rule itself is :mod:`torch_tensorrt.runtime._profiles` (what each engine applies); this module
only finds the engines -- ``TorchTensorRTModule`` children, engines a loaded program calls through the ops, C++
``torch.classes.tensorrt.Engine`` objects -- and sets their choice.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import torch

from torch_tensorrt.runtime import _execute_op
from torch_tensorrt.runtime._engine import TRTEngine
from torch_tensorrt.runtime._module import TorchTensorRTModule
from torch_tensorrt.runtime._profiles import AUTO


# ------------------------------------------------------------------------------------------------ user API
class _Target:
    """One engine's get/set of its pinned profile (None: auto), whatever object holds it."""

    def __init__(self, label: str, get: Any, put: Any, count: int) -> None:
        self.label, self.get, self.put, self.count = label, get, put, count


def _cpp_target(engine: Any, label: str) -> _Target:
    if not engine._has_method("set_optimization_profile"):
        raise RuntimeError(
            f"{label}: the loaded C++ runtime library predates optimization-profile selection; rebuild it"
        )
    return _Target(
        label,
        lambda: (lambda i: None if i < 0 else i)(engine.optimization_profile()),
        lambda i: engine.set_optimization_profile(-1 if i is None else i),
        int(engine.num_optimization_profiles()),
    )


def _targets(obj: Any) -> list[_Target]:
    if isinstance(obj, (TRTEngine, TorchTensorRTModule)):  # the same three members on both
        return [
            _Target(
                repr(obj.name),
                lambda: obj.optimization_profile,
                obj.set_optimization_profile,
                obj.num_optimization_profiles,
            )
        ]
    if isinstance(obj, torch.ScriptObject):
        return [_cpp_target(obj, "engine")]
    if not isinstance(obj, torch.nn.Module):
        raise TypeError(
            "optimization_profile: expected a compiled module, a TorchTensorRTModule or an engine, got "
            f"{type(obj).__name__}"
        )
    found: list[_Target] = []
    for module in obj.modules():
        if isinstance(module, TorchTensorRTModule):
            found += _targets(module)
        elif isinstance(module, torch.fx.GraphModule):
            found += _graph_targets(module)
    return found


def _graph_targets(gm: Any) -> list[_Target]:
    """Engines a loaded program calls through the ops directly (no TorchTensorRTModule in it)."""
    found: list[_Target] = []
    py_op = getattr(torch.ops.tensorrt, _execute_op.PY_OP_NAME, None)
    for node in gm.graph.nodes:
        if node.op != "call_function" or not str(node.target).startswith("tensorrt."):
            continue
        args = [_attr(gm, a) if getattr(a, "op", None) == "get_attr" else a for a in node.args]
        if py_op is not None and node.target == py_op.default:
            engine = _execute_op.engine_for(args[2], args[1])
            found += (
                _targets(engine)
                if not isinstance(engine, _execute_op.CppEngineRunner)
                else [_cpp_target(engine.engine, repr(engine.name))]
            )
        elif isinstance(args[-1], torch.ScriptObject):
            found.append(_cpp_target(args[-1], f"engine at node {node.name}"))
    return found


def _attr(gm: Any, node: Any) -> Any:
    value = gm
    for part in str(node.target).split("."):
        value = getattr(value, part)
    return value


class OptimizationProfileScope:
    """What :func:`optimization_profile` returns: the profile is already pinned; as a context manager, the
    engines get their previous choice back when the block ends (so blocks nest)."""

    def __init__(self, module: Any, targets: list[_Target], previous: list[Optional[int]]) -> None:
        self.module, self._targets, self._previous = module, targets, previous

    def __enter__(self) -> Any:
        return self.module

    def __exit__(self, *exc: object) -> None:
        for target, index in zip(self._targets, self._previous):
            target.put(index)


def optimization_profile(module_or_engine: Any, index: Union[int, str]) -> OptimizationProfileScope:
    """Run the engines of ``module_or_engine`` in optimization profile ``index`` (the list index of
    ``Input(profiles=[...])``), or ``"auto"``: the first profile whose [min, max] contains the input shapes, which
    is also what engines do when nobody chose. Shapes outside a pinned profile are an error naming the profile,
    the input binding and the range. Engines with one profile are not affected.

    ``module_or_engine``: a compiled module (``torch_tensorrt.compile``, ``dynamo.compile``), a loaded program's
    module, a ``TorchTensorRTModule``, or an engine. Takes effect at once; used as ``with optimization_profile(m,
    1): ...`` the previous choice of every engine comes back at the end of the block::

        with torch_tensorrt.runtime.optimization_profile(trt_model, DECODE_IDX):
            logits = trt_model(decode_ids)
    """
    targets = _targets(module_or_engine)
    if not targets:
        raise ValueError(f"optimization_profile: {type(module_or_engine).__name__} holds no TensorRT engine")
    if not (isinstance(index, str) and index == AUTO):
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"optimization_profile: index must be an int or 'auto', got {index!r}")
        most = max(t.count for t in targets)
        if not 0 <= index < most:
            counts = ", ".join(f"{t.label}: {t.count}" for t in targets)
            raise ValueError(
                f"optimization_profile: profile {index} does not exist; the engines have these many profiles: {counts}"
            )
    pinned = None if isinstance(index, str) else index
    previous = [t.get() for t in targets]
    for target in targets:
        target.put(pinned)
    return OptimizationProfileScope(module_or_engine, targets, previous)
