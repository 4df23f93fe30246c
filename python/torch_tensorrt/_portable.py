"""Programs saved with the C++ runtime, loaded where only the Python runtime exists.

A program saved while its engines ran on the C++ runtime names the op ``tensorrt::execute_engine`` and the
TorchBind class ``tensorrt::Engine`` (each engine an object pickled by TorchScript's pickler; its state is the
engine record). Where the C++ runtime is missing, torch cannot even read such a file. :func:`for_python_runtime`
rewrites the archive, in memory, into the form the Python runtime saves -- ``tensorrt::execute_engine_python``
with the framed record as a ``uint8`` tensor (:func:`torch_tensorrt.runtime._execute_op.encode_blob`) -- which this
package always provides, so the same file runs on either runtime:

ExportedProgram (``.ep``)
    In ``models/<name>.json`` each custom-object input of class ``tensorrt.Engine`` becomes a tensor constant
    (signature, graph inputs, value table) and each ``execute_engine`` node an ``execute_engine_python`` node; the
    object's payload under ``data/constants/`` becomes a raw tensor file.
TorchScript (``.ts``)
    Each module attribute (or constant) of type ``Engine`` becomes a ``Tensor`` in ``data.pkl``/``constants.pkl``,
    and each ``ops.tensorrt.execute_engine(inputs, engine)`` in the module's code becomes
    ``ops.tensorrt.execute_engine_python(inputs, engine, "<engine info>")`` (the class's debug tables, which map
    the old code, are dropped).

Nothing from the file is executed: pickles are read with an unpickler that creates inert placeholders for every
name and writes them back as they were (:class:`_Reader`/:class:`_Writer`); only the records of ``Engine``
objects are looked at.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import json
import pickle
import re
from typing import Any, Callable, Optional, Union

import torch

ENGINE_CLASS = "__torch__.torch.classes.tensorrt.Engine"
CPP_OP = "torch.ops.tensorrt.execute_engine.default"
PY_OP = "torch.ops.tensorrt.execute_engine_python.default"
_UINT8 = 1  # torch.export's serialized ScalarType of uint8 (BYTE)
_STRIDED = 7


class PortableError(ValueError):
    """A C++-runtime program that cannot be rewritten for the Python runtime (the message says what is wrong)."""


# --------------------------------------------------------------------------------------------- inert pickles
class _Opaque:
    """A placeholder for an object a pickle builds: created by ``NEWOBJ`` (then ``BUILD``) or by ``REDUCE``."""

    _global: tuple[str, str] = ("", "")
    _args: tuple[Any, ...]
    _reduced: bool
    _state: Any
    _has_state: bool

    def __new__(cls, *args: Any) -> "_Opaque":
        obj = super().__new__(cls)
        obj._args = args
        obj._reduced = False
        obj._state = None
        obj._has_state = False
        return obj

    def __init__(self, *args: Any) -> None:  # only REDUCE calls it
        self._reduced = True

    def __setstate__(self, state: Any) -> None:
        self._state = state
        self._has_state = True

    @classmethod
    def qualname(cls) -> str:
        return f"{cls._global[0]}.{cls._global[1]}"


class _Pid:
    def __init__(self, pid: Any) -> None:
        self.pid = pid


class _Reader(pickle.Unpickler):
    """Reads a TorchScript pickle into placeholders: every global becomes an inert :class:`_Opaque` subclass."""

    def __init__(self, data: bytes, classes: dict[tuple[str, str], type]) -> None:
        super().__init__(io.BytesIO(data))
        self._classes = classes

    def find_class(self, module: str, name: str) -> type:
        key = (module, name)
        if key not in self._classes:
            self._classes[key] = type(name, (_Opaque,), {"_global": key})
        return self._classes[key]

    def persistent_load(self, pid: Any) -> _Pid:
        return _Pid(pid)


#: The Python pickler (not in the type stubs): its save_global can be replaced.
_PythonPickler: Any = pickle._Pickler  # type: ignore[attr-defined]


class _Writer(_PythonPickler):
    """Writes placeholders back with the opcodes TorchScript's unpickler reads (protocol 2)."""

    def __init__(self, buf: io.BytesIO) -> None:
        super().__init__(buf, protocol=2)

    def persistent_id(self, obj: Any) -> Any:
        return obj.pid if isinstance(obj, _Pid) else None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _Opaque):
            cls = type(obj)
            if obj._reduced:
                return (cls, obj._args) + ((obj._state,) if obj._has_state else ())
            return (copyreg.__newobj__, (cls, *obj._args)) + ((obj._state,) if obj._has_state else ())  # type: ignore[attr-defined]
        return NotImplemented

    def save_global(self, obj: Any, name: Optional[str] = None) -> None:
        key = getattr(obj, "_global", None) if isinstance(obj, type) and issubclass(obj, _Opaque) else None
        if key is None:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + f"{key[0]}\n{key[1]}\n".encode("utf-8"))
        self.memoize(obj)


