"""``torch_tensorrt.dynamo.trace``: ``torch.export`` with the dynamic dimensions the Inputs describe."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch

from torch_tensorrt._input import Input

InputLike = Union[Input, torch.Tensor]


def normalize_inputs(inputs: Optional[Sequence[Any]]) -> list[Any]:
    """Tensors and Inputs stay; anything else (ints, flags) passes through to export as-is."""
    return list(inputs) if inputs is not None else []


def example_args(inputs: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(i.export_example() if isinstance(i, Input) else i for i in inputs)


def dynamic_shapes_for(inputs: Sequence[Any], kwarg_inputs: Optional[dict[str, Any]] = None) -> Optional[Any]:
    """``dynamic_shapes`` for ``torch.export.export`` (None when every input is static)."""
    arg_dims = [i.export_dims(f"input{k}") if isinstance(i, Input) else None for k, i in enumerate(inputs)]
    kw_dims = {k: (v.export_dims(k) if isinstance(v, Input) else None) for k, v in (kwarg_inputs or {}).items()}
    if not any(arg_dims) and not any(kw_dims.values()):
        return None
    if kwarg_inputs:
        return {"args": tuple(arg_dims), "kwargs": kw_dims}
    return tuple(arg_dims)


def trace(
    model: torch.nn.Module,
    inputs: Optional[Sequence[InputLike]] = None,
    *,
    arg_inputs: Optional[Sequence[InputLike]] = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    strict: bool = False,
    **_: Any,
) -> torch.export.ExportedProgram:
    """Export ``model`` with example values at each Input's opt shape and a ``Dim`` per dynamic dimension."""
    if inputs is not None and arg_inputs is not None:
        raise ValueError("trace: pass either `inputs` or `arg_inputs`, not both")
    args = normalize_inputs(arg_inputs if arg_inputs is not None else inputs)
    kwargs = dict(kwarg_inputs or {})
    dynamic = dynamic_shapes_for(args, kwargs)
    example_kwargs = {k: (v.export_example() if isinstance(v, Input) else v) for k, v in kwargs.items()}
    if isinstance(dynamic, dict):
        dyn: Any = (*dynamic["args"], *[dynamic["kwargs"][k] for k in kwargs])
        # torch.export wants dynamic_shapes keyed like forward's signature; a flat tuple over args+kwargs
        # is accepted when kwargs follow in order.
        dynamic = _by_signature(model, args, kwargs, dyn)
    elif dynamic is not None and _takes_var_args(model):
        dynamic = _by_signature(model, args, kwargs, dynamic)
    return torch.export.export(model, example_args(args), example_kwargs or None, dynamic_shapes=dynamic, strict=strict)


def _takes_var_args(model: torch.nn.Module) -> bool:
    import inspect

    return any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in inspect.signature(model.forward).parameters.values())


def _by_signature(model: torch.nn.Module, args: list[Any], kwargs: dict[str, Any], dims: tuple[Any, ...]) -> dict[str, Any]:
    import inspect

    out: dict[str, Any] = {}
    i = 0
    for p in inspect.signature(model.forward).parameters.values():
        if p.kind == inspect.Parameter.VAR_POSITIONAL:  # forward(self, *args): one entry holding all of them
            out[p.name] = tuple(dims[i : len(args)])
            i = len(args)
        elif i < len(args) and p.kind != inspect.Parameter.KEYWORD_ONLY:
            out[p.name] = dims[i]
            i += 1
    out.update(zip(kwargs, dims[len(args) :]))
    return out
