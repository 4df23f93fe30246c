"""Inspect a saved program before torch sees it: strict format detection, and no code from the file.

:func:`open_archive` reads the file once (torch later reads the same bytes from memory, so the file cannot change
between the check and the load), checks the zip (every member's CRC, unique relative names, one root folder, sane
compression) and detects the format from the exact layout that torch writes:

``exported_program``  a PT2 archive (``archive_format`` = ``pt2``) with ``models/<name>.json`` and nothing under
                      ``data/aotinductor/``;
``aot_inductor``      a PT2 archive with ``data/aotinductor/<model>/`` (native code);
``torchscript``       ``data.pkl`` + ``constants.pkl`` + ``code/``;
``pickle``            a ``torch.save`` archive (``data.pkl`` and its tensors only).

:func:`check_untrusted` then refuses, naming the member, everything that would run code from the file: pickled
weights/constants (``use_pickle``), opaque-object constants (``pickle.loads``), TorchBind constants of any class
but ``tensorrt.Engine``, sample inputs that ``torch.load(weights_only=True)`` cannot read (torch falls back to full
unpickling), members a PT2 archive does not have (an extra ``.so``...), non-operator node targets, ``eval``-able
expressions and ``exec``-able guards (:mod:`torch_tensorrt._program_text`), pickles in TorchScript archives that
name globals outside a fixed list, AOTInductor packages (native code) and whole-module pickles. ``trust_code=True``
in ``torch_tensorrt.load`` skips these refusals: it is documented as running code from the file. Every problem is
a :class:`~torch_tensorrt._errors.SerializationError` naming the file and the member.
"""

from __future__ import annotations

import io
import json
import pickletools
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from torch_tensorrt._errors import SerializationError
from torch_tensorrt._program_text import model_json_problem

#: Members (relative to the archive's root folder) of the PT2 layout that ``torch.export.save`` writes.
_PT2_COMMON = (
    r"archive_format",
    r"archive_version",
    r"byteorder",
    r"version",
    r"\.data/version",
    r"\.data/serialization_id",
    r"\.format_version",
    r"\.storage_alignment",
)
_EP_MEMBERS = re.compile(
    "|".join(
        _PT2_COMMON
        + (
            r"models/[^/]+\.json",
            r"data/weights/[^/]+_weights_config\.json",
            r"data/weights/weight_\d+",
            r"data/constants/[^/]+_constants_config\.json",
            r"data/constants/(?:tensor|custom_obj|opaque_obj)_\d+",
            r"data/sample_inputs/[^/]+\.pt",
            r"extra/.+",
        )
    )
)
_TS_MEMBERS = re.compile(
    r"data\.pkl|constants\.pkl|version|byteorder|\.data/serialization_id|\.data/version|\.format_version|"
    r"\.storage_alignment|code/.+|constants/\d+|data/\d+|traced_inputs\.pkl|traced_inputs/\d+|extra/.+"
)
_PICKLE_MEMBERS = re.compile(
    r"data\.pkl|byteorder|version|\.format_version|\.storage_alignment|data/\d+|\.data/serialization_id"
)
#: Globals a TorchScript pickle may name (read by torch's C++ unpickler; ``__torch__.*`` are TorchScript classes
#: defined by the archive's own ``code/``). TorchBind classes: ours only.
_TS_GLOBALS = re.compile(
    r"__torch__\.torch\.classes\.tensorrt Engine|__torch__\.(?!torch\.classes\.)[\w.]+ \w+|"
    r"torch\._utils _rebuild_tensor_v2|torch\._utils _rebuild_qtensor|torch \w+Storage|collections OrderedDict|"
    r"torch\.jit\._pickle \w+|torch\.device device|builtins (?:set|complex)"
)
#: Globals an engine constant's pickle may name (torch's C++ unpickler reads it): the class, and the uint8 tensor
#: of its framed record (ABI 3 or 4).
_ENGINE_GLOBALS = re.compile(
    r"__torch__\.torch\.classes\.tensorrt Engine|torch\.jit\._pickle \w+|torch\._utils _rebuild_tensor_v2|"
    r"torch ByteStorage|collections OrderedDict"
)
MAX_RATIO, MAX_MEMBER = 200, 1 << 34  # zip-bomb limits: inflation ratio, uncompressed member size