def _read_pickle(data: bytes, classes: dict[tuple[str, str], type]) -> Any:
    try:
        return _Reader(data, classes).load()
    except Exception as exc:  # a damaged pickle: say so, never guess
        raise PortableError(f"cannot read the pickle ({type(exc).__name__}: {exc})") from exc


def _write_pickle(value: Any) -> bytes:
    buf = io.BytesIO()
    _Writer(buf).dump(value)
    return buf.getvalue()


_REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2"


def _is_tensor(value: Any) -> bool:
    return isinstance(value, _Opaque) and value._reduced and type(value).qualname() == _REBUILD_TENSOR


def _engine_record(obj: Any, storage: Callable[[str], bytes]) -> Union[bytes, list[str]]:
    """The record of an ``Engine`` placeholder: the framed bytes of its state tensor (ABI 3 and 4; ``storage`` gives the
    bytes of a storage key), or its ABI 2 list of strings (possibly wrapped in ``restore_type_tag``)."""
    state = obj._state
    while isinstance(state, _Opaque) and state._reduced and state._args and not _is_tensor(state):
        state = state._args[0]  # restore_type_tag(value, "List[str]")
    if isinstance(state, tuple) and state and (isinstance(state[0], list) or _is_tensor(state[0])):
        state = state[0]  # (record, class name) on some versions
    if _is_tensor(state):
        pid, offset, size = state._args[0], state._args[1], state._args[2]
        if not isinstance(pid, _Pid) or not isinstance(pid.pid, tuple) or len(pid.pid) < 3 or len(size) != 1:
            raise PortableError(f"an {ENGINE_CLASS} object holds a tensor that is not an engine record")
        return storage(str(pid.pid[2]))[offset : offset + size[0]]
    if not isinstance(state, list) or not all(isinstance(f, str) for f in state):
        raise PortableError(f"an {ENGINE_CLASS} object does not hold an engine record (state {type(state).__name__})")
    return state


def _storage_of(records: Callable[[str], Optional[bytes]], folders: tuple[str, ...]) -> Callable[[str], bytes]:
    def storage(key: str) -> bytes:
        for folder in folders:
            data = records(f"{folder}/{key}" if folder else key)
            if data is not None:
                return data
        raise PortableError(f"the storage {key!r} of an engine record is missing")

    return storage


def _is_engine(obj: Any) -> bool:
    return isinstance(obj, _Opaque) and type(obj).qualname() == ENGINE_CLASS and not obj._reduced


def record_of_pickled_engine(data: bytes) -> Union[bytes, list[str]]:
    """The engine record inside ``torch._C._pickle_save(engine)`` bytes (a small archive with ``data.pkl`` and,
    for a framed record (ABI 3, 4), the storage of its tensor)."""
    reader = torch._C.PyTorchFileReader(io.BytesIO(data))
    names = set(reader.get_all_records())
    obj = _read_pickle(reader.get_record("data.pkl"), {})
    if not _is_engine(obj):
        raise PortableError(f"the custom object is not a {ENGINE_CLASS}")
    get = lambda name: reader.get_record(name) if name in names else None  # noqa: E731
    return _engine_record(obj, _storage_of(get, (".data", "data", "")))


