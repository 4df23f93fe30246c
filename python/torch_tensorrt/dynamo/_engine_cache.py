"""The engine cache: build nothing twice, across processes.

``compile`` asks the cache for every TensorRT partition before converting it (``reuse_cached_engines``) and
stores what it built (``cache_built_engines``). The torch.compile backend goes through ``compile``, so
``options={"cache_built_engines": True, "reuse_cached_engines": True}`` gives it the same persistent cache.

**Key** (:func:`engine_key`): a SHA-256 over everything that changes the engine -- the partition's graph (ops,
wiring, each node's dtype and shape, the converter that handles it, and for every constant the *structure* of its
recipe: which state-dict entries and which ops make it, see :mod:`.conversion._provenance`), the input specs and
profile ranges, the builder-relevant settings, the TensorRT flavour and version, the target compute capability,
the torch_tensorrt and torch versions and the active network/config observers (the simulation records another
engine kind). Weight *values* are not in the key: an entry records a digest of the state-dict entries it was
built from; a hit with other values computes the new weights from the entry's weight map and hands them to the
module, which refits before its first run -- or, for an engine not built refittable, is rebuilt and replaced.

**Entries** (:func:`encode_entry`): ``MAGIC``, payload length, CRC-32 of the payload, then the payload (JSON
header with the engine metadata, binding names and the weights digest, followed by the plan). An entry that is
truncated, corrupted or for another key is a miss: rebuilt, replaced, logged once.

**Storage**: any :class:`BaseEngineCache` (``save``/``load`` of bytes by key; ``custom_engine_cache``), by default
:class:`DiskEngineCache`: one file per key, written atomically (:func:`torch_tensorrt._io.atomic_write_bytes`),
an ``fcntl`` lock around writes and eviction (safe with several processes), least-recently-used entries (file
modification time, refreshed on every hit) evicted beyond ``engine_cache_size`` bytes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import mmap
import os
import struct
import threading
import time
import zlib
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import torch
import torch.fx

from torch_tensorrt import _trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion import _provenance, builds_done, convert_module, network_observers
from torch_tensorrt.dynamo.conversion._builder import config_observers
from torch_tensorrt.dynamo.conversion._registry import CONVERTERS
from torch_tensorrt.dynamo.conversion._shapes import SymbolRanges, dim_expr
from torch_tensorrt.runtime._metadata import EngineMetadata
from torch_tensorrt.runtime._weight_map import WeightMap, digest

logger = logging.getLogger(__name__)

MAGIC = b"TORCHTRT-ENGINE-CACHE-1\n"
#: payload length and CRC-32 of the payload (detects truncation and damage; weights are compared by SHA-256)
_HEADER = struct.Struct("<QI")
#: Settings that reach the builder (the others shape the graph, which the key covers, or only the runtime).
BUILDER_SETTINGS = (
    "enabled_precisions",
    "truncate_double",
    "optimization_level",
    "workspace_size",
    "hardware_compatible",
    "version_compatible",
    "immutable_weights",
    "refit_identical_engine_weights",
    "strip_engine_weights",
    "enable_weight_streaming",
    "max_aux_streams",
    "disable_tf32",
    "sparse_weights",
    "use_fp32_acc",
    "enable_autocast",
    "autocast_low_precision_type",
    "autocast_excluded_nodes",
    "autocast_excluded_ops",
    "assume_dynamic_shape_support",
)


class BaseEngineCache(ABC):
    """Storage of engine-cache entries: bytes by key. Subclass it to share engines through your own storage."""

    @abstractmethod
    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing what was there)."""

    @abstractmethod
    def load(self, key: str) -> Optional[bytes]:
        """The bytes stored under ``key`` (any bytes-like object), or None."""

    def discard(self, key: str) -> None:
        """Forget ``key`` (called for an entry found corrupted; the default keeps it until it is replaced)."""


