"""Refit: give a compiled module new weights without building an engine.

:func:`refit_module_weights` takes a compiled module (the GraphModule from ``compile``, any module holding
:class:`~torch_tensorrt.runtime.TorchTensorRTModule` engines, or an ExportedProgram loaded with
``torch_tensorrt.load``) and a program with the same structure and new weights. For every engine it computes
the new value of each named weight and refits the engine through TensorRT's refitter
(:mod:`torch_tensorrt.runtime._refit`):

* ``use_weight_map_cache=True`` (default): from the engine's weight map (the recipes recorded at compile time,
  :mod:`torch_tensorrt.runtime._weight_map`) evaluated on the new program's state dict -- no lowering and no
  conversion;
* ``use_weight_map_cache=False``: the new program is lowered, partitioned and converted again (nothing is built)
  and each engine takes the weights its network would hold.

Structure is checked first: the exported graphs must list the same nodes, and every weight the engines read must
exist with the same shape and dtype; the error names the first node or weight that differs.
:func:`refit_stripped_engines` refits the weight-stripped engines of a loaded program (``torch_tensorrt.load``).
Also here: :func:`get_engine_from_encoded_engine` (raw-engine export page).
"""

from __future__ import annotations

import base64
import binascii
import copy
import logging
import uuid
from typing import Any, Iterator, Mapping, Optional, cast

import torch

from torch_tensorrt._errors import TorchTensorRTError
from torch_tensorrt.runtime._record import EngineRecord, engine_object_state
from torch_tensorrt.runtime._weight_map import WeightMap, WeightMapError, first_program_difference, program_listing

logger = logging.getLogger(__name__)

__all__ = ["refit_module_weights", "refit_stripped_engines", "get_engine_from_encoded_engine", "RefitStructureError"]


class RefitStructureError(TorchTensorRTError, ValueError):
    """The new weights do not belong to a program of the compiled module's structure."""


def program_sources(ep: torch.export.ExportedProgram) -> dict[str, torch.Tensor]:
    """The tensors a weight map's recipes read: the program's state dict and tensor constants, by name."""
    return {k: v for k, v in {**ep.state_dict, **ep.constants}.items() if isinstance(v, torch.Tensor)}


# ------------------------------------------------------------------------------------------- refit_module_weights
def refit_module_weights(
    compiled_module: Any,
    new_weight_module: Any,
    arg_inputs: Any = None,
    kwarg_inputs: Optional[dict[str, Any]] = None,
    verify_output: bool = False,
    use_weight_map_cache: bool = True,
    in_place: bool = False,
) -> Any:
    """Refit every engine of ``compiled_module`` with the weights of ``new_weight_module`` (an ExportedProgram, or
    an nn.Module exported at ``arg_inputs``/``kwarg_inputs``) and return the refitted module (``compiled_module``
    itself when ``in_place``, else a copy). ``verify_output=True`` runs both on the inputs and raises when they
    disagree. No engine is built (see the module docstring)."""
    from torch_tensorrt.dynamo import _frontend

    where = "torch_tensorrt.dynamo.refit_module_weights"
    spec = _frontend.user_inputs(arg_inputs, kwarg_inputs, where=where)
    new_ep = _frontend.to_exported_program(new_weight_module, spec, where=where)
    target = compiled_module if in_place else copy.deepcopy(compiled_module)
    engines = list(_engines(target))
    if not engines:
        raise ValueError(f"{where}: {type(compiled_module).__name__} holds no TensorRT engine")
    maps = [engine.weight_map() for engine in engines]  # every engine refittable, before anything changes
    fresh = None if use_weight_map_cache else _reconverted_weights(engines, new_ep, spec)
    sources = program_sources(new_ep)
    if fresh is None:
        for engine, wmap in zip(engines, maps):
            check_structure(engine.name, wmap, new_ep, sources)
    for engine, wmap in zip(engines, maps):
        weights = _check_fresh(engine.name, wmap, fresh) if fresh is not None else wmap.compute(sources)
        engine.refit(weights)
    if verify_output:
        _verify(target, new_ep, spec, where)
    return target