# ------------------------------------------------------------------------------------------- the engine info
def _blob_and_info(state: Union[bytes, list[str]]) -> tuple[bytes, str]:
    """The Python op's ``engine_blob`` bytes and ``engine_info`` string for a record (framed bytes are kept as
    they are; an ABI 2 list is framed)."""
    from torch_tensorrt.runtime import _execute_op
    from torch_tensorrt.runtime._record import EngineRecord

    record = EngineRecord.from_state(state)
    blob = bytes(state) if isinstance(state, (bytes, bytearray)) else bytes(record.to_bytes())
    key = f"{record.name}-{hashlib.sha256(blob).hexdigest()[:32]}"
    return blob, _execute_op.engine_info(record, key)


# ------------------------------------------------------------------------------------------------- archives
def _records(data: bytes) -> tuple[Any, dict[str, bytes]]:
    reader = torch._C.PyTorchFileReader(io.BytesIO(data))
    return reader, {name: reader.get_record(name) for name in reader.get_all_records()}


def _archive(records: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    writer = torch._C.PyTorchFileWriter(buf)
    for name, payload in records.items():
        writer.write_record(name, payload, len(payload))
    writer.write_end_of_file()
    return buf.getvalue()


def uses_cpp_engines(data: bytes) -> bool:
    """Whether a saved program (archive bytes) names the C++ runtime's ``tensorrt::Engine`` class."""
    try:
        _, records = _records(data)
    except Exception:
        return False
    needle = ENGINE_CLASS.encode()
    return any(needle in payload for name, payload in records.items() if name.endswith((".json", ".py")))


def for_python_runtime(data: bytes, fmt: str) -> bytes:
    """``data`` (an ``exported_program`` or ``torchscript`` archive) with every C++-runtime engine rewritten for the
    Python op (see the module docstring). A :class:`PortableError` says what could not be rewritten."""
    _, records = _records(data)
    if fmt == "exported_program":
        return _archive(_rewrite_exported_program(records))
    if fmt == "torchscript":
        return _archive(_rewrite_torchscript(records))
    raise PortableError(f"a {fmt} program cannot be rewritten for the Python runtime")


# ----------------------------------------------------------------------------------------- ExportedProgram
def _rewrite_exported_program(records: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(records)
    for model_path in [n for n in records if re.fullmatch(r"models/[^/]+\.json", n)]:
        model_name = model_path[len("models/") : -len(".json")]
        config_path = f"data/constants/{model_name}_constants_config.json"
        if ENGINE_CLASS.encode() not in records[model_path]:
            continue
        if config_path not in records:
            raise PortableError(f"{config_path} is missing (the engines' constants)")
        model = json.loads(records[model_path])
        config = json.loads(records[config_path])
        gm = model["graph_module"]
        graph, signature = gm["graph"], gm["signature"]
        used = {n for n in records if n.startswith("data/constants/tensor_")}
        next_index = max([int(n.rsplit("_", 1)[1]) for n in used] + [-1]) + 1
        infos: dict[str, str] = {}  # placeholder name -> engine info
        for spec in signature["input_specs"]:
            custom = spec.get("custom_obj")
            if not custom or custom["arg"].get("class_fqn") != ENGINE_CLASS:
                continue
            fqn, placeholder = custom["custom_obj_name"], custom["arg"]["name"]
            payload = config["config"].get(fqn)
            if payload is None:
                raise PortableError(f"engine constant {fqn!r} has no entry in {config_path}")
            obj_path = f"data/constants/{payload['path_name']}"
            if obj_path not in records:
                raise PortableError(f"engine constant {fqn!r}: {obj_path} is missing")
            blob, info = _blob_and_info(record_of_pickled_engine(records[obj_path]))
            tensor_path = f"tensor_{next_index}"
            next_index += 1
            out.pop(obj_path, None)
            out[f"data/constants/{tensor_path}"] = blob
            meta = {
                "dtype": _UINT8,
                "sizes": [{"as_int": len(blob)}],
                "requires_grad": False,
                "device": {"type": "cpu", "index": None},
                "strides": [{"as_int": 1}],
                "storage_offset": {"as_int": 0},
                "layout": _STRIDED,
            }
            config["config"][fqn] = {
                "path_name": tensor_path,
                "is_param": False,
                "use_pickle": False,
                "tensor_meta": meta,
            }
            spec.clear()
            spec["tensor_constant"] = {"arg": {"name": placeholder}, "tensor_constant_name": fqn}
            graph["custom_obj_values"].pop(placeholder, None)
            graph["tensor_values"][placeholder] = meta
            infos[placeholder] = info
        for i, arg in enumerate(graph["inputs"]):
            obj = arg.get("as_custom_obj")
            if obj and obj["name"] in infos:
                graph["inputs"][i] = {"as_tensor": {"name": obj["name"]}}
        for node in graph["nodes"]:
            if node["target"] != CPP_OP:
                continue
            args = {a["name"]: a for a in node["inputs"]}
            holder = args.get("engine", {}).get("arg", {}).get("as_custom_obj", {}).get("name")
            if holder not in infos:
                raise PortableError(f"node {node['name']!r} runs an engine that is not a lifted constant")
            node["target"] = PY_OP
            node["inputs"] = [
                args["inputs"],
                {"name": "engine_blob", "arg": {"as_tensor": {"name": holder}}, "kind": args["engine"].get("kind", 1)},
                {"name": "engine_info", "arg": {"as_string": infos[holder]}, "kind": args["engine"].get("kind", 1)},
            ]
        out[model_path] = json.dumps(model).encode("utf-8")
        out[config_path] = json.dumps(config).encode("utf-8")
    return out


# --------------------------------------------------------------------------------------------- TorchScript
_CLASS = re.compile(r"^class (\w+)\(", re.M)
_CALL = "ops.tensorrt.execute_engine("


def _tensor(key: str, size: int, classes: dict[tuple[str, str], type]) -> Any:
    """A placeholder for ``torch._utils._rebuild_tensor_v2`` of a ``uint8`` storage ``key`` of ``size`` bytes."""
    rebuild = classes.setdefault(
        ("torch._utils", "_rebuild_tensor_v2"),
        type("_rebuild_tensor_v2", (_Opaque,), {"_global": ("torch._utils", "_rebuild_tensor_v2")}),
    )
    storage = classes.setdefault(
        ("torch", "ByteStorage"), type("ByteStorage", (_Opaque,), {"_global": ("torch", "ByteStorage")})
    )
    ordered = classes.setdefault(
        ("collections", "OrderedDict"), type("OrderedDict", (_Opaque,), {"_global": ("collections", "OrderedDict")})
    )
    return rebuild(_Pid(("storage", storage, key, "cpu", size)), 0, (size,), (1,), False, ordered())


def _walk(value: Any, visit: Callable[[Any], Any], seen: set[int]) -> Any:
    """Replace, depth first, every value for which ``visit`` returns something other than None."""
    replaced = visit(value)
    if replaced is not None:
        return replaced
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [_walk(v, visit, seen) for v in value]
    elif isinstance(value, tuple):
        return tuple(_walk(v, visit, seen) for v in value)
    elif isinstance(value, dict):
        for k in list(value):
            value[k] = _walk(value[k], visit, seen)
    elif isinstance(value, _Opaque):
        value._args = tuple(_walk(v, visit, seen) for v in value._args)
        if value._has_state:
            value._state = _walk(value._state, visit, seen)
    return value


def _rewrite_torchscript(records: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(records)
    classes: dict[tuple[str, str], type] = {}
    engines: dict[str, str] = {}  # "<owner class qualname>.<attribute>" or "CONSTANTS.c<i>" -> engine info
    storages = [int(n.split("/")[-1]) for n in records if re.fullmatch(r"(data|constants)/\d+", n)]
    next_key = [max(storages + [-1]) + 1]

    def convert(engine: Any, where: str, folder: str) -> Any:
        blob, info = _blob_and_info(_engine_record(engine, _storage_of(records.get, (folder,))))
        key = str(next_key[0])
        next_key[0] += 1
        out[f"{folder}/{key}"] = blob
        engines[where] = info
        return _tensor(key, len(blob), classes)

    def attributes(obj: Any) -> None:  # module objects: their state is the dict of attributes
        if isinstance(obj, _Opaque) and obj._has_state and isinstance(obj._state, dict):
            for attr, value in list(obj._state.items()):
                if _is_engine(value):
                    obj._state[attr] = convert(value, f"{type(obj).qualname()}.{attr}", "data")
        return None

    data = _read_pickle(records["data.pkl"], classes)
    out["data.pkl"] = _write_pickle(_walk(data, attributes, set()))
    if "constants.pkl" in records:
        constants = _read_pickle(records["constants.pkl"], classes)
        if isinstance(constants, tuple) and any(_is_engine(c) for c in constants):
            constants = tuple(
                convert(c, f"CONSTANTS.c{i}", "constants") if _is_engine(c) else c for i, c in enumerate(constants)
            )
            out["constants.pkl"] = _write_pickle(constants)
    for name in [n for n in records if n.startswith("code/") and n.endswith(".py")]:
        text = records[name].decode("utf-8")
        if ENGINE_CLASS not in text and _CALL not in text:
            continue
        out.pop(name + ".debug_pkl", None)  # source ranges of the old code
        if name.endswith("/torch/classes/tensorrt.py"):  # the TorchBind class's (empty) stub
            out.pop(name)
            continue
        out[name] = _rewrite_code(text, name, engines).encode("utf-8")
    return out


def _rewrite_code(text: str, path: str, engines: dict[str, str]) -> str:
    """The code of one TorchScript file with its engine attributes typed ``Tensor`` and its engine calls on the
    Python op, each with the info of the engine its class holds."""
    module = path[len("code/") : -len(".py")].replace("/", ".")
    pieces = []
    starts = [m.start() for m in _CLASS.finditer(text)] + [len(text)]
    if starts[0] > 0:
        pieces.append(text[: starts[0]])
    for begin, end in zip(starts, starts[1:]):
        section = text[begin:end]
        class_name = _CLASS.match(section).group(1)  # type: ignore[union-attr]
        qual = f"{module}.{class_name}"
        section = re.sub(rf"(\n\s+\w+ : ){re.escape(ENGINE_CLASS)}\b", r"\1Tensor", section)
        pieces.append(_rewrite_calls(section, qual, engines))
    return "".join(pieces)


def _rewrite_calls(section: str, qual: str, engines: dict[str, str]) -> str:
    out = []
    pos = 0
    while True:
        at = section.find(_CALL, pos)
        if at < 0:
            out.append(section[pos:])
            return "".join(out)
        depth, i = 1, at + len(_CALL)
        while depth and i < len(section):
            depth += {"(": 1, ")": -1}.get(section[i], 0)
            i += 1
        args = section[at + len(_CALL) : i - 1]
        engine_arg = args.rsplit(",", 1)[-1].strip()
        if engine_arg.startswith("CONSTANTS."):
            info = engines.get(engine_arg)
        else:
            owned = [v for k, v in engines.items() if k.startswith(qual + ".")]
            info = owned[0] if len(owned) == 1 else None
        if info is None:
            raise PortableError(f"cannot tell which engine {qual} runs ({_CALL}{args})")
        out.append(section[pos:at])
        out.append(f"ops.tensorrt.execute_engine_python({args}, {json.dumps(info)})")
        pos = i
