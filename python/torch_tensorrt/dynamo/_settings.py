"""Re-export of :mod:`torch_tensorrt._settings` (the documented path of :class:`CompilationSettings`)."""

from torch_tensorrt._settings import (
    SUPPORTED_PRECISIONS,
    CompilationSettings,
    normalize_op_names,
    parse_precision,
)

__all__ = ["CompilationSettings", "SUPPORTED_PRECISIONS", "normalize_op_names", "parse_precision"]
