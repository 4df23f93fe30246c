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
``_output_allocator``  the ``IOutputAllocator`` for outputs with data-dependent shapes
``_shape_sets``        what an engine caches per input shape set (its hot path's helpers)
``_execute_op``        the ``tensorrt::execute_engine*`` ops and their fake kernels
``_module``            :class:`TorchTensorRTModule`
``_choice``            which runtime a module uses (the rules are in its docstring)
``_cpp``               the loader of the C++ runtime library
``_cudagraphs``        the CUDA-graphs mode API (off / per-engine graphs / whole graph), also told to C++
``_graph_capture``     the mode's state, capture and replay of CUDA graphs, the bounded graph cache
``_whole_graph``       ``enable_cudagraphs``, :class:`CudaGraphsModule` (whole-graph capture) and
                       ``enable_pre_allocated_outputs``
``_switches``          the incumbent's runtime switches (output allocator, weight streaming, RuntimeSettings)
``_profiles``          which optimization profile an engine runs in (the rule)
``_profile_api``       ``optimization_profile``: pin one on every engine of a module
=====================  =============================================================================

CUDA graphs: ``set_cudagraphs_mode(True)`` turns on per-engine graphs for the process;
``with enable_cudagraphs(compiled) as m:`` runs ``m`` as one captured graph where it can (see
:mod:`~torch_tensorrt.runtime._whole_graph`).

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
    get_multi_device_safe_mode,
    runtime_cache,
    runtime_config,
    set_dynamic_shapes_kernel_strategy,
    set_multi_device_safe_mode,
    set_runtime_settings,
    weight_streaming,
)
from torch_tensorrt.runtime._cudagraphs import (
    get_cudagraphs_mode,
    get_whole_cudagraphs_mode,
    set_cudagraphs_mode,
)
from torch_tensorrt.runtime._graph_capture import CudaGraphsError, CudaGraphsMode, CudaGraphsUnavailable

_LAZY = {
    "TorchTensorRTModule": "torch_tensorrt.runtime._module",
    "CudaGraphsModule": "torch_tensorrt.runtime._whole_graph",
    "enable_cudagraphs": "torch_tensorrt.runtime._whole_graph",
    "enable_pre_allocated_outputs": "torch_tensorrt.runtime._whole_graph",
    "optimization_profile": "torch_tensorrt.runtime._profile_api",
}

__all__ = [
    "TorchTensorRTModule",
    "set_cudagraphs_mode",
    "get_cudagraphs_mode",
    "get_whole_cudagraphs_mode",
    "enable_cudagraphs",
    "enable_pre_allocated_outputs",
    "CudaGraphsModule",
    "CudaGraphsMode",
    "CudaGraphsError",
    "CudaGraphsUnavailable",
    "set_runtime",
    "get_runtime",
    "runtime",
    "cpp_runtime_available",
    "cpp_runtime_reason",
    "choose_runtime",
    "RUNTIMES",
    "RuntimeSettings",
    "enable_output_allocator",
    "get_multi_device_safe_mode",
    "runtime_cache",
    "runtime_config",
    "set_dynamic_shapes_kernel_strategy",
    "set_multi_device_safe_mode",
    "set_runtime_settings",
    "weight_streaming",
    "optimization_profile",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'torch_tensorrt.runtime' has no attribute {name!r}")
