"""The shared table of bad records (``bad_records.json``) and how a case is applied to the base record.

The same table drives ``tests/cpp/test_record.cpp`` (C++ ``EngineRecord::from_bytes`` / ``from_list``, through
ctest), ``test_bad_records.py`` (Python ``EngineRecord.from_bytes`` / ``from_list``, and the C++ runtime's
``check_record`` / ``check_record_list`` ops through Torch). ``base`` is an ABI 3 record's fields (``ENGINE``
-- the plan raw -- written in hex), ``base_abi2`` an ABI 2 record (a list of strings, engine and metadata in
base64). The ``abi4-*`` cases set ``ABI_VERSION`` to 4 and give ``ENGINE`` as a packed plan in ``engine_hex``
(runtime/_plan_pack.py's layout, zstd frames included) with ``SHA256`` left as the base's: the digest of the
decoded plan, which is the base's plan in the valid ones.

A case with ``"abi2": true`` edits ``base_abi2`` and is read as an ABI 2 list; any other case edits ``base``, is
framed and read as bytes. The edits, in this order:

``set``        {FIELD: text}            replace fields (FIELD is a ``Field`` name; ABI 3: UTF-8 of the text)
``set_hex``    {FIELD: hex}             replace fields by raw bytes (ABI 2, Python: surrogate-escaped, i.e. not UTF-8)
``engine_hex`` hex                      ENGINE = these bytes (ABI 3)
``metadata``   text                     SERIALIZED_METADATA = UTF-8 of text (ABI 2: base64 of it)
``metadata_hex`` hex                    SERIALIZED_METADATA = bytes (ABI 2: base64 of them)
``rehash``     bool                     recompute SHA256 from ENGINE's bytes (an ABI 3 plan) and SERIALIZED_METADATA
``truncate``   n                        keep the first n fields
``append``     [text, ...]              add fields
``frame_count`` n                       (ABI 3) the framed field count is n, whatever the fields are
``frame_cut``  n                        (ABI 3) drop the last n bytes of the framed record
``frame_extra_hex`` hex                 (ABI 3) append bytes after the last field
``magic_hex``  hex                      (ABI 3) the first 8 bytes (the magic) become these

``error`` is the exact message both runtimes must give (null: the record is valid).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from typing import Any, Union

from torch_tensorrt.runtime._record import LIST_SEP, Field
from torch_tensorrt.runtime._record_frame import frame

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_records.json")


def load_table() -> dict[str, Any]:
    with open(TABLE, encoding="utf-8") as f:
        return json.load(f)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def base_fields(base: list[str]) -> list[bytes]:
    """The ABI 3 base record's fields as bytes (its ``ENGINE`` is written in hex in the table)."""
    fields = [f.encode("utf-8") for f in base]
    fields[Field.ENGINE] = bytes.fromhex(base[Field.ENGINE])
    return fields


def apply_abi2(base: list[str], case: dict[str, Any]) -> list[str]:
    fields = list(base)
    for name, value in case.get("set", {}).items():
        fields[Field[name]] = value
    for name, value in case.get("set_hex", {}).items():
        fields[Field[name]] = bytes.fromhex(value).decode("utf-8", "surrogateescape")
    if "metadata" in case:
        fields[Field.SERIALIZED_METADATA] = _b64(case["metadata"].encode("utf-8"))
    if "metadata_hex" in case:
        fields[Field.SERIALIZED_METADATA] = _b64(bytes.fromhex(case["metadata_hex"]))
    if case.get("rehash"):
        engine = base64.b64decode(fields[Field.ENGINE])
        meta = base64.b64decode(fields[Field.SERIALIZED_METADATA])
        fields[Field.SHA256] = hashlib.sha256(engine).hexdigest() + LIST_SEP + hashlib.sha256(meta).hexdigest()
    if "truncate" in case:
        fields = fields[: case["truncate"]]
    fields += case.get("append", [])
    return fields


def apply_abi3(base: list[str], case: dict[str, Any]) -> bytes:
    fields = base_fields(base)
    for name, value in case.get("set", {}).items():
        fields[Field[name]] = value.encode("utf-8")
    for name, value in case.get("set_hex", {}).items():
        fields[Field[name]] = bytes.fromhex(value)
    if "engine_hex" in case:
        fields[Field.ENGINE] = bytes.fromhex(case["engine_hex"])
    if "metadata" in case:
        fields[Field.SERIALIZED_METADATA] = case["metadata"].encode("utf-8")
    if "metadata_hex" in case:
        fields[Field.SERIALIZED_METADATA] = bytes.fromhex(case["metadata_hex"])
    if case.get("rehash"):
        digests = [hashlib.sha256(fields[f]).hexdigest() for f in (Field.ENGINE, Field.SERIALIZED_METADATA)]
        fields[Field.SHA256] = LIST_SEP.join(digests).encode("ascii")
    if "truncate" in case:
        fields = fields[: case["truncate"]]
    fields += [v.encode("utf-8") for v in case.get("append", [])]
    data = frame(fields)
    if "frame_count" in case:
        struct.pack_into("<I", data, 8, case["frame_count"])
    if "frame_cut" in case:
        del data[len(data) - case["frame_cut"] :]
    data += bytes.fromhex(case.get("frame_extra_hex", ""))
    if "magic_hex" in case:
        data[:8] = bytes.fromhex(case["magic_hex"])
    return bytes(data)


def abi2_list(record: Any) -> list[str]:
    """``record`` (an ``EngineRecord``) written as an ABI 2 record, as torch_tensorrt saved them before ABI 3: a
    list of strings, the plan and the metadata JSON in base64."""
    fields = [bytes(f).decode("utf-8") if i != Field.ENGINE else "" for i, f in enumerate(record.to_fields())]
    fields[Field.ABI_VERSION] = "2"
    fields[Field.ENGINE] = _b64(bytes(record.engine))
    fields[Field.SERIALIZED_METADATA] = _b64(fields[Field.SERIALIZED_METADATA].encode("utf-8"))
    return fields


def apply(table: dict[str, Any], case: dict[str, Any]) -> Union[bytes, list[str]]:
    """The record of ``case``: framed bytes (ABI 3) or a list of strings (``"abi2"`` cases)."""
    if case.get("abi2"):
        return apply_abi2(table["base_abi2"], case)
    return apply_abi3(table["base"], case)
