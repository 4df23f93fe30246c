"""testing.simulate(): network recording, the rebuilt view, and the simulated runtime end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference import evaluate_network
from torch_tensorrt.testing import _simulate
from torch_tensorrt.testing._engines import (
    add_input,
    matmul_relu_module,
    new_network,
    nonzero_module,
    simulated_module,
    spec,
)
from torch_tensorrt.testing._recording import RecordedNetwork, RecordingError, record_network
from torch_tensorrt.testing._sim_runtime import Runtime, SimulationError, serialize_plan


def _two_output_network():
    """out0 = relu(x @ W) + b (broadcast), out1 = x * 3 (slice of a shuffle): several layer kinds."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    bias = rng.standard_normal((1, 5)).astype(np.float32)
    builder, net = new_network()
    xs = spec("x", torch.float32, ["s0", 4], min=[1, 4], opt=[3, 4], max=[6, 4])
    x = add_input(net, xs)
    mm = net.add_matrix_multiply(
        x, trt.MatrixOperation.NONE, net.add_constant((4, 5), trt.Weights(w)).get_output(0), trt.MatrixOperation.NONE
    )
    relu = net.add_activation(mm.get_output(0), trt.ActivationType.RELU)
    add = net.add_elementwise(
        relu.get_output(0), net.add_constant((1, 5), trt.Weights(bias)).get_output(0), trt.ElementWiseOperation.SUM
    )
    three = net.add_constant((1, 1), trt.Weights(np.full((1, 1), 3.0, np.float32)))
    mul = net.add_elementwise(x, three.get_output(0), trt.ElementWiseOperation.PROD)
    add.get_output(0).name = "out0"
    mul.get_output(0).name = "out1"
    net.mark_output(add.get_output(0))
    net.mark_output(mul.get_output(0))
    outs = [spec("out0", torch.float32, ["s0", 5]), spec("out1", torch.float32, ["s0", 4])]
    expected = lambda t: (torch.relu(t @ torch.from_numpy(w)) + torch.from_numpy(bias), t * 3)  # noqa: E731
    return builder, net, [xs], outs, expected


def test_simulate_is_never_active_unless_entered():
    assert not _simulate.is_active()
    with _simulate.simulate():
        assert _simulate.is_active()
        with _simulate.simulate():
            assert _simulate.is_active()
        assert _simulate.is_active()
    assert not _simulate.is_active()
    with pytest.raises(KeyError):
        with _simulate.simulate():
            raise KeyError("x")
    assert not _simulate.is_active()


def test_record_network_reads_layers_generically():
    _, net, _, _, _ = _two_output_network()
    rec = record_network(net)
    json.loads(json.dumps(rec, allow_nan=False))  # strict JSON
    assert rec["inputs"] == ["x"] and rec["outputs"] == ["out0", "out1"]
    types = [layer["type"] for layer in rec["layers"]]
    assert types.count("CONSTANT") == 3 and "MATRIX_MULTIPLY" in types and "ACTIVATION" in types
    act = next(layer for layer in rec["layers"] if layer["type"] == "ACTIVATION")
    assert act["class"] == "IActivationLayer"
    assert act["properties"]["type"] == {"enum": "ActivationType", "name": "RELU"}
    assert act["properties"]["alpha"] == 0.0
    mm = next(layer for layer in rec["layers"] if layer["type"] == "MATRIX_MULTIPLY")
    assert mm["properties"]["op0"] == {"enum": "MatrixOperation", "name": "NONE"}
    assert mm["inputs"][0] == "x"
    const = next(layer for layer in rec["layers"] if layer["type"] == "CONSTANT")
    assert const["properties"]["shape"] == {"dims": [4, 5]}
    assert rec["tensors"]["x"]["shape"] == [-1, 4] and rec["tensors"]["out0"]["dtype"] == "FLOAT"
    # the network's own layer objects are left as they were
    assert type(net.get_layer(0)).__name__ == "ILayer"


def test_record_keeps_empty_optional_slots():
    _, net = new_network()
    x = add_input(net, spec("x", torch.float32, [4, 6]))
    sl = net.add_slice(x, (0, 0), (2, 3), (1, 2))
    size = net.add_constant((2,), trt.Weights(np.array([2, 2], np.int64))).get_output(0)
    sl.set_input(2, size)  # the size slot set, the start slot (1) left empty
    net.mark_output(sl.get_output(0))
    rec = record_network(net)
    layer = next(entry for entry in rec["layers"] if entry["type"] == "SLICE")
    assert layer["inputs"][0] == "x" and layer["inputs"][2] == size.name
    assert layer["inputs"][1] is None  # empty optional input slot
    view = RecordedNetwork(rec)
    sliced = next(lay for lay in view if lay.type == trt.LayerType.SLICE)
    assert sliced.get_input(1) is None and sliced.num_inputs == 3


