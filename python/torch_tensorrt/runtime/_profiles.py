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

:func:`~torch_tensorrt.runtime._profile_api.optimization_profile` is the user API: it pins (or un-pins, ``"auto"``) the profile of every engine of a
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
