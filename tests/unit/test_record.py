import base64
import hashlib

import pytest

from torch_tensorrt.runtime._record import ABI_VERSION, LIST_SEP, NUM_FIELDS, EngineRecord, Field, RecordError


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
    fields[f] = value
    return fields


def test_round_trip():
    rec = _record()
    fields = rec.to_list()
    assert len(fields) == NUM_FIELDS and fields[Field.ABI_VERSION] == ABI_VERSION
    assert base64.b64decode(fields[Field.ENGINE]) == b"\x00plan\xff"
    engine_sha, meta_sha = fields[Field.SHA256].split(LIST_SEP)
    assert engine_sha == hashlib.sha256(b"\x00plan\xff").hexdigest()
    assert meta_sha == hashlib.sha256(base64.b64decode(fields[Field.SERIALIZED_METADATA])).hexdigest()
    back = EngineRecord.from_list(fields)
    assert back == rec
    assert back.to_list() == fields


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f[:5], "truncated"),
        (lambda f: [str(int(ABI_VERSION) + 1)] + f[1:], "newer"),
        (lambda f: ["x"] + f[1:], "not a number"),
        (lambda f: ["\u0661"] + f[1:], "not a number"),  # an Arabic-Indic digit is not an ASCII digit
        (lambda f: _with(f, Field.ENGINE, "!!notbase64"), "ENGINE is not valid base64"),
        (lambda f: _with(f, Field.HW_COMPATIBLE, "yes"), "HW_COMPATIBLE"),
        (lambda f: _with(f, Field.SERIALIZED_METADATA, "e30"), "METADATA"),
        (lambda f: _with(f, Field.ENGINE_KIND, "weird"), "engine kind"),
        (lambda f: _with(f, Field.DEVICE_ID, "\u00b9"), "DEVICE_ID"),  # superscript one: isdigit() but no int
        (lambda f: _with(f, Field.DEVICE_ID, "1" * 23), "DEVICE_ID"),
        (lambda f: _with(f, Field.SHA256, "0" * 64 + LIST_SEP + "0" * 64), "engine bytes do not match"),
    ],
)
def test_bad_records_name_engine_and_field(mutate, message):
    with pytest.raises(RecordError, match=message) as err:
        EngineRecord.from_list(mutate(_record().to_list()))
    assert "'eng'" in str(err.value)


def test_binding_names_validated():
    with pytest.raises(RecordError, match="binding name"):
        _record(input_binding_names=["a\x1fb"])


def test_binding_names_must_match_the_metadata():
    fields = _record().to_list()
    with pytest.raises(
        RecordError, match=r"INPUT_BINDING_NAMES \['y', 'x'\] does not match the metadata's inputs \['x', 'y'\]"
    ):
        EngineRecord.from_list(_with(fields, Field.INPUT_BINDING_NAMES, "y" + LIST_SEP + "x"))
    with pytest.raises(RecordError, match="'output0', which is already a binding name"):
        EngineRecord.from_list(_with(fields, Field.OUTPUT_BINDING_NAMES, "output0" + LIST_SEP + "output0"))


def test_metadata_is_validated_when_constructed():
    with pytest.raises(RecordError, match=r"outputs\[0\].shape\[0\]: shape expression '1//0': division by zero"):
        _record(metadata={"inputs": [_spec("x"), _spec("y")], "outputs": [_spec("output0", ["1//0"])]})
    with pytest.raises(RecordError, match=r"inputs\[1\].dtype 'float64' is not one of"):
        _record(metadata={"inputs": [_spec("x"), {**_spec("y"), "dtype": "float64"}], "outputs": [_spec("output0")]})
