"""``torchtrt inspect FILE``: what a saved program or engine file holds, without running anything from it.

Handles every artifact ``torch_tensorrt.save`` writes (ExportedProgram ``.ep``/``.pt2``, TorchScript, AOTInductor
``.pt2``), ``torch.save`` files of compiled modules or their state dicts, and raw TensorRT plans (``.engine``).
It reads the zip archive's members as bytes and finds the engine records in them
(:mod:`._artifact_records`): no ``torch.load``/``torch.jit.load``, no unpickling of classes, no TensorRT
runtime, no GPU. A file that cannot be read is an :class:`InspectError` naming the file and what is wrong.

Per engine: name, kind, bindings (dtype, shape, profile min/opt/max), recorded versions, target compute
capability and device, hardware/version compatibility, refittable / weight-stripped, precision, plan size,
SHA-256 and checksum status (the record's SHA-256 of plan and metadata, verified when it is decoded), and for
TensorRT-RTX plans the generated-kernel sources they embed (:mod:`._plan_contents`: what a plan holds beyond its
weights).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from torch_tensorrt.tools._artifact_records import (
    ArtifactError,
    FoundRecord,
    find_records,
    record_settings,
    weight_map_stripped,
)
from torch_tensorrt.tools._plan_contents import kernel_sources

#: Leading bytes of serialized TensorRT plans -> the TensorRT flavour that writes them.
PLAN_MAGIC = {b"ftrt": "tensorrt", b"vtrt": "tensorrt_rtx"}
#: Archive members read for versions (suffix -> label).
_VERSION_MEMBERS = {
    "archive_format": "archive format",
    "archive_version": "archive version",
    ".data/version": "pickle data version",
}
#: Largest member read into memory (a shared library or a constant beyond this is skipped, with a note).
MAX_MEMBER_BYTES = 2 << 30


class InspectError(ValueError):
    """A file that cannot be inspected; the message names the file and what is wrong."""


@dataclass
class Binding:
    name: str
    kind: str  # "input" | "output"
    dtype: str
    shape: str
    min: Optional[str] = None
    opt: Optional[str] = None
    max: Optional[str] = None


@dataclass
class EngineInfo:
    name: str
    member: str
    kind: str
    abi: str
    torchtrt_version: str
    trt: str
    compute_capability: str
    device_name: str
    platform: str
    hardware_compatible: bool
    version_compatible: Optional[bool]
    refittable: Optional[bool]
    weights_stripped: Optional[bool]
    precision: str
    plan_bytes: int
    sha256: str
    checksum: str
    bindings: list[Binding] = field(default_factory=list)
    #: generated-kernel sources embedded in the plan (TensorRT-RTX; see :mod:`._plan_contents`) and their bytes
    kernel_sources: int = 0
    kernel_source_bytes: int = 0
    #: bytes the record stores for the plan (ABI >= 4: packed, see runtime._plan_pack; else the plan's size)
    stored_bytes: int = 0


@dataclass
class Inspection:
    path: str
    format: str
    size: int
    versions: dict[str, str] = field(default_factory=dict)
    engines: list[EngineInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _dims(value: Any) -> Optional[str]:
    if value is None:
        return None
    return "x".join(str(d) for d in value) if value else "scalar"


def _member_name(member: str) -> str:
    """An archive member without the archive's top folder (named after the file, often a temporary name)."""
    top, sep, rest = member.partition("/")
    return rest if sep and rest else member


