"""Re-export of :mod:`torch_tensorrt.runtime._module` (:class:`TorchTensorRTModule`'s former module path)."""

from torch_tensorrt.runtime._module import TorchTensorRTModule

__all__ = ["TorchTensorRTModule"]
