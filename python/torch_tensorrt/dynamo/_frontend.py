"""User input normalization, once for every entry point: compile, trace, convert, save, coverage, the reference tools.

What users pass, and what the entry points get (:func:`user_inputs` -> :class:`UserInputs`):

* ``arg_inputs`` (alias ``inputs``; giving both is an error): example tensors, :class:`~torch_tensorrt.Input` specs
  or other values ``torch.export`` takes as they are (ints, flags). A single ``Input`` or tensor means a one-element
  list. ``kwarg_inputs``: a dict of the same, passed by keyword.
* The model (:func:`to_exported_program`): an ``ExportedProgram`` is used as it is; an ``nn.Module`` is exported at
  each Input's example shape. It is switched to eval mode first -- unless its ``eval`` is replaced on the instance,
  as ``ExportedProgram.module()`` does (it raises): such a module is already a traced graph whose mode was fixed
  when it was exported.

Dynamic shapes (:func:`dynamic_shapes`), the one rule: every dynamic dimension of an Input is an unnamed
``Dim.DYNAMIC(min=, max=)`` (:meth:`Input.export_dims`), so that ``torch.export`` itself finds which dimensions of
different inputs are equal. An input's *label* -- its ``Input.name``, else ``arg{i}`` for the i-th positional input,
else the keyword -- names it in messages. The per-input dims are handed to ``torch.export`` positionally (a tuple)
when ``forward`` takes exactly the positional inputs; otherwise (keyword inputs, or a ``*args`` parameter) keyed by
``forward``'s parameter names, a ``*args`` parameter holding the tuple of the remaining positional entries.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import torch

from torch_tensorrt._input import Input

InputLike = Union[Input, torch.Tensor, Any]


def positional_inputs(arg_inputs: Any, inputs: Any = None, *, where: str) -> list[Any]:
    """The positional inputs from ``arg_inputs`` or its alias ``inputs`` (a list; [] when neither is given)."""
    if arg_inputs is not None and inputs is not None:
        raise ValueError(f"{where}: pass either `arg_inputs` or `inputs`, not both")
    value = arg_inputs if arg_inputs is not None else inputs
    if value is None:
        return []
    if isinstance(value, (Input, torch.Tensor)):
        return [value]
    if isinstance(value, (dict, str, bytes)):
        raise TypeError(
            f"{where}: arg_inputs must be a list of tensors or torch_tensorrt.Input (keyword inputs go in "
            f"kwarg_inputs), got a {type(value).__name__}"
        )
    return list(value)


@dataclass(frozen=True)
class UserInputs:
    """The normalized inputs of one call: positional ``args`` and keyword ``kwargs`` (tensors, Inputs or values)."""

    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def flat(self) -> list[Any]:
        """Positional then keyword inputs, in the order of the exported program's user inputs."""
        return [*self.args, *self.kwargs.values()]

    def __bool__(self) -> bool:
        return bool(self.args or self.kwargs)

    def labels(self) -> list[str]:
        """The label of each input of :attr:`flat` (see the module docstring)."""
        arg_labels = [(a.name if isinstance(a, Input) and a.name else f"arg{i}") for i, a in enumerate(self.args)]
        return [*arg_labels, *self.kwargs]

    def export_examples(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Example ``(args, kwargs)`` for ``torch.export``: each Input's :meth:`~Input.export_example`."""
        return tuple(_example(a) for a in self.args), {k: _example(v) for k, v in self.kwargs.items()}

    def example_tensors(self) -> list[Any]:
        """:attr:`flat` with each Input replaced by an example tensor at its opt shape (values to run on)."""
        return [v.example_tensor() if isinstance(v, Input) else v for v in self.flat]

    def is_dynamic(self) -> bool:
        return any(isinstance(v, Input) and v.is_dynamic for v in self.flat)


def user_inputs(
    arg_inputs: Any = None, kwarg_inputs: Optional[dict[str, Any]] = None, *, inputs: Any = None, where: str
) -> UserInputs:
    """Normalize ``arg_inputs``/``inputs``/``kwarg_inputs`` (errors name the entry point ``where``)."""
    if kwarg_inputs is not None and not isinstance(kwarg_inputs, dict):
        raise TypeError(
            f"{where}: kwarg_inputs must be a dict of name -> tensor or Input, got {type(kwarg_inputs).__name__}"
        )
    return UserInputs(positional_inputs(arg_inputs, inputs, where=where), dict(kwarg_inputs or {}))


def _example(value: Any) -> Any:
    return value.export_example() if isinstance(value, Input) else value


def _dims(value: Any, label: str) -> Optional[dict[int, Any]]:
    return value.export_dims(label) if isinstance(value, Input) else None


def dynamic_shapes(module: torch.nn.Module, spec: UserInputs) -> Any:
    """``dynamic_shapes`` for ``torch.export.export(module, ...)`` from the dynamic Inputs of ``spec`` (None when
    every input is static), shaped as the module docstring says."""
    if not spec.is_dynamic():
        return None
    labels = spec.labels()
    arg_dims = tuple(_dims(a, label) for a, label in zip(spec.args, labels))
    kw_dims = {k: _dims(v, k) for k, v in spec.kwargs.items()}
    params = list(inspect.signature(module.forward).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    var_positional = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params)
    if not kw_dims and not var_positional:
        return arg_dims
    out: dict[str, Any] = {}
    i = 0
    for p in params:
        if p.kind == inspect.Parameter.VAR_POSITIONAL:  # forward(self, *args): one entry holding the rest
            out[p.name] = arg_dims[i:]
            i = len(arg_dims)
        elif i < len(arg_dims) and p.kind in positional:
            out[p.name] = arg_dims[i]
            i += 1
    out.update(kw_dims)
    return out


def export(
    module: torch.nn.Module, spec: UserInputs, *, dynamic: Any = None, strict: bool = False
) -> torch.export.ExportedProgram:
    """``torch.export.export`` of ``module`` at ``spec``'s examples, with ``dynamic`` shapes or, when None, those
    of ``spec``'s dynamic Inputs. A failure names the dynamic inputs it was asked for."""
    args, kwargs = spec.export_examples()
    shapes = dynamic if dynamic is not None else dynamic_shapes(module, spec)
    from torch_tensorrt.dynamo import distributed

    if distributed.is_sharded(module):  # DTensor parameters: this rank's program over local tensors
        return distributed.export_sharded(module, args, kwargs, shapes)
    try:
        return torch.export.export(module, args, kwargs or None, dynamic_shapes=shapes, strict=strict)
    except Exception as exc:
        if shapes is not None and dynamic is None:
            ranges = ", ".join(
                f"{label} {v.min_shape}..{v.max_shape}"
                for label, v in zip(spec.labels(), spec.flat)
                if isinstance(v, Input) and v.is_dynamic
            )
            exc.add_note(f"torch_tensorrt: exported with dynamic dimensions from the Inputs {ranges}")
        raise


def set_eval_mode(module: torch.nn.Module) -> torch.nn.Module:
    """``module.eval()``, except for a module whose ``eval`` is replaced on the instance (``ExportedProgram.module()``
    raises there): that one is returned as it is."""
    if "eval" not in vars(module):
        module.eval()
    return module


def to_exported_program(
    model: Any, spec: UserInputs, *, where: str, eval_mode: bool = True, dynamic: Any = None, strict: bool = False
) -> torch.export.ExportedProgram:
    """``model`` if it is an ExportedProgram, else ``model`` exported at ``spec`` (switched to eval mode first
    when ``eval_mode``; see :func:`set_eval_mode`). Errors name the entry point ``where``."""
    if isinstance(model, torch.export.ExportedProgram):
        return model
    if not isinstance(model, torch.nn.Module) or isinstance(model, torch.jit.ScriptModule):
        raise TypeError(f"{where}: expected an nn.Module or a torch.export.ExportedProgram, got {type(model).__name__}")
    if not spec:
        raise ValueError(
            f"{where}: arg_inputs (example tensors or torch_tensorrt.Input) are required to export a "
            f"{type(model).__name__}"
        )
    if eval_mode:
        set_eval_mode(model)
    return export(model, spec, dynamic=dynamic, strict=strict)


def require_exported_program(program: Any, *, where: str) -> torch.export.ExportedProgram:
    """``program``, checked to be an ExportedProgram (the entry points that take nothing else)."""
    if not isinstance(program, torch.export.ExportedProgram):
        raise TypeError(
            f"{where}: expected a torch.export.ExportedProgram, got {type(program).__name__}; export the model "
            "first (torch.export.export or torch_tensorrt.dynamo.trace) or use torch_tensorrt.compile(model, ...)"
        )
    return program
