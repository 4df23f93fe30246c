"""Re-export of :mod:`torch_tensorrt.runtime._execute_op` (the execution ops' former module path)."""

from torch_tensorrt.runtime._execute_op import (
    FakeTRTEngine,
    decode_blob,
    encode_blob,
    engine_for,
    engine_info,
    fake_outputs,
    forget_loaded_engines,
    lookup_engine,
    new_key,
    parse_info,
    register_cpp_fakes,
    register_engine,
    register_python_op,
)

__all__ = [
    "FakeTRTEngine",
    "decode_blob",
    "encode_blob",
    "engine_for",
    "engine_info",
    "fake_outputs",
    "forget_loaded_engines",
    "lookup_engine",
    "new_key",
    "parse_info",
    "register_cpp_fakes",
    "register_engine",
    "register_python_op",
]
