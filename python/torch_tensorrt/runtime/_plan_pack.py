"""How a record stores its plan (ABI 4 ``ENGINE`` field): a chunked container whose text-like parts are zstd-compressed.

Why: a TensorRT-RTX plan is the weights plus, before them, per-layer metadata and the CUDA C++ source of every
kernel its graph compiler generates (~130 KB each, nearly all of it one prelude repeated per kernel). On a small
model, or one with many generated kernels, that is most of the plan (a tiny UNet: 2.6x its weights). Those parts
compress 10-100x; the weights barely compress and are large. So the plan is cut into 64 KiB blocks, each block is
*probed* (a 4 KiB sample at each end compressed at zstd's fastest level: compressible when it halves), runs of
compressible blocks become zstd chunks and everything else is stored verbatim. The probe reads ~1/8 of the plan
(~30 ms for 500 MB), the stored chunks are views of the plan (no copy before framing), and a plan where packing
saves less than :data:`MIN_SAVING` is one stored chunk, which decodes without a copy. zstd is the ``zstandard``
package (a dependency); installed without it, plans are stored whole (one warning) and compressed ones cannot be read.

Layout (integers little-endian)::

    magic     8 bytes  PACK_MAGIC
    plan_size u64      bytes of the plan
    count     u32      chunks, 1 .. MAX_CHUNKS
    count times:
      codec   u8       CODEC_STORED (the plan's bytes) or CODEC_ZSTD (one zstd frame, content size in its header)
      raw     u64      plan bytes the chunk stands for (> 0)
      size    u64      bytes that follow
      bytes

The chunks, in order, are the plan. ``runtime_cpp/src/plan_pack.cpp`` decodes the same layout with the same
checks in the same order and the same messages (``tests/reliability/bad_records.json`` drives both); the
record's ``SHA256`` is the digest of the *decoded* plan and is checked after decoding.
"""

from __future__ import annotations

import functools
import logging
import struct
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from torch_tensorrt.runtime._record_frame import Buffer, RecordError

PACK_MAGIC = b"\x89TRTPLN\n"
CODEC_STORED = 0
CODEC_ZSTD = 1
CODEC_NAMES = {CODEC_STORED: "stored", CODEC_ZSTD: "zstd"}
#: More chunks than packing a 1 TiB plan could make: a larger count is a corrupted record.
MAX_CHUNKS = 1 << 20
#: Largest plan a record may declare (checked before anything is allocated for it).
MAX_PLAN = 1 << 40
#: Granularity of the compressibility probe.
BLOCK = 64 * 1024
#: Bytes compressed at each end of a block to probe it.
SAMPLE = 4 * 1024
#: Packing that saves fewer bytes than this (or than 1% of the plan) stores the plan as one stored chunk.
MIN_SAVING = 64 * 1024
_PROBE_LEVEL = -5  # zstd's fast mode: only asks "does this halve?"
_LEVEL = 3
_HEAD = struct.Struct("<8sQI")
_CHUNK = struct.Struct("<BQQ")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """One chunk: ``raw`` plan bytes from plan offset ``start``; ``data`` is the zstd frame (None: stored)."""

    start: int
    raw: int
    data: Optional[bytes] = None


@dataclass(frozen=True)
class Packing:
    """How a plan of ``plan_size`` bytes is stored; :func:`pieces` turns it into the field's bytes."""

    plan_size: int
    chunks: tuple[Chunk, ...]

    @property
    def stored_size(self) -> int:
        """Bytes of the ``ENGINE`` field this packing makes."""
        return _HEAD.size + sum(_CHUNK.size + (c.raw if c.data is None else len(c.data)) for c in self.chunks)

    @property
    def compressed(self) -> bool:
        return any(c.data is not None for c in self.chunks)


def _zstd() -> Any:
    import zstandard  # a dependency of torch_tensorrt; imported when a plan is packed or a packed plan decoded

    return zstandard


@functools.lru_cache(maxsize=None)
def _warn_no_zstd() -> None:
    logger.warning(
        "the 'zstandard' package is not installed: engine records store their plans uncompressed "
        "(pip install zstandard)"
    )


def stored(plan_size: int) -> Packing:
    """The packing that stores the whole plan verbatim."""
    return Packing(plan_size, (Chunk(0, plan_size),))


def _compressible_blocks(view: memoryview, zstd: Any) -> list[bool]:
    probe = zstd.ZstdCompressor(level=_PROBE_LEVEL)
    n = len(view)
    flags = []
    for start in range(0, n, BLOCK):
        end = min(start + BLOCK, n)
        head, tail = view[start : min(start + SAMPLE, end)], view[max(start, end - SAMPLE) : end]
        flags.append(
            len(probe.compress(head)) * 2 <= len(head)
            or (end - start > SAMPLE and len(probe.compress(tail)) * 2 <= len(tail))
        )
    return flags


