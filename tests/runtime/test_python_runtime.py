"""The Python runtime: TRTEngine checks and hooks, TorchTensorRTModule state, the Python op and its fake kernel."""

from __future__ import annotations

import copy
import io
import logging
import pickle
import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.runtime import _execute_op
from torch_tensorrt.dynamo.runtime._TorchTensorRTModule import TorchTensorRTModule
from torch_tensorrt.dynamo.runtime._TRTEngine import EngineExecutionError, ExecutionInfo, TRTEngine, select_device
from torch_tensorrt.runtime._record import EngineRecord, RecordError
from torch_tensorrt.testing._engines import identity_module, matmul_relu_module, nonzero_module


@pytest.fixture(scope="module")
def mm():
    return matmul_relu_module()


def test_public_names():
    assert torch_tensorrt.runtime.TorchTensorRTModule is TorchTensorRTModule
    assert torch_tensorrt.dynamo.runtime.TorchTensorRTModule is TorchTensorRTModule


def test_input_errors_name_engine_and_binding(mm):
    module, _ = mm
    with pytest.raises(EngineExecutionError, match=r"engine 'matmul_relu' takes 1 inputs \['x'\], got 2"):
        module(torch.randn(2, 4), torch.randn(2, 4))
    with pytest.raises(
        EngineExecutionError, match="input 'x' has dtype torch.float16, the engine expects torch.float32"
    ):
        module(torch.randn(2, 4, dtype=torch.float16))
    with pytest.raises(
        EngineExecutionError, match=r"outside the engine's optimization profile min \(1, 4\) / max \(8, 4\)"
    ):
        module(torch.randn(9, 4))
    with pytest.raises(EngineExecutionError, match=r"dimension 1 is static"):
        module(torch.randn(2, 5))
    with pytest.raises(EngineExecutionError, match="has rank 1"):
        module(torch.randn(4))
    with pytest.raises(EngineExecutionError, match="input 'x' is on meta, the engine runs on cpu"):
        module(torch.empty(2, 4, device="meta"))


def test_observers_see_each_execution_with_timings(mm):
    module, w = mm
    seen: list = []
    pre = module.register_pre_execution_callback(lambda name, ins: seen.append(("pre", name, tuple(ins[0].shape))))
    post = module.register_post_execution_callback(lambda name, outs, info: seen.append(("post", name, info)))
    x = torch.randn(3, 4)
    torch.testing.assert_close(module(x), torch.relu(x @ w))
    module(x)
    assert [s[0] for s in seen] == ["pre", "post", "pre", "post"]
    info = seen[1][2]
    assert isinstance(info, ExecutionInfo) and info.engine == "matmul_relu"
    assert info.input_shapes == [(3, 4)] and info.output_shapes == [(3, 3)]
    assert info.total_s >= info.enqueue_s >= 0 and info.cuda_graph == "off"
    assert info.shapes_changed or seen[3][2].shapes_changed is False
    pre.remove()
    post.remove()
    module(x)
    assert len(seen) == 4


def test_cuda_graphs_refused_where_impossible(mm):
    module, _ = mm
    engine = TRTEngine(module.record)
    engine.set_cuda_graphs(True)
    with pytest.raises(EngineExecutionError, match="CUDA graphs need a CUDA device"):
        engine.execute([torch.randn(2, 4)])
    record = module.record
    allocator_record = EngineRecord.from_bytes(record.to_bytes())
    allocator_record.requires_output_allocator = True
    with pytest.raises(EngineExecutionError, match="cannot run inside a CUDA graph"):
        TRTEngine(allocator_record).set_cuda_graphs(True)


def test_real_engine_needs_a_gpu(mm):
    if torch.cuda.is_available():
        pytest.skip("has a GPU")
    record = EngineRecord.from_bytes(mm[0].record.to_bytes())
    record.engine_kind = "tensorrt"
    with pytest.raises(EngineExecutionError, match="engine 'matmul_relu': TensorRT engines need a CUDA GPU"):
        select_device(record)
    assert select_device(mm[0].record) == torch.device("cpu")


