"""Reading ABI 2 records: a ``list[str]`` whose ``ENGINE`` and ``SERIALIZED_METADATA`` are canonical padded
base64 (what torch_tensorrt saved before the framed record of ABI 3).

:func:`upgrade` checks what only ABI 2 has (a list of strings, the base64 encoding) and returns the record's
fields as bytes, the two base64 fields decoded; :meth:`EngineRecord.from_list` then validates them like an ABI 3
record (checksums included: they cover the decoded bytes in both ABIs). ``runtime_cpp/src/record_abi2.cpp``
mirrors this module (same checks, same order, same messages).
"""

from __future__ import annotations

import base64
import re
from typing import Any, Callable, Optional, Sequence

from torch_tensorrt.runtime._record_check import quoted, utf8_error
from torch_tensorrt.runtime._record_frame import RecordError

_B64_BAD = re.compile(rb"[^A-Za-z0-9+/=]")
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64_problem(text: str) -> Optional[str]:
    """Why ``text`` is not canonical padded base64 (None when it is). Lengths and positions count UTF-8 bytes."""
    raw = text.encode("utf-8")
    n = len(raw)
    if n % 4:
        return f"length {n} is not a multiple of 4 (incorrect padding)"
    pad = 2 if raw.endswith(b"==") else 1 if raw.endswith(b"=") else 0
    bad = _B64_BAD.search(raw)
    first_pad = raw.find(b"=")
    if first_pad != -1 and first_pad >= n - pad:
        first_pad = -1
    if bad is not None and (first_pad == -1 or bad.start() < first_pad):
        # every byte before it is ASCII, so the byte offset is also the character index
        return f"character {quoted(text[bad.start()])} at position {bad.start()} is not in the base64 alphabet"
    if first_pad != -1:
        return f"padding '=' at position {first_pad} before the end"
    if pad and _B64.index(chr(raw[n - pad - 1])) & (0x0F if pad == 2 else 0x03):
        return f"non-zero padding bits at position {n - pad - 1}"
    return None


def _b64(pre: str, field: str, text: str) -> bytes:
    if not text:
        raise RecordError(pre + f"field {field} is empty")
    problem = b64_problem(text)
    if problem:
        raise RecordError(pre + f"field {field} is not valid base64 ({problem})")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def upgrade(fields: Any, names: Sequence[str], check_abi: Callable[[str, str, bool], None]) -> list[bytes]:
    """The fields of the ABI 2 record ``fields`` as bytes, ``ENGINE`` and ``SERIALIZED_METADATA`` decoded.
    ``names``: the field names in order (``_record.Field``); ``check_abi``: ``_record``'s ABI rules (passed in, so
    that this module does not import ``_record``, which imports it)."""
    name_at, engine_at, meta_at = names.index("NAME"), names.index("ENGINE"), names.index("SERIALIZED_METADATA")
    if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
        raise RecordError("engine record must be a list of strings")
    if not fields:
        raise RecordError("engine record is empty")
    for i in range(min(len(fields), len(names))):
        if not _is_utf8(fields[i]):
            named = len(fields) > name_at and _is_utf8(fields[name_at])
            who = f"engine {quoted(fields[name_at])}: " if named else "engine record: "
            raise RecordError(who + f"field {names[i]} is not valid UTF-8")
    name = fields[name_at] if len(fields) > name_at else "<unnamed>"
    pre = f"engine {quoted(name)}: "
    check_abi(pre, fields[0], False)
    if len(fields) != len(names):
        raise RecordError(
            pre + f"record has {len(fields)} fields, ABI 2 has {len(names)} (truncated or corrupted record)"
        )
    out = [f.encode("utf-8") for f in fields]
    out[engine_at] = _b64(pre, "ENGINE", fields[engine_at])
    meta = _b64(pre, "SERIALIZED_METADATA", fields[meta_at])
    bad = utf8_error(meta)
    if bad is not None:
        raise RecordError(pre + f"field SERIALIZED_METADATA is not valid UTF-8 (byte {bad})")
    out[meta_at] = meta
    return out
