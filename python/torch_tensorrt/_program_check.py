"""Validate every engine of a loaded program (ExportedProgram or TorchScript module) before handing it out.

For each engine call -- ``tensorrt::execute_engine_python(inputs, blob, info)`` or
``tensorrt::execute_engine(inputs, engine)`` -- the record is decoded and validated
(:meth:`~torch_tensorrt.runtime._record.EngineRecord.from_list`: checksums, fields, metadata), the Python op's
``engine_info`` string (what the fake kernel trusts when tracing) must describe that same record, and engines
built by another torch_tensorrt / TensorRT / torch version are reported. Errors name the file, the node and
the engine's field; without this, problems would surface at the first call as a TorchScript traceback. The
engines' versions are then checked against this process (:func:`torch_tensorrt.runtime._compat.check_records`:
one warning per artifact; an error naming the engine that cannot run here).
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, Optional

import torch

from torch_tensorrt._errors import SerializationError

logger = logging.getLogger(__name__)


def _check(label: str, where: str, target: str, holder: Any, info: Optional[str]) -> Any:
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.runtime._record import EngineRecord, RecordError, engine_object_state

    try:
        if target.startswith("tensorrt::execute_engine_python") or target.startswith("tensorrt.execute_engine_python"):
            if not isinstance(holder, torch.Tensor):
                raise RecordError("its engine blob constant is missing")
            record = _execute_op.decode_blob(holder)
            if info is not None:
                _check_info(record, info)
        else:
            if holder is None or not hasattr(holder, "__getstate__"):
                raise RecordError("engine object is missing")
            record = EngineRecord.from_state(engine_object_state(holder))
    except (RecordError, ValueError) as exc:
        raise SerializationError(f"torch_tensorrt.load: {where}: engine node {label!r}: {exc}") from None
    return record


def _check_info(record: Any, info: str) -> None:
    """The Python op's ``engine_info`` must describe the blob's record (all but the process-local key)."""
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.runtime._record import RecordError

    try:
        given = dict(_execute_op.parse_info(info))
    except ValueError as exc:
        raise RecordError(f"engine {record.name!r}: engine_info {exc}") from None
    expected = _execute_op.parse_info(_execute_op.engine_info(record, given.get("key", "")))
    for key in sorted(set(given) | set(expected)):
        if key != "key" and given.get(key) != expected.get(key):
            raise RecordError(f"engine {record.name!r}: engine_info field {key!r} does not match the engine record")


def validate_exported_program(ep: torch.export.ExportedProgram, where: str = "<program>") -> int:
    """Validate the record of every engine node of ``ep``; returns the number of engines."""
    sig = ep.graph_signature
    by_placeholder = {**sig.inputs_to_lifted_tensor_constants, **sig.inputs_to_lifted_custom_objs}
    records: list[Any] = []
    for node in ep.graph.nodes:
        target = str(node.target)
        if node.op != "call_function" or not target.startswith("tensorrt."):
            continue
        holder = node.args[1] if len(node.args) > 1 else None
        const_name = by_placeholder.get(getattr(holder, "name", ""), None)
        value = ep.constants.get(const_name) if const_name else None
        info = node.args[2] if len(node.args) > 2 and isinstance(node.args[2], str) else None
        records.append(_check(node.name, where, target, value, info))
    _check_versions(records, where)
    return len(records)


def _script_engine_calls(module: torch.jit.ScriptModule) -> Iterator[tuple[str, str, Any, Optional[str]]]:
    """(label, op, engine holder, engine_info) of every engine call in ``module``'s methods."""
    for name, sub in module.named_modules():
        for method in sub._c._method_names():
            graph = getattr(sub, method).graph
            for node in graph.nodes():
                kind = node.kind()
                if not kind.startswith("tensorrt::execute_engine"):
                    continue
                label = f"{name or '<root>'}.{method}:{kind}"
                holder_node = node.inputsAt(1).node()
                holder: Any = None
                if holder_node.kind() == "prim::Constant" and holder_node.hasAttribute("value"):
                    holder = holder_node.t("value") if holder_node.kindOf("value") == "t" else holder_node.ival("value")
                elif holder_node.kind() == "prim::GetAttr":
                    holder = getattr(sub, holder_node.s("name"), None)
                info = None
                if node.inputsSize() > 2:
                    info_node = node.inputsAt(2).node()
                    if (
                        info_node.kind() == "prim::Constant"
                        and info_node.hasAttribute("value")
                        and info_node.kindOf("value") == "s"
                    ):
                        info = info_node.s("value")
                    else:
                        info = ""  # not a constant: refused by parse_info
                yield label, kind, holder, info


def validate_script_module(module: Any, where: str = "<module>") -> int:
    """Validate the record of every engine call of a loaded TorchScript module; returns the number of engines."""
    records = [_check(label, where, kind, holder, info) for label, kind, holder, info in _script_engine_calls(module)]
    _check_versions(records, where)
    return len(records)


def _check_versions(records: list[Any], where: str) -> None:
    from torch_tensorrt.runtime._compat import EngineCompatibilityError, check_records

    try:
        check_records(records, where)
    except EngineCompatibilityError as exc:
        raise SerializationError(f"torch_tensorrt.load: {exc}") from None
