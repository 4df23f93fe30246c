"""The engine record: the one serialized field list shared by the Python and the C++ runtime.

A record is a ``list[str]`` with one entry per :class:`Field`, in that order. It is what
``torch.classes.tensorrt.Engine`` pickles (``__getstate__``), what ``__obj_flatten__`` exposes to
``torch.export``, and what :class:`~torch_tensorrt.runtime.TorchTensorRTModule` saves in its state dict.
``runtime_cpp/include/torchtrt/record.h`` mirrors this module field by field.

Encoding: strings as they are; name lists joined with :data:`LIST_SEP`; booleans ``"0"``/``"1"``; the engine
bytes and ``SERIALIZED_METADATA`` (UTF-8 JSON, see :mod:`torch_tensorrt.runtime._metadata`) in canonical padded
base64; ``SHA256`` holds the lowercase hex SHA-256 of the engine bytes and of the metadata bytes, joined with
:data:`LIST_SEP`.

Validation (:meth:`EngineRecord.from_list`, run wherever a record is installed: construction, ``set_extra_state``,
unpickling, ``torch_tensorrt.load``) is identical in C++ (``runtime_cpp/src/record.cpp``): same checks, same order,
same messages; ``tests/reliability/bad_records.json`` drives both sides. Every message names the engine and the
field. Order: list of strings, not empty, UTF-8, ABI, field count, then field by field (NAME .. ENGINE_KIND), then
the checksums, then the metadata (UTF-8, strict JSON, schema), then the binding names against the metadata and
the engine kind against the recorded network.

``ENGINE_KIND`` is one of the kinds the C++ runtime knows (:data:`ENGINE_KINDS`; checked identically on both
sides) or a kind an extension registered in this Python process (:mod:`torch_tensorrt.runtime._kinds`), which a
runtime without it refuses with the same "unknown engine kind" message; at construction the Python runtime also
requires the kind to be registered (``"tensorrt"`` always is; ``"simulated"`` once ``torch_tensorrt.testing`` is
imported).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from torch_tensorrt.runtime._kinds import KIND_TENSORRT, is_registered, unknown_kind_hint, unknown_kind_message
from torch_tensorrt.runtime._record_check import (
    MAX_DIM,
    CheckError,
    check_metadata,
    has_control,
    quoted,
    quoted_list,
    scan_json,
    utf8_error,
)

#: Bumped whenever a field is added, removed or re-encoded. Another ABI is refused.
ABI_VERSION = "2"
#: Separator of name lists (ASCII unit separator; never valid in a binding name we produce or accept).
LIST_SEP = "\x1f"
#: Values of ``ENGINE_KIND``.
#: ``KIND_SIMULATED`` is the ABI value of the kind ``torch_tensorrt.testing`` registers (named here for C++ parity).
KIND_SIMULATED = "simulated"
ENGINE_KINDS = (KIND_TENSORRT, KIND_SIMULATED)
#: Values of ``TRT_FLAVOUR`` ("" when the record was made without TensorRT).
TRT_FLAVOURS = ("", "tensorrt", "tensorrt_rtx")


class Field(enum.IntEnum):
    """Index of each entry of a serialized record. Order is part of the ABI."""

    ABI_VERSION = 0
    NAME = 1
    DEVICE_ID = 2
    DEVICE_CAPABILITY = 3  # "major.minor", e.g. "9.0", or ""
    DEVICE_NAME = 4
    ENGINE = 5  # base64 of the serialized plan
    INPUT_BINDING_NAMES = 6
    OUTPUT_BINDING_NAMES = 7
    HW_COMPATIBLE = 8
    SERIALIZED_METADATA = 9
    TARGET_PLATFORM = 10  # e.g. "linux_x86_64"
    REQUIRES_OUTPUT_ALLOCATOR = 11
    TORCHTRT_VERSION = 12
    TRT_FLAVOUR = 13  # "tensorrt" | "tensorrt_rtx" | ""
    TRT_VERSION = 14
    ENGINE_KIND = 15  # "tensorrt" | "simulated"
    SHA256 = 16  # sha256(engine) LIST_SEP sha256(metadata bytes), lowercase hex


NUM_FIELDS = len(Field)
_DEVICE_ID = re.compile(r"0|[1-9][0-9]{0,9}")
_CAPABILITY = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}")
_DIGESTS = re.compile(r"[0-9a-f]{64}\x1f[0-9a-f]{64}")
_B64_BAD = re.compile(rb"[^A-Za-z0-9+/=]")
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class RecordError(ValueError):
    """A serialized record that cannot be used (truncated, corrupted, other ABI, ...)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def split_names(joined: str) -> list[str]:
    return joined.split(LIST_SEP) if joined else []


