"""The shared table of bad records (``bad_records.json``) and how a case is applied to the base record.

The same table drives ``tests/cpp/test_record.cpp`` (C++ ``EngineRecord::from_list``), ``test_bad_records.py``
(Python ``EngineRecord.from_list``, and the C++ runtime's ``check_record`` op through Torch). A case edits the
base record, in this order:

``set``        {FIELD: text}            replace fields (FIELD is a ``Field`` name)
``set_hex``    {FIELD: hex}             replace fields by raw bytes (Python: surrogate-escaped, i.e. not UTF-8)
``metadata``   text                     SERIALIZED_METADATA = base64(UTF-8 of text)
``metadata_hex`` hex                    SERIALIZED_METADATA = base64(bytes)
``rehash``     bool                     recompute SHA256 from ENGINE and SERIALIZED_METADATA (default false)
``truncate``   n                        keep the first n fields
``append``     [text, ...]              add fields

``error`` is the exact message both runtimes must give (null: the record is valid).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from torch_tensorrt.runtime._record import LIST_SEP, Field

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad_records.json")


def load_table() -> dict[str, Any]:
    with open(TABLE, encoding="utf-8") as f:
        return json.load(f)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def apply(base: list[str], case: dict[str, Any]) -> list[str]:
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
