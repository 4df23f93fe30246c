"""Case generators of the fuzz families: ``make(family, rnd, ctx) -> case`` (a JSON-able dict for the worker).

Every generator draws only from ``rnd`` (a ``random.Random``, or hypothesis' ``st.randoms()``), so a case is
reproducible from its seed. File cases are written into ``ctx.tmp``; hostile cases get a marker path that their
payload would create if it ever ran.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import pickle
import random
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

from torch_tensorrt.runtime import _plan_pack
from torch_tensorrt.runtime._record import LIST_SEP, Field
from torch_tensorrt.runtime._record_frame import MAGIC, RecordError, frame, unframe


@dataclass
class Context:
    """What generators need: the reference files (bytes), the reference record, a scratch folder."""

    artifacts: dict[str, bytes]
    record: list[str]
    tmp: str
    so_path: str = ""  # a shared library whose constructor writes $TORCHTRT_FUZZ_MARKER ("" when no compiler)
    counter: list[int] = field(default_factory=lambda: [0])

    def path(self, suffix: str) -> str:
        self.counter[0] += 1
        return os.path.join(self.tmp, f"case{self.counter[0]}{suffix}")

    def write(self, data: bytes, suffix: str) -> str:
        p = self.path(suffix)
        with open(p, "wb") as f:
            f.write(data)
        return p


# --------------------------------------------------------------------------------------------- byte mutators
def bitflip(data: bytes, rnd: random.Random, lo: int = 0, hi: int = -1) -> bytes:
    b = bytearray(data)
    hi = len(b) if hi < 0 else hi
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randrange(lo, hi)
        b[i] ^= 1 << rnd.randrange(8)
    return bytes(b)


def truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[: rnd.randrange(0, len(data))]


def zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def make_zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the edits
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for name, content in members:
                zf.writestr(zipfile.ZipInfo(name), content)
    return buf.getvalue()


def _mutate_json(value: Any, rnd: random.Random) -> Any:
    """``value`` with one random node replaced, deleted or retyped."""
    paths: list[tuple[Any, Any]] = []

    def walk(v: Any, parent: Any, key: Any) -> None:
        paths.append((parent, key))
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, v, k)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, v, i)

    root = {"": value}
    walk(value, root, "")
    parent, key = rnd.choice(paths)
    choice = rnd.randrange(7)
    if choice == 0 and isinstance(parent, dict) and key != "":
        del parent[key]
    elif choice == 1:
        parent[key] = rnd.choice(
            [
                None,
                True,
                0,
                -1,
                2**40,
                1.5,
                "",
                "x",
                [],
                {},
                "\u0661",
                "s0//0",
                "s0 // (s0 - s0)",
                "2147483647*2147483647*s0",
                "s0 - 5",
                "u0",
                "Max(1, s0)",
                "float32",
                "int64",
            ]
        )
    elif choice == 2 and isinstance(parent[key], str):
        parent[key] = parent[key][::-1]
    elif choice == 3 and isinstance(parent[key], int) and not isinstance(parent[key], bool):
        parent[key] = parent[key] + rnd.choice([-1, 1, 2**31])
    elif choice == 4 and isinstance(parent[key], list) and len(parent[key]) > 1:
        parent[key] = parent[key][::-1]
    elif choice == 5 and isinstance(parent[key], list):
        parent[key] = parent[key] + parent[key][:1]
    else:
        parent[key] = rnd.choice([[parent[key]], {"k": parent[key]}, str(parent[key])])
    return root[""]


# ------------------------------------------------------------------------------------------- record mutators
TRICKY = [
    "",
    "0",
    "1",
    "2",
    "-1",
    "01",
    "\u0661",
    "\u00b9",
    "9" * 23,
    "2147483648",
    "1.0",
    " 1",
    "x",
    "\x00",
    "\u00e9",
    "\ud800",
    "=",
    "====",
    "QQ==",
    "QR==",
    "Zg",
    "@@@@",
    "\x1f",
    "tensorrt",
    "simulated",
    "tensorrt_rtx",
    "9.0",
    "a" * 300,
]


def _rehash(fields: list[str]) -> list[str]:
    try:
        engine = base64.b64decode(fields[Field.ENGINE], validate=True)
        meta = base64.b64decode(fields[Field.SERIALIZED_METADATA], validate=True)
    except Exception:
        return fields
    fields[Field.SHA256] = hashlib.sha256(engine).hexdigest() + LIST_SEP + hashlib.sha256(meta).hexdigest()
    return fields


def mutate_record(base: list[str], rnd: random.Random) -> list[str]:
    fields = list(base)
    kind = rnd.randrange(9)
    f = rnd.randrange(len(Field))
    if kind == 0:  # a tricky value
        fields[f] = rnd.choice(TRICKY)
    elif kind == 1 and fields[f]:  # flip bits inside a field (may leave ASCII)
        raw = bitflip(fields[f].encode("utf-8"), rnd)
        fields[f] = raw.decode("utf-8", "surrogateescape")
    elif kind == 2:  # binding names reordered, duplicated, dropped
        g = rnd.choice([Field.INPUT_BINDING_NAMES, Field.OUTPUT_BINDING_NAMES])
        names = fields[g].split(LIST_SEP)
        op = rnd.randrange(3)
        names = names[::-1] if op == 0 else names + names[:1] if op == 1 else names[:-1]
        fields[g] = LIST_SEP.join(names)
    elif kind == 3:  # truncated or extended record
        fields = fields[: rnd.randrange(len(fields))] if rnd.random() < 0.5 else fields + [rnd.choice(TRICKY)]
    elif kind in (4, 5):  # metadata JSON edited (checksum recomputed: validation must catch it) -- not the network
        meta = json.loads(base64.b64decode(fields[Field.SERIALIZED_METADATA]))
        network = meta.pop("network", None)
        meta = _mutate_json(meta, rnd)
        if isinstance(meta, dict) and network is not None:
            meta["network"] = network
        fields[Field.SERIALIZED_METADATA] = base64.b64encode(json.dumps(meta).encode()).decode()
        fields = _rehash(fields)
    elif kind == 6:  # metadata text corrupted, checksum recomputed: the strict JSON parser must catch it (not inside
        # the recorded network: edited there with a valid checksum, it is another valid model)
        text = base64.b64decode(fields[Field.SERIALIZED_METADATA])
        start, end = text.find(b'"network": '), text.rfind(b', "outputs": ')  # layers have "outputs" too
        if rnd.random() < 0.7:
            text = (
                bitflip(text, rnd, 0, start) if start > 0 and rnd.random() < 0.5 else bitflip(text, rnd, end, len(text))
            )
        else:
            text = truncate(text, rnd)
        fields[Field.SERIALIZED_METADATA] = base64.b64encode(text).decode()
        fields = _rehash(fields)
    elif kind == 7:  # engine bytes corrupted, with or without recomputing the checksum
        engine = bitflip(base64.b64decode(fields[Field.ENGINE]), rnd)
        fields[Field.ENGINE] = base64.b64encode(engine).decode()
        if rnd.random() < 0.5:
            fields = _rehash(fields)
    else:  # the recorded network (weights, enums) corrupted without recomputing the checksum
        text = base64.b64decode(fields[Field.SERIALIZED_METADATA])
        start = max(0, text.find(b'"network"'))
        fields[Field.SERIALIZED_METADATA] = base64.b64encode(bitflip(text, rnd, start)).decode()
    return fields


# ------------------------------------------------------------------------------------------- file families
def _blob_member(members: list[tuple[str, bytes]], suffix: str) -> int:
    return next(i for i, (n, _) in enumerate(members) if n.endswith(suffix))


def _plan_digest(engine: bytes) -> str:
    """The SHA-256 a record's checksum holds for this ``ENGINE`` field: of the plan it unpacks to (ABI 4), or of
    the bytes themselves when they do not unpack (the record is refused before the checksum then)."""
    try:
        plan = _plan_pack.unpack(engine, "")[0]
    except RecordError:
        plan = engine
    return hashlib.sha256(plan).hexdigest()


def _edit_framed(content: bytes, rnd: random.Random) -> bytes:
    """A framed record (ABI 4) with bits flipped inside one field (the framing intact), the checksums recomputed
    half of the time; at its length (torch records the size)."""
    fields = [bytes(f) for f in unframe(content, [f.name for f in Field])]
    i = rnd.choice([k for k, f in enumerate(fields) if f] or [0])
    if fields[i]:
        fields[i] = bitflip(fields[i], rnd)
    if rnd.random() < 0.5 and len(fields) > Field.SHA256:
        digests = [_plan_digest(fields[Field.ENGINE]), hashlib.sha256(fields[Field.SERIALIZED_METADATA]).hexdigest()]
        fields[Field.SHA256] = LIST_SEP.join(digests).encode("ascii")
    new = bytes(frame(fields))
    return new if len(new) == len(content) else bitflip(content, rnd)


def _edit_blob(content: bytes, rnd: random.Random) -> bytes:
    """The engine blob with a record mutation, kept at its length (torch records the size): framed bytes (ABI 4)
    edited field by field; the JSON of an ABI 2 record edited as a list."""
    if content.startswith(MAGIC):
        return _edit_framed(content, rnd)
    fields = json.loads(content.decode("utf-8"))
    for _ in range(8):
        new = json.dumps(mutate_record(fields, rnd)).encode("utf-8")
        if len(new) <= len(content):
            return new + b" " * (len(content) - len(new))
    return bitflip(content, rnd)


def file_case(ctx: Context, rnd: random.Random, name: str, how: str) -> dict[str, Any]:
    data = ctx.artifacts[name]
    suffix = os.path.splitext(name)[1]
    kind = "sd" if name == "sd.pt" else "file"
    if how == "bitflip":
        data = bitflip(data, rnd)
    elif how == "truncate":
        data = truncate(data, rnd)
    else:  # member edits, CRCs recomputed
        members = zip_members(data)
        op = rnd.randrange(6)
        edit = f"op{op}"
        if op == 0 and name in ("py.ep", "py.ts"):  # the engine record inside the blob tensor
            i = _blob_member(members, "data/constants/tensor_0" if name == "py.ep" else "constants/2")
            members[i] = (members[i][0], _edit_blob(members[i][1], rnd))
        elif op == 1:  # a JSON member edited: payload configs anywhere; in models/*.json only what torch_tensorrt
            # must catch (the engine_info string, node targets, symbolic expressions) -- other graph edits make
            # another program, whose behaviour is torch's business
            js = [i for i, (n, _) in enumerate(members) if n.endswith(".json")] or [0]
            i = rnd.choice(js)
            try:
                value = json.loads(members[i][1])
                if members[i][0].endswith("models/model.json") and isinstance(value, dict):
                    _edit_program_json(value, rnd)
                else:
                    value = _mutate_json(value, rnd)
                members[i] = (members[i][0], json.dumps(value).encode())
            except ValueError:
                members[i] = (members[i][0], bitflip(members[i][1], rnd))
        elif op == 2:  # a member's bytes flipped (CRC recomputed) -- not the program's own tensors: edited with a
            # valid CRC they are another valid program (engines are what records and checksums protect)
            i = rnd.choice([i for i, (n, c) in enumerate(members) if c and not _program_tensor(n, c)])
            members[i] = (members[i][0], bitflip(members[i][1], rnd))
            edit += ":" + members[i][0]
        elif op == 3:  # a member removed
            del members[rnd.randrange(len(members))]
        elif op == 4:  # a member added or duplicated
            root = members[0][0].split("/")[0]
            extra = rnd.choice(
                [
                    f"{root}/extra.bin",
                    f"{root}/data/evil.so",
                    f"{root}/../escape",
                    "toplevel.txt",
                    members[rnd.randrange(len(members))][0],
                ]
            )
            members.append((extra, b"\x7fELF" + bytes(rnd.randrange(256) for _ in range(16))))
        else:  # a member renamed
            i = rnd.randrange(len(members))
            n = members[i][0]
            members[i] = (n[:-1] + chr(ord(n[-1]) ^ 1) if n else "x", members[i][1])
        data = make_zip(members)
    return {"kind": kind, "path": ctx.write(data, suffix), "edit": how if how != "members" else edit}


def _edit_program_json(model: dict[str, Any], rnd: random.Random) -> None:
    """One edit of a serialized ExportedProgram that must end in a clear error: the engine_info argument of the
    engine node, a node target that is no operator, or a symbolic expression that is no expression."""
    what = rnd.randrange(3)
    if what == 0:

        def edit_info(d: dict[str, Any]) -> None:
            info = json.loads(d["as_string"])
            d["as_string"] = json.dumps(_mutate_json(info, rnd))

        found = _first(
            model, "as_string", edit_info, lambda d: str(d["as_string"]).startswith('{"input_binding_names"')
        )
        if found:
            return
    if what <= 1:
        bad = rnd.choice(
            [
                "torch.load",
                "torch.ops.aten.nonexistent_op.default",
                "os.system",
                "torch.ops.load_library",
                "torch.ops.aten.__class__",
                "torch.hub.load",
                "",
            ]
        )
        _first(model, "target", lambda d: d.__setitem__("target", bad))
        return
    junk = rnd.choice(["Symbol('s0').__class__", "s0; import os", "lambda: 1", "Integer(1)[0]", '"x"', "1 if 1 else 2"])
    if not _first(model, "expr_str", lambda d: d.__setitem__("expr_str", junk)):
        _first(model, "target", lambda d: d.__setitem__("target", "torch.load"))


def _program_tensor(name: str, content: bytes) -> bool:
    """A tensor payload or the code of the program itself (weights, constants, traced inputs, TorchScript code), not
    an engine blob: edited with a valid CRC, it is another valid program."""
    if "/code/" in name and name.endswith(".py"):
        return True
    tensor = any(part in name for part in ("/constants/", "/data/", "/traced_inputs/")) and not name.endswith(".json")
    return tensor and not content.startswith(b'["')


# ------------------------------------------------------------------------------------------- hostile files
class _Exec:
    """Unpickling this runs ``code`` (what a malicious file does)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (exec, (self.code,))


