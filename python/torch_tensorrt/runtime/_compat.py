"""Versioning: what an engine was built with and for, checked against this process when it is loaded.

Recorded with every engine (by :class:`~torch_tensorrt.runtime.TorchTensorRTModule` when it makes the record):
the record's ``TORCHTRT_VERSION``, ``TRT_FLAVOUR``, ``TRT_VERSION``, ``TARGET_PLATFORM``, ``DEVICE_CAPABILITY``
(the GPU a full-TensorRT engine was built on; ``""`` for TensorRT-RTX engines, which are compiled for the GPU they
meet) and ``HW_COMPATIBLE`` fields, plus the metadata's ``torch_version`` and ``settings.version_compatible``.

Checked (:func:`check_records`) wherever a saved engine comes back -- ``torch_tensorrt.load`` (once per artifact),
``torch.load`` of a pickled module and ``load_state_dict`` (once per engine):

* **errors** (:class:`EngineCompatibilityError`), the engine cannot run here: another TensorRT flavour, another
  platform, another TensorRT version (allowed when the engine is version-compatible and this TensorRT is the same
  major version and not older), or no GPU of a compatible compute capability among this machine's GPUs (allowed
  for hardware-compatible engines on any SM >= 8.0; checked only where GPUs are visible);
* **a warning** naming each engine, what it was built with and what is here, when versions differ without
  preventing the engine from running (torch_tensorrt, torch, a version-compatible TensorRT).

TensorRT and the GPUs are only asked when a record needs them (an engine kind whose plan is not tied to TensorRT
-- ``EngineKind.device_specific`` False -- gets the version warnings only), and a process without TensorRT skips
the TensorRT checks. So does an engine placed on the C++ runtime: the TensorRT that runs it is the C++ runtime's
library, whose flavour and version the C++ runtime checks itself when it installs the record
(``runtime_cpp/src/compat.cpp``, the same rules and messages).
"""

from __future__ import annotations

import logging
import platform
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import torch

from torch_tensorrt.runtime._kinds import engine_kind

logger = logging.getLogger(__name__)


class EngineCompatibilityError(RuntimeError):
    """An engine that cannot run in this process (other TensorRT flavour or version, platform, GPU)."""


def this_platform() -> str:
    """The ``TARGET_PLATFORM`` of engines built in this process, e.g. ``linux_x86_64``."""
    return f"{sys.platform}_{platform.machine().lower()}"


def _trt_here(runtime: str = "python") -> Optional[tuple[str, str]]:
    if runtime == "cpp":
        return None  # the C++ runtime compares the record with its own library when it installs it
    try:
        from torch_tensorrt import _trt

        info = _trt.info()
        return info.flavour, info.version
    except ImportError:
        return None


def build_capability(flavour: str, gpu_id: int) -> str:
    """The ``DEVICE_CAPABILITY`` to record for an engine built now: the build GPU's SM for full TensorRT (its plans
    are tied to it); ``""`` for TensorRT-RTX (compiled for each GPU at load) or where no GPU is visible."""
    if flavour != "tensorrt" or not torch.cuda.is_available():
        return ""
    major, minor = torch.cuda.get_device_capability(gpu_id)
    return f"{major}.{minor}"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def sm_compatible(capability: str, hardware_compatible: bool, major: int, minor: int) -> bool:
    """Whether an engine built for SM ``capability`` runs on a GPU of SM ``major.minor``."""
    if not capability:
        return True
    if hardware_compatible:  # Ampere-plus engines run on any SM >= 8.0
        return major >= 8
    return f"{major}.{minor}" == capability


@dataclass(frozen=True)
class Findings:
    """What :func:`examine` found about one record: reasons it cannot run here, and version differences."""

    engine: str
    errors: tuple[str, ...]
    built: tuple[str, ...]
    here: tuple[str, ...]


def _flavour_label(flavour: str) -> str:
    return {"tensorrt": "TensorRT", "tensorrt_rtx": "TensorRT-RTX"}.get(flavour, flavour or "TensorRT")


def examine(record: Any, runtime: str = "python") -> Findings:
    """Compare ``record`` with this process, where ``runtime`` ("python" or "cpp") will run it (see the module
    docstring)."""
    from torch_tensorrt._version import __version__

    errors: list[str] = []
    built: list[str] = []
    here: list[str] = []
    if record.torchtrt_version and record.torchtrt_version != __version__:
        built.append(f"torch_tensorrt {record.torchtrt_version}")
        here.append(f"torch_tensorrt {__version__}")
    torch_version = str((record.metadata or {}).get("torch_version") or "")
    if torch_version and torch_version != torch.__version__:
        built.append(f"torch {torch_version}")
        here.append(f"torch {torch.__version__}")
    if not engine_kind(record.engine_kind, record.name).device_specific:
        return Findings(record.name, (), tuple(built), tuple(here))
    settings = (record.metadata or {}).get("settings") or {}
    version_compatible = bool(settings.get("version_compatible", False))
    if record.target_platform and record.target_platform != this_platform():
        errors.append(f"it was built for platform {record.target_platform}, this is {this_platform()}")
    trt = _trt_here(runtime) if record.trt_flavour else None
    if trt is not None:
        flavour, version = trt
        if record.trt_flavour != flavour:
            errors.append(
                f"it was built with {_flavour_label(record.trt_flavour)} {record.trt_version}, this process uses "
                f"{_flavour_label(flavour)} {version} (plans of one flavour never load in the other)"
            )
        elif record.trt_version and record.trt_version != version:
            saved, ours = _version_tuple(record.trt_version), _version_tuple(version)
            if version_compatible and saved[:1] == ours[:1] and ours >= saved:
                built.append(f"{_flavour_label(flavour)} {record.trt_version} (version-compatible)")
                here.append(f"{_flavour_label(flavour)} {version}")
            else:
                why = (
                    "an older one"
                    if version_compatible and ours < saved
                    else ("another major version" if version_compatible else "and is not version-compatible")
                )
                errors.append(
                    f"it was built with {_flavour_label(flavour)} {record.trt_version}, this process uses {version} "
                    f"({why}; rebuild it here{'' if version_compatible else ' or build it with version_compatible=True'})"
                )
    if record.device_capability and torch.cuda.is_available():
        gpus = [(i, torch.cuda.get_device_capability(i)) for i in range(torch.cuda.device_count())]
        if not any(sm_compatible(record.device_capability, record.hardware_compatible, *cap) for _, cap in gpus):
            found = ", ".join(f"{i}: SM {a}.{b}" for i, (a, b) in gpus)
            hw = " (hardware-compatible: SM >= 8.0)" if record.hardware_compatible else ""
            errors.append(f"it was built for SM {record.device_capability}{hw}; no GPU here is compatible ({found})")
    return Findings(record.name, tuple(errors), tuple(built), tuple(here))


def check_records(records: Iterable[Any], where: str, runtime: str = "python") -> list[Findings]:
    """Examine ``records`` (of one artifact, ``where`` names it; ``runtime`` will run them): raise
    :class:`EngineCompatibilityError` for the first engine that cannot run here, else log one warning listing every
    engine built with other versions."""
    findings = [examine(r, runtime) for r in records]
    for f in findings:
        if f.errors:
            raise EngineCompatibilityError(f"{where}: engine {f.engine!r} cannot run here: {'; '.join(f.errors)}")
    differing = [f for f in findings if f.built]
    if differing:
        lines = "; ".join(
            f"engine {f.engine!r} was built with {', '.join(f.built)} (here: {', '.join(f.here)})" for f in differing
        )
        logger.warning("%s: %s", where, lines)
    return findings