def _engine_info(found: FoundRecord) -> EngineInfo:
    rec = found.record
    settings = record_settings(found)
    stripped = weight_map_stripped(found)
    if stripped is None and "strip_engine_weights" in settings:
        stripped = bool(settings["strip_engine_weights"])
    meta = rec.metadata or {}
    bindings = [
        Binding(
            s.get("name", "?"),
            kind,
            s.get("dtype", "?"),
            _dims(s.get("shape")) or "?",
            _dims(s.get("min")),
            _dims(s.get("opt")),
            _dims(s.get("max")),
        )
        for kind, key in (("input", "inputs"), ("output", "outputs"))
        for s in meta.get(key) or []
        if isinstance(s, dict)
    ]
    if not bindings:  # a record without metadata: the names are all there is
        bindings = [Binding(n, "input", "?", "?") for n in rec.input_binding_names]
        bindings += [Binding(n, "output", "?", "?") for n in rec.output_binding_names]
    precisions = settings.get("enabled_precisions")
    sources = kernel_sources(rec.engine)
    return EngineInfo(
        name=rec.name,
        member=_member_name(found.member),
        kind=found.kind,
        abi=rec.abi_version,
        torchtrt_version=rec.torchtrt_version or "not recorded",
        trt=f"{rec.trt_flavour} {rec.trt_version}".strip() or "not recorded",
        compute_capability=rec.device_capability or "not recorded",
        device_name=rec.device_name or "not recorded",
        platform=rec.target_platform or "not recorded",
        hardware_compatible=rec.hardware_compatible,
        version_compatible=settings.get("version_compatible"),
        refittable=None if "immutable_weights" not in settings else not settings["immutable_weights"],
        weights_stripped=stripped,
        precision=", ".join(str(p).replace("torch.", "") for p in precisions) if precisions else "not recorded",
        plan_bytes=len(rec.engine),
        sha256=found.sha256,
        checksum=found.checksum,
        bindings=bindings,
        kernel_sources=sources.count,
        kernel_source_bytes=sources.bytes,
        stored_bytes=rec.stored_engine_bytes,
    )


def _read_members(zf: zipfile.ZipFile, path: str) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    for info in zf.infolist():
        if info.is_dir() or info.file_size > MAX_MEMBER_BYTES:
            continue
        try:
            members[info.filename] = zf.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise InspectError(f"{path}: archive member {info.filename!r} cannot be read ({exc})") from exc
    return members


def _zip_format(names: list[str], path: str) -> str:
    from torch_tensorrt._serialization import FORMAT_TABLE

    for fmt in FORMAT_TABLE.values():
        if fmt.detect(names):
            return fmt.name
    raise InspectError(f"{path}: a zip archive of no known PyTorch format (members: {', '.join(names[:5])} ...)")