def test_recorded_view_evaluates_like_the_network():
    _, net, _, _, expected = _two_output_network()
    view = RecordedNetwork(json.loads(json.dumps(record_network(net))))
    x = torch.randn(3, 4)
    got = evaluate_network(view, {"x": x})
    real = evaluate_network(net, {"x": x})
    for name, want in zip(("out0", "out1"), expected(x)):
        torch.testing.assert_close(got[name], want)
        torch.testing.assert_close(got[name], real[name])
    layer = view.get_layer(0)
    assert layer.type == trt.LayerType.CONSTANT
    with pytest.raises(AttributeError, match="no recorded attribute 'nonexistent'"):
        layer.nonexistent  # noqa: B018


def test_recording_errors_are_clear():
    with pytest.raises(RecordingError, match="format"):
        RecordedNetwork({"layers": []})


def test_simulated_module_matches_torch_on_cpu():
    builder, net, ins, outs, expected = _two_output_network()
    module = simulated_module(builder, net, ins, outs, {"s0": ["x", 0]}, build=True)
    assert module.runtime == "python" and module.record.engine_kind == "simulated"
    for batch in (1, 3, 6):
        x = torch.randn(batch, 4)
        out0, out1 = module(x)
        want0, want1 = expected(x)
        torch.testing.assert_close(out0, want0)
        torch.testing.assert_close(out1, want1)


def test_matmul_relu_end_to_end():
    module, w = matmul_relu_module(build=True)
    x = torch.randn(7, 4)
    torch.testing.assert_close(module(x), torch.relu(x @ w))


def _nonzero_module():
    return nonzero_module()


def test_output_allocator_path_for_data_dependent_shapes():
    module = _nonzero_module()
    x = torch.tensor([[0.0, 1, 0, 2], [0, 0, 0, 0], [3, 0, 0, 0]])
    idx = module(x)
    torch.testing.assert_close(idx, torch.nonzero(x).t().int())
    first = idx.clone()
    module(torch.ones(3, 4))  # a second call must not overwrite the first call's output
    torch.testing.assert_close(idx, first)


def test_data_dependent_output_without_allocator_is_refused():
    module = _nonzero_module()
    record = module.record
    record.requires_output_allocator = False
    from torch_tensorrt.dynamo.runtime._TRTEngine import EngineExecutionError, TRTEngine

    engine = TRTEngine(record)
    with pytest.raises(EngineExecutionError, match="data-dependent shape"):
        engine.execute([torch.ones(3, 4)])


def test_simulated_runtime_api_directly():
    module, w = matmul_relu_module()
    runtime = Runtime(None, device="cpu")
    engine = runtime.deserialize_cuda_engine(serialize_plan(module.metadata))
    assert [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)] == ["x", "y"]
    assert engine.get_tensor_mode("x") == trt.TensorIOMode.INPUT
    assert tuple(engine.get_tensor_shape("y")) == (-1, 3)
    ctx = engine.create_execution_context()
    assert tuple(ctx.get_tensor_shape("y")) == (-1, 3)  # input shapes not set yet
    assert not ctx.set_input_shape("x", (9, 4))  # outside the profile
    assert ctx.set_input_shape("x", (2, 4))
    assert tuple(ctx.get_tensor_shape("y")) == (2, 3)
    x, y = torch.randn(2, 4), torch.empty(2, 3)
    ctx.set_tensor_address("x", x.data_ptr())
    ctx.set_tensor_address("y", y.data_ptr())
    assert ctx.execute_async_v3(0)
    torch.testing.assert_close(y, torch.relu(x @ w))


def test_plans_are_not_interchangeable():
    module, _ = matmul_relu_module(build=True)
    with pytest.raises(SimulationError, match="not a simulated plan"):
        Runtime().deserialize_cuda_engine(module.record.engine)
    from torch_tensorrt._trt_logging import trt_logger

    try:  # a real TensorRT runtime refuses the simulated plan (no GPU here: it may also refuse anything)
        engine = trt.Runtime(trt_logger()).deserialize_cuda_engine(serialize_plan(module.metadata))
    except Exception:
        engine = None
    assert engine is None


def test_compile_inside_simulate_runs_on_cpu():
    """The compiler's side: inside simulate() its network observer records each built network and names the
    simulated kind; outside, the observer is gone and engines are plain TensorRT ones."""
    import torch_tensorrt
    from torch_tensorrt.dynamo import conversion

    class M(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x @ x.t()) + 1.0

    x = torch.randn(4, 4)
    ep = torch.export.export(M(), (x,))
    with _simulate.simulate():
        assert _simulate._observe in conversion._observers
        gm = torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1)
    assert _simulate._observe not in conversion._observers
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    (engine,) = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    assert engine.metadata.network is not None and engine.record.engine_kind == _simulate.KIND_SIMULATED
    torch.testing.assert_close(gm(x), M()(x))
    plain = torch_tensorrt.dynamo.compile(ep, [x], min_block_size=1)
    (engine,) = [m for m in plain.modules() if isinstance(m, TorchTensorRTModule)]
    assert engine.metadata.network is None and engine.record.engine_kind == "tensorrt"
