"""The extension points that let upper layers plug into the compiler and the runtime without being imported by
them: the table of engine kinds, network observers of the conversion, and the C++ loader's load callbacks."""

from __future__ import annotations

import logging

import pytest
import torch

from torch_tensorrt.dynamo import conversion
from torch_tensorrt.runtime import _cpp, _kinds
from torch_tensorrt.runtime._engine import TRTEngine
from torch_tensorrt.runtime._metadata import EngineMetadata
from torch_tensorrt.runtime._record import EngineRecord, RecordError
from torch_tensorrt.testing import _simulate
from torch_tensorrt.testing._engines import matmul_relu_module


# ------------------------------------------------------------------------------------------------ engine kinds
def test_tensorrt_is_registered_and_stays():
    assert _kinds.is_registered(_kinds.KIND_TENSORRT)
    assert _kinds.engine_kind("tensorrt") is _kinds.TENSORRT
    with pytest.raises(ValueError, match="cannot be unregistered"):
        _kinds.unregister_engine_kind("tensorrt")
    with pytest.raises(ValueError, match="already registered"):
        _kinds.register_engine_kind(_kinds.EngineKind("tensorrt", lambda d: None, lambda r: b""), replace=True)


def test_registering_a_kind():
    kind = _kinds.EngineKind("unit_test_kind", make_runtime=lambda device: None, plan=lambda record: b"")
    spec = lambda n: {"name": n, "dtype": "float32", "shape": [2]}  # noqa: E731
    meta = {"inputs": [spec("x")], "outputs": [spec("y")]}  # the bindings, as record validation requires
    assert _kinds.register_engine_kind(kind) is kind
    try:
        assert _kinds.register_engine_kind(kind) is kind  # the same object again: no-op
        with pytest.raises(ValueError, match="'unit_test_kind' is already registered"):
            _kinds.register_engine_kind(_kinds.EngineKind("unit_test_kind", kind.make_runtime, kind.plan))
        assert "unit_test_kind" in _kinds.registered_kinds()
        saved = EngineRecord("e", b"plan", ["x"], ["y"], metadata=meta, engine_kind="unit_test_kind").to_bytes()
        assert EngineRecord.from_bytes(saved).engine_kind == "unit_test_kind"  # accepted while registered
    finally:
        _kinds.unregister_engine_kind("unit_test_kind")
    with pytest.raises(RecordError, match="^engine 'e': unknown engine kind 'unit_test_kind'"):
        EngineRecord.from_bytes(saved)  # loading it where the kind is not registered
    with pytest.raises(RecordError) as err:
        EngineRecord("e", b"plan", ["x"], ["y"], metadata=meta, engine_kind="unit_test_kind")
    assert str(err.value) == "engine 'e': unknown engine kind 'unit_test_kind'"  # as the C++ runtime words it
    assert "registered engine kinds in this process: " in "".join(getattr(err.value, "__notes__", [""]))
    with pytest.raises(LookupError, match=r"engine 'e': unknown engine kind 'unit_test_kind'; registered engine kinds"):
        _kinds.engine_kind("unit_test_kind", "e")
    with pytest.raises(ValueError, match="identifier"):
        _kinds.register_engine_kind(_kinds.EngineKind("not a name", kind.make_runtime, kind.plan))


def test_the_runtime_runs_any_registered_kind_through_its_table_entry():
    """No branch on a kind's name: a record of a new kind runs through that kind's factories."""
    module, w = matmul_relu_module()
    calls = []

    def make_runtime(device):
        calls.append(("runtime", device))
        return _simulate.SIMULATED.make_runtime(device)

    def plan(record):
        calls.append(("plan", record.name))
        return _simulate.SIMULATED.plan(record)

    kind = _kinds.register_engine_kind(
        _kinds.EngineKind("echo_kind", make_runtime, plan, needs_gpu=False, device_specific=False, auto_cpp=False)
    )
    try:
        record = EngineRecord.from_bytes(module.record.to_bytes())
        record.engine_kind = "echo_kind"
        engine = TRTEngine(record)
        assert engine.kind is kind and "kind=echo_kind" in repr(engine)
        x = torch.randn(3, 4)
        (y,) = engine.execute([x])
        torch.testing.assert_close(y, torch.relu(x @ w))
        assert calls == [("runtime", torch.device("cpu")), ("plan", "matmul_relu")]
    finally:
        _kinds.unregister_engine_kind("echo_kind")


