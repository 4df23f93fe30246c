import pytest
import torch

from torch_tensorrt import Device
from torch_tensorrt.dynamo import CompilationSettings


def test_defaults():
    s = CompilationSettings()
    assert s.enabled_precisions == {torch.float32}
    assert s.min_block_size == 5 and s.immutable_weights and s.compute_dtype == torch.float32
    assert s.device == Device(0)


def test_unknown_keyword_lists_valid_ones():
    with pytest.raises(TypeError) as err:
        CompilationSettings.from_kwargs(min_blok_size=3)
    text = str(err.value)
    assert "min_blok_size" in text and "Did you mean 'min_block_size'" in text and "enabled_precisions" in text


def test_aliases_and_precision_parsing():
    s = CompilationSettings.from_kwargs(truncate_long_and_double=True, enabled_precisions={"fp16"})
    assert s.truncate_double and s.compute_dtype == torch.float16 and torch.float32 in s.enabled_precisions
    assert CompilationSettings.from_kwargs(enabled_precisions={torch.bfloat16}).compute_dtype == torch.bfloat16


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(enabled_precisions={torch.float16, torch.bfloat16}),
        dict(enabled_precisions={"int3"}),
        dict(min_block_size=0),
        dict(optimization_level=7),
        dict(workspace_size=-1),
    ],
)
def test_invalid_values(kwargs):
    with pytest.raises(ValueError):
        CompilationSettings.from_kwargs(**kwargs)


def test_replace_and_json():
    s = CompilationSettings().replace(min_block_size=2, device="cuda:1")
    assert s.min_block_size == 2 and s.device.gpu_id == 1
    js = s.to_json()
    assert js["device"] == "cuda:1" and js["enabled_precisions"] == ["torch.float32"]


def test_device_parsing_never_touches_cuda():
    assert Device.parse("cuda:2").gpu_id == 2
    assert Device.parse(torch.device("cuda", 3)).gpu_id == 3
    assert Device.parse("dla:1").dla_core == 1
    with pytest.raises(ValueError):
        Device.parse("mps")
    assert not torch.cuda.is_initialized()
