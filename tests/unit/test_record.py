import base64
import hashlib

import pytest

from torch_tensorrt.runtime import _plan_pack
from torch_tensorrt.runtime._record import ABI_VERSION, LIST_SEP, NUM_FIELDS, EngineRecord, Field, RecordError
from torch_tensorrt.runtime._record_frame import MAGIC, frame


def _spec(name, shape=(2, 3)):
    return {"name": name, "dtype": "float32", "shape": list(shape), "min": None, "opt": None, "max": None}


def _record(**kw):
    base = dict(
        name="eng",
        engine=b"\x00plan\xff",
        input_binding_names=["x", "y"],
        output_binding_names=["output0"],
        metadata={"inputs": [_spec("x"), _spec("y")], "outputs": [_spec("output0")], "settings": {"k": 1}},
        hardware_compatible=True,
        device_capability="9.0",
    )
    base.update(kw)
    return EngineRecord(**base)


def _with(fields, f, value):
    fields = list(fields)
    fields[f] = value.encode("utf-8") if isinstance(value, str) else value
    return fields


def _abi2(rec):
    """``rec`` as an ABI 2 record (what files saved before ABI 3 hold): a list of strings, base64 inside."""
    fields = [bytes(f).decode("utf-8") if i != Field.ENGINE else "" for i, f in enumerate(rec.to_fields())]
    fields[Field.ABI_VERSION] = "2"
    fields[Field.ENGINE] = base64.b64encode(rec.engine).decode("ascii")
    fields[Field.SERIALIZED_METADATA] = base64.b64encode(fields[Field.SERIALIZED_METADATA].encode()).decode("ascii")
    return fields


def test_round_trip():
    rec = _record()
    fields = rec.to_fields()
    assert len(fields) == NUM_FIELDS and fields[Field.ABI_VERSION] == ABI_VERSION.encode()
    assert b"".join(fields[Field.ENGINE]) == b"".join(_plan_pack.pieces(b"\x00plan\xff", _plan_pack.stored(6)))
    engine_sha, meta_sha = bytes(fields[Field.SHA256]).decode().split(LIST_SEP)
    assert engine_sha == hashlib.sha256(b"\x00plan\xff").hexdigest()
    assert meta_sha == hashlib.sha256(fields[Field.SERIALIZED_METADATA]).hexdigest()
    data = rec.to_bytes()
    assert data.startswith(MAGIC) and b"\x00plan\xff" in data  # the plan verbatim, never base64
    assert b'{"inputs": ' in data  # the metadata is JSON text, not base64
    back = EngineRecord.from_bytes(data)
    assert back == rec
    assert back.to_bytes() == data
    assert EngineRecord.from_tensor(rec.to_tensor()) == rec
    header = rec.to_header()
    assert header[Field.ENGINE] == "6" and EngineRecord.from_header(header).name == "eng"


def test_abi2_records_are_read_and_written_back_as_abi3():
    rec = _record()
    back = EngineRecord.from_list(_abi2(rec))
    assert back.engine == rec.engine and back.metadata == rec.metadata and back.abi_version == "2"
    assert back.to_bytes() == rec.to_bytes()
    assert EngineRecord.from_state(_abi2(rec)) == back
    with pytest.raises(RecordError, match="ENGINE is not valid base64"):
        EngineRecord.from_list([*_abi2(rec)[: Field.ENGINE], "!!notbase64", *_abi2(rec)[Field.ENGINE + 1 :]])
    with pytest.raises(RecordError, match="record ABI 2 is a list of strings, not framed bytes"):
        EngineRecord.from_bytes(frame(_with(rec.to_fields(), Field.ABI_VERSION, "2")))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f[:5], "truncated"),
        (lambda f: _with(f, Field.ABI_VERSION, str(int(ABI_VERSION) + 1)), "newer"),
        (lambda f: _with(f, Field.ABI_VERSION, "x"), "not a number"),
        (lambda f: _with(f, Field.ABI_VERSION, "\u0661"), "not a number"),  # an Arabic-Indic digit is not ASCII
        (lambda f: _with(f, Field.ENGINE, b""), "ENGINE is empty"),
        (lambda f: _with(f, Field.HW_COMPATIBLE, "yes"), "HW_COMPATIBLE"),
        (lambda f: _with(f, Field.SERIALIZED_METADATA, "e30"), "the metadata does not match its checksum"),
        (lambda f: _with(f, Field.SERIALIZED_METADATA, b"{\xff}"), "METADATA is not valid UTF-8"),
        (lambda f: _with(f, Field.ENGINE_KIND, "weird"), "engine kind"),
        (lambda f: _with(f, Field.DEVICE_ID, "\u00b9"), "DEVICE_ID"),  # superscript one: isdigit() but no int
        (lambda f: _with(f, Field.DEVICE_ID, "1" * 23), "DEVICE_ID"),
        (lambda f: _with(f, Field.SHA256, "0" * 64 + LIST_SEP + "0" * 64), "engine bytes do not match"),
    ],
)
def test_bad_records_name_engine_and_field(mutate, message):
    with pytest.raises(RecordError, match=message) as err:
        EngineRecord.from_bytes(frame(mutate(_record().to_fields())))
    assert "'eng'" in str(err.value)


def test_binding_names_validated():
    with pytest.raises(RecordError, match="binding name"):
        _record(input_binding_names=["a\x1fb"])


def test_binding_names_must_match_the_metadata():
    fields = _record().to_fields()
    with pytest.raises(
        RecordError, match=r"INPUT_BINDING_NAMES \['y', 'x'\] does not match the metadata's inputs \['x', 'y'\]"
    ):
        EngineRecord.from_bytes(frame(_with(fields, Field.INPUT_BINDING_NAMES, "y" + LIST_SEP + "x")))
    with pytest.raises(RecordError, match="'output0', which is already a binding name"):
        EngineRecord.from_bytes(frame(_with(fields, Field.OUTPUT_BINDING_NAMES, "output0" + LIST_SEP + "output0")))


def test_metadata_is_validated_when_constructed():
    with pytest.raises(RecordError, match=r"outputs\[0\].shape\[0\]: shape expression '1//0': division by zero"):
        _record(metadata={"inputs": [_spec("x"), _spec("y")], "outputs": [_spec("output0", ["1//0"])]})
    with pytest.raises(RecordError, match=r"inputs\[1\].dtype 'float64' is not one of"):
        _record(metadata={"inputs": [_spec("x"), {**_spec("y"), "dtype": "float64"}], "outputs": [_spec("output0")]})
