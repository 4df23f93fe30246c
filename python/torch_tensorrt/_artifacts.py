"""What ``torch_tensorrt.save`` / ``load`` need to know about compiled programs, apart from the file formats.

* :func:`engine_records` -- the engine records a module, an ExportedProgram or a loaded TorchScript module holds
  (either runtime's form: ``TorchTensorRTModule`` submodules, ``execute_engine`` nodes with an ``Engine`` object,
  ``execute_engine_python`` nodes with a record blob);
* :func:`check_savable` -- what ``save`` refuses before doing any work: a ``torch.compile``d module, engines of a
  kind that is not for deployment (simulated engines) unless that kind may run now or the caller asks;
* :func:`trace_to_torchscript` -- ``torch.jit.trace`` under fake tensors, so that no engine runs (a machine
  without a GPU saves TorchScript too);
* :func:`compiled_inputs` -- the inputs a compiled GraphModule was compiled for (``save(..., retrace=False)``).
"""

from __future__ import annotations

import inspect
from typing import Any, Iterator, cast

import torch

from torch_tensorrt.dynamo._frontend import UserInputs


class SaveRefused(ValueError):
    """``torch_tensorrt.save`` was asked to save something it must not (the message says what to do instead)."""


def prepare_engines(module: torch.nn.Module) -> None:
    """Create every engine object before tracing, so that tracing sees C++ engines as module attributes (and
    lifts them as constants) even for modules built with ``lazy_engine_init``. Nothing is deserialized."""
    from torch_tensorrt.runtime._module import TorchTensorRTModule

    for sub in module.modules():
        if isinstance(sub, TorchTensorRTModule) and sub.record is not None:
            sub.setup_engine(deserialize=False)


# --------------------------------------------------------------------------------------------- engine records
def exported_program_engines(ep: torch.export.ExportedProgram) -> Iterator[tuple[Any, Any]]:
    """``(node, record)`` for each engine node of ``ep`` (a ``RecordError`` for a missing or damaged constant)."""
    from torch_tensorrt.runtime import _execute_op
    from torch_tensorrt.runtime._record import EngineRecord, RecordError, engine_object_state

    sig = ep.graph_signature
    by_placeholder = {**sig.inputs_to_lifted_tensor_constants, **sig.inputs_to_lifted_custom_objs}
    for node in ep.graph.nodes:
        if node.op != "call_function" or not str(node.target).startswith("tensorrt.execute_engine"):
            continue
        holder = node.args[1] if len(node.args) > 1 else None
        const_name = by_placeholder.get(getattr(holder, "name", ""), None)
        value = ep.constants.get(const_name) if const_name else None
        if str(node.target).startswith("tensorrt.execute_engine_python"):
            if not isinstance(value, torch.Tensor):
                raise RecordError(f"engine node {node.name!r}: its engine blob constant is missing")
            yield node, _execute_op.decode_blob(value)
        elif value is None:
            raise RecordError(f"engine node {node.name!r}: its engine constant is missing")
        else:
            yield node, EngineRecord.from_state(engine_object_state(value))


def script_module_engines(module: Any) -> Iterator[tuple[str, Any]]:
    """``(submodule name, record)`` for each engine call in a TorchScript module's methods (a submodule may have
    none: an ``EngineWeights`` holder has no ``forward``)."""
    from torch_tensorrt.runtime import _execute_op
    from torch_tensorrt.runtime._record import EngineRecord, engine_object_state

    for name, sub in module.named_modules():
        graphs = [getattr(sub, method).graph for method in sub._c._method_names()]
        for graph, kind in (
            (g, k) for g in graphs for k in ("tensorrt::execute_engine", "tensorrt::execute_engine_python")
        ):
            for node in graph.findAllNodes(kind):
                holder = list(node.inputs())[1].node()
                if holder.kind() == "prim::GetAttr":
                    value = getattr(sub, holder.s("name"))
                elif holder.kind() == "prim::Constant":
                    value = holder.output().toIValue()
                else:
                    continue
                if isinstance(value, torch.Tensor):
                    yield name, _execute_op.decode_blob(value)
                else:
                    yield name, EngineRecord.from_state(engine_object_state(value))


def engine_records(program: Any) -> Iterator[Any]:
    """The engine records of a module, an ExportedProgram or a TorchScript module."""
    if isinstance(program, torch.export.ExportedProgram):
        yield from (record for _, record in exported_program_engines(program))
    elif isinstance(program, torch.jit.ScriptModule):
        yield from (record for _, record in script_module_engines(program))
    elif isinstance(program, torch.nn.Module):
        from torch_tensorrt.runtime._module import TorchTensorRTModule

        for sub in program.modules():
            if isinstance(sub, TorchTensorRTModule) and sub.record is not None:
                yield sub.record


