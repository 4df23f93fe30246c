"""Refit one engine record with new weights through TensorRT's refitter -- no engine build.

:func:`refit_record` deserializes the record's plan with its engine kind's runtime, sets every given weight by
name, checks that nothing is missing, refits and serializes the engine again, and returns the new record (its
weight map no longer stripped or pending). It uses this subset of TensorRT's refit API (Python names)::

    engine = runtime.deserialize_cuda_engine(plan)
    refitter = trt.Refitter(engine, logger)          # EngineKind.make_refitter
    refitter.get_all_weights()                       # names that can be refitted
    refitter.get_weights_prototype(name)             # .dtype and .size of the built weights
    refitter.set_named_weights(name, trt.Weights(...))
    refitter.get_missing_weights()                   # must be empty before refit_cuda_engine
    refitter.refit_cuda_engine()
    engine.create_serialization_config() + SerializationFlag.INCLUDE_REFIT + engine.serialize_with_config(config)

A real TensorRT engine deserializes only on a CUDA GPU; the simulated engine kind of
:mod:`torch_tensorrt.testing` answers the same calls on any machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any, Mapping

import torch

from torch_tensorrt._dtypes import torch_dtype_of, trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.runtime._engine import EngineExecutionError, select_device
from torch_tensorrt.runtime._kinds import engine_kind
from torch_tensorrt.runtime._record import EngineRecord
from torch_tensorrt.runtime._weight_map import WeightMap

logger = logging.getLogger(__name__)


class RefitError(RuntimeError):
    """An engine that cannot be refitted with the weights offered; the message names the engine and weight."""


def weight_map_of(record: EngineRecord) -> WeightMap:
    """The record's weight map; a :class:`RefitError` when the engine was compiled without one."""
    value = (record.metadata or {}).get("weight_map")
    if not value:
        raise RefitError(
            f"engine {record.name!r} has no weight map: it was compiled with immutable_weights=True; compile with "
            "immutable_weights=False to refit it"
        )
    return WeightMap.from_json(value)


def refit_record(record: EngineRecord, weights: Mapping[str, torch.Tensor]) -> EngineRecord:
    """``record`` with its engine refitted to ``weights`` (TensorRT weight name -> tensor, as the weight map
    describes them). Weights the engine cannot refit are refused when they depend on the state dict."""
    wmap = weight_map_of(record)
    kind = engine_kind(record.engine_kind, record.name)
    if kind.make_refitter is None or kind.store_plan is None:
        raise RefitError(f"engine {record.name!r}: engines of kind {kind.name!r} cannot be refitted")
    try:
        device = select_device(record)
    except EngineExecutionError as exc:
        raise RefitError(
            f"engine {record.name!r}: refit deserializes the engine, which needs its device: {exc}"
        ) from exc
    runtime = kind.make_runtime(device)
    with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
        engine = runtime.deserialize_cuda_engine(kind.plan(record))
        if engine is None:
            raise RefitError(
                f"engine {record.name!r}: TensorRT could not deserialize it for refit; see the TensorRT log"
            )
        refitter = kind.make_refitter(engine)
        refittable = set(refitter.get_all_weights())
        keep: list[torch.Tensor] = []  # host buffers must outlive refit_cuda_engine
        for name, value in weights.items():
            if name not in refittable:
                entry = wmap.weights.get(name)
                if entry is not None and wmap.sources_of(entry["node"]):
                    raise RefitError(
                        f"engine {record.name!r}: weight {name!r} (from {sorted(wmap.sources_of(entry['node']))}) is "
                        "not refittable in this engine (TensorRT folded it); compile the new model instead"
                    )
                continue
            keep.append(_set(refitter, record.name, name, value))
        missing = list(refitter.get_missing_weights())
        if missing:
            raise RefitError(
                f"engine {record.name!r}: TensorRT needs {len(missing)} more weight(s) before it can refit: "
                f"{', '.join(sorted(missing)[:8])}"
            )
        if not refitter.refit_cuda_engine():
            raise RefitError(f"engine {record.name!r}: TensorRT's refit_cuda_engine failed; see the TensorRT log")
        refitted = kind.store_plan(record, engine)
        del keep
    meta = dict(refitted.metadata)
    wmap.stripped = wmap.pending = False
    meta["weight_map"] = wmap.to_json()
    return dataclasses.replace(refitted, metadata=meta)


def _set(refitter: Any, engine: str, name: str, value: torch.Tensor) -> torch.Tensor:
    proto = refitter.get_weights_prototype(name)
    host = value.detach().to("cpu").contiguous()
    want = torch_dtype_of(proto.dtype)
    if host.dtype != want or host.numel() != int(proto.size):
        raise RefitError(
            f"engine {engine!r}: weight {name!r} is {host.dtype} with {host.numel()} values; the engine holds "
            f"{want} with {int(proto.size)}"
        )
    if not refitter.set_named_weights(name, trt.Weights(trt_dtype_of(host.dtype), host.data_ptr(), host.numel())):
        raise RefitError(f"engine {engine!r}: TensorRT rejected the new values of weight {name!r}")
    return host
