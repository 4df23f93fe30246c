"""refit_module_weights under testing.simulate(): new weights reach every engine through the refitter, derived
weights (folded BatchNorm, fp16 casts) are recomputed, no engine is built, and structure mismatches are refused."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import testing
from torch_tensorrt.dynamo import refit_module_weights
from torch_tensorrt.dynamo._refit import RefitStructureError
from torch_tensorrt.dynamo.conversion import builds_done
from torch_tensorrt.runtime._module import TorchTensorRTModule
from torch_tensorrt.runtime._refit import RefitError


def _compile(model, x, **settings):
    ep = torch.export.export(model, (x,))
    settings.setdefault("min_block_size", 1)
    with testing.simulate():
        return torch_tensorrt.dynamo.compile(ep, arg_inputs=[x], immutable_weights=False, **settings)


def _engines(gm):
    return [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]


@pytest.mark.parametrize("precision, tol", [(torch.float32, 1e-4), (torch.float16, 1e-2)])
def test_resnet18_like_refit_to_new_weights_builds_nothing(image, resnet18_like, precision, tol):
    model_a, model_b = resnet18_like(1), resnet18_like(2)
    compiled = _compile(model_a, image, enabled_precisions={precision})
    assert torch.allclose(compiled(image), model_a(image), atol=tol, rtol=tol)
    before = builds_done()
    refitted = refit_module_weights(compiled, model_b, arg_inputs=[image])
    assert builds_done() == before, "refit must not build an engine"
    with torch.no_grad():
        expected = model_b(image)
    assert not torch.allclose(expected, model_a(image), atol=tol, rtol=tol)  # the weights really differ
    torch.testing.assert_close(refitted(image), expected, atol=tol, rtol=tol)
    # not in place: the compiled module still computes model A
    torch.testing.assert_close(compiled(image), model_a(image), atol=tol, rtol=tol)


def test_refit_in_place_and_from_exported_program(image, resnet18_like):
    model_a, model_b = resnet18_like(1), resnet18_like(3)
    compiled = _compile(model_a, image)
    ep_b = torch.export.export(model_b, (image,))
    out = refit_module_weights(compiled, ep_b, in_place=True, verify_output=True, arg_inputs=[image])
    assert out is compiled
    torch.testing.assert_close(compiled(image), model_b(image), atol=1e-4, rtol=1e-4)


def test_folded_batch_norm_refits_after_only_statistics_change(image, resnet18_like):
    model = resnet18_like(4)
    compiled = _compile(model, image)
    engine = _engines(compiled)[0]
    wmap = engine.weight_map
    kernel = next(n for n, e in wmap.weights.items() if e["locations"] and e["locations"][0][1] == "KERNEL")
    assert {"stem.1.running_var", "stem.1.weight", "stem.0.weight"} <= wmap.sources_of(wmap.weights[kernel]["node"])
    new = resnet18_like(4)
    with torch.no_grad():
        for m in new.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.add_(0.5)
                m.running_var.mul_(3.0)
    assert all(torch.equal(a, b) for (n, a), (_, b) in zip(model.named_parameters(), new.named_parameters()))
    refitted = refit_module_weights(compiled, new, arg_inputs=[image])
    torch.testing.assert_close(refitted(image), new(image), atol=1e-4, rtol=1e-4)


def test_refit_by_reconversion_matches_weight_map_path(image, resnet18_like):
    model_a, model_b = resnet18_like(1), resnet18_like(5)
    compiled = _compile(model_a, image)
    before = builds_done()
    by_map = refit_module_weights(compiled, model_b, arg_inputs=[image])
    by_conversion = refit_module_weights(compiled, model_b, arg_inputs=[image], use_weight_map_cache=False)
    assert builds_done() == before
    torch.testing.assert_close(by_conversion(image), by_map(image), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(by_conversion(image), model_b(image), atol=1e-4, rtol=1e-4)


class _Gelu(torch.nn.Module):
    def __init__(self, body: torch.nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(self.body(x))


def test_structure_mismatch_names_the_first_differing_node(image, resnet18_like):
    compiled = _compile(resnet18_like(1), image)
    with pytest.raises(RefitStructureError, match=r"differs from the compiled one at node \d+: .*gelu"):
        refit_module_weights(compiled, _Gelu(resnet18_like(2)), arg_inputs=[image])


def test_structure_mismatch_names_the_weight_with_another_shape(image, resnet18_like):
    from examples.models import ResNetLike

    compiled = _compile(resnet18_like(1), image)
    wider = ResNetLike(num_classes=12, width=8).eval()
    for use_cache in (True, False):
        with pytest.raises(RefitStructureError, match=r"fc\.weight|output|weight"):
            refit_module_weights(compiled, wider, arg_inputs=[image], use_weight_map_cache=use_cache)


def test_engine_without_weight_map_is_refused(image, resnet18_like):
    model = resnet18_like(1)
    ep = torch.export.export(model, (image,))
    with testing.simulate():
        compiled = torch_tensorrt.dynamo.compile(ep, arg_inputs=[image], min_block_size=1)
    with pytest.raises(RefitError, match="immutable_weights=False"):
        refit_module_weights(compiled, resnet18_like(2), arg_inputs=[image])


def test_weight_name_map_names_state_dict_entries(image, resnet18_like):
    compiled = _compile(resnet18_like(1), image)
    names = _engines(compiled)[0].weight_name_map
    assert names and any(v == "fc.weight" for v in names.values())
    assert any(isinstance(v, list) and "stem.1.running_var" in v for v in names.values())  # folded BN kernel


def test_refit_a_loaded_exported_program(tmp_path, image, resnet18_like):
    model_a, model_b = resnet18_like(1), resnet18_like(6)
    compiled = _compile(model_a, image)
    torch_tensorrt.save(compiled, tmp_path / "a.ep", arg_inputs=[image])
    loaded = torch_tensorrt.load(tmp_path / "a.ep")
    torch.testing.assert_close(loaded.module()(image), model_a(image), atol=1e-4, rtol=1e-4)
    before = builds_done()
    refitted = refit_module_weights(loaded, model_b, arg_inputs=[image])
    assert builds_done() == before
    torch.testing.assert_close(refitted.module()(image), model_b(image), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(loaded.module()(image), model_a(image), atol=1e-4, rtol=1e-4)  # not in place


def test_structure_error_leaves_an_in_place_target_untouched(image, resnet18_like):
    model = resnet18_like(1)
    ep = torch.export.export(model, (image,))
    with testing.simulate():  # two engines: max_pool2d runs in PyTorch
        compiled = torch_tensorrt.dynamo.compile(
            ep,
            arg_inputs=[image],
            min_block_size=1,
            immutable_weights=False,
            torch_executed_ops={"aten.max_pool2d.default"},
        )
    records = [e.record for e in _engines(compiled)]
    assert len(records) == 2
    with pytest.raises(RefitStructureError):
        refit_module_weights(compiled, _Gelu(resnet18_like(2)), arg_inputs=[image], in_place=True)
    assert [e.record for e in _engines(compiled)] == records


@pytest.mark.skipif(
    torch.cuda.is_available() or not torch_tensorrt._trt.info().is_rtx,
    reason="the note is for TensorRT-RTX's CPU-only builder (this machine has a GPU or another flavour)",
)
def test_cpu_only_builder_explains_why_refittable_builds_fail(image, resnet18_like):
    from torch_tensorrt._errors import EngineBuildError

    ep = torch.export.export(resnet18_like(1), (image,))
    with pytest.raises(EngineBuildError) as err:
        torch_tensorrt.dynamo.compile(
            ep, arg_inputs=[image], min_block_size=1, immutable_weights=False, pass_through_build_failures=True
        )
    assert any("only on a machine with a CUDA GPU" in note for note in err.value.__notes__)


def test_tensorrt_kind_serializes_refitted_engines_staying_refittable():
    """The real kind's store_plan: INCLUDE_REFIT where TensorRT has it (written against the documented API; no
    engine can be deserialized here, so a stand-in engine records the calls)."""
    from torch_tensorrt._trt import trt
    from torch_tensorrt.runtime._kinds import TENSORRT
    from torch_tensorrt.runtime._record import EngineRecord

    class Config:
        def __init__(self):
            self.flags = set()

        def set_flag(self, flag):
            self.flags.add(flag)

    class Engine:
        def create_serialization_config(self):
            self.config = Config()
            return self.config

        def serialize_with_config(self, config):
            return memoryview(b"refitted-plan")

    engine = Engine()
    spec = lambda n: {"name": n, "dtype": "float32", "shape": [2]}  # noqa: E731
    meta = {"inputs": [spec("x")], "outputs": [spec("y")]}  # the bindings, as record validation requires
    record = TENSORRT.store_plan(EngineRecord("e", b"old", ["x"], ["y"], metadata=meta), engine)
    assert record.engine == b"refitted-plan" and record.name == "e"
    assert trt.SerializationFlag.INCLUDE_REFIT in engine.config.flags
