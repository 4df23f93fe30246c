"""Refit helpers. For now: :func:`get_engine_from_encoded_engine` (raw-engine export page)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import torch


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
