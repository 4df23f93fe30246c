"""``torch_tensorrt.MutableTorchTensorRTModule``: a compiled model that keeps up with its PyTorch model.

It wraps the ``nn.Module`` and compiles it on the first call (with the keyword arguments given at construction,
always with refittable engines). Before each call it compares a fingerprint of the model's weights (each
parameter's and buffer's storage, version counter, shape and dtype) and of the call's input shapes with those of
the last compilation:

* weights changed (assignment, in-place update, ``load_state_dict``) -> the engines are refitted from the model
  (:func:`~torch_tensorrt.dynamo.refit_module_weights`, in place); a refit that cannot work (the structure
  changed) recompiles instead;
* an input shape outside what was compiled -> recompiles (the shapes of :meth:`set_expected_dynamic_shape_range`
  when set -- widened to the call's size when it falls outside -- else the call's static shapes).

Attribute reads and writes the wrapper does not have go to the model (``m.fc.weight``, ``m.fc = ...``);
``state_dict`` / ``load_state_dict`` are the model's. :meth:`save` / :meth:`load` pickle the whole wrapper.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import torch

from torch_tensorrt._input import Input
from torch_tensorrt.dynamo import _frontend

logger = logging.getLogger(__name__)

_OWN = (
    "original_model",
    "compile_kwargs",
    "compiled",
    "_weights_key",
    "_shape_key",
    "_arg_ranges",
    "_kwarg_ranges",
    "refit_count",
    "compile_count",
)


def _weights_key(model: torch.nn.Module) -> tuple[Any, ...]:
    items = [*model.named_parameters(), *model.named_buffers()]
    return tuple((n, t.data_ptr(), t._version, tuple(t.shape), t.dtype) for n, t in items)


def _shape_of(value: Any) -> Any:
    return (tuple(value.shape), value.dtype) if isinstance(value, torch.Tensor) else value


class MutableTorchTensorRTModule(torch.nn.Module):
    """See the module docstring. ``compile_kwargs`` are ``torch_tensorrt.compile`` settings."""

    def __init__(self, pytorch_model: torch.nn.Module, **compile_kwargs: Any) -> None:
        super().__init__()
        if not isinstance(pytorch_model, torch.nn.Module):
            raise TypeError(f"MutableTorchTensorRTModule wraps an nn.Module, got {type(pytorch_model).__name__}")
        from torch_tensorrt.dynamo import CompilationSettings

        compile_kwargs.pop("immutable_weights", None)
        CompilationSettings.from_kwargs(**compile_kwargs)  # typos fail now, not at the first call
        object.__setattr__(self, "compile_kwargs", dict(compile_kwargs))
        object.__setattr__(self, "compiled", None)
        object.__setattr__(self, "_weights_key", None)
        object.__setattr__(self, "_shape_key", None)
        object.__setattr__(self, "_arg_ranges", None)
        object.__setattr__(self, "_kwarg_ranges", None)
        object.__setattr__(self, "refit_count", 0)
        object.__setattr__(self, "compile_count", 0)
        self.original_model = pytorch_model.eval()

    # -- dynamic shapes ------------------------------------------------------------------------------------
    def set_expected_dynamic_shape_range(
        self,
        args_dynamic_shape: tuple[dict[int, tuple[int, int, int]], ...],
        kwargs_dynamic_shape: Optional[dict[str, Any]] = None,
    ) -> None:
        """For each positional input, ``{dim: (min, opt, max)}`` (``{}`` for a static input); the same per keyword
        input. The next call recompiles with these ranges."""
        if not isinstance(args_dynamic_shape, (tuple, list)) or not all(
            isinstance(d, dict) for d in args_dynamic_shape
        ):
            raise TypeError(
                "args_dynamic_shape must be a tuple with one {dim: (min, opt, max)} dict per positional input"
            )
        object.__setattr__(self, "_arg_ranges", tuple(args_dynamic_shape))
        object.__setattr__(self, "_kwarg_ranges", dict(kwargs_dynamic_shape or {}))
        object.__setattr__(self, "compiled", None)

    def _spec(self, value: Any, ranges: Optional[dict[int, tuple[int, int, int]]]) -> Any:
        if not isinstance(value, torch.Tensor) or not ranges:
            return value
        lo, opt, hi = list(value.shape), list(value.shape), list(value.shape)
        for dim, (a, b, c) in ranges.items():  # widened to the call's size when it falls outside the range
            size = value.shape[dim]
            lo[dim], hi[dim] = min(a, size), max(c, size)
            opt[dim] = min(max(b, lo[dim]), hi[dim])
        return Input(min_shape=lo, opt_shape=opt, max_shape=hi, dtype=value.dtype)

    @staticmethod
    def _key(spec: Any) -> Any:
        """What a compiled input accepts, as plain data: ``("range", min, max, dtype)`` or ``_shape_of``."""
        if isinstance(spec, Input):
            return ("range", tuple(spec.min_shape), tuple(spec.max_shape), spec.dtype)
        return _shape_of(spec)

    @staticmethod
    def _fits(key: Any, value: Any) -> bool:
        if isinstance(key, tuple) and key and key[0] == "range" and isinstance(value, torch.Tensor):
            _, lo, hi, dtype = key
            return (
                value.dim() == len(lo)
                and all(a <= s <= c for a, s, c in zip(lo, value.shape, hi))
                and value.dtype == dtype
            )
        return key == _shape_of(value)

    # -- compile / refit -----------------------------------------------------------------------------------
    def _compile(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from torch_tensorrt.dynamo import compile as dynamo_compile

        arg_ranges = self._arg_ranges or ()
        specs = [self._spec(a, arg_ranges[i] if i < len(arg_ranges) else None) for i, a in enumerate(args)]
        kw_specs = {k: self._spec(v, (self._kwarg_ranges or {}).get(k)) for k, v in kwargs.items()}
        spec = _frontend.user_inputs(specs, kw_specs or None, where="MutableTorchTensorRTModule")
        ep = _frontend.to_exported_program(self.original_model, spec, where="MutableTorchTensorRTModule")
        compiled = dynamo_compile(
            ep, spec.args, kwarg_inputs=spec.kwargs, immutable_weights=False, **self.compile_kwargs
        )
        object.__setattr__(self, "compiled", compiled)
        object.__setattr__(
            self, "_shape_key", ([self._key(s) for s in specs], {k: self._key(v) for k, v in kw_specs.items()})
        )
        object.__setattr__(self, "_weights_key", _weights_key(self.original_model))
        object.__setattr__(self, "compile_count", self.compile_count + 1)

    def _refit(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from torch_tensorrt.dynamo import refit_module_weights

        try:
            refit_module_weights(self.compiled, self.original_model, list(args), kwargs or None, in_place=True)
        except Exception as exc:  # the structure changed: a refit cannot express it
            logger.info("MutableTorchTensorRTModule: refit failed (%s); recompiling", exc)
            self._compile(args, kwargs)
            return
        object.__setattr__(self, "_weights_key", _weights_key(self.original_model))
        object.__setattr__(self, "refit_count", self.refit_count + 1)

    def _shapes_fit(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        specs, kw_specs = self._shape_key
        return (
            len(specs) == len(args)
            and set(kw_specs) == set(kwargs)
            and all(self._fits(s, a) for s, a in zip(specs, args))
            and all(self._fits(kw_specs[k], v) for k, v in kwargs.items())
        )

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is None or not self._shapes_fit(args, kwargs):
            self._compile(args, kwargs)
        elif _weights_key(self.original_model) != self._weights_key:
            self._refit(args, kwargs)
        return self.compiled(*args, **kwargs)

    # -- the model's attributes and state ------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("__") or "original_model" not in self.__dict__.get("_modules", {}):
                raise
            return getattr(self._modules["original_model"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or "original_model" not in self._modules or not hasattr(self._modules["original_model"], name):
            super().__setattr__(name, value)
        else:
            setattr(self._modules["original_model"], name, value)

    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        return self.original_model.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        return self.original_model.load_state_dict(state_dict, strict=strict, assign=assign)

    # -- persistence ---------------------------------------------------------------------------------------
    @staticmethod
    def save(module: "MutableTorchTensorRTModule", path: str) -> None:
        """Write ``module`` (model, settings, dynamic ranges, compiled engines) to ``path`` (a ``torch.save`` pickle)."""
        if not isinstance(module, MutableTorchTensorRTModule):
            raise TypeError(
                f"MutableTorchTensorRTModule.save: expected a MutableTorchTensorRTModule, got {type(module).__name__}"
            )
        state = {k: getattr(module, k) for k in _OWN if k != "_weights_key"}
        torch.save({"format": "MutableTorchTensorRTModule/1", **state}, path)

    @staticmethod
    def load(path: str) -> "MutableTorchTensorRTModule":
        """The module :meth:`save` wrote (a pickle: load only files you trust)."""
        state = torch.load(path, weights_only=False)
        if not isinstance(state, dict) or state.get("format") != "MutableTorchTensorRTModule/1":
            raise TypeError(f"{path}: not a saved MutableTorchTensorRTModule")
        module = MutableTorchTensorRTModule(state["original_model"], **state["compile_kwargs"])
        for key in _OWN:
            if key not in ("original_model", "compile_kwargs", "_weights_key"):
                object.__setattr__(module, key, state[key])
        if module.compiled is not None:
            object.__setattr__(module, "_weights_key", _weights_key(module.original_model))
        return module


__all__ = ["MutableTorchTensorRTModule"]
