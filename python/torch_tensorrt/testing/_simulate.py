"""``torch_tensorrt.testing.simulate()``: build engines that run without a GPU, on the simulated runtime.

The compiler and the runtime know nothing of simulation; this module plugs it in through their extension points:

* the *simulated engine kind* (:data:`KIND_SIMULATED`) is registered in the runtime's table of engine kinds
  (:mod:`torch_tensorrt.runtime._kinds`) when :mod:`torch_tensorrt.testing` is imported. Records of that kind run
  on :mod:`torch_tensorrt.testing._sim_runtime`, which evaluates the recorded network with the reference
  evaluator on the tensors it is given (CPU tensors on a machine without a GPU). A process that never imported
  ``torch_tensorrt.testing`` refuses such records with an error naming the engine and the kind; a real TensorRT
  runtime (the C++ runtime of a real build) refuses them too;
* inside ``with simulate():`` a network observer (:func:`torch_tensorrt.dynamo.conversion.add_network_observer`)
  records every network the compiler builds (:func:`record_network`) into the engine metadata
  (``metadata.network``) and names the simulated kind (``metadata.engine_kind``), and a config observer
  (:func:`~torch_tensorrt.dynamo.conversion.add_config_observer`) clears the refit flags the CPU-only builder
  cannot honour: simulated engines are refitted through :mod:`._sim_refit`, which edits the recording;
* a callback of the C++ loader (:func:`torch_tensorrt.runtime._cpp.add_load_callback`) registers the Python
  simulator with the C++ runtime's test build against the stand-in TensorRT (:mod:`._cpp_hook`), whichever of
  the library and this package is loaded first.

Nothing is recorded unless the context is entered.

Simulated engines stay in tests: they *run* (on either runtime) only while a ``simulate()`` block is open, or
after an explicit :func:`allow_simulated_engines` (a test suite's opt-in); anywhere else the runtime refuses them
with an error saying the engine was compiled under simulation and cannot run on TensorRT, and
``torch_tensorrt.save`` refuses to write them unless asked (``allow_simulated=True``).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Mapping

from torch_tensorrt.runtime import _cpp, _kinds
from torch_tensorrt.testing import _sim_refit
from torch_tensorrt.testing._recording import RecordedNetwork, record_network
from torch_tensorrt.testing._sim_runtime import Runtime, serialize_plan

__all__ = [
    "simulate",
    "is_active",
    "record_network",
    "RecordedNetwork",
    "Runtime",
    "serialize_plan",
    "KIND_SIMULATED",
    "SIMULATED",
    "allow_simulated_engines",
    "simulated_engines_allowed",
]

#: ``ENGINE_KIND`` of engines built under :func:`simulate`.
KIND_SIMULATED = "simulated"

_lock = threading.Lock()
_depth = 0
_allowed = False

#: Why a simulated engine does not run outside ``simulate()`` (the runtime prefixes the engine and kind).
REFUSAL = (
    "it was compiled under torch_tensorrt.testing.simulate(): its plan is a recording of the network for the "
    "simulator, not a TensorRT plan, and it cannot run on TensorRT. Run it inside `with "
    "torch_tensorrt.testing.simulate():` (or after torch_tensorrt.testing.allow_simulated_engines()) in tests; "
    "for deployment compile the model again without simulate()"
)


def allow_simulated_engines(enabled: bool = True) -> bool:
    """Let simulated engines run outside ``simulate()`` in this process (a test suite's explicit opt-in);
    ``False`` withdraws it. Returns the previous setting."""
    global _allowed
    previous, _allowed = _allowed, bool(enabled)
    return previous


def simulated_engines_allowed() -> bool:
    """Whether simulated engines may run now (inside ``simulate()``, or opted in)."""
    return _depth > 0 or _allowed


def _may_run() -> str:
    return "" if simulated_engines_allowed() else REFUSAL


def _simulated_runtime(device: Any) -> Runtime:
    return Runtime(None, device=device)


def _simulated_plan(record: Any) -> bytes:
    if not record.metadata.get("network"):
        raise ValueError("the engine is of the simulated kind but its metadata has no recorded network")
    return serialize_plan(record.metadata)


#: The simulated engine kind: runs on the CPU without a GPU, on any GPU when there is one; the automatic runtime
#: choice keeps it on the Python runtime (only the C++ runtime's test build can run it, when asked explicitly).
SIMULATED = _kinds.EngineKind(
    KIND_SIMULATED,
    make_runtime=_simulated_runtime,
    plan=_simulated_plan,
    needs_gpu=False,
    device_specific=False,
    auto_cpp=False,
    make_refitter=_sim_refit.make_refitter,
    store_plan=_sim_refit.store_plan,
    may_run=_may_run,
    deployable=False,
)

#: Builder flags the CPU-only TensorRT-RTX builder cannot honour; a simulated engine refits its recording instead.
_REFIT_FLAGS = ("REFIT", "REFIT_IDENTICAL", "REFIT_INDIVIDUAL", "STRIP_PLAN")


def _configure(config: Any, settings: Any) -> None:
    """The config observer active inside :func:`simulate`: build without the refit flags (the weight map and the
    settings in the metadata still say the engine is refittable or stripped, and the simulated runtime acts so)."""
    from torch_tensorrt._trt import trt

    for name in _REFIT_FLAGS:
        flag = getattr(trt.BuilderFlag, name, None)
        if flag is not None:
            config.clear_flag(flag)


def _observe(network: Any) -> Mapping[str, Any]:
    """The network observer active inside :func:`simulate`: the recording, and the kind that can run it."""
    return {"network": record_network(network), "engine_kind": KIND_SIMULATED}


def _on_cpp_runtime_loaded() -> None:
    """Test build of the C++ runtime only: let the stand-in TensorRT compute simulated engines."""
    import torch

    if torch.ops.tensorrt.runtime_flavour() != "stand-in":
        return
    from torch_tensorrt.testing import _cpp_hook

    _cpp_hook.install()


def register() -> None:
    """Register the simulated engine kind and the C++ loader callback (idempotent; done on import)."""
    _kinds.register_engine_kind(SIMULATED)
    _cpp.add_load_callback(_on_cpp_runtime_loaded)


def is_active() -> bool:
    """True while some ``with simulate():`` block is open (process-wide: compile may run on another thread)."""
    return _depth > 0


@contextlib.contextmanager
def simulate() -> Iterator[None]:
    """Record built networks so that the engines compiled inside the block run on the simulated runtime; while
    the block is open, simulated engines (compiled here or loaded) may run."""
    from torch_tensorrt.dynamo import conversion

    global _depth
    register()
    with _lock:
        _depth += 1
        if _depth == 1:
            conversion.add_network_observer(_observe)
            conversion.add_config_observer(_configure)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                conversion.remove_network_observer(_observe)
                conversion.remove_config_observer(_configure)


register()
