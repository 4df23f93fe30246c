"""Weight-stripped engines (strip_engine_weights=True) under testing.simulate(): the plan carries no weights, the
module keeps them as engine_weights buffers and refits before the first run; saved programs, pickles and state
dicts carry the weights, and torch_tensorrt.load refits -- or fails naming the engine when they are missing."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import testing
from torch_tensorrt._serialization import SerializationError
from torch_tensorrt.dynamo.conversion import builds_done
from torch_tensorrt.runtime._engine import TRTEngine
from torch_tensorrt.runtime._module import EngineWeights, TorchTensorRTModule
from torch_tensorrt.testing._sim_runtime import SimulationError


def _compile_stripped(model, x, **settings):
    ep = torch.export.export(model, (x,))
    with testing.simulate():
        return torch_tensorrt.dynamo.compile(
            ep, arg_inputs=[x], min_block_size=1, strip_engine_weights=True, **settings
        )


def _engine(gm) -> TorchTensorRTModule:
    return next(m for m in gm.modules() if isinstance(m, TorchTensorRTModule))


def test_stripped_plan_needs_a_refit_and_the_module_does_it(image, resnet18_like):
    model = resnet18_like(7)
    gm = _compile_stripped(model, image)
    engine = _engine(gm)
    assert engine.weight_map.stripped and len(dict(engine.engine_weights.named_buffers())) == len(
        engine.weight_map.weights
    )
    with pytest.raises(SimulationError, match="weight-stripped"):
        TRTEngine(engine.record).execute([image])  # the bare plan: no weights until refitted
    before = builds_done()
    torch.testing.assert_close(gm(image), model(image), atol=1e-4, rtol=1e-4)
    assert builds_done() == before
    assert not engine.weight_map.needs_refit and not list(engine.engine_weights.buffers())


def test_stripped_save_then_load_refits_from_the_saved_weights(tmp_path, image, resnet18_like):
    model = resnet18_like(8)
    gm = _compile_stripped(model, image)
    path = tmp_path / "stripped.ep"
    torch_tensorrt.save(gm, path, arg_inputs=[image])
    loaded = torch_tensorrt.load(path)
    torch.testing.assert_close(loaded.module()(image), model(image), atol=1e-4, rtol=1e-4)


def test_stripped_save_without_weights_fails_clearly_unless_given(tmp_path, image, resnet18_like):
    model = resnet18_like(9)
    gm = _compile_stripped(model, image)
    _engine(gm).engine_weights = EngineWeights()  # ship the plan alone
    path = tmp_path / "weightless.ep"
    torch_tensorrt.save(gm, path, arg_inputs=[image])
    with pytest.raises(SerializationError, match=r"engine '_run_on_acc_0' is weight-stripped .* weights=") as err:
        torch_tensorrt.load(path)
    assert str(path) in str(err.value)
    loaded = torch_tensorrt.load(path, weights=model)
    torch.testing.assert_close(loaded.module()(image), model(image), atol=1e-4, rtol=1e-4)


def test_stripped_module_travels_in_pickles_and_state_dicts(tmp_path, image, resnet18_like):
    model = resnet18_like(10)
    gm = _compile_stripped(model, image)
    torch.save(gm, tmp_path / "gm.pt")
    again = torch.load(tmp_path / "gm.pt", weights_only=False)
    torch.testing.assert_close(again(image), model(image), atol=1e-4, rtol=1e-4)
    engine = _engine(_compile_stripped(model, image))
    empty = TorchTensorRTModule()
    empty.load_state_dict(engine.state_dict())
    assert empty.weight_map.stripped
    torch.testing.assert_close(empty(image), model(image), atol=1e-4, rtol=1e-4)


def test_stripped_module_without_weights_names_the_engine_when_run(image, resnet18_like):
    gm = _compile_stripped(resnet18_like(11), image)
    _engine(gm).engine_weights = EngineWeights()
    with pytest.raises(RuntimeError, match=r"engine '_run_on_acc_0' is weight-stripped .*refit_module_weights"):
        gm(image)
    refitted = torch_tensorrt.dynamo.refit_module_weights(gm, resnet18_like(12), arg_inputs=[image])
    torch.testing.assert_close(refitted(image), resnet18_like(12)(image), atol=1e-4, rtol=1e-4)