def check_structure(
    engine: str, wmap: WeightMap, new_ep: torch.export.ExportedProgram, sources: Mapping[str, torch.Tensor]
) -> None:
    """A :class:`RefitStructureError` naming the first node or weight where ``new_ep`` differs from what the
    engine was compiled from."""
    where = f"engine {engine!r}"
    if wmap.program:
        diff = first_program_difference(wmap.program, program_listing(new_ep.graph))
        if diff:
            raise RefitStructureError(f"{where}: the new program's structure differs from the compiled one at {diff}")
    try:
        wmap.check_sources(sources, where)
        wmap.check_baked(sources, where)
    except WeightMapError as exc:
        raise RefitStructureError(str(exc)) from exc


class _Engine:
    """One engine to refit: a TorchTensorRTModule, or an engine constant of an ExportedProgram."""

    def __init__(self, module: Any = None, ep: Any = None, node: Any = None) -> None:
        self.module, self.ep, self.node = module, ep, node
        self._decoded: Optional[EngineRecord] = None
        self.name = self.record().name

    def record(self) -> EngineRecord:
        if self.module is not None:
            assert self.module.record is not None
            return self.module.record
        if self._decoded is None:
            self._decoded = _node_record(self.ep, self.node)[1]
        return self._decoded

    def weight_map(self) -> WeightMap:
        from torch_tensorrt.runtime._refit import weight_map_of

        return weight_map_of(self.record())

    def refit(self, weights: Mapping[str, torch.Tensor]) -> None:
        if self.module is not None:
            self.module.refit(dict(weights))
            return
        from torch_tensorrt.runtime._refit import refit_record

        self._decoded = refit_record(self.record(), weights)
        _replace_node_record(self.ep, self.node, self._decoded)


def _engines(target: Any) -> Iterator[_Engine]:
    from torch_tensorrt.runtime._module import TorchTensorRTModule

    if isinstance(target, torch.export.ExportedProgram):
        for node in target.graph.nodes:
            if node.op == "call_function" and str(node.target).startswith("tensorrt.execute_engine"):
                yield _Engine(ep=target, node=node)
        return
    if not isinstance(target, torch.nn.Module):
        raise TypeError(
            f"refit_module_weights: expected a compiled module or ExportedProgram, got {type(target).__name__}"
        )
    for _, module in target.named_modules():
        if isinstance(module, TorchTensorRTModule) and module.record is not None:
            yield _Engine(module=module)


# ------------------------------------------------------------------------------- engines inside an ExportedProgram
def _node_const(ep: torch.export.ExportedProgram, node: torch.fx.Node) -> str:
    """The name of the constant holding the engine of node ``node`` (resolved through the graph signature)."""
    sig = ep.graph_signature
    by_placeholder = {**sig.inputs_to_lifted_tensor_constants, **sig.inputs_to_lifted_custom_objs}
    return by_placeholder[cast(torch.fx.Node, node.args[1]).name]


def _node_record(ep: torch.export.ExportedProgram, node: torch.fx.Node) -> tuple[str, EngineRecord]:
    """(constant name, decoded record) of an engine node of ``ep``."""
    from torch_tensorrt.runtime import _execute_op

    const = _node_const(ep, node)
    value = ep.constants[const]
    if isinstance(value, torch.Tensor):
        return const, _execute_op.decode_blob(value)
    return const, EngineRecord.from_state(engine_object_state(value))


def _replace_node_record(ep: torch.export.ExportedProgram, node: torch.fx.Node, record: EngineRecord) -> None:
    """Make the engine node of ``ep`` run ``record`` (a fresh engine key: no engine decoded before is reused)."""
    from torch_tensorrt.runtime import _execute_op

    const = _node_const(ep, node)
    if isinstance(ep.constants[const], torch.Tensor):
        ep.constants[const] = _execute_op.encode_blob(record)
        args = list(node.args)
        args[2] = _execute_op.engine_info(record, f"{record.name}-{uuid.uuid4().hex}")
        node.args = tuple(args)
    else:
        ep.constants[const] = torch.classes.tensorrt.Engine(record.to_tensor())


