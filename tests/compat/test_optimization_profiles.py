"""Multiple optimization profiles, as the incumbent documents them: ``torch_tensorrt.Input(profiles=[...])`` builds
one engine with one TensorRT profile per entry, and ``torch_tensorrt.runtime.optimization_profile(module, index)``
picks one at run time (by default: the first profile whose ranges contain the input shapes). Run under
``simulate()`` on the Python runtime (the C++ runtime's side is tests/runtime/test_cpp_profiles.py)."""

from __future__ import annotations

import io

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.dynamo.conversion import add_config_observer, remove_config_observer
from torch_tensorrt.runtime import TorchTensorRTModule, optimization_profile
from torch_tensorrt.testing import assert_converts, simulate

DECODE, PREFILL = 0, 1
#: decode: seq pinned to 1; prefill: seq in [4, 32] -- seq 2..3 is in no profile (but inside the envelope)
PROFILES = [
    {"min_shape": (1, 1, 8), "opt_shape": (1, 1, 8), "max_shape": (1, 1, 8)},
    {"min_shape": (1, 4, 8), "opt_shape": (1, 16, 8), "max_shape": (1, 32, 8)},
]


class Attention(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x)
        return torch.softmax(h @ h.transpose(-1, -2), dim=-1) @ h


@pytest.fixture(scope="module")
def compiled():
    torch.manual_seed(0)
    model = Attention().eval()
    spec = torch_tensorrt.Input(profiles=PROFILES)
    seen: list[int] = []
    observer = add_config_observer(lambda config, settings: seen.append(config.num_optimization_profiles))
    try:
        with simulate():
            gm = torch_tensorrt.compile(
                model, ir="dynamo", arg_inputs=[spec], min_block_size=1, use_python_runtime=True
            )
    finally:
        remove_config_observer(observer)
    return model, gm, spec, seen


def _engine(gm):
    (module,) = [m for m in gm.modules() if isinstance(m, TorchTensorRTModule)]
    return module


def _active_profile(gm) -> int:
    return _engine(gm).engine.context.active_optimization_profile  # the simulated execution context


def _check(model, gm, seq: int) -> None:
    x = torch.randn(1, seq, 8)
    with torch.no_grad():
        torch.testing.assert_close(gm(x), model(x), rtol=1e-4, atol=1e-4)


def test_input_profiles_give_the_envelope_and_keep_each_profile():
    spec = torch_tensorrt.Input(profiles=PROFILES, dtype=torch.float32)
    assert spec.shape == {"min_shape": (1, 1, 8), "opt_shape": (1, 1, 8), "max_shape": (1, 32, 8)}
    assert spec.num_profiles == 2 and spec.profile(PREFILL) == ((1, 4, 8), (1, 16, 8), (1, 32, 8))
    short = torch_tensorrt.Input(profiles=[{"min": (1, 2), "opt": (1, 3), "max": (1, 4)}])  # the short keys too
    assert short.profile(0) == ((1, 2), (1, 3), (1, 4))
    with pytest.raises(ValueError, match="`profiles` already holds the shape ranges"):
        torch_tensorrt.Input(shape=(1, 1, 8), profiles=PROFILES)
    with pytest.raises(ValueError, match=r"profiles\[0\]: dimension 1 needs min <= opt <= max"):
        torch_tensorrt.Input(profiles=[{"min_shape": (1, 4), "opt_shape": (1, 2), "max_shape": (1, 8)}])
    with pytest.raises(ValueError, match=r"profiles\[1\] lacks 'max_shape'"):
        torch_tensorrt.Input(profiles=[PROFILES[0], {"min_shape": (1, 4, 8), "opt_shape": (1, 4, 8)}])
    with pytest.raises(ValueError, match="same rank"):
        torch_tensorrt.Input(profiles=[PROFILES[0], {"min": (1, 4), "opt": (1, 4), "max": (1, 4)}])


def test_one_engine_with_one_tensorrt_profile_per_entry(compiled):
    _, gm, _, seen = compiled
    assert seen == [2]  # the builder configuration of the one engine held two IOptimizationProfiles
    module = _engine(gm)
    assert module.num_optimization_profiles == 2
    assert module.metadata.profiles == [
        {"x": {"min": [1, 1, 8], "opt": [1, 1, 8], "max": [1, 1, 8]}},
        {"x": {"min": [1, 4, 8], "opt": [1, 16, 8], "max": [1, 32, 8]}},
    ]
    spec = module.metadata.inputs[0]
    assert (spec.min, spec.opt, spec.max) == ([1, 1, 8], [1, 1, 8], [1, 32, 8])  # the envelope


def test_default_runs_shapes_in_the_first_profile_that_contains_them(compiled):
    model, gm, _, _ = compiled
    with simulate():
        for seq, profile in ((1, DECODE), (20, PREFILL), (4, PREFILL), (1, DECODE), (32, PREFILL)):
            _check(model, gm, seq)
            assert _active_profile(gm) == profile, seq


def test_overlapping_profiles_the_first_declared_wins():
    model = Attention().eval()
    spec = torch_tensorrt.Input(
        profiles=[
            {"min_shape": (1, 1, 8), "opt_shape": (1, 2, 8), "max_shape": (1, 8, 8)},
            {"min_shape": (1, 1, 8), "opt_shape": (1, 16, 8), "max_shape": (1, 32, 8)},
        ]
    )
    with simulate():
        gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[spec], min_block_size=1, use_python_runtime=True)
        _check(model, gm, 8)
        assert _active_profile(gm) == 0
        _check(model, gm, 9)
        assert _active_profile(gm) == 1