# ------------------------------------------------------------------------------------------------ refusals
def check_savable(module: Any, allow_simulated: bool) -> None:
    """Refuse, before any work, what cannot be saved: a ``torch.compile``d module, and engines not for deployment
    outside the moment they may run (``allow_simulated`` lifts the latter)."""
    from torch_tensorrt.runtime._kinds import engine_kind, refusal

    if isinstance(module, torch._dynamo.eval_frame.OptimizedModule) or hasattr(module, "_torchdynamo_orig_callable"):
        raise SaveRefused(
            "torch_tensorrt.save: this is a torch.compile()d module: torch.compile(backend='tensorrt') is a JIT path "
            "whose engines are built on the first call and live in memory only, so there is nothing to save. Use "
            "the AOT path: trt_gm = torch_tensorrt.compile(model, ir='dynamo', arg_inputs=inputs), then "
            "torch_tensorrt.save(trt_gm, 'model.ep', arg_inputs=inputs)"
        )
    if allow_simulated:
        return
    for record in engine_records(module):
        kind = engine_kind(record.engine_kind, record.name)
        if not kind.deployable and (kind.may_run is None or refusal(kind, record.name)):
            raise SaveRefused(
                f"torch_tensorrt.save: engine {record.name!r} is of kind {kind.name!r}: it was compiled under "
                "torch_tensorrt.testing.simulate(), is not a TensorRT plan and cannot run on TensorRT, so saving it "
                "outside simulate() would make an artifact that looks deployable and is not. Save inside `with "
                "torch_tensorrt.testing.simulate():`, pass allow_simulated=True (tests), or compile the model again "
                "without simulate() for deployment"
            )


# ------------------------------------------------------------------------------------------- TorchScript
def trace_to_torchscript(module: torch.nn.Module, inputs: UserInputs) -> torch.jit.ScriptModule:
    """``torch.jit.trace`` of ``module`` under fake tensors: the PyTorch parts are recorded as usual and each
    engine as its op (the op's fake kernel gives the output shapes), so no engine runs and no GPU is needed.
    Keyword inputs are traced by parameter name; traced sizes stay symbolic, so dynamic inputs need nothing more."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    prepare_engines(module)
    args, kwargs = inputs.export_examples()
    if not args and not kwargs:
        raise ValueError("torch_tensorrt.save: arg_inputs are required to trace the module to TorchScript")
    if kwargs:  # jit.trace takes positional or keyword examples, not both: bind everything to parameter names
        try:
            bound = inspect.signature(module.forward).bind(*args, **kwargs)
        except TypeError as exc:
            raise ValueError(
                f"torch_tensorrt.save: the inputs do not match {type(module).__name__}.forward: {exc}"
            ) from exc
        kwargs, args = dict(bound.arguments), ()
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        fake = lambda v: mode.from_tensor(v) if isinstance(v, torch.Tensor) else v  # noqa: E731
        fargs = tuple(fake(a) for a in args)
        fkwargs = {k: fake(v) for k, v in kwargs.items()}
        return torch.jit.trace(
            module,
            fargs if fargs else None,
            example_kwarg_inputs=fkwargs or None,
            strict=False,
            check_trace=False,
            _store_inputs=False,
        )


# ---------------------------------------------------------------------------------------- compiled inputs
def compiled_inputs(gm: torch.fx.GraphModule) -> tuple[UserInputs, Any]:
    """The inputs a compiled GraphModule was compiled for, read from its placeholders' example values: example
    tensors at the recorded size hints, and ``dynamic_shapes`` with one ``torch.export.Dim`` per size symbol (so
    inputs that shared a dimension still share it) bounded by the symbol's recorded range."""
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    values = [n.meta.get("val") for n in placeholders]
    if not values or any(not isinstance(v, torch.Tensor) for v in values):
        raise ValueError(
            "torch_tensorrt.save(retrace=False): the module's graph does not record its inputs (it is not a program "
            "compiled by torch_tensorrt); pass arg_inputs with retrace=True"
        )
    dims: dict[str, Any] = {}
    examples, shapes = [], []
    for val in values:
        sizes, spec = [], {}
        for d, size in enumerate(val.shape):
            if isinstance(size, torch.SymInt) and size.node.expr.is_Symbol:
                name = str(size.node.expr)
                if name not in dims:
                    shape_env = size.node.shape_env
                    assert shape_env is not None  # a symbolic size of a traced program has its shape env
                    bounds = shape_env.var_to_range[size.node.expr]
                    limits = {"min": int(bounds.lower)} if bounds.lower.is_finite else {}
                    if bounds.upper.is_finite:
                        limits["max"] = int(bounds.upper)
                    dims[name] = torch.export.Dim(f"d_{name}", **limits)
                spec[d] = dims[name]
                sizes.append(int(cast(int, size.node.hint)))
            else:
                sizes.append(int(size))
        examples.append(torch.zeros(sizes, dtype=val.dtype))
        shapes.append(spec or None)
    in_spec = getattr(getattr(getattr(gm.graph, "_codegen", None), "pytree_info", None), "in_spec", None)
    if in_spec is None:
        return UserInputs(examples, {}), tuple(shapes)
    args, kwargs = torch.utils._pytree.tree_unflatten(examples, in_spec)
    arg_dims, kw_dims = torch.utils._pytree.tree_unflatten(shapes, in_spec)
    if not kwargs:
        return UserInputs(list(args), {}), tuple(arg_dims)
    names = list(inspect.signature(gm.forward).parameters)
    return UserInputs(list(args), dict(kwargs)), {**dict(zip(names, arg_dims)), **kw_dims}