def encode_metadata_bytes(metadata: dict[str, Any]) -> bytes:
    return json.dumps(metadata, sort_keys=True, allow_nan=False).encode("utf-8")


def encode_metadata(metadata: dict[str, Any]) -> str:
    return base64.b64encode(encode_metadata_bytes(metadata)).decode("ascii")


@dataclass
class EngineRecord:
    """Decoded form of a record. Construct directly (validated) or with :meth:`from_list`; serialize with
    :meth:`to_list`."""

    name: str
    engine: bytes
    input_binding_names: list[str]
    output_binding_names: list[str]
    device_id: int = 0
    device_capability: str = ""
    device_name: str = ""
    hardware_compatible: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    target_platform: str = ""
    requires_output_allocator: bool = False
    torchtrt_version: str = ""
    trt_flavour: str = ""
    trt_version: str = ""
    engine_kind: str = KIND_TENSORRT
    abi_version: str = ABI_VERSION

    def __post_init__(self) -> None:
        """The checks of :meth:`from_list` that apply to decoded values (same messages)."""
        pre = f"engine {quoted(str(self.name))}: "
        if not self.name:
            raise RecordError(pre + "field NAME is empty")
        if has_control(self.name):
            raise RecordError(pre + "field NAME contains a control character")
        if type(self.device_id) is not int or not 0 <= self.device_id <= MAX_DIM:
            raise RecordError(pre + f"field DEVICE_ID must be an integer in [0, {MAX_DIM}], got {self.device_id!r}")
        if self.device_capability and not _CAPABILITY.fullmatch(self.device_capability):
            raise RecordError(
                pre + f"field DEVICE_CAPABILITY must be empty or 'major.minor', got {quoted(self.device_capability)}"
            )
        _text(pre, Field.DEVICE_NAME, self.device_name)
        if not self.engine:
            raise RecordError(pre + "field ENGINE is empty")
        _check_names(pre, self.input_binding_names, self.output_binding_names)
        _text(pre, Field.TARGET_PLATFORM, self.target_platform)
        _text(pre, Field.TORCHTRT_VERSION, self.torchtrt_version)
        if self.trt_flavour not in TRT_FLAVOURS:
            raise RecordError(
                pre
                + f"field TRT_FLAVOUR must be one of {', '.join(map(quoted, TRT_FLAVOURS))}, got {quoted(self.trt_flavour)}"
            )
        _text(pre, Field.TRT_VERSION, self.trt_version)
        _check_kind(pre, self.engine_kind)
        _check_metadata(pre, self.metadata, self.input_binding_names, self.output_binding_names, self.engine_kind)
        _require_registered(self.name, self.engine_kind)

    @property
    def is_simulated(self) -> bool:
        return self.engine_kind == KIND_SIMULATED

    def to_list(self) -> list[str]:
        meta = encode_metadata_bytes(self.metadata)
        values = {
            Field.ABI_VERSION: self.abi_version,
            Field.NAME: self.name,
            Field.DEVICE_ID: str(int(self.device_id)),
            Field.DEVICE_CAPABILITY: self.device_capability,
            Field.DEVICE_NAME: self.device_name,
            Field.ENGINE: base64.b64encode(self.engine).decode("ascii"),
            Field.INPUT_BINDING_NAMES: LIST_SEP.join(self.input_binding_names),
            Field.OUTPUT_BINDING_NAMES: LIST_SEP.join(self.output_binding_names),
            Field.HW_COMPATIBLE: "1" if self.hardware_compatible else "0",
            Field.SERIALIZED_METADATA: base64.b64encode(meta).decode("ascii"),
            Field.TARGET_PLATFORM: self.target_platform,
            Field.REQUIRES_OUTPUT_ALLOCATOR: "1" if self.requires_output_allocator else "0",
            Field.TORCHTRT_VERSION: self.torchtrt_version,
            Field.TRT_FLAVOUR: self.trt_flavour,
            Field.TRT_VERSION: self.trt_version,
            Field.ENGINE_KIND: self.engine_kind,
            Field.SHA256: sha256_hex(self.engine) + LIST_SEP + sha256_hex(meta),
        }
        return [values[f] for f in Field]

    @classmethod
    def from_list(cls, fields: Any) -> "EngineRecord":
        """Validate and decode. Every problem is a :class:`RecordError` naming the engine and the field."""
        if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
            raise RecordError("engine record must be a list of strings")
        if not fields:
            raise RecordError("engine record is empty")
        for i in range(min(len(fields), NUM_FIELDS)):
            if not _is_utf8(fields[i]):
                who = (
                    "engine record: " if not _is_utf8(fields[Field.NAME]) else f"engine {quoted(fields[Field.NAME])}: "
                )
                raise RecordError(who + f"field {Field(i).name} is not valid UTF-8")
        name = fields[Field.NAME] if len(fields) > Field.NAME else "<unnamed>"
        pre = f"engine {quoted(name)}: "
        abi = fields[Field.ABI_VERSION]
        if not abi or not abi.isascii() or not abi.isdigit():
            raise RecordError(pre + f"ABI version {quoted(abi)} is not a number (corrupted record?)")
        order = _compare_decimal(abi, ABI_VERSION)
        if order > 0:
            raise RecordError(
                pre
                + f"record ABI {abi} is newer than this runtime's ABI {ABI_VERSION}; upgrade torch_tensorrt to load it"
            )
        if order < 0:
            raise RecordError(pre + f"record ABI {abi} is older than supported ABI {ABI_VERSION}")
        if len(fields) != NUM_FIELDS:
            raise RecordError(
                pre
                + f"record has {len(fields)} fields, ABI {ABI_VERSION} has {NUM_FIELDS} (truncated or corrupted record)"
            )
        get = lambda f: fields[f]  # noqa: E731

        if not name:
            raise RecordError(pre + "field NAME is empty")
        if has_control(name):
            raise RecordError(pre + "field NAME contains a control character")
        dev = get(Field.DEVICE_ID)
        if not dev.isascii() or not _DEVICE_ID.fullmatch(dev) or int(dev) > MAX_DIM:
            raise RecordError(pre + f"field DEVICE_ID must be an integer in [0, {MAX_DIM}], got {quoted(dev)}")
        cap = get(Field.DEVICE_CAPABILITY)
        if cap and not (cap.isascii() and _CAPABILITY.fullmatch(cap)):
            raise RecordError(pre + f"field DEVICE_CAPABILITY must be empty or 'major.minor', got {quoted(cap)}")
        _text(pre, Field.DEVICE_NAME, get(Field.DEVICE_NAME))
        engine = _b64(pre, Field.ENGINE, get(Field.ENGINE))
        inputs, outputs = split_names(get(Field.INPUT_BINDING_NAMES)), split_names(get(Field.OUTPUT_BINDING_NAMES))
        _check_names(pre, inputs, outputs)
        hw = _flag(pre, Field.HW_COMPATIBLE, get(Field.HW_COMPATIBLE))
        meta_bytes = _b64(pre, Field.SERIALIZED_METADATA, get(Field.SERIALIZED_METADATA))
        _text(pre, Field.TARGET_PLATFORM, get(Field.TARGET_PLATFORM))
        needs_allocator = _flag(pre, Field.REQUIRES_OUTPUT_ALLOCATOR, get(Field.REQUIRES_OUTPUT_ALLOCATOR))
        _text(pre, Field.TORCHTRT_VERSION, get(Field.TORCHTRT_VERSION))
        flavour = get(Field.TRT_FLAVOUR)
        if flavour not in TRT_FLAVOURS:
            raise RecordError(
                pre + f"field TRT_FLAVOUR must be one of {', '.join(map(quoted, TRT_FLAVOURS))}, got {quoted(flavour)}"
            )
        _text(pre, Field.TRT_VERSION, get(Field.TRT_VERSION))
        kind = get(Field.ENGINE_KIND)
        _check_kind(pre, kind)
        digests = get(Field.SHA256)
        if not _DIGESTS.fullmatch(digests):
            raise RecordError(
                pre + "field SHA256 is malformed (two lowercase hex SHA-256 digests separated by '\\x1f')"
            )
        if sha256_hex(engine) != digests[:64]:
            raise RecordError(pre + "field SHA256: the engine bytes do not match their checksum (corrupted file?)")
        if sha256_hex(meta_bytes) != digests[65:]:
            raise RecordError(pre + "field SHA256: the metadata does not match its checksum (corrupted file?)")
        bad = utf8_error(meta_bytes)
        if bad is not None:
            raise RecordError(pre + f"field SERIALIZED_METADATA is not valid UTF-8 (byte {bad})")
        try:
            metadata = scan_json(meta_bytes)
        except CheckError as exc:
            raise RecordError(pre + f"field SERIALIZED_METADATA is not valid JSON ({exc})") from None
        _check_metadata(pre, metadata, inputs, outputs, kind)
        _require_registered(name, kind)
        record = cls.__new__(cls)  # validated above: skip __post_init__
        record.__dict__.update(
            abi_version=abi,
            name=name,
            device_id=int(dev),
            device_capability=cap,
            device_name=get(Field.DEVICE_NAME),
            engine=engine,
            input_binding_names=inputs,
            output_binding_names=outputs,
            hardware_compatible=hw,
            metadata=metadata,
            target_platform=get(Field.TARGET_PLATFORM),
            requires_output_allocator=needs_allocator,
            torchtrt_version=get(Field.TORCHTRT_VERSION),
            trt_flavour=flavour,
            trt_version=get(Field.TRT_VERSION),
            engine_kind=kind,
        )
        return record


