"""``torch_tensorrt.Input``: the shape range, dtype and name of one model input.

A static input has one shape. A dynamic input has ``min_shape <= opt_shape <= max_shape`` (element-wise); the
dimensions where min and max differ are the dynamic ones. TensorRT builds one optimization profile from them and
``torch.export`` receives a :class:`torch.export.Dim` for each dynamic dimension.

``profiles=[{"min_shape", "opt_shape", "max_shape"}, ...]`` declares several optimization profiles for one input
(the incumbent's API; ``"min"``/``"opt"``/``"max"`` keys are accepted too): the engine gets one TensorRT profile per
entry, in order, and the list index is the profile index chosen at run time
(:func:`torch_tensorrt.runtime.optimization_profile`). ``min_shape``/``opt_shape``/``max_shape`` of such an Input
are the *envelope* -- element-wise min of the mins, max of the maxes, opt of profile 0 -- which ``torch.export``
traces over.

An Input pickles with plain values only (``torch.save`` writes with pickle protocol 2, under which a
``torch.memory_format`` cannot be written: it pickled as ``getattr(torch, ...)``, i.e. the ``torch`` module).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch

from torch_tensorrt._enums import to_torch_dtype, to_torch_format

Shape = tuple[int, ...]
ShapeLike = Union[Sequence[int], torch.Size]


def _as_shape(value: ShapeLike, what: str) -> Shape:
    try:
        shape = tuple(int(d) for d in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Input: {what} must be a sequence of ints, got {value!r}") from exc
    if any(d < 0 for d in shape):
        raise ValueError(f"Input: {what} has a negative dimension: {shape}")
    return shape


_PROFILE_KEYS = (("min_shape", "min"), ("opt_shape", "opt"), ("max_shape", "max"))


def _check_range(mn: Shape, op: Shape, mx: Shape, where: str) -> None:
    if not (len(mn) == len(op) == len(mx)):
        raise ValueError(f"Input: {where}min/opt/max shapes have different ranks: {mn}, {op}, {mx}")
    for i, (a, b, c) in enumerate(zip(mn, op, mx)):
        if not a <= b <= c:
            raise ValueError(f"Input: {where}dimension {i} needs min <= opt <= max, got {a}, {b}, {c}")


def _profile(value: Any, index: int) -> tuple[Shape, Shape, Shape]:
    """``(min, opt, max)`` of one entry of ``profiles`` (a dict with min_shape/opt_shape/max_shape or min/opt/max)."""
    where = f"profiles[{index}]"
    if not isinstance(value, dict):
        raise TypeError(f"Input: {where} must be a dict with min_shape, opt_shape and max_shape, got {value!r}")
    known = {k for pair in _PROFILE_KEYS for k in pair}
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ValueError(f"Input: {where} has unknown key(s) {unknown}; expected min_shape, opt_shape, max_shape")
    shapes = []
    for long, short in _PROFILE_KEYS:
        if long in value and short in value:
            raise ValueError(f"Input: {where} gives both {long!r} and {short!r}")
        if long not in value and short not in value:
            raise ValueError(f"Input: {where} lacks {long!r}")
        shapes.append(_as_shape(value[long] if long in value else value[short], f"{where}.{long}"))
    mn, op, mx = shapes
    _check_range(mn, op, mx, f"{where}: ")
    return mn, op, mx


def _shared_dim(name: str, lo: int, hi: int) -> Any:
    """The named ``torch.export.Dim`` of ``shared_dims`` (export takes dims of one name as one dimension)."""
    return torch.export.Dim(name, min=lo, max=hi)


_FORMAT_NAMES = {
    torch.contiguous_format: "contiguous_format",
    torch.channels_last: "channels_last",
    torch.channels_last_3d: "channels_last_3d",
    torch.preserve_format: "preserve_format",
}

_FORMATS_BY_NAME = {name: fmt for fmt, name in _FORMAT_NAMES.items()}


class Input:
    """Describes one input of the model to compile.

    Examples::

        Input((1, 3, 224, 224))                                   # static
        Input(shape=(1, 3, 224, 224), dtype=torch.float16)
        Input(min_shape=(1, 3, 224, 224), opt_shape=(8, 3, 224, 224), max_shape=(32, 3, 224, 224), name="x")
        Input.from_tensor(torch.randn(2, 16))

    ``name`` is optional (a label for messages and tools).
    ``torch_tensor`` optionally keeps an example value (used for integer inputs whose values matter, e.g. indices).
    ``shared_dims``: ``{axis: dim_name}`` -- dynamic axes that carry the same name across inputs are one
    dimension (one ``torch.export.Dim``), e.g. the batch of ``input_ids`` and ``attention_mask``.
    ``profiles``: several optimization profiles (see the module docstring); exclusive with ``shape`` and
    ``min_shape``/``opt_shape``/``max_shape``. Every input that declares profiles must declare the same number;
    other inputs use their one range in every profile.
    """

    def __init__(
        self,
        shape: Optional[ShapeLike] = None,
        *,
        min_shape: Optional[ShapeLike] = None,
        opt_shape: Optional[ShapeLike] = None,
        max_shape: Optional[ShapeLike] = None,
        dtype: torch.dtype = torch.float32,
        name: Optional[str] = None,
        format: torch.memory_format = torch.contiguous_format,
        torch_tensor: Optional[torch.Tensor] = None,
        shared_dims: Optional[dict[int, str]] = None,
        profiles: Optional[Sequence[dict[str, ShapeLike]]] = None,
    ) -> None:
        self.shared_dims = dict(shared_dims or {})
        for axis, dim_name in self.shared_dims.items():
            if not isinstance(axis, int) or not isinstance(dim_name, str) or not dim_name.isidentifier():
                raise TypeError(f"Input: shared_dims maps axis (int) -> name (identifier), got {axis!r}: {dim_name!r}")
        dtype = to_torch_dtype(dtype)
        format = to_torch_format(format)
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"Input: dtype must be a torch.dtype, got {dtype!r}")
        self.dtype = dtype
        self.name = name
        self.format = format
        self.torch_tensor = torch_tensor
        ranged = (min_shape, opt_shape, max_shape)
        #: the optimization profiles, ``(min, opt, max)`` each; empty for an Input with one range
        self.profiles: tuple[tuple[Shape, Shape, Shape], ...] = ()
        if profiles is not None:
            if shape is not None or any(r is not None for r in ranged):
                raise ValueError(
                    "Input: `profiles` already holds the shape ranges; do not also pass `shape` or "
                    "`min_shape`/`opt_shape`/`max_shape`"
                )
            if isinstance(profiles, (str, bytes, dict)) or not isinstance(profiles, Sequence) or not profiles:
                raise TypeError(f"Input: profiles must be a non-empty list of dicts, got {profiles!r}")
            self.profiles = tuple(_profile(p, i) for i, p in enumerate(profiles))
            ranks = {len(p[0]) for p in self.profiles}
            if len(ranks) != 1:
                raise ValueError(f"Input: all profiles must have the same rank, got ranks {sorted(ranks)}")
            mins, opts, maxs = zip(*self.profiles)
            min_shape = tuple(min(d) for d in zip(*mins))
            opt_shape = opts[0]
            max_shape = tuple(max(d) for d in zip(*maxs))
            ranged = (min_shape, opt_shape, max_shape)
        if shape is not None:
            if any(r is not None for r in ranged):
                raise ValueError("Input: give either `shape` or `min_shape`/`opt_shape`/`max_shape`, not both")
            s = _as_shape(shape, "shape")
            self._min = self._opt = self._max = s
            return
        if any(r is None for r in ranged):
            missing = [n for n, r in zip(("min_shape", "opt_shape", "max_shape"), ranged) if r is None]
            raise ValueError(
                f"Input: a dynamic input needs min_shape, opt_shape and max_shape; missing {', '.join(missing)}"
                " (for a static input pass `shape`)"
            )
        mn, op, mx = (_as_shape(r, n) for r, n in zip(ranged, ("min_shape", "opt_shape", "max_shape")))  # type: ignore[arg-type]
        _check_range(mn, op, mx, "")
        self._min, self._opt, self._max = mn, op, mx
        for axis in self.shared_dims:
            if axis not in self.dynamic_dims():
                raise ValueError(
                    f"Input: shared_dims names axis {axis}, which is not dynamic (dynamic axes: {self.dynamic_dims()})"
                )

    # -- pickling ------------------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["format"] = _FORMAT_NAMES.get(self.format, str(self.format))  # see the module docstring
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        fmt = state.get("format", "contiguous_format")
        state["format"] = _FORMATS_BY_NAME.get(fmt, fmt) if isinstance(fmt, str) else fmt
        state.setdefault("profiles", ())
        state.setdefault("shared_dims", {})
        self.__dict__.update(state)

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def from_tensor(cls, tensor: torch.Tensor, name: Optional[str] = None) -> "Input":
        """A static Input with the tensor's shape and dtype (the tensor is kept as an example value)."""
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"Input.from_tensor expects a torch.Tensor, got {type(tensor).__name__}")
        fmt = (
            torch.channels_last
            if tensor.dim() == 4
            and tensor.is_contiguous(memory_format=torch.channels_last)
            and not tensor.is_contiguous()
            else torch.contiguous_format
        )
        return cls(shape=tuple(tensor.shape), dtype=tensor.dtype, name=name, format=fmt, torch_tensor=tensor)

    @classmethod
    def from_tensors(cls, tensors: Sequence[object]) -> list["Input"]:
        return [t if isinstance(t, Input) else cls.from_tensor(t) for t in tensors]  # type: ignore[arg-type]

    # -- queries -------------------------------------------------------------------------------------------
    @property
    def min_shape(self) -> Shape:
        return self._min

    @property
    def opt_shape(self) -> Shape:
        return self._opt

    @property
    def max_shape(self) -> Shape:
        return self._max

    @property
    def shape(self) -> Union[Shape, dict[str, Shape]]:
        """The static shape, or ``{"min_shape":…, "opt_shape":…, "max_shape":…}`` for a dynamic input."""
        if not self.is_dynamic:
            return self._opt
        return {"min_shape": self._min, "opt_shape": self._opt, "max_shape": self._max}

    @property
    def is_dynamic(self) -> bool:
        return self._min != self._max

    @property
    def rank(self) -> int:
        return len(self._opt)

    @property
    def num_profiles(self) -> int:
        """How many optimization profiles this Input declares (1 without ``profiles``)."""
        return len(self.profiles) or 1

    def profile(self, index: int) -> tuple[Shape, Shape, Shape]:
        """``(min, opt, max)`` of profile ``index``; an Input without ``profiles`` has its one range in each."""
        if self.profiles:
            return self.profiles[index]
        return self._min, self._opt, self._max

    def dynamic_dims(self) -> list[int]:
        """Indices of the dimensions whose min and max differ."""
        return [i for i, (a, c) in enumerate(zip(self._min, self._max)) if a != c]

    def example_tensor(self, which: str = "opt_shape", device: Union[str, torch.device] = "cpu") -> torch.Tensor:
        """A tensor of this Input's dtype at ``which`` ∈ {min_shape, opt_shape, max_shape}."""
        shapes = {"min_shape": self._min, "opt_shape": self._opt, "max_shape": self._max}
        if which not in shapes:
            raise ValueError(f"Input.example_tensor: `which` must be one of {sorted(shapes)}, got {which!r}")
        shape = shapes[which]
        if self.torch_tensor is not None and tuple(self.torch_tensor.shape) == shape:
            return self.torch_tensor.to(device)
        if self.dtype.is_floating_point:
            return torch.randn(shape, dtype=self.dtype, device=device)
        if self.dtype == torch.bool:
            return torch.randint(0, 2, shape, device=device).bool()
        return torch.randint(0, 4, shape, dtype=self.dtype, device=device)

    def export_example(self) -> torch.Tensor:
        """An example for ``torch.export``: opt shape, but never 0 or 1 on a dynamic dimension (export would
        specialise it), and the kept tensor when it already has that shape."""
        shape = list(self._opt)
        for i in self.dynamic_dims():
            if shape[i] < 2:
                shape[i] = min(2, self._max[i])
        shape_t = tuple(shape)
        if self.torch_tensor is not None and tuple(self.torch_tensor.shape) == shape_t:
            return self.torch_tensor
        holder = Input(shape=shape_t, dtype=self.dtype)
        return holder.example_tensor()

    def export_dims(self, prefix: str = "") -> Optional[dict[int, object]]:
        """``{dim: Dim.DYNAMIC(min=, max=)}`` for each dynamic dimension, or None when static.

        ``Dim.DYNAMIC`` (not a named ``Dim`` per input) lets ``torch.export`` infer which dimensions of different
        inputs are equal (q/k/v sharing a batch, an input and its mask), and still fails if the model
        specialises a dimension the Input says is dynamic.
        """
        if not self.is_dynamic:
            return None
        return {
            i: _shared_dim(self.shared_dims[i], self._min[i], self._max[i])
            if i in self.shared_dims
            else torch.export.Dim.DYNAMIC(min=self._min[i], max=self._max[i])
            for i in self.dynamic_dims()
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Input) and (self._min, self._opt, self._max, self.dtype, self.name, self.profiles) == (
            other._min,
            other._opt,
            other._max,
            other.dtype,
            other.name,
            other.profiles,
        )

    def __hash__(self) -> int:
        return hash((self._min, self._opt, self._max, self.dtype, self.name, self.profiles))

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name else ""
        if self.profiles:
            shown = ", ".join(f"{{min: {a}, opt: {b}, max: {c}}}" for a, b, c in self.profiles)
            return f"Input(profiles=[{shown}], dtype={self.dtype}{name})"
        if not self.is_dynamic:
            return f"Input(shape={self._opt}, dtype={self.dtype}{name})"
        return f"Input(min_shape={self._min}, opt_shape={self._opt}, max_shape={self._max}, dtype={self.dtype}{name})"