def pack(plan: Buffer) -> Packing:
    """Decide how to store ``plan`` (see the module docstring). Deterministic: the same plan packs the same way."""
    view = memoryview(plan).cast("B")
    n = len(view)
    if n < MIN_SAVING:
        return stored(n)
    try:
        zstd = _zstd()
    except ImportError:  # installed without its dependencies: save the plan whole rather than fail the save
        _warn_no_zstd()
        return stored(n)
    flags = _compressible_blocks(view, zstd)
    compressor = zstd.ZstdCompressor(level=_LEVEL, write_checksum=True, write_content_size=True)
    chunks: list[Chunk] = []
    i = 0
    while i < len(flags):
        j = i
        while j < len(flags) and flags[j] == flags[i]:
            j += 1
        start, end = i * BLOCK, min(j * BLOCK, n)
        data = compressor.compress(view[start:end]) if flags[i] else None
        if data is not None and len(data) >= end - start:
            data = None
        if data is None and chunks and chunks[-1].data is None:  # merge neighbouring stored runs
            last = chunks.pop()
            start = last.start
        chunks.append(Chunk(start, end - start, data))
        i = j
    packing = Packing(n, tuple(chunks))
    saved = _HEAD.size + _CHUNK.size + n - packing.stored_size
    return packing if saved >= max(MIN_SAVING, n // 100) else stored(n)


def pieces(plan: Buffer, packing: Packing) -> list[Buffer]:
    """The ``ENGINE`` field as buffers to concatenate: headers, views of ``plan`` (stored chunks), zstd frames."""
    view = memoryview(plan).cast("B")
    if len(view) != packing.plan_size:
        raise ValueError(f"packing is for a plan of {packing.plan_size} bytes, got {len(view)}")
    out: list[Buffer] = [_HEAD.pack(PACK_MAGIC, packing.plan_size, len(packing.chunks))]
    for c in packing.chunks:
        body = view[c.start : c.start + c.raw] if c.data is None else c.data
        out += [_CHUNK.pack(CODEC_ZSTD if c.data is not None else CODEC_STORED, c.raw, len(body)), body]
    return out


def unpack(field: Buffer, pre: str) -> tuple[Buffer, Packing]:
    """The plan in a packed ``ENGINE`` field, and its packing (so that re-saving does not re-compress). A plan of
    one stored chunk is a view into ``field``. ``pre`` starts every message (``"engine 'name': "``)."""
    view = memoryview(field).cast("B")
    pre = pre + "field ENGINE: "
    n = len(view)
    if n < _HEAD.size:
        raise RecordError(pre + f"packed plan is truncated ({n} bytes, its header needs {_HEAD.size})")
    magic, plan_size, count = _HEAD.unpack_from(view, 0)
    if magic != PACK_MAGIC:
        raise RecordError(pre + "does not start with the packed-plan magic (corrupted record?)")
    if plan_size > MAX_PLAN:
        raise RecordError(pre + f"declares a plan of {plan_size} bytes, more than 1 TiB (corrupted record?)")
    if not 1 <= count <= MAX_CHUNKS:
        raise RecordError(pre + f"chunk count {count} is out of range [1, {MAX_CHUNKS}] (corrupted record?)")
    chunks: list[tuple[int, int, memoryview]] = []
    pos, total = _HEAD.size, 0
    for i in range(count):
        if n - pos < _CHUNK.size:
            raise RecordError(pre + f"chunk {i}: the data ends in its header (truncated record)")
        codec, raw, size = _CHUNK.unpack_from(view, pos)
        pos += _CHUNK.size
        if codec not in CODEC_NAMES:
            raise RecordError(pre + f"chunk {i}: unknown codec {codec} (known: 0 stored, 1 zstd)")
        if raw == 0:
            raise RecordError(pre + f"chunk {i} is empty")
        if size > n - pos:
            raise RecordError(pre + f"chunk {i} has {size} bytes but {n - pos} remain (truncated record)")
        if codec == CODEC_STORED and size != raw:
            raise RecordError(pre + f"chunk {i} is stored but holds {size} bytes for {raw} plan bytes")
        chunks.append((codec, raw, view[pos : pos + size]))
        pos += size
        total += raw
    if pos != n:
        raise RecordError(pre + f"{n - pos} bytes after the last chunk (corrupted record?)")
    if total != plan_size:
        raise RecordError(pre + f"the chunks hold {total} plan bytes, the header says {plan_size}")
    if count == 1 and chunks[0][0] == CODEC_STORED:
        return chunks[0][2], stored(plan_size)
    return _decode(chunks, plan_size, pre)


def _decode(chunks: Sequence[tuple[int, int, memoryview]], plan_size: int, pre: str) -> tuple[Buffer, Packing]:
    try:
        zstd = _zstd()
    except ImportError:
        raise RecordError(
            pre + "the plan is zstd-compressed and the 'zstandard' package is not installed (pip install zstandard)"
        ) from None
    plan = bytearray(plan_size)
    decompressor = zstd.ZstdDecompressor()
    kept: list[Chunk] = []
    at = 0
    for i, (codec, raw, data) in enumerate(chunks):
        if codec == CODEC_STORED:
            plan[at : at + raw] = data
            kept.append(Chunk(at, raw))
        else:
            try:
                ok = zstd.frame_content_size(data) == raw
                out = decompressor.decompress(data, allow_extra_data=False) if ok else b""
            except zstd.ZstdError:
                out = b""
            if len(out) != raw:
                raise RecordError(
                    pre + f"chunk {i}: the zstd data does not decompress to its {raw} plan bytes (corrupted record?)"
                )
            plan[at : at + raw] = out
            kept.append(Chunk(at, raw, bytes(data)))
        at += raw
    return plan, Packing(plan_size, tuple(kept))
