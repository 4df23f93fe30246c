"""The incumbent's newer compilation keywords: fp32 accumulation, autocast, binding names, dynamic-shape
assumption and the resource options (accepted, with a one-time warning where they cannot change anything)."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt._trt import trt
from torch_tensorrt.testing import simulate


class _MatMul(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.relu(x) @ y, torch.exp(x) + 1


def _inputs() -> list[torch.Tensor]:
    return [torch.randn(2, 3), torch.randn(3, 4)]


def _convert(**kwargs):
    ep = torch.export.export(_MatMul(), tuple(_inputs()))
    with simulate():
        return torch_tensorrt.dynamo.convert_exported_program(ep, _inputs(), **kwargs)


def _layer_input_dtypes(engine, kind) -> list:
    net = engine.network.network
    layers = [net.get_layer(i) for i in range(net.num_layers)]
    return [layer.get_input(0).dtype for layer in layers if layer.type == kind]


def test_use_fp32_acc_computes_matmul_in_float32_under_fp16():
    plain = _convert(enabled_precisions={torch.float16})
    acc = _convert(enabled_precisions={torch.float16}, use_fp32_acc=True)
    mm = trt.LayerType.MATRIX_MULTIPLY
    assert _layer_input_dtypes(plain, mm) == [trt.float16]
    assert _layer_input_dtypes(acc, mm) == [trt.float32]
    # the other ops stay in float16
    assert trt.float16 in _layer_input_dtypes(acc, trt.LayerType.UNARY)


def test_use_fp32_acc_compiled_result_is_close():
    x, y = _inputs()
    with simulate():
        gm = torch_tensorrt.compile(
            _MatMul(), inputs=[x, y], enabled_precisions={torch.float16}, use_fp32_acc=True, min_block_size=1
        )
        got = gm(x, y)
    for g, w in zip(got, _MatMul()(x, y)):
        torch.testing.assert_close(g, w, rtol=1e-2, atol=1e-2)


def test_enable_autocast_uses_low_precision_except_excluded_ops():
    mm, unary = trt.LayerType.MATRIX_MULTIPLY, trt.LayerType.UNARY
    auto = _convert(enable_autocast=True, autocast_low_precision_type=torch.bfloat16)
    assert _layer_input_dtypes(auto, mm) == [trt.bfloat16]
    excluded = _convert(enable_autocast=True, autocast_excluded_ops={torch.ops.aten.matmul})
    assert _layer_input_dtypes(excluded, mm) == [trt.float32]
    assert _layer_input_dtypes(excluded, unary) == [trt.float16]
    by_name = _convert(enable_autocast=True, autocast_excluded_nodes={"^exp"})
    assert _layer_input_dtypes(by_name, unary) == [trt.float32]
    assert _layer_input_dtypes(by_name, mm) == [trt.float16]


def test_autocast_calibration_options_warn_once():
    with pytest.warns(UserWarning, match="autocast_max_depth_of_reduction.*calibration"):
        torch_tensorrt.dynamo.CompilationSettings.from_kwargs(enable_autocast=True, autocast_max_depth_of_reduction=4)


def test_binding_names_name_the_engine_io():
    engine = _convert(arg_input_binding_names=["lhs", "rhs"], output_binding_names=["prod", "other"])
    assert engine.input_names == ["lhs", "rhs"]
    assert engine.output_names == ["prod", "other"]
    x, y = _inputs()
    with simulate():
        from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

        module = TorchTensorRTModule(
            serialized_engine=engine.engine,
            input_binding_names=engine.input_names,
            output_binding_names=engine.output_names,
            metadata=engine.metadata,
        )
        got = module(x, y)
    for g, w in zip(got, _MatMul()(x, y)):
        torch.testing.assert_close(g, w)


def test_binding_names_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"1 input binding name\(s\) given \(lhs\) but the engine has 2 input"):
        _convert(arg_input_binding_names=["lhs"])
    with pytest.raises(ValueError, match="3 output binding name"):
        _convert(output_binding_names=["a", "b", "c"])
    with pytest.raises(TypeError, match="list of str"):
        _convert(output_binding_names="ab")


@pytest.mark.parametrize(
    "key,value",
    [("enable_resource_partitioning", True), ("cpu_memory_budget", 1 << 30), ("dynamically_allocate_resources", True)],
)
def test_resource_options_are_accepted_with_a_warning(key, value):
    x, y = _inputs()
    with simulate():
        with pytest.warns(UserWarning, match=f"{key}.*no effect here"):
            gm = torch_tensorrt.compile(_MatMul(), inputs=[x, y], min_block_size=1, **{key: value})
        got = gm(x, y)
    torch.testing.assert_close(got[0], _MatMul()(x, y)[0])


@pytest.mark.parametrize("key", ["offload_module_to_cpu", "use_distributed_mode_trace", "assume_dynamic_shape_support"])
def test_flags_that_hold_here_are_accepted_silently(key, recwarn):
    x, y = _inputs()
    with simulate():
        gm = torch_tensorrt.compile(_MatMul(), inputs=[x, y], min_block_size=1, **{key: True})
        got = gm(x, y)
    assert not [w for w in recwarn if key in str(w.message)]
    torch.testing.assert_close(got[1], _MatMul()(x, y)[1])
    assert getattr(gm.get_submodule("_run_on_acc_0").settings, key) is True


class _TwoInputs(torch.nn.Module):
    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return ids.float().sum(dim=1, keepdim=True) * 2 + mask.sum()


def _ranged(dtype: torch.dtype, **kwargs) -> torch_tensorrt.Input:
    return torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4), dtype=dtype, **kwargs)


def _batch_symbols(ep) -> list[str]:
    return [str(n.meta["val"].shape[0]) for n in ep.graph.nodes if n.op == "placeholder"]


def test_input_shared_dims_make_one_dimension():
    independent = torch_tensorrt.dynamo.trace(_TwoInputs(), arg_inputs=[_ranged(torch.int64), _ranged(torch.float32)])
    a, b = _batch_symbols(independent)
    assert a != b
    ins = [_ranged(torch.int64, shared_dims={0: "batch"}), _ranged(torch.float32, shared_dims={0: "batch"})]
    shared = torch_tensorrt.dynamo.trace(_TwoInputs(), arg_inputs=ins)
    a, b = _batch_symbols(shared)
    assert a == b
    ids, mask = torch.randint(0, 9, (5, 4)), torch.rand(5, 4)
    with simulate():
        gm = torch_tensorrt.compile(_TwoInputs(), inputs=ins, min_block_size=1)
        torch.testing.assert_close(gm(ids, mask), _TwoInputs()(ids, mask))


def test_input_shared_dims_must_name_a_dynamic_axis():
    with pytest.raises(ValueError, match="axis 1, which is not dynamic"):
        _ranged(torch.float32, shared_dims={1: "seq"})
    with pytest.raises(TypeError, match="shared_dims"):
        _ranged(torch.float32, shared_dims={0: "not a name"})
