"""``torch_tensorrt.kernels`` (custom kernels as TensorRT plugins): not supported in this build; every name raises."""

from __future__ import annotations

import sys

from torch_tensorrt._unsupported import UnsupportedModule

sys.modules[__name__] = UnsupportedModule(
    __name__,
    "custom kernels (torch_tensorrt.kernels)",
    "they are TensorRT plugins, which the TensorRT-RTX path here does not offer",
)