def _versions(members: dict[str, bytes]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for name, data in members.items():
        for suffix, label in _VERSION_MEMBERS.items():
            if name.endswith("/" + suffix) or name == suffix:
                versions[label] = data.decode("utf-8", "replace").strip()
        if name.endswith("models/model.json") or name.endswith("serialized_exported_program.json"):
            try:
                model = json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InspectError(f"{name}: the program's JSON is corrupted ({exc})") from exc
            if isinstance(model, dict) and model.get("torch_version"):
                versions["torch"] = str(model["torch_version"])
            schema = model.get("schema_version") if isinstance(model, dict) else None
            if isinstance(schema, dict):
                versions["export schema"] = f"{schema.get('major')}.{schema.get('minor')}"
    return versions


def _inspect_plan(path: str, data: bytes) -> Inspection:
    flavour = PLAN_MAGIC.get(data[:4])
    if data[:2] == b"PK":
        raise InspectError(f"{path}: a zip archive that is truncated or corrupted (its central directory is missing)")
    if flavour is None:
        head = data[:8].hex(" ") if data else "(empty file)"
        raise InspectError(
            f"{path}: neither a PyTorch zip archive nor a TensorRT plan (starts with {head}; plans start with "
            f"{' or '.join(repr(m.decode()) for m in PLAN_MAGIC)})"
        )
    result = Inspection(path, "tensorrt_plan", len(data), {"TensorRT flavour (plan magic)": flavour})
    sources = kernel_sources(data)
    result.notes.append(
        "a raw plan carries no torch_tensorrt record: binding shapes and profiles are inside the plan, which only "
        "TensorRT's runtime (with a GPU) deserializes; save with torch_tensorrt.save to keep them readable"
    )
    result.engines.append(
        EngineInfo(
            name=os.path.basename(path),
            member="(whole file)",
            kind="tensorrt",
            abi="-",
            torchtrt_version="not recorded",
            trt=flavour,
            compute_capability="not recorded",
            device_name="not recorded",
            platform="not recorded",
            hardware_compatible=False,
            version_compatible=None,
            refittable=None,
            weights_stripped=None,
            precision="not recorded",
            plan_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            checksum="not recorded",
            kernel_sources=sources.count,
            kernel_source_bytes=sources.bytes,
        )
    )
    return result


def inspect_file(path: str) -> Inspection:
    """Inspect ``path`` (see the module docstring)."""
    if not os.path.isfile(path):
        raise InspectError(f"{path}: no such file")
    size = os.path.getsize(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            return _inspect_plan(path, f.read())
    try:
        with zipfile.ZipFile(path) as zf:
            members = _read_members(zf, path)
    except zipfile.BadZipFile as exc:
        raise InspectError(f"{path}: the zip archive is corrupted ({exc})") from exc
    result = Inspection(path, _zip_format(list(members), path), size)
    try:
        result.versions = _versions(members)
        found = find_records(members)
    except (ArtifactError, InspectError) as exc:
        raise InspectError(f"{path}: {exc}") from exc
    result.engines = [_engine_info(f) for f in found]
    for rec in found:
        for label, value in (
            ("torch_tensorrt", rec.record.torchtrt_version),
            ("TensorRT", f"{rec.record.trt_flavour} {rec.record.trt_version}".strip()),
        ):
            if value:
                result.versions.setdefault(label, value)
    if not found:
        result.notes.append("no TensorRT engine in this file")
    return result


def _flag(value: Optional[bool]) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def print_inspection(result: Inspection, console: Any = None) -> None:
    """The inspection as rich tables."""
    from rich.table import Table

    from torch_tensorrt._console import console as make_console

    console = console or make_console()
    console.print(
        f"[bold]{result.path}[/bold]: {result.format}, {result.size:,} bytes, {len(result.engines)} engine(s)"
    )
    for label, value in result.versions.items():
        console.print(f"  {label}: {value}", markup=False)
    for e in result.engines:
        console.print(f"[bold]engine {e.name}[/bold] ({e.kind})")
        if e.bindings:
            table = Table()
            for col in ("binding", "kind", "dtype", "shape", "min", "opt", "max"):
                table.add_column(col)
            for b in e.bindings:
                table.add_row(b.name, b.kind, b.dtype, b.shape, b.min or "-", b.opt or "-", b.max or "-")
            console.print(table)
        facts = {
            "found in": e.member,
            "record ABI": e.abi,
            "torch_tensorrt": e.torchtrt_version,
            "TensorRT": e.trt,
            "compute capability": e.compute_capability
            + (f" ({e.device_name})" if e.device_name != "not recorded" else ""),
            "platform": e.platform,
            "hardware compatible": _flag(e.hardware_compatible),
            "version compatible": _flag(e.version_compatible),
            "refittable": _flag(e.refittable),
            "weights stripped": _flag(e.weights_stripped),
            "precision": e.precision,
            "plan": f"{e.plan_bytes:,} bytes, sha256 {e.sha256[:16]}..."
            + (
                f", stored packed in {e.stored_bytes:,} bytes"
                if e.stored_bytes and e.stored_bytes != e.plan_bytes
                else ""
            )
            + (
                f" ({e.kernel_sources} generated-kernel sources, {e.kernel_source_bytes:,} bytes)"
                if e.kernel_sources
                else ""
            ),
            "checksum": e.checksum,
        }
        for key, value in facts.items():
            console.print(f"  {key}: {value}", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", style="dim")
