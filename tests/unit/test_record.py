import base64

import pytest

from torch_tensorrt.runtime._record import ABI_VERSION, NUM_FIELDS, EngineRecord, Field, RecordError


def _record(**kw):
    base = dict(name="eng", engine=b"\x00plan\xff", input_binding_names=["x", "y"], output_binding_names=["output0"],
                metadata={"inputs": [], "k": 1}, hardware_compatible=True, device_capability="9.0")
    base.update(kw)
    return EngineRecord(**base)


def test_round_trip():
    rec = _record()
    fields = rec.to_list()
    assert len(fields) == NUM_FIELDS and fields[Field.ABI_VERSION] == ABI_VERSION
    assert base64.b64decode(fields[Field.ENGINE]) == b"\x00plan\xff"
    back = EngineRecord.from_list(fields)
    assert back == rec


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f[:5], "truncated"),
        (lambda f: [str(int(ABI_VERSION) + 1)] + f[1:], "newer"),
        (lambda f: ["x"] + f[1:], "not a number"),
        (lambda f: f[: Field.ENGINE] + ["!!notbase64"] + f[Field.ENGINE + 1 :], "ENGINE is not valid base64"),
        (lambda f: f[: Field.HW_COMPATIBLE] + ["yes"] + f[Field.HW_COMPATIBLE + 1 :], "HW_COMPATIBLE"),
        (lambda f: f[: Field.SERIALIZED_METADATA] + ["e30"] + f[Field.SERIALIZED_METADATA + 1 :], "METADATA"),
        (lambda f: f[: Field.ENGINE_KIND] + ["weird"] + f[Field.ENGINE_KIND + 1 :], "engine kind"),
    ],
)
def test_bad_records_name_engine_and_field(mutate, message):
    with pytest.raises(RecordError, match=message) as err:
        EngineRecord.from_list(mutate(_record().to_list()))
    assert "eng" in str(err.value) or "record" in str(err.value)


def test_binding_names_validated():
    with pytest.raises(RecordError, match="binding name"):
        _record(input_binding_names=["a\x1fb"])
