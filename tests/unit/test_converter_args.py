"""The shared argument readers of the converters (``dynamo/conversion/_args.py``) on real FX nodes."""

from __future__ import annotations

import operator

import torch
import torch.fx

from torch_tensorrt.dynamo.conversion._args import (
    arg,
    input_dtype,
    input_val,
    meta_val,
    node_arg,
    per_dim,
    used_outputs,
)

aten = torch.ops.aten


def _graph() -> tuple[torch.fx.Graph, torch.fx.Node]:
    g = torch.fx.Graph()
    x = g.placeholder("x")
    x.meta["val"] = torch.empty(2, 3, dtype=torch.float16)
    return g, x


def test_arg_positional_keyword_default():
    assert arg((1, 2), {}, 1, "dim") == 2
    assert arg((1,), {"dim": 5}, 1, "dim") == 5
    assert arg((1,), {}, 1, "dim", -1) == -1
    assert arg((1,), {}, 1, "dim") is None


def test_node_arg_and_example_values():
    g, x = _graph()
    n = g.call_function(aten.sum.dim_IntList, (x, [1]), {"keepdim": True})
    assert node_arg(n, 1, "dim") == [1]
    assert node_arg(n, 2, "keepdim", False) is True
    assert node_arg(n, 3, "dtype") is None
    assert input_val(n).shape == (2, 3)
    assert input_val(n, 1) is None  # a list, not a tensor
    assert input_val(n, 7) is None
    assert meta_val(x) is x.meta["val"] and meta_val(3) == 3


def test_input_dtype_of_tensors_and_scalars():
    g, x = _graph()
    n = g.call_function(aten.add.Tensor, (x, 2))
    assert input_dtype(n, 0) == torch.float16
    assert input_dtype(n, 1) == torch.int64
    assert input_dtype(g.call_function(aten.add.Tensor, (x, 2.5)), 1) == torch.get_default_dtype()
    assert input_dtype(g.call_function(aten.eq.Scalar, (x, True)), 1) == torch.bool
    assert input_dtype(n, 4) is None


def test_per_dim():
    assert per_dim(3, 2) == [3, 3]
    assert per_dim([3], 3) == [3, 3, 3]
    assert per_dim((2, 4), 2) == [2, 4]


def test_used_outputs():
    g, x = _graph()
    pool = g.call_function(aten.max_pool2d_with_indices.default, (x, [2, 2]))
    g.call_function(operator.getitem, (pool, 0))
    assert used_outputs(pool) == {0}
    g.call_function(operator.getitem, (pool, 1))
    assert used_outputs(pool) == {0, 1}
    escaped = g.call_function(aten.max_pool2d_with_indices.default, (x, [2, 2]))
    g.output(escaped)
    assert {0, 1} <= used_outputs(escaped)
