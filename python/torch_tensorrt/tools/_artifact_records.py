"""Find and decode the engine records inside a saved artifact, without running anything from it.

Where records live (see :mod:`torch_tensorrt.runtime._record` for the record itself):

* ABI 3 and 4: framed bytes (:mod:`torch_tensorrt.runtime._record_frame`) in the storage of a ``uint8`` tensor -- the
  Python op's blob, the C++ engine's pickled state, ``TorchTensorRTModule``'s extra state -- wherever the file
  keeps it: a storage member of an archive (``data/N``, ``data/constants/...``, ``constants/...``) or a constant
  compiled into an AOTInductor package's shared library. Found by scanning every member for the record magic;
* ABI 2 (older files): the JSON-encoded ``uint8`` blob of the Python engine op -- found by scanning the member's
  bytes for a JSON list that starts like a record -- or a list of strings in a pickle (``torch.save`` of a module
  or of a state dict, the C++ engine's ``__getstate__``), read with :class:`StubUnpickler`, whose ``find_class``
  never imports anything: every global becomes an inert stub that only remembers its name and arguments.

Decoding goes through :meth:`EngineRecord.from_bytes` / ``from_list`` (so every check of the runtime applies: a record whose
SHA-256 of the engine or the metadata does not match is refused there), with one difference: the engine kind need
not be registered in this process (inspecting a simulated engine must not need ``torch_tensorrt.testing``). Errors
are :class:`ArtifactError` naming the member and the engine.
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from torch_tensorrt.runtime._kinds import EngineKind, is_registered, register_engine_kind, unregister_engine_kind
from torch_tensorrt.runtime._record import EngineRecord, Field, RecordError
from torch_tensorrt.runtime._record_frame import MAGIC, find_frames, unframe

#: The start of a JSON-encoded record: ``["<ABI digits>", "``.
_JSON_RECORD = re.compile(rb'\["\d+", "')


class ArtifactError(ValueError):
    """An artifact member holding an engine record that cannot be decoded."""


@dataclass
class FoundRecord:
    """A decoded record, where it was found, and what the runtime's decoder does not keep."""

    record: EngineRecord
    kind: str  # the record's ENGINE_KIND as stored (registered in this process or not)
    member: str
    sha256: str
    checksum: str  # what was verified (a mismatch never decodes)


def _refuse(*_: Any) -> Any:
    raise RuntimeError("a kind registered by torchtrt inspect only to decode a record; it runs nothing")


_kind_lock = threading.Lock()


@contextlib.contextmanager
def _decodable(kind: str) -> Iterator[None]:
    """Let records of ``kind`` decode while the block runs, registered or not (inspecting a simulated engine must
    not need ``torch_tensorrt.testing``): an unregistered kind gets an inert placeholder, removed afterwards."""
    with _kind_lock:
        placeholder = bool(kind) and kind.isidentifier() and not is_registered(kind)
        if placeholder:
            register_engine_kind(EngineKind(kind, make_runtime=_refuse, plan=_refuse, needs_gpu=False))
        try:
            yield
        finally:
            if placeholder:
                unregister_engine_kind(kind)


def _framed_kind(data: bytes) -> str:
    """The ``ENGINE_KIND`` of framed record bytes ("" when the frame or the field does not decode)."""
    try:
        fields = unframe(data, [f.name for f in Field])
        return bytes(fields[Field.ENGINE_KIND]).decode("utf-8") if len(fields) > Field.ENGINE_KIND else ""
    except (RecordError, UnicodeDecodeError):
        return ""


def decode_record(fields: Any, member: str) -> FoundRecord:
    """Decode one record found in ``member`` -- framed bytes (ABI 3, 4) or a list of strings (ABI 2) -- with the
    runtime's decoder (every check of the runtime applies, checksums included)."""
    framed = isinstance(fields, (bytes, bytearray, memoryview))
    if not framed and (not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields)):
        raise ArtifactError(f"{member}: engine record is not a list of strings")
    if framed:
        kind = _framed_kind(bytes(fields))
    else:
        kind = fields[Field.ENGINE_KIND] if len(fields) > Field.ENGINE_KIND else ""
    try:
        with _decodable(kind):
            record = EngineRecord.from_bytes(fields) if framed else EngineRecord.from_list(list(fields))
    except RecordError as exc:
        raise ArtifactError(f"{member}: {exc}") from exc
    return FoundRecord(record, kind, member, record.engine_sha256, "ok (SHA-256 of the plan and the metadata verified)")