@dataclass
class Archive:
    """A checked zip archive held in memory."""

    path: str
    data: bytes
    format: str
    root: str
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # relative name -> entry
    _zip: Any = None

    def read(self, rel: str) -> bytes:
        try:
            return self._zip.read(self.members[rel])  # type: ignore[union-attr]
        except (
            zipfile.BadZipFile,
            zlib.error,
            NotImplementedError,
            ValueError,
            OSError,
            EOFError,
            RuntimeError,
        ) as exc:
            raise self.fail(f"member {self.root}/{rel} cannot be read ({type(exc).__name__}: {exc})") from None

    def stream(self) -> io.BytesIO:
        """The file's bytes, for torch's reader."""
        return io.BytesIO(self.data)

    def fail(self, what: str) -> "SerializationError":
        return SerializationError(f"torch_tensorrt.load: {self.path!r}: {what}")


def open_archive(path: str) -> Archive:
    """Read ``path``, check the zip structure and detect the format (see the module docstring)."""
    with open(path, "rb") as f:
        data = f.read()
    where = f"torch_tensorrt.load: {path!r}"
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # zipfile parsing untrusted bytes: BadZipFile, NotImplementedError, struct.error, ...
        if not data.startswith(b"PK"):
            raise SerializationError(f"{where} is not a PyTorch archive (not a zip file)") from None
        raise SerializationError(f"{where} is a corrupted zip archive ({exc})") from None
    names = [i.filename for i in infos]
    if not names:
        raise SerializationError(f"{where} is an empty zip archive")
    seen: set[str] = set()
    for info in infos:
        n = info.filename
        if n in seen:
            raise SerializationError(f"{where}: member {n!r} appears twice (ambiguous archive)")
        seen.add(n)
        if n.startswith("/") or "\\" in n or ".." in n.split("/") or "\x00" in n:
            raise SerializationError(f"{where}: member name {n!r} is not a plain relative path")
        if info.flag_bits & 0x1:
            raise SerializationError(f"{where}: member {n!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SerializationError(
                f"{where}: member {n!r} uses an unsupported compression method {info.compress_type}"
            )
        if info.file_size > MAX_MEMBER or (
            info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > MAX_RATIO * info.compress_size + (1 << 20)
        ):
            raise SerializationError(f"{where}: member {n!r} inflates to {info.file_size} bytes (zip bomb?)")
    try:
        bad = zf.testzip()
    except Exception as exc:  # as above, while reading every member
        raise SerializationError(f"{where} is a corrupted zip archive ({exc})") from None
    if bad is not None:
        raise SerializationError(f"{where}: member {bad!r} is corrupted (CRC-32 mismatch)")
    roots = {n.split("/", 1)[0] for n in names}
    if len(roots) != 1 or any("/" not in n for n in names):
        if "serialized_exported_program.json" in names:
            return Archive(path, data, "exported_program_legacy", "", {n: i for n, i in zip(names, infos)}, zf)
        raise SerializationError(
            f"{where} is a zip archive of no known PyTorch format (members are not under one folder)"
        )
    root = roots.pop()
    members = {n[len(root) + 1 :]: i for n, i in zip(names, infos)}
    archive = Archive(path, data, "", root, members, zf)
    archive.format = _detect(archive)
    return archive


def _detect(a: Archive) -> str:
    rel = a.members
    if "archive_format" in rel:
        if a.read("archive_format") != b"pt2":
            raise a.fail(f"member {a.root}/archive_format is not 'pt2'")
        if any(n.startswith("data/aotinductor/") for n in rel):
            return "aot_inductor"
        if any(re.fullmatch(r"models/[^/]+\.json", n) for n in rel):
            return "exported_program"
        raise a.fail("is a PT2 archive with neither an exported program (models/) nor an AOTInductor model")
    if "data.pkl" in rel and "constants.pkl" in rel and any(n.startswith("code/") for n in rel):
        return "torchscript"
    if "data.pkl" in rel and all(_PICKLE_MEMBERS.fullmatch(n) for n in rel):
        return "pickle"
    raise a.fail("is a zip archive of no known PyTorch format")


