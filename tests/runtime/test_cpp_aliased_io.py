"""``aliased_io`` on the C++ runtime (the test build against the stand-in TensorRT, which asks the simulator which
outputs alias an input, as ``ICudaEngine::getAliasedInputTensor``): the same pairs as the Python runtime, and the
output written in place is returned as the caller's input tensor itself (tests/compat/test_aliased_io.py is the
Python runtime's side)."""

from __future__ import annotations

import pytest
import torch

from torch_tensorrt.testing import _cpp_hook, simulate
from torch_tensorrt.testing._engines import identity_module, kv_cache_module

pytestmark = pytest.mark.cpp


def _on_cpp(module):
    module.set_runtime("cpp")
    assert isinstance(module.engine, torch.ScriptObject)
    return module


def test_cpp_engine_reports_and_honours_aliased_io(rt):
    module = _on_cpp(kv_cache_module())
    assert module.engine.aliased_io() == {"cache_out": "cache"}
    assert module.aliased_io == {"cache_out": "cache"}
    cache, update, x = torch.zeros(1, 2, 8, 4), torch.ones(1, 2, 1, 4), torch.tensor([1.0, 2.0])
    before = _cpp_hook.calls[_cpp_hook.EXECUTE]
    with simulate():
        out, y = module(cache, update, torch.tensor([3], dtype=torch.int32), x)
        assert out is cache and out.data_ptr() == cache.data_ptr()  # the input tensor itself, updated in place
        assert torch.equal(cache[:, :, 3], torch.ones(1, 2, 4)) and cache.sum() == 8
        assert torch.equal(y, torch.tensor([2.0, 4.0]))
        module(cache, update * 2, torch.tensor([5], dtype=torch.int32), x)  # the next step sees the update
        assert torch.equal(cache[:, :, 5], 2 * torch.ones(1, 2, 4)) and cache.sum() == 24
        (out,) = torch.ops.tensorrt.execute_engine(
            [cache, update, torch.tensor([0], dtype=torch.int32), x], module.engine
        )[:1]
        assert out is cache and cache.sum() == 32  # through the dispatcher too
    assert _cpp_hook.calls[_cpp_hook.EXECUTE] - before == 3  # every call went through the C++ runtime


def test_cpp_and_python_runtimes_agree_on_aliased_io(rt):
    module = kv_cache_module()
    with simulate():
        seen = {}
        for runtime in ("python", "cpp"):
            module.set_runtime(runtime)
            seen[runtime] = module.aliased_io
    assert seen["cpp"] == seen["python"] == {"cache_out": "cache"}
    assert _on_cpp(identity_module((2, 3))).aliased_io == {}


def test_cpp_refuses_an_aliased_input_it_would_have_to_copy(rt):
    module = _on_cpp(kv_cache_module())
    cache = torch.zeros(1, 2, 4, 8).transpose(2, 3)  # (1, 2, 8, 4), not contiguous
    with (
        simulate(),
        pytest.raises(RuntimeError, match="written in place into input 'cache', which must then be a contiguous"),
    ):
        module(cache, torch.ones(1, 2, 1, 4), torch.tensor([3], dtype=torch.int32), torch.tensor([1.0, 2.0]))


def test_the_fake_class_answers_every_engine_method(rt):
    """Tracing may call any method of the Engine on its fake (runtime/_execute_op.py): ``aliased_io`` included,
    answered ``{}`` (the record does not carry it; a traced program never runs the engine)."""
    from torch_tensorrt.runtime._execute_op import FakeTRTEngine

    engine = _on_cpp(kv_cache_module()).engine
    special = {"__init__", "__obj_flatten__", "__getstate__", "__setstate__"}
    missing = [n for n in engine._method_names() if n not in special and not hasattr(FakeTRTEngine, n)]
    assert missing == []
    fake = FakeTRTEngine.__obj_unflatten__(engine.__obj_flatten__())
    assert fake.aliased_io() == {} and fake.output_binding_names() == ["cache_out", "y"]
