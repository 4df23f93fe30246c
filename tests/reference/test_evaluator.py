"""The evaluation loop itself: input validation, data-flow order, error messages, outputs="all"."""

import pytest
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference import evaluate_network


def test_layer_wired_to_a_later_layer_is_evaluated_after_it(net):
    x = net.input("x", (4, 6))
    sl = net.network.add_slice(x, (0, 0), (2, 3), (1, 1))
    start = net.const(torch.tensor([1, 2], dtype=torch.int64))  # added after the slice, wired into it
    sl.set_input(1, start)
    net.mark(sl.get_output(0), "out")
    value = torch.arange(24.0).reshape(4, 6)
    assert torch.equal(net.run1({"x": value}), value[1:3, 2:5])


def test_outputs_all_returns_intermediates(net):
    x = net.input("x", (3,))
    relu = net.network.add_activation(x, trt.ActivationType.RELU)
    neg = net.network.add_unary(relu.get_output(0), trt.UnaryOperation.NEG)
    net.mark(neg.get_output(0), "out")
    values = net.run({"x": torch.tensor([-1.0, 0.0, 2.0])}, outputs="all")
    assert torch.equal(values[relu.get_output(0).name], torch.tensor([0.0, 0.0, 2.0]))
    assert torch.equal(values["out"], torch.tensor([-0.0, -0.0, -2.0]))
    assert torch.equal(values["x"], torch.tensor([-1.0, 0.0, 2.0]))


def test_input_validation(net):
    x = net.input("x", (2, 3))
    net.mark(net.network.add_identity(x).get_output(0), "out")
    with pytest.raises(ValueError, match=r"missing inputs \['x'\]"):
        evaluate_network(net.network, {})
    with pytest.raises(TypeError, match="dtype torch.float16"):
        evaluate_network(net.network, {"x": torch.zeros(2, 3, dtype=torch.float16)})
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        evaluate_network(net.network, {"x": torch.zeros(3, 2)})
    with pytest.raises(ValueError, match="outputs must be"):
        evaluate_network(net.network, {"x": torch.zeros(2, 3)}, outputs="some")


def test_unmodelled_attribute_names_layer_type_not_subtype(net):
    x = net.input("x", (1, 1, 4, 4))
    pool = net.network.add_pooling_nd(x, trt.PoolingType.MAX, (2, 2))
    pool.name = "my_pool"
    net.mark(pool.get_output(0), "out")
    from torch_tensorrt.reference._registry import EvalContext

    ctx = EvalContext(net.network, {}, layer_type="POOLING")
    err = ctx.unsupported(pool, "padding_mode", "X")
    assert "my_pool" in str(err) and "(POOLING)" in str(err)