def test_lazy_engine_init_and_no_cuda_at_construction():
    code = (
        "import torch\n"
        "from torch_tensorrt.testing._engines import matmul_relu_module\n"
        "from torch_tensorrt.testing import allow_simulated_engines; allow_simulated_engines()\n"
        "from torch_tensorrt.dynamo._settings import CompilationSettings\n"
        "m, _ = matmul_relu_module(settings=CompilationSettings(lazy_engine_init=True))\n"
        "assert not m.engine.is_set_up\n"
        "assert not torch.cuda.is_initialized()\n"
        "m(torch.randn(2, 4)); assert m.engine.is_set_up\n"
        "m2, _ = matmul_relu_module()\n"
        "assert m2._engine.is_set_up  # eager: simulated engines set up at construction\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_runtime_choice(caplog):
    from torch_tensorrt import runtime

    module, _ = matmul_relu_module(settings=CompilationSettings(use_python_runtime=True))
    assert module.runtime == "python"
    assert runtime.get_runtime() == "auto"
    with pytest.raises(ValueError, match="runtime must be one of"):
        runtime.set_runtime("java")
    if not runtime.cpp_runtime_available():
        assert runtime.cpp_runtime_reason()
        with caplog.at_level(logging.WARNING):
            module, _ = matmul_relu_module(settings=CompilationSettings(use_python_runtime=False))
        assert module.runtime == "python" and "C++ runtime, which is not available" in caplog.text
        with pytest.raises(RuntimeError, match="C\\+\\+ runtime is not available"):
            module.set_runtime("cpp")
    with runtime.runtime("python"):
        assert runtime.choose_runtime(False, module.record) == "python"
    assert runtime.get_runtime() == "auto"


def test_fast_path_and_op_agree(mm):
    module, w = mm
    x = torch.randn(5, 4)
    direct = module(x)
    via_op = torch.ops.tensorrt.execute_engine_python([x], module._blob, module._info)[0]
    torch.testing.assert_close(direct, via_op)
    torch.testing.assert_close(direct, torch.relu(x @ w))


def test_op_decodes_blob_when_no_module_registered_it(mm):
    module, w = mm
    _execute_op.forget_loaded_engines()
    info = _execute_op.engine_info(module.record, "never-registered-key")
    x = torch.randn(2, 4)
    out = torch.ops.tensorrt.execute_engine_python([x], module._blob, info)[0]
    torch.testing.assert_close(out, torch.relu(x @ w))
    # Kept by content (the blob's SHA-256), never under a key taken from the op's arguments (issue 9: aliasing).
    assert _execute_op.lookup_engine("never-registered-key") is None
    assert _execute_op.blob_digest(module._blob) in _execute_op._loaded
    _execute_op.forget_loaded_engines()
    with pytest.raises(RecordError, match="too short to be a record"):
        _execute_op.engine_for(
            _execute_op.engine_info(module.record, "bad"), torch.tensor([1, 2, 255], dtype=torch.uint8)
        )


def test_opcheck(mm):
    module, _ = mm
    torch.library.opcheck(
        torch.ops.tensorrt.execute_engine_python.default,
        ([torch.randn(3, 4)], module._blob, module._info),
        test_utils=("test_schema", "test_faketensor", "test_aot_dispatch_static"),
    )


def test_fake_kernel_keeps_shapes_symbolic(mm):
    module, _ = mm
    batch = torch.export.Dim("batch", min=1, max=8)
    ep = torch.export.export(module, (torch.randn(3, 4),), dynamic_shapes={"inputs": ({0: batch},)}, strict=False)
    node = next(n for n in ep.graph.nodes if n.op == "call_function" and "execute_engine_python" in str(n.target))
    (x_node,) = node.args[0]
    out_val = node.meta["val"][0]
    assert out_val.shape[1] == 3
    assert str(out_val.shape[0]) == str(x_node.meta["val"].shape[0])  # same symbol as the input's batch
    torch.testing.assert_close(ep.module()(torch.ones(6, 4)), module(torch.ones(6, 4)))


def test_fake_kernel_unbacked_size_for_data_dependent_output():
    module = nonzero_module()
    ep = torch.export.export(module, (torch.randn(3, 4),), strict=False)
    node = next(n for n in ep.graph.nodes if n.op == "call_function" and "execute_engine_python" in str(n.target))
    shape = node.meta["val"][0].shape
    assert shape[0] == 2 and str(shape[1]).startswith("u")


def test_state_dict_round_trip(mm):
    module, w = mm
    state = module.state_dict()
    assert "_extra_state" in state
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    empty = TorchTensorRTModule()
    assert empty.runtime is None
    empty.load_state_dict(torch.load(buf, weights_only=False))
    x = torch.randn(4, 4)
    torch.testing.assert_close(empty(x), torch.relu(x @ w))
    assert empty.name == "matmul_relu" and empty.record.to_bytes() == module.record.to_bytes()
    with pytest.raises(RecordError):
        TorchTensorRTModule().set_extra_state({"version": 99, "record": []})


def test_pickle_and_deepcopy(mm):
    module, w = mm
    x = torch.randn(2, 4)
    for clone in (pickle.loads(pickle.dumps(module)), copy.deepcopy(module)):
        assert clone._info != module._info or clone is module  # a fresh engine key per installed record
        torch.testing.assert_close(clone(x), torch.relu(x @ w))


def test_module_needs_binding_names():
    with pytest.raises(ValueError, match="input_binding_names and output_binding_names are required"):
        TorchTensorRTModule(serialized_engine=b"abc", name="e")


def test_identity_engine_and_empty_tensor():
    module = identity_module(shape=(0, 3))
    out = module(torch.empty(0, 3))
    assert out.shape == (0, 3)
    module = identity_module(shape=(2, 2))
    x = torch.randn(2, 2)
    torch.testing.assert_close(module(x), x)


def test_shape_checks_rerun_when_shapes_change(mm):
    """Shape checks are skipped only for the shapes of the last accepted call."""
    module, w = mm
    x = torch.randn(3, 4)
    torch.testing.assert_close(module(x), torch.relu(x @ torch.as_tensor(w)))
    module(torch.randn(3, 4))  # same shapes: the cached path
    with pytest.raises(EngineExecutionError, match=r"outside the engine's optimization profile"):
        module(torch.randn(9, 4))
    with pytest.raises(EngineExecutionError, match=r"rank"):
        module(torch.randn(3, 4, 1))
    torch.testing.assert_close(module(x), torch.relu(x @ torch.as_tensor(w)))
