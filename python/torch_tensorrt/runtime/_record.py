"""The engine record: the one serialized form shared by the Python and the C++ runtime.

A record (ABI 4) is a sequence of byte fields, one per :class:`Field` in that order, *framed* into one byte
string (:mod:`torch_tensorrt.runtime._record_frame`: a magic, the field count, then each field as a 64-bit length
and its bytes). ``ENGINE`` holds the serialized plan *packed* (:mod:`torch_tensorrt.runtime._plan_pack`: its
metadata and kernel sources zstd-compressed, its weights verbatim; ABI 3: the plan raw, still read) and
``SERIALIZED_METADATA`` the metadata's UTF-8 JSON
(see :mod:`torch_tensorrt.runtime._metadata`); every other field is UTF-8 text. The framed bytes travel as a 1-D
``uint8`` tensor: what ``torch.classes.tensorrt.Engine`` pickles (``__getstate__``), the Python op's
``engine_blob``, and what :class:`~torch_tensorrt.runtime.TorchTensorRTModule` saves in its state dict -- so a
saved file stores the plan's bytes, never base64 or JSON. In memory, ``EngineRecord.engine`` is always the plain
plan. ``runtime_cpp/include/torchtrt/record.h`` mirrors this module field by field.

Encoding of the text fields: strings as they are; name lists joined with :data:`LIST_SEP`; booleans
``"0"``/``"1"``; ``SHA256`` holds the lowercase hex SHA-256 of the (unpacked) plan and of the metadata bytes, joined
with :data:`LIST_SEP`. The *header* (:meth:`EngineRecord.to_header`, what ``__obj_flatten__`` gives
``torch.export``'s fake class) is the fields as strings with ``ENGINE`` replaced by the plan's size in decimal.

ABI 2 records (a ``list[str]``, engine and metadata in base64: files saved by torch_tensorrt before the framed
record) are still read (:meth:`EngineRecord.from_list`): decoded, then validated as ABI 3.

Validation (:meth:`EngineRecord.from_bytes`, run wherever a record is installed: construction,
``set_extra_state``, unpickling, ``torch_tensorrt.load``) is identical in C++ (``runtime_cpp/src/record.cpp``):
same checks, same order, same messages; ``tests/reliability/bad_records.json`` drives both sides. Every message
names the engine and the field. Order: the frame, then not empty, UTF-8 (text fields), ABI, field count, then
field by field (NAME .. ENGINE_KIND), then the checksums, then the metadata (strict JSON, schema), then the
binding names against the metadata and the engine kind against the recorded network.

``ENGINE_KIND`` is one of the kinds the C++ runtime knows (:data:`ENGINE_KINDS`; checked identically on both
sides) or a kind an extension registered in this Python process (:mod:`torch_tensorrt.runtime._kinds`), which a
runtime without it refuses with the same "unknown engine kind" message; at construction the Python runtime also
requires the kind to be registered (``"tensorrt"`` always is; ``"simulated"`` once ``torch_tensorrt.testing`` is
imported).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from torch_tensorrt.runtime import _plan_pack, _record_abi2, _record_frame
from torch_tensorrt.runtime._kinds import KIND_TENSORRT, is_registered, unknown_kind_hint, unknown_kind_message
from torch_tensorrt.runtime._record_check import (
    MAX_DIM,
    CheckError,
    check_metadata,
    has_control,
    quoted,
    quoted_list,
    scan_json,
)
from torch_tensorrt.runtime._record_frame import Buffer, RecordError

#: Bumped whenever a field is added, removed or re-encoded. A newer ABI is refused; ABI 2 is read.
ABI_VERSION = "4"
#: The first ABI whose ``ENGINE`` is packed (:mod:`~torch_tensorrt.runtime._plan_pack`); ABI 3 stores it raw.
PACKED_ABI_VERSION = "4"
#: The oldest ABI still read (a ``list[str]`` with the engine and the metadata in base64: :meth:`from_list`).
MIN_ABI_VERSION = "2"
#: Separator of name lists (ASCII unit separator; never valid in a binding name we produce or accept).
LIST_SEP = "\x1f"
#: Values of ``ENGINE_KIND``.
#: ``KIND_SIMULATED`` is the ABI value of the kind ``torch_tensorrt.testing`` registers (named here for C++ parity).
KIND_SIMULATED = "simulated"
ENGINE_KINDS = (KIND_TENSORRT, KIND_SIMULATED)
#: Values of ``TRT_FLAVOUR`` ("" when the record was made without TensorRT).
TRT_FLAVOURS = ("", "tensorrt", "tensorrt_rtx")


class Field(enum.IntEnum):
    """Index of each field of a serialized record. Order is part of the ABI."""

    ABI_VERSION = 0
    NAME = 1
    DEVICE_ID = 2
    DEVICE_CAPABILITY = 3  # "major.minor", e.g. "9.0", or ""
    DEVICE_NAME = 4
    ENGINE = 5  # the serialized plan, packed (ABI 3: raw bytes; ABI 2: base64)
    INPUT_BINDING_NAMES = 6
    OUTPUT_BINDING_NAMES = 7
    HW_COMPATIBLE = 8
    SERIALIZED_METADATA = 9  # UTF-8 JSON (ABI 2: base64 of it)
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


def sha256_hex(data: Buffer) -> str:
    return hashlib.sha256(data).hexdigest()


def split_names(joined: str) -> list[str]:
    return joined.split(LIST_SEP) if joined else []


def encode_metadata_bytes(metadata: dict[str, Any]) -> bytes:
    return json.dumps(metadata, sort_keys=True, allow_nan=False).encode("utf-8")


@dataclass
class EngineRecord:
    """Decoded form of a record. Construct directly (validated) or with :meth:`from_bytes`; serialize with
    :meth:`to_bytes` (or :meth:`to_tensor`)."""

    name: str
    #: the plan: bytes, or a byte view of a plan TensorRT serialized (never mutated either way)
    engine: Buffer
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
        """The checks of :meth:`from_bytes` that apply to decoded values (same messages)."""
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

    @property
    def engine_sha256(self) -> str:
        """Hex SHA-256 of the plan (computed once per record: records are never mutated in place)."""
        digest = self.__dict__.get("_engine_sha256")
        if digest is None:
            digest = self.__dict__["_engine_sha256"] = sha256_hex(self.engine)
        return digest

    @property
    def packing(self) -> _plan_pack.Packing:
        """How :meth:`to_bytes` stores the plan: the packing it was read with, else :func:`_plan_pack.pack`'s
        (computed once per record)."""
        packing = self.__dict__.get("_packing")
        if packing is None:
            packing = self.__dict__["_packing"] = _plan_pack.pack(self.engine)
        return packing

    @property
    def stored_engine_bytes(self) -> int:
        """Bytes the ``ENGINE`` field takes in this record's serialized form: the packed plan (ABI >= 4, also a
        record made here), the plan itself in an ABI 3 or 2 record as read."""
        return self.packing.stored_size if _packs_plan(self.abi_version) else len(self.engine)

    def _text_fields(self, engine_field: str) -> list[str]:
        meta = encode_metadata_bytes(self.metadata)
        values = {
            Field.ABI_VERSION: ABI_VERSION,
            Field.NAME: self.name,
            Field.DEVICE_ID: str(int(self.device_id)),
            Field.DEVICE_CAPABILITY: self.device_capability,
            Field.DEVICE_NAME: self.device_name,
            Field.ENGINE: engine_field,
            Field.INPUT_BINDING_NAMES: LIST_SEP.join(self.input_binding_names),
            Field.OUTPUT_BINDING_NAMES: LIST_SEP.join(self.output_binding_names),
            Field.HW_COMPATIBLE: "1" if self.hardware_compatible else "0",
            Field.SERIALIZED_METADATA: meta.decode("utf-8"),
            Field.TARGET_PLATFORM: self.target_platform,
            Field.REQUIRES_OUTPUT_ALLOCATOR: "1" if self.requires_output_allocator else "0",
            Field.TORCHTRT_VERSION: self.torchtrt_version,
            Field.TRT_FLAVOUR: self.trt_flavour,
            Field.TRT_VERSION: self.trt_version,
            Field.ENGINE_KIND: self.engine_kind,
            Field.SHA256: self.engine_sha256 + LIST_SEP + sha256_hex(meta),
        }
        return [values[f] for f in Field]

    def to_fields(self) -> list[_record_frame.FieldBytes]:
        """The record's fields (ABI 4) before framing: UTF-8 text, ``ENGINE`` the packed plan as pieces (its stored
        chunks are views of the plan, not copies)."""
        fields: list[_record_frame.FieldBytes] = [t.encode("utf-8") for t in self._text_fields("")]
        fields[Field.ENGINE] = _plan_pack.pieces(self.engine, self.packing)
        return fields

    def to_bytes(self) -> bytearray:
        """The framed record (ABI 4): one copy of the plan's stored chunks, into the returned buffer."""
        return _record_frame.frame(self.to_fields())

    def to_tensor(self) -> Any:
        """:meth:`to_bytes` as a 1-D CPU ``uint8`` tensor sharing the buffer (no further copy)."""
        import torch

        return torch.frombuffer(self.to_bytes(), dtype=torch.uint8)

    def to_header(self) -> list[str]:
        """The text fields, ``ENGINE`` replaced by the plan's size in decimal (``__obj_flatten__``'s value)."""
        return self._text_fields(str(len(self.engine)))

    @classmethod
    def from_bytes(cls, data: Buffer) -> "EngineRecord":
        """Validate and decode framed record bytes. Every problem is a :class:`RecordError` naming the engine and
        the field."""
        return cls._decode(_record_frame.unframe(data, [f.name for f in Field]), framed=True)

    @classmethod
    def from_tensor(cls, blob: Any) -> "EngineRecord":
        """:meth:`from_bytes` of a 1-D ``uint8`` tensor (a CPU view of its storage: no copy of the blob)."""
        return cls.from_bytes(tensor_bytes(blob))

    @classmethod
    def from_header(cls, fields: Any) -> "EngineRecord":
        """Validate a header (:meth:`to_header`): every check but the plan's size and checksum. The result's
        ``engine`` is empty (a fake engine for tracing has no plan)."""
        if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
            raise RecordError("engine record header must be a list of strings")
        return cls._decode([f.encode("utf-8", "surrogatepass") for f in fields], framed=True, header=True)

    @classmethod
    def from_list(cls, fields: Any) -> "EngineRecord":
        """Validate and decode an ABI 2 record (``list[str]``, engine and metadata in base64)."""
        return cls._decode(_record_abi2.upgrade(fields, [f.name for f in Field], _check_abi), framed=False)

    @classmethod
    def from_state(cls, state: Any) -> "EngineRecord":
        """A record from what a file holds: framed bytes (a ``uint8`` tensor or a bytes-like) or an ABI 2 list."""
        if isinstance(state, (list, tuple)):
            return cls.from_list(state)
        if isinstance(state, (bytes, bytearray, memoryview)):
            return cls.from_bytes(state)
        return cls.from_tensor(state)

    @classmethod
    def _decode(cls, fields: Sequence[Buffer], framed: bool, header: bool = False) -> "EngineRecord":
        if not fields:
            raise RecordError("engine record is empty")
        text: list[str] = []
        for i in range(min(len(fields), NUM_FIELDS)):
            if i == Field.ENGINE and not header:
                text.append("")
                continue
            try:
                text.append(bytes(fields[i]).decode("utf-8"))
            except UnicodeDecodeError:
                named = len(fields) > Field.NAME and _is_utf8(fields[Field.NAME])
                who = f"engine {quoted(bytes(fields[Field.NAME]).decode())}: " if named else "engine record: "
                raise RecordError(who + f"field {Field(i).name} is not valid UTF-8") from None
        name = text[Field.NAME] if len(text) > Field.NAME else "<unnamed>"
        pre = f"engine {quoted(name)}: "
        abi = text[Field.ABI_VERSION]
        _check_abi(pre, abi, framed)
        if len(fields) != NUM_FIELDS:
            raise RecordError(
                pre
                + f"record has {len(fields)} fields, ABI {ABI_VERSION if framed else MIN_ABI_VERSION} has {NUM_FIELDS} "
                + "(truncated or corrupted record)"
            )
        get = text.__getitem__

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
        engine = b"" if header else fields[Field.ENGINE]
        if not header and not len(engine):
            raise RecordError(pre + "field ENGINE is empty")
        packing = None
        if not header and _packs_plan(abi):
            engine, packing = _plan_pack.unpack(engine, pre)
        if header and not _SIZE.fullmatch(get(Field.ENGINE)):
            raise RecordError(pre + f"header field ENGINE must be the plan's size, got {quoted(get(Field.ENGINE))}")
        inputs, outputs = split_names(get(Field.INPUT_BINDING_NAMES)), split_names(get(Field.OUTPUT_BINDING_NAMES))
        _check_names(pre, inputs, outputs)
        hw = _flag(pre, Field.HW_COMPATIBLE, get(Field.HW_COMPATIBLE))
        meta_text = get(Field.SERIALIZED_METADATA)
        if not meta_text:
            raise RecordError(pre + "field SERIALIZED_METADATA is empty")
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
        engine_digest = digests[:64]
        if not header and sha256_hex(engine) != engine_digest:
            raise RecordError(pre + "field SHA256: the engine bytes do not match their checksum (corrupted file?)")
        meta_bytes = bytes(fields[Field.SERIALIZED_METADATA])
        if sha256_hex(meta_bytes) != digests[65:]:
            raise RecordError(pre + "field SHA256: the metadata does not match its checksum (corrupted file?)")
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
            engine=engine if isinstance(engine, (bytes, bytearray)) else bytes(engine),
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
        if not header:
            record.__dict__["_engine_sha256"] = engine_digest
        if packing is not None:
            record.__dict__["_packing"] = packing
        return record