# ----------------------------------------------------------------------------------------- untrusted files
def check_untrusted(a: Archive) -> None:
    """Refuse (naming the member) anything in ``a`` that would run code from the file when torch loads it."""
    trust = (
        "; load it with torch_tensorrt.load(..., trust_code=True) only if you trust the file (that runs code from it)"
    )
    if a.format == "pickle":
        raise a.fail(
            "is a torch.save pickle of a whole module, and unpickling runs code from the file; use "
            "torch.load(path, weights_only=False) or torch_tensorrt.load(path, trust_code=True) "
            "(allow_pickle=True) if you trust the file"
        )
    if a.format == "aot_inductor":
        so = sorted(n for n in a.members if n.startswith("data/aotinductor/") and n.endswith(".so"))
        raise a.fail(
            f"is an AOTInductor package: loading it loads native code from the file "
            f"({', '.join(f'{a.root}/{n}' for n in so) or 'data/aotinductor/'})" + trust
        )
    if a.format == "exported_program_legacy":
        raise a.fail(
            "is a torch.export archive of the pre-2.8 format, whose state dict and constants torch unpickles" + trust
        )
    checks: dict[str, Callable[[Archive, str], None]] = {
        "exported_program": _check_exported_program,
        "torchscript": _check_torchscript,
    }
    checks[a.format](a, trust)