class DiskEngineCache(BaseEngineCache):
    """One file per entry in ``directory``; writes atomic and locked; LRU eviction beyond ``max_size`` bytes."""

    SUFFIX = ".engine"

    def __init__(self, directory: str, max_size: int = 5 << 30) -> None:
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.max_size = int(max_size)
        os.makedirs(self.directory, exist_ok=True)

    def path(self, key: str) -> str:
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise ValueError(f"engine cache key must be alphanumeric, got {key!r}")
        return os.path.join(self.directory, key + self.SUFFIX)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(os.path.join(self.directory, ".lock"), "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def save(self, key: str, data: bytes) -> None:
        from torch_tensorrt._io import atomic_write_bytes

        if len(data) > self.max_size:
            logger.warning(
                "engine cache: entry %s (%d bytes) is larger than engine_cache_size (%d); not stored",
                key,
                len(data),
                self.max_size,
            )
            return
        with self._locked():
            atomic_write_bytes(self.path(key), data, what="engine cache")
            self._evict(keep=key)

    def load(self, key: str) -> Optional[Any]:
        """The entry's bytes as a read-only memory map (the plan is copied once, into the module that runs it).
        A writer replaces files by renaming and eviction unlinks them, so a mapped entry never changes."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size == 0:
                    return b""
                data = memoryview(mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ))
            os.utime(path)  # most recently used
        except FileNotFoundError:
            return None
        return data

    def discard(self, key: str) -> None:
        with self._locked():
            try:
                os.remove(self.path(key))
            except FileNotFoundError:
                pass

    def entries(self) -> list[tuple[str, int, float]]:
        """(key, size, last use) of every entry, least recently used first."""
        found = []
        for name in os.listdir(self.directory):
            if name.startswith(".") or not name.endswith(self.SUFFIX):
                continue
            try:
                st = os.stat(os.path.join(self.directory, name))
            except FileNotFoundError:
                continue
            found.append((name[: -len(self.SUFFIX)], st.st_size, st.st_mtime))
        return sorted(found, key=lambda e: e[2])

    def _evict(self, keep: str) -> None:
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        for key, size, _ in entries:
            if total <= self.max_size:
                break
            if key == keep:
                continue
            try:
                os.remove(self.path(key))
                total -= size
                logger.info("engine cache: evicted %s (%d bytes, least recently used)", key, size)
            except FileNotFoundError:
                pass


def default_cache_dir() -> str:
    return os.environ.get("TORCHTRT_ENGINE_CACHE_DIR") or os.path.join("~", ".cache", "torch_tensorrt", "engines")


_disk_caches: dict[tuple[str, int], DiskEngineCache] = {}
_warned: set[str] = set()
_lock = threading.Lock()


def cache_for(settings: CompilationSettings) -> BaseEngineCache:
    """``settings.custom_engine_cache``, else the disk cache of ``engine_cache_dir`` (one object per directory)."""
    if settings.custom_engine_cache is not None:
        return settings.custom_engine_cache
    directory = os.path.abspath(os.path.expanduser(settings.engine_cache_dir or default_cache_dir()))
    with _lock:
        key = (directory, settings.engine_cache_size)
        if key not in _disk_caches:
            _disk_caches[key] = DiskEngineCache(directory, settings.engine_cache_size)
        return _disk_caches[key]


# ---------------------------------------------------------------------------------------------------- entries
class CacheEntryError(ValueError):
    """An entry that cannot be used (truncated, corrupted, for another key)."""


def encode_entry(key: str, header: dict[str, Any], plan: bytes) -> bytes:
    head = json.dumps({**header, "key": key}, sort_keys=True).encode("utf-8")
    payload = struct.pack("<Q", len(head)) + head + plan
    return MAGIC + _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode_entry(key: str, data: Any) -> tuple[dict[str, Any], memoryview]:
    """(header, plan) of an entry (any bytes-like object; the plan is a view into it); a :class:`CacheEntryError`
    for a damaged entry or one of another key."""
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise CacheEntryError("not an engine cache entry (bad magic)")
    start = len(MAGIC) + _HEADER.size
    if len(data) < start:
        raise CacheEntryError("truncated header")
    length, checksum = _HEADER.unpack_from(view, len(MAGIC))
    payload = view[start:]
    if len(payload) != length:
        raise CacheEntryError(f"truncated: {len(payload)} of {length} payload bytes")
    if zlib.crc32(payload) != checksum:
        raise CacheEntryError("checksum mismatch")
    (head_len,) = struct.unpack_from("<Q", payload)
    try:
        header = json.loads(str(payload[8 : 8 + head_len], "utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheEntryError(f"unreadable header ({exc})") from exc
    if header.get("key") != key:
        raise CacheEntryError(f"entry is for key {header.get('key')!r}")
    return header, payload[8 + head_len :]


# -------------------------------------------------------------------------------------------------------- key
def engine_key(
    gm: torch.fx.GraphModule, settings: CompilationSettings, ranges: SymbolRanges, tracker: _provenance.WeightTracker
) -> str:
    """The cache key of partition ``gm`` (see the module docstring)."""
    from torch_tensorrt import __version__
    from torch_tensorrt.dynamo._graph import get_attr_value

    index: dict[torch.fx.Node, int] = {}
    writer = _provenance.MapWriter(tracker, const_digests=True)
    nodes: list[Any] = []
    for i, node in enumerate(gm.graph.nodes):
        index[node] = i
        args = torch.fx.node.map_arg((node.args, node.kwargs), lambda n: f"%{index[n]}")
        entry: dict[str, Any] = {
            "op": node.op,
            "target": str(node.target),
            "args": repr(args),
            "val": _val(node.meta.get("val")),
        }
        if node.op == "call_function":
            spec = CONVERTERS.decide(node, settings).spec
            entry["converter"] = f"{spec.fn.__module__}.{spec.fn.__qualname__}" if spec else None
        elif node.op == "get_attr":
            value = get_attr_value(gm, node.target, None)
            if isinstance(value, torch.Tensor):
                entry["recipe"] = writer.recipe(tracker.recipe(value))
        elif node.op == "placeholder":
            val = node.meta.get("val")
            if isinstance(val, torch.Tensor):
                try:
                    shape = [dim_expr(d) for d in val.shape]
                    entry["profile"] = repr(ranges.profile(shape))
                    if ranges.profile_ranges:  # several optimization profiles: each is part of the engine
                        entry["profiles"] = repr(ranges.profiles(shape))
                except KeyError:
                    entry["profile"] = None
        nodes.append(entry)
    info = _trt.info()
    material = {
        "graph": nodes,
        "recipes": {"nodes": writer.nodes, "consts": writer.consts},
        "settings": {k: v for k, v in settings.to_json().items() if k in BUILDER_SETTINGS},
        "tensorrt": [info.flavour, info.version],
        "target": _target(settings, info),
        "versions": [__version__, torch.__version__],
        "observers": [_qualname(o) for o in (*network_observers(), *config_observers())],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _val(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return [str(value.dtype), [str(d) for d in value.shape]]
    if isinstance(value, (list, tuple)):
        return [_val(v) for v in value]
    return repr(value) if isinstance(value, (int, float, bool, torch.SymInt)) else type(value).__name__


def _target(settings: CompilationSettings, info: Any) -> str:
    """The GPU the engine is built for: TensorRT-RTX's CPU-only build targets its default list of compute
    capabilities; full TensorRT builds for the device it runs on (which that build uses anyway)."""
    if info.is_rtx:
        return "rtx-default" + ("-ampere-plus" if settings.hardware_compatible else "")
    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability(settings.device.gpu_id)
        return f"sm{major}{minor}" + ("-ampere-plus" if settings.hardware_compatible else "")
    return "no-gpu"


def _qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


def sources_digest(wmap: WeightMap, sources: dict[str, torch.Tensor]) -> str:
    """A digest of the values of the state-dict entries ``wmap`` reads (what a hit compares)."""
    h = hashlib.sha256()
    with torch.utils._python_dispatch._disable_current_modes():  # hashing is no weight computation to record
        for name in sorted(wmap.sources):
            h.update(name.encode())
            h.update(digest(sources[name]).encode() if name in sources else b"?")
    return h.hexdigest()


# --------------------------------------------------------------------------------------------- build or reuse
@dataclass
class BuiltEngine:
    """What ``compile`` makes a TorchTensorRTModule of: from a fresh build, or from the cache."""

    name: str
    engine: Any  # bytes, or a view of a cache entry (copied once, by the TorchTensorRTModule)
    metadata: EngineMetadata
    input_names: list[str]
    output_names: list[str]
    #: weights the module holds until its engine is refitted (stripped plan, or a hit with other weights)
    weights: Optional[dict[str, torch.Tensor]]
    layers: int
    build_s: float
    #: "off" (no cache), "miss" (built), "hit" (reused as it is), "hit-refit" (reused, refitted before its first run)
    cache: str = "off"
    #: seconds to get the plan: conversion + build (+ storing it) on a miss, key + lookup (+ new weights) on a hit
    stage_s: float = 0.0


def build_engine(
    gm: torch.fx.GraphModule,
    settings: CompilationSettings,
    ranges: SymbolRanges,
    name: str,
    tracker: Optional[_provenance.WeightTracker],
    progress: Optional[Callable[[str], None]] = None,
) -> BuiltEngine:
    """Convert and build partition ``gm`` -- or take it from the engine cache (see the module docstring)."""
    start = time.perf_counter()
    built = _build_or_reuse(gm, settings, ranges, name, tracker, progress)
    built.stage_s = time.perf_counter() - start
    return built


def _build_or_reuse(
    gm: torch.fx.GraphModule,
    settings: CompilationSettings,
    ranges: SymbolRanges,
    name: str,
    tracker: Optional[_provenance.WeightTracker],
    progress: Optional[Callable[[str], None]],
) -> BuiltEngine:
    if not settings.uses_engine_cache or tracker is None:
        return _build(gm, settings, ranges, name, progress)
    cache = cache_for(settings)
    with torch.utils._python_dispatch._disable_current_modes():  # the key computes no weight
        key = engine_key(gm, settings, ranges, tracker)
    if settings.reuse_cached_engines:
        reused = _reuse(cache, key, settings, name, tracker)
        if reused is not None:
            return reused
    built = _build(gm, settings, ranges, name, progress)
    built.cache = "miss"
    if settings.cache_built_engines:
        wmap = WeightMap.from_json(built.metadata.weight_map or {})
        header = {
            "metadata": built.metadata.to_json_with_kind(),
            "input_names": built.input_names,
            "output_names": built.output_names,
            "sources_digest": sources_digest(wmap, tracker.sources),
            "layers": built.layers,
            "build_s": built.build_s,
        }
        cache.save(key, encode_entry(key, header, built.engine))
    return built


def _build(gm: Any, settings: CompilationSettings, ranges: SymbolRanges, name: str, progress: Any) -> BuiltEngine:
    converted = convert_module(gm, settings, ranges, name, progress)
    wmap = converted.metadata.weight_map
    weights = None
    if wmap and wmap.get("stripped"):
        weights = {n: w.host for n, w in converted.network.weights.items() if n in wmap["weights"]}
    return BuiltEngine(
        name,
        converted.engine,
        converted.metadata,
        converted.input_names,
        converted.output_names,
        weights,
        converted.network.network.num_layers,
        converted.build.seconds,
    )


def _reuse(
    cache: BaseEngineCache, key: str, settings: CompilationSettings, name: str, tracker: Any
) -> Optional[BuiltEngine]:
    data = cache.load(key)
    if data is None:
        logger.debug("engine cache: miss for %s (%s)", name, key[:12])
        return None
    try:
        header, plan = decode_entry(key, data)
        metadata = EngineMetadata.from_json(header["metadata"])
        wmap = WeightMap.from_json(metadata.weight_map or {})
    except (CacheEntryError, ValueError, KeyError, TypeError) as exc:
        if key not in _warned:
            _warned.add(key)
            logger.warning("engine cache: entry %s for %s is unusable (%s); rebuilding it", key[:12], name, exc)
        cache.discard(key)
        return None
    same_weights = header.get("sources_digest") == sources_digest(wmap, tracker.sources)
    refittable = not settings.immutable_weights or settings.strip_engine_weights
    if not same_weights and not refittable:
        logger.info(
            "engine cache: %s has other weights and is not refittable (immutable_weights=True); rebuilding", name
        )
        return None
    wmap.program = list(tracker.program)
    metadata.settings = settings.to_json()
    weights = None
    if wmap.stripped or not same_weights:
        weights = wmap.compute(tracker.sources)
        wmap.pending = not same_weights
    metadata.weight_map = wmap.to_json()
    logger.info(
        "engine cache: hit for %s (%s)%s", name, key[:12], "" if same_weights else ", refitted to these weights"
    )
    return BuiltEngine(
        name,
        plan,
        metadata,
        list(header["input_names"]),
        list(header["output_names"]),
        weights,
        int(header.get("layers", 0)),
        0.0,
        "hit" if same_weights else "hit-refit",
    )


__all__ = [
    "BaseEngineCache",
    "DiskEngineCache",
    "BuiltEngine",
    "build_engine",
    "engine_key",
    "cache_for",
    "builds_done",
]
