"""The torch.compile backend's pure parts: unbounded ranges, range containment, weight digests, options."""

import pytest
import torch

from torch_tensorrt.dynamo import _backend_cache as cache
from torch_tensorrt.dynamo._backend_shapes import unbounded_max
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.backend import BackendOptionError, BackendOptionValueError, settings_from_options


@pytest.mark.parametrize("setting,hint,expected", [(512, 2, 512), (512, 512, 512), (512, 600, 1024), (8, 20, 32)])
def test_unbounded_max_doubles_the_setting_until_it_covers_the_call(setting, hint, expected):
    assert unbounded_max(setting, hint) == expected


def test_stored_engine_serves_only_ranges_it_contains():
    key = "test-key"
    cache.clear()
    try:
        built = {(0, 0): (2, 512)}
        cache.store(key, built, "compiled")
        assert cache.lookup(key, {(0, 0): (16, 512)}) == "compiled"
        assert cache.lookup(key, {(0, 0): (1, 512)}) is None
        assert cache.lookup(key, {(0, 0): (2, 1024)}) is None
        assert cache.lookup(key, {(0, 0): (2, 8), (0, 1): (2, 8)}) is None  # another dynamic dimension
        assert cache.lookup("other-key", {(0, 0): (16, 512)}) is None
    finally:
        cache.clear()


def test_weight_digest_follows_content_and_in_place_updates():
    a = torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))
    b = torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))
    assert cache.tensor_digest(a) == cache.tensor_digest(b)
    assert cache.tensor_digest(a) != cache.tensor_digest(a.detach().reshape(3, 2))
    assert cache.tensor_digest(a) != cache.tensor_digest(a.detach().double())
    before = cache.tensor_digest(a)
    with torch.no_grad():
        a.add_(1.0)
    assert cache.tensor_digest(a) != before


def test_options_are_exactly_the_compilation_settings():
    assert settings_from_options({"min_block_size": 2, "dynamic_shape_max": 64}).dynamic_shape_max == 64
    assert settings_from_options(None) == CompilationSettings()
    with pytest.raises(TypeError, match="unknown compilation setting 'dynamic_max'") as info:
        settings_from_options({"dynamic_max": 64})
    assert isinstance(info.value, BackendOptionError)
    assert "dynamic_shape_max" in str(info.value) and "min_block_size" in str(info.value)
    with pytest.raises(ValueError, match="dynamic_shape_max must be an int >= 1") as info:
        settings_from_options({"dynamic_shape_max": 0})
    assert isinstance(info.value, BackendOptionValueError) and not isinstance(info.value, TypeError)
    with pytest.raises(TypeError, match="options must be a dict"):
        settings_from_options([("min_block_size", 2)])  # type: ignore[arg-type]