def test_explicit_selection_as_context_manager_and_call(compiled):
    model, gm, _, _ = compiled
    module = _engine(gm)
    with simulate():
        with optimization_profile(gm, PREFILL) as m:
            assert m is gm and module.optimization_profile == PREFILL
            _check(model, gm, 20)
            assert _active_profile(gm) == PREFILL
            with pytest.raises(RuntimeError) as err:
                gm(torch.randn(1, 1, 8))
            assert str(err.value) == (
                "engine '_run_on_acc_0': optimization profile 1 (selected with torch_tensorrt.runtime."
                "optimization_profile) does not accept the input shapes 'x' (1, 1, 8): it rejects input 'x' "
                "(dimension 1 is 1, outside [4, 32]; profile min (1, 4, 8), max (1, 32, 8)); select another profile, "
                "or 'auto'"
            )
            with optimization_profile(gm, DECODE):  # blocks nest
                _check(model, gm, 1)
            assert module.optimization_profile == PREFILL
        assert module.optimization_profile is None  # restored: auto
        _check(model, gm, 1)
        optimization_profile(gm, PREFILL)  # a plain call pins until changed
        try:
            with pytest.raises(RuntimeError, match="does not accept the input shapes"):
                gm(torch.randn(1, 1, 8))
        finally:
            optimization_profile(gm, "auto")
        _check(model, gm, 1)
        assert _active_profile(gm) == DECODE


def test_shapes_in_no_profile_name_the_binding_and_each_profile(compiled):
    _, gm, _, _ = compiled
    with simulate(), pytest.raises(RuntimeError) as err:
        gm(torch.randn(1, 2, 8))
    assert str(err.value) == (
        "engine '_run_on_acc_0': no optimization profile accepts the input shapes 'x' (1, 2, 8): profile 0 rejects "
        "input 'x' (dimension 1 is 2, outside [1, 1]; profile min (1, 1, 8), max (1, 1, 8)); profile 1 rejects "
        "input 'x' (dimension 1 is 2, outside [4, 32]; profile min (1, 4, 8), max (1, 32, 8))"
    )


def test_bad_profile_index_is_refused(compiled):
    _, gm, _, _ = compiled
    with pytest.raises(
        ValueError, match=r"profile 2 does not exist; the engines have these many profiles: '_run_on_acc_0': 2"
    ):
        optimization_profile(gm, 2)
    with pytest.raises(TypeError, match="int or 'auto'"):
        optimization_profile(gm, "decode")
    with pytest.raises(ValueError, match="holds no TensorRT engine"):
        optimization_profile(torch.nn.Linear(2, 2), 0)


def test_inputs_with_profiles_must_agree_on_their_number():
    class Add(torch.nn.Module):
        def forward(self, a, b):
            return a + b.sum()

    a = torch_tensorrt.Input(profiles=PROFILES)
    b = torch_tensorrt.Input(profiles=PROFILES[:1] + PROFILES)
    with simulate(), pytest.raises(ValueError, match="same number of profiles"):
        torch_tensorrt.compile(Add(), ir="dynamo", arg_inputs=[a, b], min_block_size=1)


def test_profiles_survive_save_and_load(compiled, tmp_path):
    model, gm, spec, _ = compiled
    path = str(tmp_path / "profiles.ep")
    torch_tensorrt.save(gm, path, arg_inputs=[spec], allow_simulated=True)
    loaded = torch_tensorrt.load(path).module()
    with simulate():
        for seq in (1, 20):
            _check(model, loaded, seq)
        with pytest.raises(RuntimeError, match="no optimization profile accepts the input shapes 'x' \\(1, 3, 8\\)"):
            loaded(torch.randn(1, 3, 8))
        with optimization_profile(loaded, PREFILL):
            _check(model, loaded, 20)
            with pytest.raises(RuntimeError, match="optimization profile 1 .* does not accept"):
                loaded(torch.randn(1, 1, 8))
        _check(model, loaded, 1)
    restored = torch.load(io.BytesIO(_pickled(gm)), weights_only=False)  # torch.save of the whole module
    with simulate():
        _check(model, restored, 20)
        assert _engine(restored).num_optimization_profiles == 2


def _pickled(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_reference_evaluator_evaluates_a_multi_profile_network():
    torch.manual_seed(0)
    x = torch.randn(1, 16, 8)
    result = assert_converts(
        Attention(),
        [x],
        input_profiles=[[(p["min_shape"], p["opt_shape"], p["max_shape"]) for p in PROFILES]],
        no_expected_ops="a small attention block",
    )
    assert [p for p in result.points if p.startswith("profile")] == [
        f"profile {p} {w}" for p in (0, 1) for w in ("min", "opt", "max")
    ]
    assert result.converted.metadata.num_profiles == 2


def test_torch_save_of_inputs_round_trips():
    """Regression: ``torch.save([Input(min/opt/max)])`` raised "cannot pickle 'module' object" (the memory format
    pickled as a reference into the ``torch`` module under torch.save's pickle protocol 2)."""
    inputs = [
        torch_tensorrt.Input(min_shape=(1, 3), opt_shape=(2, 3), max_shape=(4, 3), name="x"),
        torch_tensorrt.Input(shape=(2, 2), dtype=torch.float16, format=torch.channels_last),
        torch_tensorrt.Input(profiles=PROFILES, dtype=torch.int64),
    ]
    data = _pickled(inputs)
    back = torch.load(io.BytesIO(data), weights_only=False)
    assert back == inputs and back[1].format is torch.channels_last and back[2].profiles == inputs[2].profiles
    with torch.serialization.safe_globals([torch_tensorrt.Input]):  # also under weights_only, once allowed
        assert torch.load(io.BytesIO(data)) == inputs
