"""TensorRT <-> torch dtype mapping (the one table of it in the package)."""

from __future__ import annotations

import torch

from torch_tensorrt._trt import trt

_PAIRS = (
    ("FLOAT", torch.float32),
    ("HALF", torch.float16),
    ("BF16", torch.bfloat16),
    ("INT8", torch.int8),
    ("UINT8", torch.uint8),
    ("INT32", torch.int32),
    ("INT64", torch.int64),
    ("BOOL", torch.bool),
    ("FP8", torch.float8_e4m3fn),
)


def torch_dtype_of(dtype: "trt.DataType") -> torch.dtype:
    for name, tdt in _PAIRS:
        if dtype == getattr(trt.DataType, name):
            return tdt
    raise TypeError(f"TensorRT dtype {dtype} has no torch equivalent")


def trt_dtype_of(dtype: torch.dtype) -> "trt.DataType":
    for name, tdt in _PAIRS:
        if dtype == tdt:
            return getattr(trt.DataType, name)
    raise TypeError(f"torch dtype {dtype} has no TensorRT equivalent (float64 needs truncate_double=True)")