def _check_kind(pre: str, kind: str) -> None:
    """``ENGINE_KIND``: a kind the C++ runtime knows (:data:`ENGINE_KINDS`, the shared table's rule) or one an
    extension registered in this process (:func:`~torch_tensorrt.runtime._kinds.register_engine_kind`; such a
    record is refused by a runtime that lacks the kind, with the same message)."""
    if kind in ENGINE_KINDS or is_registered(kind):
        return
    error = RecordError(pre + f"unknown engine kind {quoted(kind)}")
    if hasattr(error, "add_note"):  # Python >= 3.11
        error.add_note(unknown_kind_hint(kind))
    raise error


def engine_object_state(value: Any) -> Any:
    """The record list of a ``torch.classes.tensorrt.Engine`` (a real ScriptObject or torch.export's fake class):
    its ``serialize()``, or its ``__getstate__``, which in torch >= 2.14 is ``(record, class_name)`` for a
    ScriptObject. Anything else is returned as it is, for :meth:`EngineRecord.from_list` to refuse."""
    if hasattr(value, "serialize"):
        return list(value.serialize())
    state = value.__getstate__()
    if (
        isinstance(state, tuple)
        and len(state) == 2
        and isinstance(state[1], str)
        and isinstance(state[0], (list, tuple))
    ):
        state = state[0]
    return list(state) if isinstance(state, (list, tuple)) else state