_SIZE = re.compile(r"[1-9][0-9]{0,18}")


def tensor_bytes(blob: Any) -> memoryview:
    """The bytes of a 1-D ``uint8`` tensor (a view of a CPU tensor's storage; a CPU copy of another device's)."""
    import torch

    if not isinstance(blob, torch.Tensor) or blob.dtype != torch.uint8 or blob.dim() != 1:
        what = f"{blob.dtype} of shape {tuple(blob.shape)}" if isinstance(blob, torch.Tensor) else type(blob).__name__
        raise RecordError(f"engine record must be a 1-D uint8 tensor, got {what}")
    return memoryview(blob.detach().cpu().contiguous().numpy()).cast("B")  # type: ignore[arg-type]


def _check_abi(pre: str, abi: str, framed: bool) -> None:
    """``ABI_VERSION``: a number, not newer than :data:`ABI_VERSION`, not older than :data:`MIN_ABI_VERSION`, and
    in the form of its ABI (ABI 3 and later framed, ABI 2 a list of strings)."""
    if not abi or not abi.isascii() or not abi.isdigit():
        raise RecordError(pre + f"ABI version {quoted(abi)} is not a number (corrupted record?)")
    if _compare_decimal(abi, ABI_VERSION) > 0:
        raise RecordError(
            pre + f"record ABI {abi} is newer than this runtime's ABI {ABI_VERSION}; upgrade torch_tensorrt to load it"
        )
    if _compare_decimal(abi, MIN_ABI_VERSION) < 0:
        raise RecordError(pre + f"record ABI {abi} is older than the oldest supported ABI {MIN_ABI_VERSION}")
    is_abi2 = _compare_decimal(abi, MIN_ABI_VERSION) == 0
    if framed and is_abi2:
        raise RecordError(pre + f"record ABI {abi} is a list of strings, not framed bytes (corrupted record?)")
    if not framed and not is_abi2:
        raise RecordError(pre + f"record ABI {abi} is framed bytes, not a list of strings (corrupted record?)")


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
    """The record state of a ``torch.classes.tensorrt.Engine`` (a real ScriptObject or torch.export's fake class):
    its ``serialize()`` (the framed record as a ``uint8`` tensor), or its ``__getstate__``, which in torch >= 2.14
    is ``(state, class_name)`` for a ScriptObject. For :meth:`EngineRecord.from_state` (which refuses anything
    else)."""
    state = value.serialize() if hasattr(value, "serialize") else value.__getstate__()
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], str):
        state = state[0]
    return list(state) if isinstance(state, tuple) else state


def _require_registered(name: str, kind: str) -> None:
    """The last check of every install: this process has the record's kind (``"simulated"`` only once
    ``torch_tensorrt.testing`` is imported), so no plan reaches a runtime that cannot run it."""
    if not is_registered(kind):
        error = RecordError(unknown_kind_message(name, kind))
        if hasattr(error, "add_note"):  # Python >= 3.11
            error.add_note(unknown_kind_hint(kind))
        raise error


def _packs_plan(abi: str) -> bool:
    """Whether a record of ABI ``abi`` (already checked) stores its plan packed (ABI 2 and 3: as it is)."""
    return _compare_decimal(abi, PACKED_ABI_VERSION) >= 0


def _compare_decimal(a: str, b: str) -> int:
    """Numeric order of two ASCII digit strings of any length (no int(): it refuses > 4300 digits)."""
    a, b = a.lstrip("0") or "0", b.lstrip("0") or "0"
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


def _text(pre: str, f: Field, text: str) -> None:
    if has_control(text):
        raise RecordError(pre + f"field {f.name} contains a control character")


def _is_utf8(data: Buffer) -> bool:
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
