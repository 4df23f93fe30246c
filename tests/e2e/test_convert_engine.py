"""End to end: models -> engine bytes (the real builder succeeds), static and with a dynamic batch."""

import pytest
import torch

import torch_tensorrt
from examples import models
from torch_tensorrt import Input
from torch_tensorrt._errors import UnsupportedOperatorError
from torch_tensorrt.dynamo import convert_exported_program, convert_exported_program_to_serialized_trt_engine


def _dynamic_batch(x: torch.Tensor, hi: int = 8) -> Input:
    shape = tuple(x.shape)
    return Input(min_shape=(1, *shape[1:]), opt_shape=shape, max_shape=(hi, *shape[1:]), dtype=x.dtype)


MODELS = {
    "mlp": models.mlp,
    "small_cnn": models.small_cnn,
    "transformer_encoder": models.transformer_encoder,
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_model_builds_one_engine(name, dynamic):
    model, (x,) = MODELS[name]()
    spec = _dynamic_batch(x) if dynamic else x
    ep = torch_tensorrt.dynamo.trace(model, arg_inputs=[spec])
    converted = convert_exported_program(ep, [spec])
    assert len(converted.engine) > 1000
    (inp,) = converted.metadata.inputs
    if dynamic:
        assert inp.min[0] == 1 and inp.max[0] == 8 and isinstance(inp.shape[0], str)
    else:
        assert inp.shape == list(x.shape)
    out = model(x)
    (o,) = converted.metadata.outputs
    assert o.opt == list(out.shape)


def test_reference_matches_eager_for_mlp_and_cnn():
    for factory in (models.mlp, models.small_cnn):
        model, (x,) = factory()
        ep = torch.export.export(model, (x,))
        ref = torch_tensorrt.reference.run(ep, [x])
        torch.testing.assert_close(ref, model(x), rtol=1e-4, atol=1e-4)


def test_serialized_engine_api_matches_spec():
    model, (x,) = models.mlp()
    ep = torch.export.export(model, (x,))
    data = convert_exported_program_to_serialized_trt_engine(
        ep,
        arg_inputs=[Input(min_shape=(1, 64), opt_shape=(8, 64), max_shape=(16, 64))],
        enabled_precisions={torch.float16},
    )
    assert isinstance(data, bytes) and len(data) > 1000


def test_unsupported_op_error_names_node_op_and_source():
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.special.bessel_j0(x + 1)

    ep = torch.export.export(M(), (torch.randn(3),))
    with pytest.raises(UnsupportedOperatorError) as err:
        convert_exported_program_to_serialized_trt_engine(ep, arg_inputs=[torch.randn(3)])
    text = str(err.value)
    assert "special_bessel_j0" in text and "node 'special_bessel_j0'" in text
    assert "test_convert_engine.py" in text and "torch.special.bessel_j0(x + 1)" in text
    assert "torch_executed_ops" in text and "dynamo.compile" in text


def test_precision_policy_casts_inside_network_keeps_io_dtypes():
    model, (x,) = models.mlp()
    ep = torch.export.export(model, (x,))
    converted = convert_exported_program(ep, [x], enabled_precisions={torch.float16})
    net = converted.network.network
    assert net.get_input(0).dtype == torch_tensorrt._trt.trt.DataType.FLOAT
    assert net.get_output(0).dtype == torch_tensorrt._trt.trt.DataType.FLOAT
    dtypes = {net.get_layer(i).get_output(0).dtype for i in range(net.num_layers)}
    assert torch_tensorrt._trt.trt.DataType.HALF in dtypes
    ref = torch_tensorrt.reference.evaluate_network(net, {"x": x})["output0"]
    torch.testing.assert_close(ref, model(x), rtol=2e-2, atol=2e-2)


def test_compiled_module_keeps_the_built_plan_without_copying_it():
    """The plan TensorRT serialized (IHostMemory) is kept as the record's engine: no second copy as large as the
    weights. The raw-engine API still returns bytes."""
    from torch_tensorrt import _trt

    model, (x,) = models.mlp()
    ep = torch.export.export(model, (x,))
    gm = torch_tensorrt.dynamo.compile(ep, [x])
    (module,) = [m for name, m in gm.named_children() if name.startswith("_run_on_acc_")]
    plan = module.record.engine
    assert isinstance(plan, memoryview) and _trt.is_host_memory(plan.obj)
    assert plan.format == "B" and len(plan) == gm.compile_report.engines[0].engine_bytes
    assert isinstance(convert_exported_program_to_serialized_trt_engine(ep, [x]), bytes)