def _payload(marker: str, rnd: random.Random) -> bytes:
    code = f"open({marker!r}, 'w').write('ran')"
    obj: Any = _Exec(code)
    obj = rnd.choice([obj, [obj], {"k": obj}, (1, obj)])
    return pickle.dumps(obj, protocol=rnd.choice([2, 3, 4, 5]))


def _torch_zip(pkl: bytes, root: str = "archive") -> bytes:
    return make_zip([(f"{root}/data.pkl", pkl), (f"{root}/byteorder", b"little"), (f"{root}/version", b"3\n")])


HOSTILE = (
    "use_pickle_constant",
    "use_pickle_weight",
    "sample_inputs",
    "opaque_object",
    "so_member",
    "aoti_so",
    "sympy_eval",
    "guards_exec",
    "target",
    "pickle_module",
    "ts_global",
    "custom_obj_class",
    "legacy_ep",
)


def hostile_case(ctx: Context, rnd: random.Random, variant: str = "") -> dict[str, Any]:
    """A file whose loading would run code (writing ``marker``) if torch_tensorrt.load let torch read it."""
    marker = ctx.path(".marker")
    members = zip_members(ctx.artifacts["py.ep"])
    root = members[0][0].split("/")[0]
    names = [n for n, _ in members]
    variant = variant or rnd.choice(HOSTILE)
    cfg = lambda kind: next(i for i, n in enumerate(names) if n.endswith(f"{kind}_config.json"))  # noqa: E731
    if variant in ("use_pickle_constant", "use_pickle_weight"):
        kind = "constants" if variant.endswith("constant") else "weights"
        i = cfg(kind)
        config = json.loads(members[i][1])
        entry = "tensor_9" if kind == "constants" else "weight_9"
        config["config"]["evil"] = {"path_name": entry, "is_param": False, "use_pickle": True, "tensor_meta": None}
        members[i] = (members[i][0], json.dumps(config).encode())
        members.append((f"{root}/data/{kind}/{entry}", _torch_zip(_payload(marker, rnd))))
    elif variant == "sample_inputs":
        i = next(i for i, n in enumerate(names) if "sample_inputs" in n)
        members[i] = (members[i][0], _torch_zip(_payload(marker, rnd)))
    elif variant == "opaque_object":
        i = cfg("constants")
        config = json.loads(members[i][1])
        config["config"]["evil"] = {
            "path_name": "opaque_obj_0",
            "is_param": False,
            "use_pickle": True,
            "tensor_meta": None,
        }
        members[i] = (members[i][0], json.dumps(config).encode())
        members.append((f"{root}/data/constants/opaque_obj_0", _payload(marker, rnd)))
    elif variant in ("so_member", "aoti_so"):
        lib = open(ctx.so_path, "rb").read() if ctx.so_path else b"\x7fELF-not-a-library"
        where = (
            rnd.choice(["evil.so", "data/evil.so", "extra/x.so"])
            if variant == "so_member"
            else "data/aotinductor/model/evil.so"
        )
        members.append((f"{root}/{where}", lib))
    elif variant in ("sympy_eval", "guards_exec", "target"):
        i = next(i for i, n in enumerate(names) if n.endswith("models/model.json"))
        model = json.loads(members[i][1])
        code = f"__import__('os').system('touch {marker}')"
        if variant == "guards_exec":
            model["guards_code"] = [rnd.choice([code, f"{code} or True", f"True)\n{code}\n("])]
        elif variant == "sympy_eval":
            model.setdefault("range_constraints", {})
            _first(model, "expr_str", lambda d: d.__setitem__("expr_str", code)) or model["graph_module"].setdefault(
                "graph", {}
            ).setdefault("sym_int_values", {}).update({"s9": {"as_expr": {"expr_str": code, "hint": None}}})
        else:
            _first(
                model,
                "target",
                lambda d: d.__setitem__(
                    "target",
                    rnd.choice(
                        ["torch.load", "torch.ops.load_library", "builtins.exec", "torch.hub.load", "os.system"]
                    ),
                ),
            )
        members[i] = (members[i][0], json.dumps(model).encode())
    elif variant == "pickle_module":
        return {
            "kind": "file",
            "path": ctx.write(_torch_zip(_payload(marker, rnd), "gm"), ".pt"),
            "marker": marker,
            "variant": variant,
        }
    elif variant == "ts_global":
        ts = zip_members(ctx.artifacts["py.ts"])
        # traced_inputs.pkl only where the save stored sample inputs (the fake-tensor TorchScript save does not)
        pickles = [
            i
            for i, (n, _) in enumerate(ts)
            if n.rsplit("/", 1)[-1] in ("constants.pkl", "data.pkl", "traced_inputs.pkl")
        ]
        j = rnd.choice(pickles)
        ts[j] = (ts[j][0], _payload(marker, rnd))
        return {"kind": "file", "path": ctx.write(make_zip(ts), ".ts"), "marker": marker, "variant": variant}
    elif variant == "custom_obj_class":
        i = cfg("constants")
        config = json.loads(members[i][1])
        config["config"]["evil"] = {
            "path_name": "custom_obj_0",
            "is_param": False,
            "use_pickle": True,
            "tensor_meta": None,
        }
        members[i] = (members[i][0], json.dumps(config).encode())
        pkl = (
            b"\x80\x02c__torch__.torch.classes.evil\nPayload\nq\x00)\x81."
            if rnd.random() < 0.5
            else _payload(marker, rnd)
        )
        members.append((f"{root}/data/constants/custom_obj_0", _torch_zip(pkl)))
    else:  # legacy torch.export layout: pickled state dict / constants / example inputs at the top level
        members = [
            ("serialized_exported_program.json", b"{}"),
            ("serialized_state_dict.pt", _payload(marker, rnd)),
            ("serialized_constants.pt", _payload(marker, rnd)),
            ("serialized_example_inputs.pt", _payload(marker, rnd)),
            ("version", b"8.13"),
        ]
    return {"kind": "file", "path": ctx.write(make_zip(members), ".ep"), "marker": marker, "variant": variant}


def _first(
    value: Any,
    key: str,
    edit: Callable[[dict[str, Any]], None],
    where: Callable[[dict[str, Any]], bool] = lambda d: True,
) -> bool:
    """Apply ``edit`` to the first dict (depth first) that has ``key`` (and satisfies ``where``); False when none."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if key in v and where(v):
                edit(v)
                return True
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


INPUT_LAYOUTS = [
    "plain",
    "transposed",
    "strided",
    "offset",
    "expanded",
    "neg",
    "neg_transposed",
    "conj",
    "channels_last_view",
    "zero_rows",
    "rank3",
]


def inputs_case(ctx: Context, rnd: random.Random, runtime: str) -> dict[str, Any]:
    recipes = [
        {
            "layout": rnd.choice(INPUT_LAYOUTS),
            "rows": rnd.choice([1, 2, 3, 5, 8, 8, 9]),
            "seed": rnd.randrange(1000),
            "dtype": rnd.choice(["float32"] * 8 + ["float16", "int64"]),
        }
        for _ in range(2)
    ]
    recipes[1]["rows"] = recipes[0]["rows"]
    return {"kind": "inputs", "runtime": runtime, "recipes": recipes}
