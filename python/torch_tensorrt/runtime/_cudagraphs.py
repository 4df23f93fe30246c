"""The CUDA-graphs mode of the runtime: off, per-engine graphs, or whole-graph capture.

The mode is process-wide, like the product's (its state is :data:`torch_tensorrt.runtime._graph_capture.MODE`;
this module is the API that changes it):

* :func:`set_cudagraphs_mode` ``(True)`` -- **per-engine graphs**: every engine records a CUDA graph on its first
  call for an input shape set and replays it afterwards (a new shape set records another; at most
  ``max_cuda_graphs`` are kept per engine, and freed when the mode goes off). Engines with data-dependent output
  shapes run without a graph and say so once;
* :func:`torch_tensorrt.runtime.enable_cudagraphs` -- a block in which a compiled module runs as **one captured
  graph** (all engines and PyTorch operators; see :mod:`torch_tensorrt.runtime._whole_graph`). Engines then run
  plainly, as part of the capture. The previous mode is restored when the block ends.

Entering a mode in a process without a CUDA GPU raises :class:`~torch_tensorrt.runtime._graph_capture.CudaGraphsUnavailable`.

The C++ runtime gets the mode through two ops its library defines (the contract; the Python value is pushed on
every change and when the library loads): ``tensorrt::set_cudagraphs_mode(int mode) -> ()`` and
``tensorrt::get_cudagraphs_mode() -> int``, with the integers of :class:`CudaGraphsMode` (0 standard, 1 per-engine
graphs, 2 whole graph: run plainly and capture-safe); the library keeps per-engine graphs like the Python runtime
(``runtime_cpp/src/cudagraphs.cpp``). A library without them cannot honour the mode: a C++-runtime engine called
while a mode is on raises ``NotImplementedError`` naming the engine (:func:`check_cpp_engine`).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import torch

from torch_tensorrt.runtime import _cpp, _graph_capture
from torch_tensorrt.runtime._graph_capture import CudaGraphsMode, require_graphs

logger = logging.getLogger(__name__)

SET_OP = "set_cudagraphs_mode"
GET_OP = "get_cudagraphs_mode"


def current_mode() -> CudaGraphsMode:
    return CudaGraphsMode(_graph_capture.MODE)


def set_cudagraphs_mode(enabled: bool) -> None:
    """Turn per-engine CUDA graphs on (True) or off (False) for the whole process."""
    set_mode(CudaGraphsMode.PER_ENGINE if enabled else CudaGraphsMode.STANDARD)


def get_cudagraphs_mode() -> bool:
    """True while CUDA graphs are on (per-engine graphs, or inside an ``enable_cudagraphs`` block)."""
    return _graph_capture.MODE != CudaGraphsMode.STANDARD


def get_whole_cudagraphs_mode() -> bool:
    """True while a whole-graph capture block (:func:`~torch_tensorrt.runtime.enable_cudagraphs`) is active."""
    return _graph_capture.MODE == CudaGraphsMode.WHOLE_GRAPH


def set_mode(mode: CudaGraphsMode | int) -> CudaGraphsMode:
    """Set the mode; returns the previous one. Any mode but STANDARD needs CUDA in this process."""
    mode = CudaGraphsMode(mode)
    if mode != CudaGraphsMode.STANDARD:
        require_graphs(
            "torch_tensorrt.runtime.set_cudagraphs_mode"
            if mode == CudaGraphsMode.PER_ENGINE
            else "torch_tensorrt.runtime.enable_cudagraphs"
        )
    previous = CudaGraphsMode(_graph_capture.MODE)
    _graph_capture.MODE = mode.value
    if mode == CudaGraphsMode.STANDARD and previous != CudaGraphsMode.STANDARD:
        _graph_capture.release_mode_graphs()
    if _cpp.is_loaded():
        _push_to_cpp()
    return previous


@contextlib.contextmanager
def mode_scope(mode: CudaGraphsMode) -> Iterator[None]:
    """``mode`` for a block, the previous one restored after it (also on errors)."""
    previous = set_mode(mode)
    try:
        yield
    finally:
        set_mode(previous)


# ------------------------------------------------------------------------------------------------- C++ runtime
def cpp_supports_cudagraphs() -> bool:
    """Whether the loaded C++ runtime library implements the mode (defines ``tensorrt::set_cudagraphs_mode``)."""
    if not _cpp.is_loaded():
        return False
    return hasattr(torch.ops.tensorrt, SET_OP) and hasattr(torch.ops.tensorrt, GET_OP)


def _push_to_cpp() -> None:
    if cpp_supports_cudagraphs():
        getattr(torch.ops.tensorrt, SET_OP)(_graph_capture.MODE)


def check_cpp_engine(name: str) -> None:
    """Called by C++-runtime modules while a mode is on: raise when the library cannot honour it."""
    if _graph_capture.MODE != CudaGraphsMode.STANDARD and not cpp_supports_cudagraphs():
        raise cpp_unsupported(name)


def cpp_unsupported(name: str) -> NotImplementedError:
    """The error for engine ``name`` on a C++ runtime library without CUDA-graph support."""
    return NotImplementedError(
        f"engine {name!r} runs on the C++ runtime, and the loaded C++ runtime library does not support CUDA "
        f"graphs yet (it defines no tensorrt::{SET_OP} op); run the module on the Python runtime "
        "(module.set_runtime('python'), or torch_tensorrt.runtime.set_runtime('python') before loading it), "
        "or leave CUDA-graphs mode off"
    )


_cpp.add_load_callback(_push_to_cpp)
