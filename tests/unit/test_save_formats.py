"""The table of save formats: one entry (save / detect / load) per format, and nothing else to touch."""

import zipfile

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import _serialization as S


def test_table_has_the_documented_formats_in_detection_order():
    assert list(S.FORMAT_TABLE) == ["aot_inductor", "exported_program", "torchscript", "pickle"]
    assert set(S.FORMATS) == {"exported_program", "torchscript", "aot_inductor"}
    assert S.FORMAT_TABLE["pickle"].save is None  # read only, and only with allow_pickle=True
    with pytest.raises(ValueError, match="output_format must be one of"):
        torch_tensorrt.save(torch.nn.ReLU(), "x.pkl", output_format="pickle", arg_inputs=[torch.randn(1)])


def test_adding_a_format_is_one_table_entry(tmp_path, monkeypatch):
    """A new format registered in FORMAT_TABLE alone is saved, detected and loaded by the public functions."""
    seen = {}

    def save(module, path, request):
        seen["inputs"] = request.inputs
        S._atomic_write(path, lambda tmp: _write_zip(tmp, {"weights/model.npz": b"data"}))

    def load(path, request):
        return ("loaded", path, request.kwargs)

    def _write_zip(path, entries):
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in entries.items():
                zf.writestr(name, data)

    fmt = S.Format("npz_bundle", save, lambda names: "weights/model.npz" in names, load)
    monkeypatch.setitem(S.FORMAT_TABLE, "npz_bundle", fmt)
    path = tmp_path / "m.bundle"
    torch_tensorrt.save(torch.nn.ReLU(), path, output_format="npz_bundle", inputs=torch_tensorrt.Input((2,)))
    assert seen["inputs"].args == [torch_tensorrt.Input((2,))]  # a single Input, normalized by the front end
    assert S.detect_format(str(path)) == "npz_bundle" and "npz_bundle" in S.savable_formats()
    assert torch_tensorrt.load(path, flag=1) == ("loaded", str(path), {"flag": 1})


def test_exported_program_entry_round_trips_a_plain_module(tmp_path):
    path = tmp_path / "relu.ep"
    torch_tensorrt.save(torch.nn.ReLU(), path, arg_inputs=[torch.randn(2, 3)])
    assert S.detect_format(str(path)) == "exported_program"
    x = torch.randn(2, 3)
    torch.testing.assert_close(torch_tensorrt.load(path).module()(x), torch.relu(x))
