"""The one control-flow layer evaluated like any other: CONDITIONAL_INPUT.

Loops and the rest of a conditional (condition, outputs, branch selection) are evaluated by
:mod:`torch_tensorrt.reference._control_flow`, which needs the whole region at once.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers._core_util import require


@handles("CONDITIONAL_INPUT", "IIfConditionalInputLayer")
def conditional_input(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """The input, unchanged, as a tensor of the conditional's branches.

    Doc: https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-with-conditionals.html
    """
    return [require(inputs, 0)]