# ------------------------------------------------------------------------------------- use_weight_map_cache=False
def _settings_from_metadata(record: EngineRecord) -> Any:
    from torch_tensorrt.dynamo._settings import CompilationSettings

    stored = dict((record.metadata or {}).get("settings", {}))
    valid = set(CompilationSettings.field_names())
    kwargs = {k: v for k, v in stored.items() if k in valid}
    kwargs["enabled_precisions"] = {str(p).replace("torch.", "") for p in kwargs.get("enabled_precisions", ["float32"])}
    kwargs.update(
        cache_built_engines=False, reuse_cached_engines=False, custom_engine_cache=None, engine_cache_dir=None
    )
    return CompilationSettings.from_kwargs(**kwargs)


def _reconverted_weights(
    engines: list[_Engine], new_ep: torch.export.ExportedProgram, spec: Any
) -> dict[str, dict[str, torch.Tensor]]:
    """Engine name -> the weights (by TensorRT name) converting ``new_ep`` again gives it; nothing is built."""
    from torch_tensorrt.dynamo import _compiler
    from torch_tensorrt.dynamo.conversion._interpreter import convert_graph
    from torch_tensorrt.dynamo.partitioning import partition

    settings = _settings_from_metadata(engines[0].record())
    settings, gm, ranges, _, tracker = _compiler._prepare(
        "torch_tensorrt.dynamo.refit_module_weights", new_ep, spec.args or None, None, spec.kwargs or None, settings, {}
    )
    parts = partition(gm, settings)
    wanted = {e.name for e in engines}
    out: dict[str, dict[str, torch.Tensor]] = {}
    for name in parts.acc_names:
        if name in wanted:
            result = convert_graph(cast(torch.fx.GraphModule, parts.gm.get_submodule(name)), settings, ranges, name)
            out[name] = {w: nw.host for w, nw in result.weights.items()}
    missing = sorted(wanted - set(out))
    if missing:
        raise RefitStructureError(
            f"the new program partitions differently: it has no TensorRT partition {missing[0]!r} "
            f"(it has {parts.acc_names})"
        )
    return out


