"""What a serialized TensorRT-RTX plan spends its bytes on besides the weights: embedded kernel sources.

TensorRT-RTX builds engines ahead of time without a GPU and compiles the kernels its graph compiler generates
(fused pointwise, reduction, normalization, layout kernels) just in time on the user's GPU. Each such kernel is
stored in the plan as CUDA C++ source, and every source starts with the same prelude (type aliases and vector
helpers, ~125 KB). So a plan is about ``weights + ~130 KB x generated kernels`` (measured with TensorRT-RTX 1.7.1;
library kernels -- convolutions, GEMMs -- carry no source). On a small model, or one whose graph splits into many
generated kernels (swin_t: 82, a tiny UNet: 34), that is what makes the plan larger than its weights. The engine
record stores those parts compressed (:mod:`torch_tensorrt.runtime._plan_pack`), so the repeated prelude costs a
saved engine about one copy.

The plan format is not documented: this is a best-effort scan for the prelude's first line, used to *report*
(``torchtrt inspect``, ``benchmarks/zoo.py``), never to decide anything. Plans of the full TensorRT (compiled
kernels, no sources) report zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from torch_tensorrt.runtime._record_frame import Buffer

#: First line of the prelude every generated-kernel source starts with (TensorRT-RTX 1.7).
KERNEL_SOURCE_START = b"#undef __HAS_FP8\n"
_START = re.compile(re.escape(KERNEL_SOURCE_START))
_NOT_TEXT = re.compile(rb"[^\t\n\r\x20-\x7e]")


@dataclass(frozen=True)
class KernelSources:
    """Generated-kernel sources found in a plan: how many, and their bytes (text from each prelude on)."""

    count: int
    bytes: int


def kernel_sources(plan: Buffer) -> KernelSources:
    """Count the CUDA C++ kernel sources embedded in ``plan`` and their bytes (see the module docstring)."""
    count = total = 0
    for match in _START.finditer(plan):
        end = _NOT_TEXT.search(plan, match.start())
        total += (end.start() if end else len(plan)) - match.start()
        count += 1
    return KernelSources(count, total)
