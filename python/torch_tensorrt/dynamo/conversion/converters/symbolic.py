"""Size computations: ``sym_size``, Python arithmetic on SymInts, and ``getitem`` on multi-output nodes.

Inside a partition these usually arrive as SymInt placeholders; they are converted when a whole program goes
into one engine. Sizes are 1-element int64 tensors (see :mod:`.._registry`).
"""

from __future__ import annotations

import operator
from typing import Any, cast

import torch
import torch.fx

from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter


@converter(torch.ops.aten.sym_size.int)
def sym_size(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    size = T.dim_size(ctx, args[0], args[1])
    return size


_ARITH = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.floordiv: "//"}


def _size_operands(node: torch.fx.Node, settings: Any) -> Any:
    if not all(isinstance(a, (int, torch.fx.Node)) for a in node.args):
        return "operands are not sizes"
    for a in node.args:
        if isinstance(a, torch.fx.Node) and not isinstance(a.meta.get("val"), (int, torch.SymInt)):
            return "operands are not sizes"
    return None


@converter(*_ARITH, validator=_size_operands)
def size_arith(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return T.scalar_arith(ctx, args[0], args[1], _ARITH[cast(Any, node.target)])


@converter(operator.getitem)
def getitem(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return args[0][args[1]]