def _check_fresh(engine: str, wmap: WeightMap, fresh: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    weights = fresh[engine]
    for name, entry in wmap.weights.items():
        value = weights.get(name)
        if value is None:
            raise RefitStructureError(f"engine {engine!r}: the new program's network has no weight {name!r}")
        if list(value.shape) != list(entry["shape"]) or str(value.dtype).replace("torch.", "") != entry["dtype"]:
            raise RefitStructureError(
                f"engine {engine!r}: weight {name!r} is {value.dtype} {list(value.shape)} in the new program's "
                f"network, {entry['dtype']} {entry['shape']} in the engine"
            )
    return {k: v for k, v in weights.items() if k in wmap.weights}


# --------------------------------------------------------------------------------------------------- verification
def _verify(target: Any, new_ep: torch.export.ExportedProgram, spec: Any, where: str) -> None:
    values = spec.example_tensors()
    args, kwargs = values[: len(spec.args)], dict(zip(spec.kwargs, values[len(spec.args) :]))
    if not args and not kwargs:
        raise ValueError(f"{where}: verify_output=True needs arg_inputs to run both modules on")
    runnable = target.module() if isinstance(target, torch.export.ExportedProgram) else target
    with torch.no_grad():
        expected = torch.utils._pytree.tree_leaves(new_ep.module()(*args, **kwargs))
        got = torch.utils._pytree.tree_leaves(runnable(*args, **kwargs))
    for i, (e, g) in enumerate(zip(expected, got)):
        if isinstance(e, torch.Tensor) and not torch.allclose(g.float().cpu(), e.float().cpu(), atol=1e-2, rtol=1e-2):
            diff = (g.float().cpu() - e.float().cpu()).abs().max().item()
            raise RefitStructureError(
                f"{where}: output {i} of the refitted module differs from the new model (max |diff| {diff:.3g})"
            )
    logger.info("%s: the refitted module matches the new model on %d output(s)", where, len(expected))


# ------------------------------------------------------------------------------------- stripped engines at load
def refit_stripped_engines(ep: torch.export.ExportedProgram, weights: Any = None, where: str = "<program>") -> int:
    """Refit the engines of a loaded program that cannot run as saved (weight-stripped, or pending a refit):
    from ``weights`` (a model, ExportedProgram or state dict with the compiled program's names) when given, else
    from the engine weights saved beside them (``<engine>.engine_weights.*`` in the program's state dict).
    Returns how many engines were refitted; a :class:`RefitStructureError` names an engine whose weights are
    nowhere."""
    count = 0
    sources = _weight_sources(weights)
    for engine in list(_engines(ep)):
        wmap = engine.weight_map() if (engine.record().metadata or {}).get("weight_map") else None
        if wmap is None or not wmap.needs_refit:
            continue
        if sources is not None:
            wmap.check_sources(sources, f"{where}: engine {engine.name!r}")
            new = wmap.compute(sources)
        else:
            held = _saved_engine_weights(ep.state_dict, engine.name)
            absent = [n for n in wmap.weights if n not in held]
            if absent:
                raise RefitStructureError(
                    f"{where}: engine {engine.name!r} is weight-stripped and its weights were not saved with it "
                    f"({len(absent)} missing, e.g. {absent[0]!r}); load it with torch_tensorrt.load(path, "
                    "weights=model_with_the_weights)"
                )
            new = {n: held[n] for n in wmap.weights}
        engine.refit(new)
        count += 1
    return count


def _saved_engine_weights(state: Mapping[str, Any], engine: str) -> dict[str, torch.Tensor]:
    """The ``engine_weights`` buffers of the TorchTensorRTModule named ``engine`` in a program's state dict (its
    FQN ends with ``<engine>.engine_weights.<weight>``, wherever the module sat)."""
    prefix = f"{engine}.engine_weights."
    found: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith(prefix):
            found[key[len(prefix) :]] = value
        elif f".{prefix}" in key:
            found[key.split(f".{prefix}", 1)[1]] = value
    return found


def _weight_sources(weights: Any) -> Optional[dict[str, torch.Tensor]]:
    if weights is None:
        return None
    if isinstance(weights, torch.export.ExportedProgram):
        return program_sources(weights)
    if isinstance(weights, torch.nn.Module):
        state = dict(weights.state_dict(keep_vars=False))
        state.update({k: v for k, v in weights.named_buffers()})
        return state
    if isinstance(weights, Mapping):
        return {k: v for k, v in weights.items() if isinstance(v, torch.Tensor)}
    raise TypeError(f"weights must be a model, an ExportedProgram or a state dict, got {type(weights).__name__}")


# ------------------------------------------------------------------------------------- raw engines (export page)
def get_engine_from_encoded_engine(encoded_engine: str) -> Any:
    """Deserialize a base64-encoded serialized TensorRT engine into an ``ICudaEngine``.

    ``encoded_engine`` is ``base64.b64encode(engine_bytes).decode()``. Raises ``ValueError`` for text that is not
    base64 (or empty), and ``RuntimeError`` when no CUDA GPU is available (TensorRT deserializes engines onto a
    GPU) or when TensorRT rejects the plan.
    """
    if not isinstance(encoded_engine, (str, bytes)):
        raise TypeError(f"get_engine_from_encoded_engine: expected a base64 str, got {type(encoded_engine).__name__}")
    text = encoded_engine.encode("ascii") if isinstance(encoded_engine, str) else encoded_engine
    try:
        plan = base64.b64decode(text, validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"get_engine_from_encoded_engine: the engine is not valid base64 ({exc})") from exc
    if not plan:
        raise ValueError("get_engine_from_encoded_engine: the encoded engine is empty")
    if not torch.cuda.is_available():
        raise RuntimeError(
            "get_engine_from_encoded_engine: deserializing a TensorRT engine needs a CUDA GPU, and none is available "
            f"(torch.cuda.is_available() is False); the {len(plan)}-byte plan was decoded but not deserialized"
        )
    from torch_tensorrt._trt import trt
    from torch_tensorrt._trt_logging import trt_logger

    engine = trt.Runtime(trt_logger()).deserialize_cuda_engine(plan)
    if engine is None:
        raise RuntimeError(
            "get_engine_from_encoded_engine: TensorRT could not deserialize the engine (built for another GPU, "
            "TensorRT version or flavour?); see the TensorRT log"
        )
    return engine
