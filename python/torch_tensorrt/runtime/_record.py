"""The engine record: the one serialized field list shared by the Python and the C++ runtime.

A record is a ``list[str]`` with one entry per :class:`Field`, in that order. It is what
``torch.classes.tensorrt.Engine`` pickles (``__getstate__``), what ``__obj_flatten__`` exposes to
``torch.export``, and what :class:`~torch_tensorrt.runtime.TorchTensorRTModule` saves in its state dict.
``runtime_cpp/include/torchtrt/record.h`` mirrors this module field by field; ``tests/runtime`` fails if
the two disagree.

Encoding rules (kept simple so C++ needs no JSON or pickle):

* strings are stored as they are; binding names must not contain :data:`LIST_SEP`;
* lists of names are joined with :data:`LIST_SEP`;
* booleans are ``"0"`` / ``"1"``;
* the engine bytes are base64 (standard alphabet, padded);
* ``SERIALIZED_METADATA`` is base64 of UTF-8 JSON, opaque to C++ (settings, input specs, output shape
  expressions; see :mod:`torch_tensorrt.runtime._metadata`);
* ``ENGINE_KIND`` names what made the plan; a record is accepted only when its kind is registered in the process
  (:mod:`torch_tensorrt.runtime._kinds`; ``"tensorrt"`` always is).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from torch_tensorrt.runtime._kinds import KIND_TENSORRT, is_registered, unknown_kind_hint, unknown_kind_message

#: Bumped whenever a field is added, removed or re-encoded. A record with a larger ABI is refused.
ABI_VERSION = "1"
#: Separator of name lists (ASCII unit separator; never valid in a binding name we produce or accept).
LIST_SEP = "\x1f"


class Field(enum.IntEnum):
    """Index of each entry of a serialized record. Order is part of the ABI."""

    ABI_VERSION = 0
    NAME = 1
    DEVICE_ID = 2
    DEVICE_CAPABILITY = 3  # "major.minor", e.g. "9.0"
    DEVICE_NAME = 4
    ENGINE = 5  # base64 of the serialized plan
    INPUT_BINDING_NAMES = 6
    OUTPUT_BINDING_NAMES = 7
    HW_COMPATIBLE = 8
    SERIALIZED_METADATA = 9
    TARGET_PLATFORM = 10  # e.g. "linux_x86_64"
    REQUIRES_OUTPUT_ALLOCATOR = 11
    TORCHTRT_VERSION = 12
    TRT_FLAVOUR = 13  # "tensorrt" | "tensorrt_rtx"
    TRT_VERSION = 14
    ENGINE_KIND = 15  # a kind registered in torch_tensorrt.runtime._kinds, e.g. "tensorrt"


NUM_FIELDS = len(Field)


class RecordError(ValueError):
    """A serialized record that cannot be used (truncated, corrupted, newer ABI, ...)."""


@dataclass
class EngineRecord:
    """Decoded form of a record. Construct directly or with :meth:`from_list`; serialize with :meth:`to_list`."""

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
        for names, what in ((self.input_binding_names, "input"), (self.output_binding_names, "output")):
            for n in names:
                if not n or LIST_SEP in n:
                    raise RecordError(f"engine {self.name!r}: invalid {what} binding name {n!r}")
        if not is_registered(self.engine_kind):
            error = RecordError(unknown_kind_message(self.name, self.engine_kind))
            if hasattr(error, "add_note"):  # Python >= 3.11
                error.add_note(unknown_kind_hint(self.engine_kind))
            raise error

    def to_list(self) -> list[str]:
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
            Field.SERIALIZED_METADATA: encode_metadata(self.metadata),
            Field.TARGET_PLATFORM: self.target_platform,
            Field.REQUIRES_OUTPUT_ALLOCATOR: "1" if self.requires_output_allocator else "0",
            Field.TORCHTRT_VERSION: self.torchtrt_version,
            Field.TRT_FLAVOUR: self.trt_flavour,
            Field.TRT_VERSION: self.trt_version,
            Field.ENGINE_KIND: self.engine_kind,
        }
        return [values[f] for f in Field]

    @classmethod
    def from_list(cls, fields: list[str]) -> "EngineRecord":
        """Validate and decode. Every problem is a :class:`RecordError` naming the engine and the field."""
        if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
            raise RecordError("engine record must be a list of strings")
        name = fields[Field.NAME] if len(fields) > Field.NAME else "<unnamed>"
        if not fields:
            raise RecordError("engine record is empty")
        abi = fields[Field.ABI_VERSION]
        if not abi.isdigit():
            raise RecordError(f"engine {name!r}: ABI version {abi!r} is not a number (corrupted record?)")
        if int(abi) > int(ABI_VERSION):
            raise RecordError(
                f"engine {name!r}: record ABI {abi} is newer than this runtime's ABI {ABI_VERSION}; "
                "upgrade torch_tensorrt to load it"
            )
        if int(abi) < int(ABI_VERSION):
            raise RecordError(f"engine {name!r}: record ABI {abi} is older than supported ABI {ABI_VERSION}")
        if len(fields) != NUM_FIELDS:
            raise RecordError(
                f"engine {name!r}: record has {len(fields)} fields, ABI {ABI_VERSION} has {NUM_FIELDS} "
                "(truncated or corrupted record)"
            )

        def flag(f: Field) -> bool:
            if fields[f] not in ("0", "1"):
                raise RecordError(f"engine {name!r}: field {f.name} must be '0' or '1', got {fields[f]!r}")
            return fields[f] == "1"

        try:
            engine = base64.b64decode(fields[Field.ENGINE].encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise RecordError(f"engine {name!r}: field ENGINE is not valid base64 ({exc})") from exc
        if not engine:
            raise RecordError(f"engine {name!r}: field ENGINE is empty")
        if not fields[Field.DEVICE_ID].lstrip("-").isdigit():
            raise RecordError(f"engine {name!r}: field DEVICE_ID is not an integer: {fields[Field.DEVICE_ID]!r}")
        return cls(
            abi_version=abi,
            name=name,
            device_id=int(fields[Field.DEVICE_ID]),
            device_capability=fields[Field.DEVICE_CAPABILITY],
            device_name=fields[Field.DEVICE_NAME],
            engine=engine,
            input_binding_names=split_names(fields[Field.INPUT_BINDING_NAMES]),
            output_binding_names=split_names(fields[Field.OUTPUT_BINDING_NAMES]),
            hardware_compatible=flag(Field.HW_COMPATIBLE),
            metadata=decode_metadata(fields[Field.SERIALIZED_METADATA], name),
            target_platform=fields[Field.TARGET_PLATFORM],
            requires_output_allocator=flag(Field.REQUIRES_OUTPUT_ALLOCATOR),
            torchtrt_version=fields[Field.TORCHTRT_VERSION],
            trt_flavour=fields[Field.TRT_FLAVOUR],
            trt_version=fields[Field.TRT_VERSION],
            engine_kind=fields[Field.ENGINE_KIND],
        )


def split_names(joined: str) -> list[str]:
    return joined.split(LIST_SEP) if joined else []


def encode_metadata(metadata: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(metadata, sort_keys=True).encode("utf-8")).decode("ascii")


def decode_metadata(encoded: str, engine_name: str = "<unnamed>") -> dict[str, Any]:
    if not encoded:
        return {}
    try:
        value = json.loads(base64.b64decode(encoded.encode("ascii"), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"engine {engine_name!r}: field SERIALIZED_METADATA is corrupted ({exc})") from exc
    if not isinstance(value, dict):
        raise RecordError(f"engine {engine_name!r}: field SERIALIZED_METADATA is not a JSON object")
    return value