def _require_registered(name: str, kind: str) -> None:
    """The last check of every install: this process has the record's kind (``"simulated"`` only once
    ``torch_tensorrt.testing`` is imported), so no plan reaches a runtime that cannot run it."""
    if not is_registered(kind):
        error = RecordError(unknown_kind_message(name, kind))
        if hasattr(error, "add_note"):  # Python >= 3.11
            error.add_note(unknown_kind_hint(kind))
        raise error


def _compare_decimal(a: str, b: str) -> int:
    """Numeric order of two ASCII digit strings of any length (no int(): it refuses > 4300 digits)."""
    a, b = a.lstrip("0") or "0", b.lstrip("0") or "0"
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


def _text(pre: str, f: Field, text: str) -> None:
    if has_control(text):
        raise RecordError(pre + f"field {f.name} contains a control character")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64(pre: str, f: Field, text: str) -> bytes:
    if not text:
        raise RecordError(pre + f"field {f.name} is empty")
    problem = b64_problem(text)
    if problem:
        raise RecordError(pre + f"field {f.name} is not valid base64 ({problem})")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _flag(pre: str, f: Field, value: str) -> bool:
    if value not in ("0", "1"):
        raise RecordError(pre + f"field {f.name} must be '0' or '1', got {quoted(value)}")
    return value == "1"


def _check_names(pre: str, inputs: list[str], outputs: list[str]) -> None:
    seen: set[str] = set()
    for names, f in ((inputs, Field.INPUT_BINDING_NAMES), (outputs, Field.OUTPUT_BINDING_NAMES)):
        what = "input" if f == Field.INPUT_BINDING_NAMES else "output"
        for n in names:
            if not isinstance(n, str) or not n or has_control(n):
                raise RecordError(pre + f"invalid {what} binding name {quoted(str(n))}")
            if n in seen:
                raise RecordError(pre + f"field {f.name} lists {quoted(n)}, which is already a binding name")
            seen.add(n)


def _check_metadata(pre: str, metadata: Any, inputs: list[str], outputs: list[str], kind: str) -> None:
    try:
        check_metadata(metadata)
    except CheckError as exc:
        sep = " " if str(exc) == "is not a JSON object" else ": "
        raise RecordError(pre + f"field SERIALIZED_METADATA{sep}{exc}") from None
    for names, group, f in (
        (inputs, "inputs", Field.INPUT_BINDING_NAMES),
        (outputs, "outputs", Field.OUTPUT_BINDING_NAMES),
    ):
        declared = [s["name"] for s in metadata[group]]
        if list(names) != declared:
            raise RecordError(
                pre
                + f"field {f.name} {quoted_list(list(names))} does not match the metadata's {group} {quoted_list(declared)}"
            )
    has_network = isinstance(metadata.get("network"), dict)
    if kind == KIND_SIMULATED and not has_network:
        raise RecordError(pre + "field ENGINE_KIND is 'simulated' but the metadata has no recorded network")
    if kind == KIND_TENSORRT and has_network:
        raise RecordError(pre + "field ENGINE_KIND is 'tensorrt' but the metadata carries a recorded network")
