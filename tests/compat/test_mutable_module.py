"""``torch_tensorrt.MutableTorchTensorRTModule`` as the incumbent documents it: refit on weight changes, recompile
on shape or structure changes, ``set_expected_dynamic_shape_range``, ``save``/``load`` -- under ``simulate()``."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.testing import simulate


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def _model() -> torch.nn.Module:
    return _Net()


def test_weight_changes_refit_instead_of_recompiling():
    model, x = _model(), torch.randn(2, 4)
    with simulate():
        mutable = torch_tensorrt.MutableTorchTensorRTModule(model, min_block_size=1)
        torch.testing.assert_close(mutable(x), model(x))
        assert (mutable.compile_count, mutable.refit_count) == (1, 0)
        torch.testing.assert_close(mutable(x), model(x))
        assert (mutable.compile_count, mutable.refit_count) == (1, 0), "nothing changed: no work"
        with torch.no_grad():
            mutable.fc1.weight.mul_(2)  # attribute access goes to the model; an in-place update
        torch.testing.assert_close(mutable(x), model(x))
        assert (mutable.compile_count, mutable.refit_count) == (1, 1)
        mutable.load_state_dict({k: torch.randn_like(v) for k, v in _model().state_dict().items()})
        torch.testing.assert_close(mutable(x), model(x))
        assert (mutable.compile_count, mutable.refit_count) == (1, 2)


def test_structure_change_recompiles():
    model, x = _model(), torch.randn(2, 4)
    with simulate():
        mutable = torch_tensorrt.MutableTorchTensorRTModule(model, min_block_size=1)
        mutable(x)
        mutable.fc2 = torch.nn.Linear(8, 5)  # a new layer: the engines cannot be refitted to it
        got = mutable(x)
    assert got.shape == (2, 5)
    torch.testing.assert_close(got, model(x))
    assert mutable.compile_count == 2


def test_shapes_recompile_unless_inside_the_expected_range():
    model = _model()
    with simulate():
        mutable = torch_tensorrt.MutableTorchTensorRTModule(model, min_block_size=1)
        mutable(torch.randn(2, 4))
        y = torch.randn(5, 4)
        torch.testing.assert_close(mutable(y), model(y))
        assert mutable.compile_count == 2
        mutable.set_expected_dynamic_shape_range(({0: (1, 4, 16)},))
        for batch in (3, 9, 16):
            z = torch.randn(batch, 4)
            torch.testing.assert_close(mutable(z), model(z))
        assert mutable.compile_count == 3, "one compilation covers the whole range"
        mutable(torch.randn(17, 4))
        assert mutable.compile_count == 4


def test_save_and_load(tmp_path):
    model, x = _model(), torch.randn(3, 4)
    path = str(tmp_path / "mutable.pkl")
    with simulate():
        mutable = torch_tensorrt.MutableTorchTensorRTModule(model, min_block_size=1)
        mutable.set_expected_dynamic_shape_range(({0: (1, 2, 8)},))
        mutable(x)
        torch_tensorrt.MutableTorchTensorRTModule.save(mutable, path)
        loaded = torch_tensorrt.MutableTorchTensorRTModule.load(path)
        torch.testing.assert_close(loaded(x), model(x))
        assert loaded.compile_count == 1, "the saved engines are used"


def test_bad_arguments():
    with pytest.raises(TypeError, match="min_blok_size"):
        torch_tensorrt.MutableTorchTensorRTModule(_model(), min_blok_size=1)
    with pytest.raises(TypeError, match="wraps an nn.Module"):
        torch_tensorrt.MutableTorchTensorRTModule(lambda x: x)
    mutable = torch_tensorrt.MutableTorchTensorRTModule(_model())
    with pytest.raises(TypeError, match="args_dynamic_shape"):
        mutable.set_expected_dynamic_shape_range([(1, 2, 3)])