def test_a_kind_that_cannot_make_its_plan_names_the_engine():
    module, _ = matmul_relu_module()
    record = EngineRecord.from_bytes(module.record.to_bytes())
    record.metadata = dict(record.metadata, network=None)
    with pytest.raises(RuntimeError, match=r"engine 'matmul_relu' \(kind 'simulated'\): .*no recorded network"):
        TRTEngine(record).setup()


# --------------------------------------------------------------------------------------------- network observers
def _convert_relu():
    from torch_tensorrt.dynamo import convert_exported_program

    class M(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x)

    x = torch.randn(2, 3)
    return convert_exported_program(torch.export.export(M(), (x,)), [x])


def test_observers_see_each_built_network_and_fill_the_metadata():
    seen = []

    def observer(network):
        seen.append(network.num_layers)
        return {"network": {"layers": network.num_layers}}

    conversion.add_network_observer(observer)
    try:
        converted = _convert_relu()
    finally:
        conversion.remove_network_observer(observer)
    assert seen and converted.metadata.network == {"layers": seen[0]}
    assert converted.metadata.engine_kind == "tensorrt"
    assert _convert_relu().metadata.network is None  # removed: not called any more
    assert len(seen) == 1


def test_observers_may_set_only_observable_entries():
    def observer(network):
        return {"inputs": []}

    conversion.add_network_observer(observer)
    try:
        with pytest.raises(
            ValueError,
            match=r"engine 'engine': network observer .*observer' returned metadata "
            r"entry 'inputs'; observers may set only engine_kind, network",
        ):
            _convert_relu()
    finally:
        conversion.remove_network_observer(observer)
    assert EngineMetadata.OBSERVABLE == ("engine_kind", "network")


# ------------------------------------------------------------------------------------------ C++ load callbacks
@pytest.fixture
def fake_loader(monkeypatch, tmp_path):
    """The loader's state, isolated: a library file that exists, and a load that registers nothing."""
    library = tmp_path / "libtorchtrt_runtime.so"
    library.write_bytes(b"")
    monkeypatch.setenv(_cpp.ENV_VAR, str(library))
    for name, value in (("_loaded_path", None), ("_attempted", False), ("_reason", "not loaded"), ("_callbacks", [])):
        monkeypatch.setattr(_cpp, name, value)
    monkeypatch.setattr(_cpp, "_already_registered", lambda: True)  # nothing is really loaded
    from torch_tensorrt.runtime import _execute_op

    monkeypatch.setattr(_execute_op, "register_cpp_fakes", lambda: True)
    return _cpp


def test_callbacks_run_after_the_load_whatever_the_order(fake_loader):
    order = []
    fake_loader.add_load_callback(lambda: order.append("registered before the load"))
    assert order == []
    assert fake_loader.load()
    assert order == ["registered before the load"]
    fake_loader.add_load_callback(lambda: order.append("registered after the load"))
    assert order == ["registered before the load", "registered after the load"]


def test_a_failing_callback_is_logged_not_raised(fake_loader, caplog):
    def broken():
        raise OSError("no stand-in here")

    fake_loader.add_load_callback(broken)
    assert fake_loader.load()
    assert "broken" in caplog.text and "no stand-in here" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    fake_loader.remove_load_callback(broken)
    assert broken not in fake_loader._callbacks


def test_testing_registers_its_kind_and_its_cpp_callback():
    """Importing torch_tensorrt.testing is what plugs simulation in (the runtime never imports it)."""
    assert _kinds.engine_kind(_simulate.KIND_SIMULATED) is _simulate.SIMULATED
    assert _simulate._on_cpp_runtime_loaded in _cpp._callbacks
    assert not _simulate.is_active() and _simulate._observe not in conversion._observers
