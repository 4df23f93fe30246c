"""Re-export of :mod:`torch_tensorrt.runtime._engine` (the documented module path of :class:`TRTEngine`)."""

from torch_tensorrt.runtime._engine import (
    EngineExecutionError,
    ExecutionInfo,
    PostCallback,
    PreCallback,
    TRTEngine,
    select_device,
)

__all__ = ["TRTEngine", "ExecutionInfo", "EngineExecutionError", "PreCallback", "PostCallback", "select_device"]
