"""The runtime: :class:`TorchTensorRTModule`, the engines it runs, and the choice between the C++ and the Python
runtime.

This package is the runtime's one home. It imports only the bottom layer (``_trt``, ``_dtypes``, ``_settings``,
``_trt_logging``, ...) and its own modules -- never the compiler (:mod:`torch_tensorrt.dynamo`), the reference
evaluator or the testing package; packages above it extend it through its tables (engine kinds in
:mod:`~torch_tensorrt.runtime._kinds`, callbacks run when the C++ library loads in
:mod:`~torch_tensorrt.runtime._cpp`).

=====================  =============================================================================
``_record``            the engine record: the serialized field list shared with the C++ runtime (ABI)
``_metadata``          the engine metadata (I/O specs, shape symbols, settings) inside the record
``_shape_expr``        the shape-expression format of the metadata (writer and safe evaluator)
``_kinds``             the table of engine kinds (how a record's plan is deserialized, when it may run)
``_compat``            versioning: what an engine was built with and for, checked when it is loaded
``_engine``            :class:`TRTEngine`, the Python engine (TensorRT's Python API)
``_execute_op``        the ``tensorrt::execute_engine*`` ops and their fake kernels
``_module``            :class:`TorchTensorRTModule`
``_choice``            which runtime a module uses (the rules are in its docstring)
``_cpp``               the loader of the C++ runtime library
``_switches``          the incumbent's runtime switches (output allocator, weight streaming, RuntimeSettings)
=====================  =============================================================================

Importing this package is cheap; the first access to :class:`TorchTensorRTModule` registers the Python
``tensorrt::execute_engine_python`` op.
"""

from __future__ import annotations

import importlib
from typing import Any

from torch_tensorrt.runtime._choice import (
    RUNTIMES,
    choose_runtime,
    cpp_runtime_available,
    cpp_runtime_reason,
    get_runtime,
    runtime,
    set_runtime,
)
from torch_tensorrt.runtime._switches import (
    RuntimeSettings,
    enable_output_allocator,
    enable_pre_allocated_outputs,
    get_multi_device_safe_mode,
    runtime_cache,
    runtime_config,
    set_dynamic_shapes_kernel_strategy,
    set_multi_device_safe_mode,
    set_runtime_settings,
    weight_streaming,
)

__all__ = [
    "TorchTensorRTModule",
    "set_runtime",
    "get_runtime",
    "runtime",
    "cpp_runtime_available",
    "cpp_runtime_reason",
    "choose_runtime",
    "RUNTIMES",
    "RuntimeSettings",
    "enable_output_allocator",
    "enable_pre_allocated_outputs",
    "get_multi_device_safe_mode",
    "runtime_cache",
    "runtime_config",
    "set_dynamic_shapes_kernel_strategy",
    "set_multi_device_safe_mode",
    "set_runtime_settings",
    "weight_streaming",
]


def __getattr__(name: str) -> Any:
    if name == "TorchTensorRTModule":
        value = importlib.import_module("torch_tensorrt.runtime._module").TorchTensorRTModule
        globals()[name] = value
        return value
    raise AttributeError(f"module 'torch_tensorrt.runtime' has no attribute {name!r}")
