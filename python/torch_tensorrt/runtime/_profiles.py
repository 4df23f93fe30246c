"""Which optimization profile an engine runs a set of input shapes in (engines built with several).

The rule, the same in both runtimes (``runtime_cpp/src/profiles.cpp`` mirrors it):

* by default (``"auto"``) the *first profile in index order whose [min, max] contains every input's shape*
  -- so when profiles overlap, the one declared first wins;
* a pinned index (:func:`torch_tensorrt.runtime.optimization_profile`) is used for every call, and shapes
  outside it are an error naming the profile, the input binding, the dimension and the allowed range;
* when no profile contains the shapes the error lists, per profile, the input binding it rejects and why.

The bounds come from the deserialized engine (``get_tensor_profile_shape``), never from the record's metadata, so
an engine built elsewhere is handled the same way. An engine with one profile always runs in profile 0 (a pinned
index is ignored there: a partition whose inputs are all static has only one profile).

:func:`optimization_profile` is the user API: it pins (or un-pins, ``"auto"``) the profile of every engine of a
compiled module, a loaded program's module, a ``TorchTensorRTModule`` or one engine, at once, and as a context
manager restores what each engine had before when the block ends.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

Bounds = tuple[tuple[int, ...], tuple[int, ...]]
AUTO = "auto"


class ProfileSelector:
    """The profiles' bounds of one engine and the profile asked for; ``error`` is the exception type raised."""

    def __init__(self, engine_name: str, input_names: Sequence[str], error: type[Exception] = RuntimeError) -> None:
        self.engine_name = engine_name
        self.input_names = list(input_names)
        self.error = error
        #: the pinned profile; None: the first that contains the input shapes
        self.request: Optional[int] = None
        #: per profile, each input's (min, max) -- only for engines with several profiles
        self.bounds: list[list[Bounds]] = []

    @property
    def count(self) -> int:
        return len(self.bounds) or 1

    def read(self, engine: Any) -> None:
        """Read the bounds of a deserialized engine (TensorRT's Python API) and re-check the pinned index."""
        count = int(getattr(engine, "num_optimization_profiles", 1))
        self.bounds = []
        if count > 1:
            for p in range(count):
                shapes = [engine.get_tensor_profile_shape(n, p) for n in self.input_names]
                self.bounds.append([(tuple(s[0]), tuple(s[2])) for s in shapes])
        self.check_request(self.request, self.count)

    def check_request(self, index: Union[int, str, None], count: int) -> Optional[int]:
        """``index`` as a pinned profile (None for ``"auto"``); an error when it is not one of ``count``."""
        if index is None or (isinstance(index, str) and index == AUTO):
            return None
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(
                f"engine {self.engine_name!r}: an optimization profile is an int index or 'auto', got {index!r}"
            )
        if index < 0 or (count > 1 and index >= count):
            raise self.error(
                f"engine {self.engine_name!r} has {count} optimization profile(s) (0..{count - 1}); "
                f"profile {index} does not exist"
            )
        return index

    def _rejects(self, p: int, shapes: Sequence[Sequence[int]]) -> Optional[str]:
        for name, shape, (lo, hi) in zip(self.input_names, shapes, self.bounds[p]):
            for d, (a, got, b) in enumerate(zip(lo, shape, hi)):
                if not a <= got <= b:
                    return f"input {name!r} (dimension {d} is {got}, outside [{a}, {b}]; profile min {lo}, max {hi})"
        return None

    def select(self, shapes: Sequence[Sequence[int]]) -> int:
        """The profile ``shapes`` (one per input, in binding order) run in (see the module docstring)."""
        if not self.bounds:
            return 0  # one profile: a pinned index is ignored (see the module docstring)
        given = ", ".join(f"{n!r} {tuple(s)}" for n, s in zip(self.input_names, shapes))
        if self.request is not None:
            why = self._rejects(self.request, shapes)
            if why is not None:
                raise self.error(
                    f"engine {self.engine_name!r}: optimization profile {self.request} (selected with "
                    f"torch_tensorrt.runtime.optimization_profile) does not accept the input shapes {given}: it "
                    f"rejects {why}; select another profile, or 'auto'"
                )
            return self.request
        reasons = []
        for p in range(len(self.bounds)):
            why = self._rejects(p, shapes)
            if why is None:
                return p
            reasons.append(f"profile {p} rejects {why}")
        raise self.error(
            f"engine {self.engine_name!r}: no optimization profile accepts the input shapes {given}: "
            + "; ".join(reasons)
        )


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
    import torch

    from torch_tensorrt.runtime._engine import TRTEngine
    from torch_tensorrt.runtime._module import TorchTensorRTModule

    if isinstance(obj, TRTEngine):
        return [
            _Target(
                repr(obj.name),
                lambda: obj.optimization_profile,
                obj.set_optimization_profile,
                obj.num_optimization_profiles,
            )
        ]
    if isinstance(obj, TorchTensorRTModule):
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
    import torch

    from torch_tensorrt.runtime import _execute_op

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