def _json(a: Archive, rel: str) -> Any:
    try:
        return json.loads(a.read(rel).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise a.fail(f"member {a.root}/{rel} is not valid JSON ({type(exc).__name__}: {exc})") from None


def _check_exported_program(a: Archive, trust: str) -> None:
    for rel in a.members:
        if not _EP_MEMBERS.fullmatch(rel):
            raise a.fail(
                f"member {a.root}/{rel} does not belong to an ExportedProgram archive (refused: torch "
                f"would load what it does not expect)" + trust
            )
    if "archive_version" not in a.members or a.read("archive_version") != b"0":
        raise a.fail(f"member {a.root}/archive_version is missing or not '0'")
    for rel in sorted(a.members):
        if re.fullmatch(r"data/(weights|constants)/[^/]+_(weights|constants)_config\.json", rel):
            _check_payload_config(a, rel, trust)
        elif rel.startswith("data/constants/opaque_obj_"):
            raise a.fail(
                f"member {a.root}/{rel} is an opaque-object constant, which torch loads with pickle.loads" + trust
            )
        elif re.fullmatch(r"models/[^/]+\.json", rel):
            problem = model_json_problem(_json(a, rel))
            if problem:
                raise a.fail(f"member {a.root}/{rel}: {problem}" + trust)
        elif rel.startswith("data/sample_inputs/"):
            _check_weights_only(a, rel, trust)


def _check_payload_config(a: Archive, rel: str, trust: str) -> None:
    config = _json(a, rel)
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise a.fail(f"member {a.root}/{rel} is not a payload config")
    folder = rel.rsplit("/", 1)[0]
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or not isinstance(meta.get("path_name"), str):
            raise a.fail(f"member {a.root}/{rel}: entry {fqn!r} is malformed")
        name = meta["path_name"]
        member = f"{folder}/{name}"
        if not re.fullmatch(r"(tensor|custom_obj|opaque_obj|weight)_\d+", name) or member not in a.members:
            raise a.fail(
                f"member {a.root}/{rel}: entry {fqn!r} points at {name!r}, which is not a member of the archive"
            )
        if name.startswith("opaque_obj_"):
            raise a.fail(
                f"constant {fqn!r} (member {a.root}/{member}) is an opaque object, which torch loads "
                "with pickle.loads" + trust
            )
        if name.startswith("custom_obj_"):
            _check_pickle_globals(a, member, _ENGINE_GLOBALS, trust, nested=True)
        elif meta.get("use_pickle") is not False:
            raise a.fail(
                f"{'weight' if 'weights' in folder else 'constant'} {fqn!r} (member {a.root}/{member}) is "
                "stored as a pickle (use_pickle), which torch loads with torch.load(weights_only=False)" + trust
            )


def _pickles_in(a: Archive, member: str, nested: bool) -> list[tuple[str, bytes]]:
    """The pickle(s) of ``member``: itself, or the ``.pkl`` members of the torch zip it holds (``nested``)."""
    raw = a.read(member)
    if not nested:
        return [(member, raw)]
    try:
        inner = zipfile.ZipFile(io.BytesIO(raw))
        pkls = [(f"{member}:{n}", inner.read(n)) for n in inner.namelist() if n.endswith(".pkl")]
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise a.fail(f"member {a.root}/{member} is not a valid torch archive ({exc})") from None
    if not pkls:
        raise a.fail(f"member {a.root}/{member} holds no pickle")
    return pkls


def pickle_globals(data: bytes) -> list[str]:
    """``"module name"`` of every global a pickle names, without unpickling (ValueError for anything unusual).
    ``STACK_GLOBAL`` is resolved from the two strings it pops (pushed directly or fetched from the memo)."""
    found: list[str] = []
    stack: list[object] = []  # only what STACK_GLOBAL needs: the recent string pushes (None: unknown value)
    memo: dict[int, object] = {}
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            found.append(str(arg))
        elif name == "STACK_GLOBAL":
            if len(stack) < 2 or not all(isinstance(x, str) for x in stack[-2:]):
                raise ValueError("STACK_GLOBAL of a name that is not a plain string")
            found.append(f"{stack[-2]} {stack[-1]}")
        elif name in ("EXT1", "EXT2", "EXT4"):
            raise ValueError(f"uses the copyreg extension registry ({name})")
        if "UNICODE" in name or name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            stack.append(arg)
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = stack[-1] if stack else None  # type: ignore[arg-type]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else None
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            stack.append(memo.get(int(arg)))  # type: ignore[arg-type]
        else:
            stack.append(None)
        del stack[:-2]
    return found


def _check_pickle_globals(
    a: Archive, member: str, allowed: "re.Pattern[str]", trust: str, nested: bool = False
) -> None:
    for label, data in _pickles_in(a, member, nested):
        try:
            names = pickle_globals(data)
        except Exception as exc:  # pickletools raises ValueError / struct errors on malformed input
            raise a.fail(f"member {a.root}/{label} is not a pickle torch reads ({exc})" + trust) from None
        for g in names:
            if not allowed.fullmatch(g):
                raise a.fail(
                    f"member {a.root}/{label} refers to {g.replace(' ', '.')!r}, which unpickling would "
                    "import and call" + trust
                )


def _check_weights_only(a: Archive, rel: str, trust: str) -> None:
    """Torch reads sample inputs with ``weights_only=True`` and falls back to full unpickling: refuse those that
    need the fallback."""
    import torch

    try:
        torch.load(io.BytesIO(a.read(rel)), weights_only=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise a.fail(
            f"member {a.root}/{rel} (sample inputs) does not load with weights_only=True, and torch "
            f"would then unpickle it ({first})" + trust
        ) from None


def _check_torchscript(a: Archive, trust: str) -> None:
    for rel in a.members:
        if not _TS_MEMBERS.fullmatch(rel):
            raise a.fail(f"member {a.root}/{rel} does not belong to a TorchScript archive" + trust)
    for rel in sorted(a.members):
        if rel.endswith(".pkl"):
            _check_pickle_globals(a, rel, _TS_GLOBALS, trust)
        elif rel.startswith("code/") and rel.endswith(".py"):
            try:
                a.read(rel).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise a.fail(
                    f"member {a.root}/{rel} (TorchScript code) is not valid UTF-8 (byte {exc.start})"
                ) from None
