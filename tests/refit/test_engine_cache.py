"""The engine cache under testing.simulate(): fresh processes hit for every engine, other weights hit and refit,
corrupted entries are rebuilt, concurrent processes share one directory, LRU eviction, custom storage."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import testing
from torch_tensorrt.dynamo import BaseEngineCache, DiskEngineCache
from torch_tensorrt.dynamo import _engine_cache
from torch_tensorrt.dynamo._engine_cache import CacheEntryError, decode_entry, encode_entry
from torch_tensorrt.dynamo.conversion import builds_done

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_cache_worker.py")


def _worker(cache_dir, seed: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, WORKER, str(cache_dir), str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


def test_fresh_process_hits_every_engine_and_other_weights_hit_and_refit(tmp_path):
    first = _result(_worker(tmp_path, 1))
    assert first["cache"] == ["miss", "miss"] and first["builds"] == 2 and first["err"] < 1e-4
    second = _result(_worker(tmp_path, 1))
    assert second["cache"] == ["hit", "hit"] and second["builds"] == 0 and second["err"] < 1e-4
    other = _result(_worker(tmp_path, 2))  # same structure, other weights
    assert other["cache"] == ["hit-refit", "hit-refit"] and other["builds"] == 0 and other["err"] < 1e-4


def test_two_processes_compiling_into_one_directory_both_succeed(tmp_path):
    procs = [_worker(tmp_path, 1), _worker(tmp_path, 3)]
    results = [_result(p) for p in procs]
    assert all(r["err"] < 1e-4 for r in results)
    entries = DiskEngineCache(str(tmp_path)).entries()
    assert len(entries) == 2 and not [n for n in os.listdir(tmp_path) if n.startswith(".") and n != ".lock"]
    again = _result(_worker(tmp_path, 1))  # whichever process wrote last, every engine is found
    assert all(c.startswith("hit") for c in again["cache"]) and again["builds"] == 0 and again["err"] < 1e-4


def _compile(model, x, cache_dir, **extra):
    ep = torch.export.export(model, (x,))
    settings = dict(
        min_block_size=1,
        immutable_weights=False,
        cache_built_engines=True,
        reuse_cached_engines=True,
        engine_cache_dir=str(cache_dir),
    )
    settings.update(extra)
    with testing.simulate():
        return torch_tensorrt.dynamo.compile(ep, arg_inputs=[x], **settings)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_corrupted_entry_is_rebuilt_replaced_and_logged_once(
    tmp_path, image, resnet18_like, caplog, damage, monkeypatch
):
    monkeypatch.setattr(_engine_cache, "_warned", set())
    model = resnet18_like(1)
    _compile(model, image, tmp_path)
    ((key, size, _),) = DiskEngineCache(str(tmp_path)).entries()
    path = tmp_path / f"{key}.engine"
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 3]
    else:
        data = bytearray(b"not an entry")
    path.write_bytes(bytes(data))
    before = builds_done()
    with caplog.at_level(logging.WARNING, logger="torch_tensorrt"):
        gm = _compile(model, image, tmp_path)
    assert builds_done() == before + 1 and gm.compile_report.engines[0].cache == "miss"
    assert sum("unusable" in r.getMessage() for r in caplog.records) == 1
    decode_entry(key, path.read_bytes())  # replaced by a good entry
    torch.testing.assert_close(gm(image), model(image), atol=1e-4, rtol=1e-4)
    assert _compile(model, image, tmp_path).compile_report.engines[0].cache == "hit"
    path.write_bytes(b"damaged again")
    with caplog.at_level(logging.WARNING, logger="torch_tensorrt"):
        assert _compile(model, image, tmp_path).compile_report.engines[0].cache == "miss"
    assert sum("unusable" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_entry_format_refuses_damage_and_other_keys():
    entry = encode_entry("k1", {"a": 1}, b"plan")
    assert decode_entry("k1", entry) == ({"a": 1, "key": "k1"}, b"plan")
    for bad in (entry[:-1], entry[:10], entry[:-4] + b"PLAN", b"x" + entry):
        with pytest.raises(CacheEntryError):
            decode_entry("k1", bad)
    with pytest.raises(CacheEntryError, match="another|for key"):
        decode_entry("k2", entry)


def test_disk_cache_evicts_least_recently_used_beyond_its_size(tmp_path):
    cache = DiskEngineCache(str(tmp_path), max_size=250)
    cache.save("a", b"a" * 100)
    cache.save("b", b"b" * 100)
    os.utime(tmp_path / "a.engine", (1, 1))
    os.utime(tmp_path / "b.engine", (2, 2))
    assert cache.load("a") == b"a" * 100  # a is now the most recently used
    cache.save("c", b"c" * 100)
    assert cache.load("b") is None and cache.load("a") is not None and cache.load("c") is not None
    cache.save("big", b"x" * 300)  # larger than the whole cache: not stored
    assert cache.load("big") is None


class DictCache(BaseEngineCache):
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def save(self, key: str, data: bytes) -> None:
        self.data[key] = data

    def load(self, key: str):
        return self.data.get(key)


def test_custom_cache_class_and_what_the_key_covers(tmp_path, image, resnet18_like):
    store = DictCache()
    model = resnet18_like(1)
    assert _compile(model, image, tmp_path, custom_engine_cache=store).compile_report.engines[0].cache == "miss"
    assert len(store.data) == 1 and not os.listdir(tmp_path)
    assert (
        _compile(resnet18_like(2), image, tmp_path, custom_engine_cache=store).compile_report.engines[0].cache
        == "hit-refit"
    )
    assert (
        _compile(model, image, tmp_path, custom_engine_cache=store, optimization_level=1)
        .compile_report.engines[0]
        .cache
        == "miss"
    )
    assert (
        _compile(model, torch.randn(3, 3, 32, 32), tmp_path, custom_engine_cache=store).compile_report.engines[0].cache
        == "miss"
    )
    assert len(store.data) == 3


def test_immutable_engine_with_other_weights_is_rebuilt(tmp_path, image, resnet18_like):
    first = _compile(resnet18_like(1), image, tmp_path, immutable_weights=True)
    assert first.compile_report.engines[0].cache == "miss"
    assert _compile(resnet18_like(1), image, tmp_path, immutable_weights=True).compile_report.engines[0].cache == "hit"
    other = resnet18_like(2)
    gm = _compile(other, image, tmp_path, immutable_weights=True)
    assert gm.compile_report.engines[0].cache == "miss"
    torch.testing.assert_close(gm(image), other(image), atol=1e-4, rtol=1e-4)


def test_torch_compile_backend_uses_the_persistent_cache(tmp_path, image, resnet18_like):
    """The backend goes through dynamo.compile, so its options reach the same cache (a new dynamo graph of the
    same model finds the engines the first one stored)."""
    options = dict(
        min_block_size=1, cache_built_engines=True, reuse_cached_engines=True, engine_cache_dir=str(tmp_path)
    )
    model = resnet18_like(1)
    with testing.simulate(), torch.no_grad():
        torch._dynamo.reset()
        first = torch.compile(model, backend="tensorrt", options=options, dynamic=False)(image)
        assert DiskEngineCache(str(tmp_path)).entries()
        before = builds_done()
        torch._dynamo.reset()
        second = torch.compile(resnet18_like(1), backend="tensorrt", options=options, dynamic=False)(image)
        assert builds_done() == before
        torch._dynamo.reset()
    torch.testing.assert_close(first, model(image), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(second, model(image), atol=1e-4, rtol=1e-4)
