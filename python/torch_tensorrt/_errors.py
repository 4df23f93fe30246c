"""Errors that say what is wrong and where: FX node, op, the user's source line."""

from __future__ import annotations

import os
import re
from typing import Optional

import torch.fx

_FRAME = re.compile(r'File "([^"]+)", line \d+')


def _library_dirs() -> tuple[str, ...]:
    import torch as _torch

    return (os.path.dirname(_torch.__file__) + os.sep, os.path.dirname(os.path.abspath(__file__)) + os.sep)


def user_source_line(node: torch.fx.Node) -> Optional[str]:
    """The user's line that produced ``node``: the innermost frame of ``torch.export``'s recorded stack trace
    outside torch and torch_tensorrt (the innermost frame when all are library frames)."""
    trace = node.meta.get("stack_trace")
    if not trace:
        return None
    lines = trace.strip().splitlines()
    frames = []
    for i, ln in enumerate(lines):
        m = _FRAME.match(ln.strip())
        if m:
            code = lines[i + 1].strip() if i + 1 < len(lines) and not _FRAME.match(lines[i + 1].strip()) else ""
            frames.append((m.group(1), ln.strip(), code))
    if not frames:
        return None
    libs = _library_dirs()
    user = [f for f in frames if not os.path.abspath(f[0]).startswith(libs)]
    _, where, code = (user or frames)[-1]
    return f"{where}: {code}" if code else where


def short_source_line(node: torch.fx.Node) -> str:
    """``model.py:12 return x.relu()`` -- the compact form of :func:`user_source_line` for tables."""
    full = user_source_line(node)
    if not full:
        return ""
    m = re.match(r'File "([^"]+)", line (\d+)(?:, in [^:]+)?(?::\s*(.*))?', full)
    if not m:
        return full
    return f"{os.path.basename(m.group(1))}:{m.group(2)} {m.group(3) or ''}".strip()


def op_name(node: torch.fx.Node) -> str:
    target = node.target
    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target._schema.name.split('::')[-1]}.{target._overloadname}"
    return getattr(target, "__name__", str(target))


def describe_node(node: torch.fx.Node) -> str:
    """``node 'relu_1' (aten.relu.default) from File "model.py", line 12: return x.relu()``."""
    where = user_source_line(node)
    text = f"node {node.name!r} ({op_name(node)})"
    return f"{text} from {where}" if where else text


class TorchTensorRTError(RuntimeError):
    """Base class of the package's errors."""


class UnsupportedOperatorError(TorchTensorRTError):
    """Ops that have no converter (or whose converter rejected the node) where full conversion is required."""

    def __init__(self, nodes: list[tuple[torch.fx.Node, str]], context: str) -> None:
        self.nodes = [n for n, _ in nodes]
        lines = [f"  - {describe_node(n)}: {reason}" for n, reason in nodes]
        super().__init__(
            f"{context}: {len(nodes)} operator(s) cannot be converted to TensorRT:\n" + "\n".join(lines) + "\n"
            "Use torch_tensorrt.dynamo.compile(...) (unsupported ops then run in PyTorch), or list them in "
            "torch_executed_ops=... to run them in PyTorch explicitly."
        )


class ConversionError(TorchTensorRTError):
    """A converter failed on a node."""

    def __init__(self, node: torch.fx.Node, message: str) -> None:
        self.node = node
        super().__init__(f"converting {describe_node(node)}: {message}")


class EngineBuildError(TorchTensorRTError):
    """The TensorRT builder returned no engine."""


class SerializationError(TorchTensorRTError):
    """A program that cannot be saved or loaded; the message says which file and why (member, node, field)."""
