"""Loops and conditionals in the reference evaluator, on networks built by hand with the real builder (the ONNX
oracle covers more: Loop, Scan, If and the RNN/GRU/LSTM expansions)."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt._trt import trt


def test_counted_loop_with_iterators_recurrence_and_all_output_kinds(net):
    """sum_t x[t] along axis 0: LAST_VALUE is the recurrence after the last iteration, CONCATENATE stacks the
    body value of each iteration, REVERSE stacks them backwards; a reversed iterator reads x[M-1-t]."""
    x = net.input("x", (4, 3))
    loop = net.network.add_loop()
    count = net.const(torch.tensor(4, dtype=torch.int32))
    loop.add_trip_limit(count, trt.TripLimit.COUNT)
    rec = loop.add_recurrence(net.const(torch.zeros(3)))
    forward = loop.add_iterator(x, 0, False)
    backward = loop.add_iterator(x, 0, True)
    total = net.network.add_elementwise(rec.get_output(0), forward.get_output(0), trt.ElementWiseOperation.SUM)
    rec.set_input(1, total.get_output(0))
    last = loop.add_loop_output(rec.get_output(0), trt.LoopOutput.LAST_VALUE)
    length = net.const(torch.tensor(4, dtype=torch.int32))
    scan = loop.add_loop_output(total.get_output(0), trt.LoopOutput.CONCATENATE, 0)
    scan.set_input(1, length)
    flipped = loop.add_loop_output(backward.get_output(0), trt.LoopOutput.REVERSE, 1)
    flipped.set_input(1, length)
    for layer, name in ((last, "last"), (scan, "scan"), (flipped, "flipped")):
        net.mark(layer.get_output(0), name)
    v = torch.arange(12.0).reshape(4, 3)
    out = net.run({"x": v})
    assert torch.equal(out["last"], v.sum(0))
    assert torch.equal(out["scan"], v.cumsum(0))
    # REVERSE of the reversed iterator's values (x[3], x[2], x[1], x[0]) gives x[0..3] back, stacked on axis 1
    assert torch.equal(out["flipped"], v.T)


def test_while_loop_stops_when_its_condition_turns_false(net):
    """Doubling while the value is below 100: 1 -> 2 -> ... -> 128 (the condition is checked before each trip)."""
    start = net.input("start", (1,))
    loop = net.network.add_loop()
    rec = loop.add_recurrence(start)
    below = net.network.add_elementwise(
        rec.get_output(0), net.const(torch.tensor([100.0])), trt.ElementWiseOperation.LESS
    )
    flag = net.network.add_shuffle(below.get_output(0))
    flag.reshape_dims = ()
    loop.add_trip_limit(flag.get_output(0), trt.TripLimit.WHILE)
    doubled = net.network.add_elementwise(rec.get_output(0), rec.get_output(0), trt.ElementWiseOperation.SUM)
    rec.set_input(1, doubled.get_output(0))
    net.mark(loop.add_loop_output(rec.get_output(0), trt.LoopOutput.LAST_VALUE).get_output(0), "y")
    assert net.run1({"start": torch.tensor([1.0])}).tolist() == [128.0]
    assert net.run1({"start": torch.tensor([300.0])}).tolist() == [300.0]  # zero trips


@pytest.mark.parametrize("flag,expected", [(True, [2.0, 4.0]), (False, [11.0, 12.0])])
def test_conditional_evaluates_the_taken_branch_only(net, flag, expected):
    """The output takes the branch the condition picks, and the other branch is not evaluated at all."""
    cond = net.input("cond", (), torch.bool)
    x = net.input("x", (2,))
    conditional = net.network.add_if_conditional()
    conditional.set_condition(cond)
    inside = conditional.add_input(x).get_output(0)
    then = net.network.add_elementwise(inside, inside, trt.ElementWiseOperation.SUM).get_output(0)
    then.name = "then_value"
    other = net.network.add_elementwise(inside, net.const(torch.tensor([10.0, 10.0])), trt.ElementWiseOperation.SUM)
    other.get_output(0).name = "else_value"
    net.mark(conditional.add_output(then, other.get_output(0)).get_output(0), "y")
    values = net.run({"cond": torch.tensor(flag), "x": torch.tensor([1.0, 2.0])}, outputs="all")
    assert values["y"].tolist() == expected
    assert ("then_value" in values, "else_value" in values) == (flag, not flag)
