"""View and layout ops: view/reshape, flatten, permute/transpose, unsqueeze/squeeze, expand."""

from __future__ import annotations

from typing import Any

import torch
import torch.fx

from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


@converter(aten.view.default, aten.reshape.default, aten._unsafe_view.default)
def view(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.reshape(ctx, T.to_trt(ctx, args[0]), list(args[1]))
