"""The framing of an engine record (ABI 3 and 4): how its fields become one byte string, and back.

Layout (all integers little-endian)::

    magic        8 bytes   MAGIC
    count        u32       number of fields
    count times: length u64, then that many bytes

The framing carries bytes only; what each field means is :mod:`torch_tensorrt.runtime._record`'s. It is meant to
stay fixed across ABIs (a new ABI changes fields, read through ``ABI_VERSION``, the first one), so that any
runtime can read a newer record far enough to say which ABI it has. ``runtime_cpp/src/record.cpp`` (``frame`` /
``unframe``) mirrors this module: same layout, same checks, same messages.
"""

from __future__ import annotations

import struct
from typing import Sequence, Union

Buffer = Union[bytes, bytearray, memoryview]
#: A field given to :func:`frame`: its bytes, or buffers to concatenate (e.g. a packed plan's headers and views).
FieldBytes = Union[Buffer, Sequence[Buffer]]

#: The first bytes of every framed record (also how ``torchtrt inspect`` finds records inside any file).
MAGIC = b"\x89TRTREC\n"
#: Bytes before the first field: the magic and the field count.
PREFIX = len(MAGIC) + 4
#: More fields than any ABI will have: a larger count is a corrupted record, refused before reading on.
MAX_FIELDS = 1024
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class RecordError(ValueError):
    """A serialized record that cannot be used (truncated, corrupted, other ABI, ...)."""


def frame(fields: Sequence[FieldBytes]) -> bytearray:
    """The framed bytes of ``fields`` (each copied once, into the result; a field given as a list of buffers is
    their concatenation)."""
    parts = [[f] if isinstance(f, (bytes, bytearray, memoryview)) else list(f) for f in fields]
    sizes = [[memoryview(piece).nbytes for piece in field] for field in parts]
    out = bytearray(PREFIX + sum(8 + sum(n) for n in sizes))
    out[: len(MAGIC)] = MAGIC
    _U32.pack_into(out, len(MAGIC), len(fields))
    pos = PREFIX
    for field, piece_sizes in zip(parts, sizes):
        _U64.pack_into(out, pos, sum(piece_sizes))
        pos += 8
        for piece, size in zip(field, piece_sizes):
            out[pos : pos + size] = piece
            pos += size
    return out


def unframe(data: Buffer, names: Sequence[str]) -> list[memoryview]:
    """The fields of framed ``data`` as views into it (no copy); ``names`` names them in messages."""
    view = memoryview(data).cast("B") if not isinstance(data, memoryview) or data.format != "B" else data
    n = len(view)
    if n < PREFIX:
        raise RecordError(f"engine record: {n} bytes is too short to be a record (truncated?)")
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise RecordError("engine record: the data does not start with the record magic (not an engine record?)")
    count = _U32.unpack_from(view, len(MAGIC))[0]
    if count > MAX_FIELDS:
        raise RecordError(f"engine record: {count} fields is more than any ABI has (corrupted record?)")
    fields = []
    pos = PREFIX
    for i in range(count):
        label = names[i] if i < len(names) else f"#{i}"
        if n - pos < 8:
            raise RecordError(f"engine record: the data ends in the length of field {label} (truncated record)")
        size = _U64.unpack_from(view, pos)[0]
        pos += 8
        if size > n - pos:
            raise RecordError(f"engine record: field {label} has {size} bytes but {n - pos} remain (truncated record)")
        fields.append(view[pos : pos + size])
        pos += size
    if pos != n:
        raise RecordError(f"engine record: {n - pos} bytes after the last field (corrupted record?)")
    return fields


def find_frames(data: Buffer) -> list[tuple[int, int]]:
    """``(start, end)`` of every complete frame inside ``data`` (a file member that may hold records anywhere:
    a tensor's storage, a constant compiled into a shared library). Candidates that do not parse are skipped."""
    view = memoryview(data).cast("B")
    raw = bytes(view) if not isinstance(data, bytes) else data
    spans = []
    start = raw.find(MAGIC)
    while start != -1:
        end = _frame_end(view, start)
        if end is not None:
            spans.append((start, end))
        start = raw.find(MAGIC, end if end is not None else start + 1)
    return spans


def _frame_end(view: memoryview, start: int) -> "int | None":
    n = len(view)
    if n - start < PREFIX:
        return None
    count = _U32.unpack_from(view, start + len(MAGIC))[0]
    if count > MAX_FIELDS:
        return None
    pos = start + PREFIX
    for _ in range(count):
        if n - pos < 8:
            return None
        size = _U64.unpack_from(view, pos)[0]
        pos += 8
        if size > n - pos:
            return None
        pos += size
    return pos