def _looks_like_record(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) > Field.ENGINE
        and all(isinstance(v, str) for v in value)
        and value[Field.ABI_VERSION].isdigit()
        and len(value[Field.ENGINE]) > 16
    )


def json_records(data: bytes, member: str) -> Iterator[list[str]]:
    """Every JSON list in ``data`` that starts like a record: the whole member (a blob constant), or a constant
    inside a binary. A member that *is* a blob (starts with one) but does not decode is an error."""
    decoder = json.JSONDecoder()
    for match in _JSON_RECORD.finditer(data):
        end, value = match.start(), None
        for _ in range(8):  # the base64 fields hold no "]": the record ends at one of the next few
            end = data.find(b"]", end + 1)
            if end == -1:
                break
            try:
                value, _ = decoder.raw_decode(data[match.start() : end + 1].decode("utf-8"))
                break
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
        if value is not None and _looks_like_record(value):
            yield list(value)
        elif match.start() == 0:
            raise ArtifactError(f"{member}: the engine blob is not a complete JSON record (truncated or corrupted)")


class _Stub:
    """What every pickled global becomes: inert, remembering its name, call arguments and state."""

    qualname = "?"
    args: tuple[Any, ...]
    state: Any
    items: list[Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Stub":
        obj = object.__new__(cls)
        obj.args, obj.state, obj.items = args, None, []
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items.append((key, value))

    def append(self, value: Any) -> None:
        self.items.append(value)

    def extend(self, values: Any) -> None:
        self.items.extend(values)


class StubUnpickler(pickle.Unpickler):
    """An unpickler that imports nothing: globals are :class:`_Stub` subclasses, persistent ids are kept as
    tuples. It runs no code from the file; it only rebuilds the containers and strings the pickle holds."""

    def find_class(self, module: str, name: str) -> Any:
        return type(name, (_Stub,), {"qualname": f"{module}.{name}"})

    def persistent_load(self, pid: Any) -> Any:
        return ("persistent", pid)


def pickled_records(data: bytes, member: str) -> Iterator[Any]:
    """Every record-like list of strings in the pickle ``data``."""
    try:
        root = StubUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # noqa: BLE001 -- any malformed pickle is one error naming the member
        raise ArtifactError(f"{member}: the pickle is corrupted ({type(exc).__name__}: {exc})") from exc
    seen: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if _looks_like_record(value):
            yield list(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        elif isinstance(value, _Stub):
            stack.extend((value.args, value.state, value.items))


def find_records(members: dict[str, bytes]) -> list[FoundRecord]:
    """The distinct records in an archive's members (name -> bytes), in member order."""
    found: list[FoundRecord] = []
    keys: set[tuple[str, str]] = set()
    for member, data in members.items():
        candidates: list[Any] = []
        if member.endswith(".pkl"):
            candidates += list(pickled_records(data, member))
        elif b'["' in data:
            candidates += list(json_records(data, member))
        if MAGIC in data:
            candidates += list(framed_records(data, member))
        for fields in candidates:
            rec = decode_record(fields, member)
            key = (rec.record.name, rec.sha256)
            if key not in keys:
                keys.add(key)
                found.append(rec)
    return found


def framed_records(data: bytes, member: str) -> Iterator[bytes]:
    """Every framed record (ABI 3, 4) in ``data``: the whole member (a tensor's storage) or a constant inside a
    binary. A member that *starts* with the magic but holds no complete frame is an error (truncated file)."""
    spans = find_frames(data)
    if data.startswith(MAGIC) and not any(start == 0 for start, _ in spans):
        raise ArtifactError(f"{member}: the engine record is not complete (truncated or corrupted)")
    for start, end in spans:
        yield data[start:end]


def record_settings(found: FoundRecord) -> dict[str, Any]:
    return dict((found.record.metadata or {}).get("settings") or {})


def weight_map_stripped(found: FoundRecord) -> Optional[bool]:
    wmap = (found.record.metadata or {}).get("weight_map")
    return bool(wmap.get("stripped")) if isinstance(wmap, dict) else None
