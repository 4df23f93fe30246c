"""Reading a converter's arguments and what the graph recorded about its node.

Converters receive an aten call's arguments as ``args``/``kwargs`` (converted values), validators the FX node
itself. Optional schema arguments arrive positionally or by keyword, or not at all; the example values export
recorded (``node.meta["val"]``) give dtypes and shapes before anything is converted. One implementation of each
reading lives here so that every converter family reads arguments the same way.
"""

from __future__ import annotations

import operator
from typing import Any, Optional, Sequence, Union, cast

import torch
import torch.fx

from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._tensors import dtype_of


def arg(args: Sequence[Any], kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    """Argument ``name``, given positionally at ``index`` or by keyword (``default`` when absent)."""
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def node_arg(node: torch.fx.Node, index: int, name: str, default: Any = None) -> Any:
    """:func:`arg` of an FX node (for validators, which see the node before conversion)."""
    return arg(node.args, node.kwargs, index, name, default)


def out_dtype(ctx: ConversionContext, node: torch.fx.Node, index: Optional[int] = None) -> torch.dtype:
    """The dtype the network carries for the node's output (output ``index`` of a multi-output node): the
    graph's dtype under the precision policy (float32/float64 -> the compute dtype)."""
    val = node.meta["val"]
    if index is not None:
        val = val[index]
    return ctx.value_dtype(val.dtype)


def meta_val(value: Any) -> Any:
    """The example value export recorded for an FX node argument; any other argument is its own value."""
    return value.meta.get("val") if isinstance(value, torch.fx.Node) else value


def input_val(node: torch.fx.Node, index: int = 0) -> Optional[torch.Tensor]:
    """The example tensor of the node's ``index``-th positional argument (None when it is not a tensor)."""
    val = meta_val(node.args[index]) if index < len(node.args) else None
    return val if isinstance(val, torch.Tensor) else None


def input_dtype(node: torch.fx.Node, index: int = 0) -> Optional[torch.dtype]:
    """The torch dtype of the node's ``index``-th argument (a tensor's, or a Python scalar's as torch types it
    alone), if known."""
    value = node.args[index] if index < len(node.args) else None
    if isinstance(value, torch.fx.Node):
        val = input_val(node, index)
        return val.dtype if val is not None else None
    if isinstance(value, (bool, int, float)):
        return dtype_of(value)
    return None


def per_dim(values: Union[int, Sequence[int]], n: int) -> list[int]:
    """A per-spatial-dimension list of ``n`` entries from an int or a 1-element list (kernel sizes, strides,
    paddings...); a list of another length is returned as is."""
    if isinstance(values, int):
        return [values] * n
    values = list(values)
    return values * n if len(values) == 1 else values


def used_outputs(node: torch.fx.Node) -> set[int]:
    """Indices of a multi-output node's outputs that its users read through getitem (all of them, as far as
    anyone can tell, when the tuple itself escapes)."""
    used: set[int] = set()
    for user in node.users:
        if user.op == "call_function" and user.target is operator.getitem:
            used.add(int(cast(int, user.args[1])))
        else:
            used.update(range(8))
    return used
