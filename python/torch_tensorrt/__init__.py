"""torch_tensorrt: compile PyTorch models to TensorRT engines.

Importing this package is cheap: it imports neither TensorRT nor CUDA, and loads heavy sub-packages lazily. It
does register the engine ops, so that saved programs load with torch's own loaders after ``import
torch_tensorrt``: the Python runtime's ``tensorrt::execute_engine_python`` always, and the C++ runtime
(``tensorrt::execute_engine``, ``torch.classes.tensorrt.Engine``) when its library is installed.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from torch_tensorrt._version import __version__
from torch_tensorrt._input import Input
from torch_tensorrt._device import Device

_LAZY_ATTRS = {
    # name: (module, attribute or None for the module itself)
    "compile": ("torch_tensorrt._compile", "compile"),
    "save": ("torch_tensorrt._compile", "save"),
    "load": ("torch_tensorrt._compile", "load"),
    "convert_exported_program_to_trt_engine": ("torch_tensorrt._compile", "convert_exported_program_to_trt_engine"),
    "convert_method_to_trt_engine": ("torch_tensorrt._compile", "convert_method_to_trt_engine"),
    "dtype": ("torch_tensorrt._enums", "dtype"),
    "memory_format": ("torch_tensorrt._enums", "memory_format"),
    "DeviceType": ("torch_tensorrt._enums", "DeviceType"),
    "EngineCapability": ("torch_tensorrt._enums", "EngineCapability"),
    "Platform": ("torch_tensorrt._enums", "Platform"),
    "kernels": ("torch_tensorrt.kernels", None),
    "MutableTorchTensorRTModule": ("torch_tensorrt.dynamo._mutable", "MutableTorchTensorRTModule"),
    "CompilationSettings": ("torch_tensorrt._settings", "CompilationSettings"),
    "dynamo": ("torch_tensorrt.dynamo", None),
    "runtime": ("torch_tensorrt.runtime", None),
    "reference": ("torch_tensorrt.reference", None),
    "testing": ("torch_tensorrt.testing", None),
    "logging": ("torch_tensorrt.logging", None),
}

#: For C++ projects, as ``torch.utils.cmake_prefix_path``: add it to CMAKE_PREFIX_PATH and
#: ``find_package(torchtrt_runtime)`` finds the C++ runtime installed with the package (examples/cpp/README.md).
cmake_prefix_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "share", "cmake")

__all__ = ["__version__", "Input", "Device", "ENABLED_FEATURES", "cmake_prefix_path", *_LAZY_ATTRS]


def _register_engine_ops() -> None:
    import os

    from torch_tensorrt.runtime import _cpp, _execute_op

    _execute_op.register_python_op()
    if any(os.path.isfile(path) for path in _cpp.candidates()):
        _cpp.load()  # never raises; cpp_runtime_reason() says why when it fails


_register_engine_ops()


def __getattr__(name: str) -> Any:
    if name == "ENABLED_FEATURES":  # computed on first access (asks whether the C++ runtime is available)
        value = importlib.import_module("torch_tensorrt._compile").enabled_features()
        globals()[name] = value
        return value
    if name in _LAZY_ATTRS:
        module_name, attr = _LAZY_ATTRS[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'torch_tensorrt' has no attribute {name!r}")
