"""Where an engine runs: the device selection rule shared by everything that sets an engine up (the Python
runtime, refit), and the error the runtime raises.

The rule (the C++ runtime's ``compat.cpp`` implements the same one): the current CUDA device if the engine can run
there, else the device it was recorded on, else the first compatible GPU -- with a warning naming built-for vs
chosen when it is not the recorded one; an error listing every GPU when none is compatible. Engine kinds that do not
need a GPU run on the CPU of a machine without one.
"""

from __future__ import annotations

import logging

import torch

from torch_tensorrt.runtime._compat import sm_compatible
from torch_tensorrt.runtime._kinds import EngineKind, engine_kind
from torch_tensorrt.runtime._record import EngineRecord

#: the engine module's logger: the device warning is the runtime's, wherever it is decided
logger = logging.getLogger("torch_tensorrt.runtime._engine")


class EngineExecutionError(RuntimeError):
    """Bad inputs for an engine, or a failed setup/execution. The message names the engine (and binding)."""


def engine_kind_of(record: EngineRecord) -> EngineKind:
    try:
        return engine_kind(record.engine_kind, record.name)
    except LookupError as exc:
        raise EngineExecutionError(str(exc)) from None


def select_device(record: EngineRecord) -> torch.device:
    """The most compatible device for ``record``: the current CUDA device if compatible, else the recorded id,
    else the first compatible GPU. Engines whose kind does not need a GPU run on the CPU where there is none."""
    kind = engine_kind_of(record)
    if not torch.cuda.is_available():
        if not kind.needs_gpu:
            return torch.device("cpu")
        raise EngineExecutionError(
            f"engine {record.name!r}: TensorRT engines need a CUDA GPU and torch.cuda.is_available() is False"
        )
    count = torch.cuda.device_count()
    wanted = record.device_capability

    def compatible(i: int) -> bool:
        if not kind.device_specific or not wanted:
            return True
        return sm_compatible(wanted, record.hardware_compatible, *torch.cuda.get_device_capability(i))

    order = [torch.cuda.current_device()]
    if 0 <= record.device_id < count:
        order.append(record.device_id)
    order += list(range(count))
    for i in order:
        if compatible(i):
            if i != record.device_id and kind.device_specific and wanted:
                logger.warning(
                    "engine %s was built for device %d; running it on compatible device %d",
                    record.name,
                    record.device_id,
                    i,
                )
            return torch.device("cuda", i)
    found = ", ".join(
        f"{i}: {torch.cuda.get_device_name(i)} (SM {'.'.join(map(str, torch.cuda.get_device_capability(i)))})"
        for i in range(count)
    )
    raise EngineExecutionError(
        f"engine {record.name!r} was built for SM {wanted} ({record.device_name or 'unknown GPU'}"
        f"{', hardware-compatible' if record.hardware_compatible else ''}); no compatible GPU among: {found}"
    )
