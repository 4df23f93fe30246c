"""Checks of untrusted record text, shared word for word with ``runtime_cpp/src/record_check.cpp``.

Three checkers, each returning the first problem as a message (or raising :class:`CheckError`), with rules and
messages that the C++ runtime reproduces exactly (``tests/reliability/bad_records.json`` drives both sides):

* :func:`quoted` -- how record messages quote text (Python's ``repr`` for ASCII; other characters as they are);
* :func:`scan_json` -- strict RFC 8259 JSON over UTF-8 bytes: no NaN/Infinity, no lone surrogate escapes, no
  duplicate keys, at most :data:`MAX_JSON_DEPTH` nested containers. Errors name the byte offset;
* :func:`shape_expr_problem` -- the grammar of shape expressions (a strict subset of Python expression syntax,
  so that :mod:`torch_tensorrt.dynamo.runtime._shape_expr` can evaluate what it accepts)::

      expr    := product (('+' | '-') product)*
      product := unary (('*' | '//' | '%') unary)*
      unary   := ('+' | '-') unary | atom
      atom    := INT | NAME | NAME '(' args ')' | DIVFN '(' product '/' unary ')' | '(' expr ')'

  ``INT``: ASCII digits, no leading zero, at most 2**31-1; ``NAME``: ASCII identifier, not a Python keyword;
  functions ``max``/``Max``/``min``/``Min`` (one or more arguments), ``FloorDiv``/``Mod``/``CeilDiv`` (two);
  ``DIVFN``: ``floor``/``ceiling``/``ceil``. A literal zero divisor is refused; spaces are the only blanks;
* :func:`check_metadata` -- the schema of the record's ``SERIALIZED_METADATA`` (see ``runtime/_metadata.py``).

Why a checker of our own and not ``json.loads``/``ast.parse``: the C++ runtime must accept exactly the same
records, and Python's parsers accept more (NaN, lone surrogates, duplicate keys, any identifier, trailing commas).
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

MAX_JSON_DEPTH = 64
MAX_RANK = 8
MAX_DIM = 2**31 - 1
MAX_EXPR_LENGTH = 256
MAX_EXPR_DEPTH = 32
#: The dtype names an engine binding may have (torch names, as ``runtime/_metadata.dtype_name`` writes them).
DTYPES = ("float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool", "float8_e4m3fn")
SPEC_KEYS = ("name", "dtype", "shape", "min", "opt", "max")
METADATA_KEYS = ("inputs", "outputs", "symbols", "settings", "network", "weight_map", "torch_version", "profiles")
#: Most optimization profiles an engine's metadata may list.
MAX_PROFILES = 64
FUNCTIONS = {"max": 0, "Max": 0, "min": 0, "Min": 0, "FloorDiv": 2, "Mod": 2, "CeilDiv": 2}  # 0: one or more
DIV_FUNCTIONS = ("floor", "ceiling", "ceil")
KEYWORDS = frozenset(
    "False None True and as assert async await break class continue def del elif else except finally for from "
    "global if import in is lambda nonlocal not or pass raise return try while with yield".split()
)


class CheckError(ValueError):
    """A problem found by a checker; the message is the shared text (without the engine prefix)."""


# ---------------------------------------------------------------------------------------------------- quoting
def quoted(text: str) -> str:
    """``'text'`` as Python's ``repr`` quotes an ASCII string; non-ASCII characters are kept as they are (C++
    cannot know Unicode's printable classes, so both sides escape only ASCII control characters)."""
    q = '"' if "'" in text and '"' not in text else "'"
    out = [q]
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == q:
            out.append("\\" + q)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append(q)
    return "".join(out)


def quoted_list(items: list[str]) -> str:
    return "[" + ", ".join(quoted(i) for i in items) + "]"


def has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or c == "\x7f" for c in text)


def utf8_error(data: bytes) -> Optional[int]:
    """Offset of the first byte of the first invalid UTF-8 sequence (None when ``data`` is valid UTF-8)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


# ------------------------------------------------------------------------------------------------------- JSON
_WS = re.compile(rb"[ \t\n\r]*")
_PLAIN = re.compile(rb'[^"\\\x00-\x1f]*')
_INT = re.compile(rb"-?(?:0|[1-9][0-9]*)")
_FRAC = re.compile(rb"\.[0-9]+")
_EXP = re.compile(rb"[eE][+-]?[0-9]+")
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")


class _Scanner:
    """Recursive-descent validator over bytes (the same algorithm as the C++ parser, step for step)."""

    def __init__(self, data: bytes) -> None:
        self.d = data
        self.n = len(data)

    def fail(self, reason: str, pos: int) -> None:
        raise CheckError(f"{reason} at byte {pos}")

    def ws(self, i: int) -> int:
        return _WS.match(self.d, i).end()  # type: ignore[union-attr]

    def value(self, i: int, depth: int) -> int:
        i = self.ws(i)
        if i >= self.n:
            self.fail("unexpected end of data", i)
        c = self.d[i]
        if c == 0x7B or c == 0x5B:  # { [
            if depth >= MAX_JSON_DEPTH:
                self.fail(f"nesting deeper than {MAX_JSON_DEPTH}", i)
            return self.obj(i, depth + 1) if c == 0x7B else self.arr(i, depth + 1)
        if c == 0x22:
            return self.string(i)[0]
        if c == 0x2D or 0x30 <= c <= 0x39:
            return self.number(i)
        for lit in (b"true", b"false", b"null"):
            if c == lit[0]:
                if self.d.startswith(lit, i):
                    return i + len(lit)
                self.fail("invalid literal", i)
        self.fail("unexpected character", i)
        return i  # unreachable

    def number(self, i: int) -> int:
        m = _INT.match(self.d, i)
        if m is None:
            self.fail("invalid number", i)
        j = m.end()  # type: ignore[union-attr]
        if j < self.n and self.d[j] == 0x2E:
            f = _FRAC.match(self.d, j)
            if f is None:
                self.fail("invalid number", i)
            j = f.end()  # type: ignore[union-attr]
        if j < self.n and self.d[j] in (0x65, 0x45):
            e = _EXP.match(self.d, j)
            if e is None:
                self.fail("invalid number", i)
            j = e.end()  # type: ignore[union-attr]
        return j

    def string(self, start: int) -> tuple[int, bytes]:
        """End offset of the string token at ``start`` and its raw bytes (quotes included)."""
        i = start + 1
        while True:
            i = _PLAIN.match(self.d, i).end()  # type: ignore[union-attr]
            if i >= self.n:
                self.fail("unterminated string", start)
            c = self.d[i]
            if c == 0x22:
                return i + 1, self.d[start : i + 1]
            if c < 0x20:
                self.fail("control character in string", i)
            # a backslash
            if i + 1 >= self.n:
                self.fail("unterminated string", start)
            e = self.d[i + 1]
            if e in b'"\\/bfnrt':
                i += 2
                continue
            if e != 0x75 or _HEX4.match(self.d, i + 2) is None:  # \u + 4 hex digits
                self.fail("invalid escape", i)
            cp = int(self.d[i + 2 : i + 6], 16)
            if 0xDC00 <= cp <= 0xDFFF:
                self.fail("lone surrogate", i)
            if 0xD800 <= cp <= 0xDBFF:
                low = self.d[i + 6 : i + 8] == b"\\u" and _HEX4.match(self.d, i + 8) is not None
                if not low or not 0xDC00 <= int(self.d[i + 8 : i + 12], 16) <= 0xDFFF:
                    self.fail("lone surrogate", i)
                i += 12
            else:
                i += 6

    def obj(self, i: int, depth: int) -> int:
        i = self.ws(i + 1)
        if i < self.n and self.d[i] == 0x7D:
            return i + 1
        keys: set[str] = set()
        while True:
            if i >= self.n:
                self.fail("unexpected end of data", i)
            if self.d[i] != 0x22:
                self.fail("expected a string key", i)
            end, raw = self.string(i)
            key = json.loads(raw)
            if key in keys:
                self.fail(f"duplicate key {quoted(key)}", i)
            keys.add(key)
            i = self.ws(end)
            if i >= self.n:
                self.fail("unexpected end of data", i)
            if self.d[i] != 0x3A:
                self.fail("expected ':'", i)
            i = self.ws(self.value(i + 1, depth))
            if i >= self.n:
                self.fail("unexpected end of data", i)
            if self.d[i] == 0x7D:
                return i + 1
            if self.d[i] != 0x2C:
                self.fail("expected ',' or '}'", i)
            i = self.ws(i + 1)

    def arr(self, i: int, depth: int) -> int:
        i = self.ws(i + 1)
        if i < self.n and self.d[i] == 0x5D:
            return i + 1
        while True:
            i = self.ws(self.value(i, depth))
            if i >= self.n:
                self.fail("unexpected end of data", i)
            if self.d[i] == 0x5D:
                return i + 1
            if self.d[i] != 0x2C:
                self.fail("expected ',' or ']'", i)
            i += 1


def scan_json(data: bytes) -> Any:
    """Validate ``data`` (UTF-8 already checked) as strict JSON and return its value."""
    s = _Scanner(data)
    end = s.ws(s.value(0, 0))
    if end != len(data):
        s.fail("trailing data", end)
    return json.loads(data.decode("utf-8"))


# ------------------------------------------------------------------------------------------ shape expressions
_TOKEN = re.compile(r" *(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*/%(),]))")


class _Expr:
    """Recursive-descent check of one shape expression (mirrors ``ShapeExprParser`` in C++)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[tuple[str, str, int]] = []  # (kind, text, byte offset); kind: int | name | op | end
        i, n = 0, len(text)
        while True:
            m = _TOKEN.match(text, i)
            if m is None or m.end() == i:
                rest = text[i:].lstrip(" ")
                if not rest:
                    break
                pos = len(text) - len(rest)
                self.fail(f"unexpected character {quoted(rest[0])} at position {self.byte(pos)}")
            assert m is not None  # self.fail raised otherwise
            i = m.end()
            kind = "int" if m.group(1) else "name" if m.group(2) else "op"
            group = m.lastindex or 0
            tok = m.group(group)
            pos = m.start(group)
            if kind == "int" and len(tok) > 1 and tok[0] == "0":
                self.fail(f"integer {tok} has a leading zero")
            if kind == "int" and (len(tok) > 10 or int(tok) > MAX_DIM):
                self.fail(f"integer {tok} is out of range")
            if kind == "name" and tok in KEYWORDS:
                self.fail(f"{tok} is a reserved word")
            self.toks.append((kind, tok, pos))
            if i >= n:
                break
        self.toks.append(("end", "", n))
        self.k = 0

    def byte(self, pos: int) -> int:
        return len(self.text[:pos].encode("utf-8"))

    def fail(self, problem: str) -> None:
        raise CheckError(f"shape expression {quoted(self.text)}: {problem}")

    @property
    def tok(self) -> tuple[str, str, int]:
        return self.toks[self.k]

    def at(self, op: str) -> bool:
        return self.tok[0] == "op" and self.tok[1] == op

    def expect_operand(self) -> None:
        kind, text, pos = self.tok
        if kind == "end":
            self.fail("unexpected end of expression")
        self.fail(f"expected an operand at position {pos}")

    def expr(self, depth: int) -> bool:
        """Parses ``expr``; returns whether it is a literal zero (for divisor checks)."""
        zero = self.product(depth, False)
        while self.at("+") or self.at("-"):
            self.k += 1
            self.product(depth, False)
            zero = False
        return zero

    def product(self, depth: int, in_div: bool) -> bool:
        zero = self.unary(depth)
        while True:
            if self.at("/"):
                if in_div:
                    return zero
                self.fail("'/' is only allowed as floor(a/b) or ceiling(a/b)")
            if not (self.at("*") or self.at("//") or self.at("%")):
                return zero
            op = self.tok[1]
            self.k += 1
            if self.unary(depth) and op != "*":
                self.fail("division by zero")
            zero = False

    def unary(self, depth: int) -> bool:
        if depth > MAX_EXPR_DEPTH:
            self.fail(f"nested deeper than {MAX_EXPR_DEPTH}")
        if self.at("+") or self.at("-"):
            self.k += 1
            return self.unary(depth + 1)
        return self.atom(depth)

    def atom(self, depth: int) -> bool:
        kind, text, pos = self.tok
        if kind == "int":
            self.k += 1
            return int(text) == 0
        if kind == "name":
            self.k += 1
            if not self.at("("):
                return False
            self.k += 1
            if text in DIV_FUNCTIONS:
                self.product(depth + 1, True)
                if not self.at("/"):
                    self.fail(f"{text}() must wrap one division a/b")
                self.k += 1
                if self.unary(depth + 1):
                    self.fail("division by zero")
                if not self.at(")"):
                    self.fail(f"{text}() must wrap one division a/b")
                self.k += 1
                return False
            if text not in FUNCTIONS:
                self.fail(f"function {quoted(text)} is not allowed")
            zeros: list[bool] = []
            if not self.at(")"):
                while True:
                    zeros.append(self.expr(depth + 1))
                    if self.at(")"):
                        break
                    if not self.at(","):
                        self.fail(f"expected ',' or ')' at position {self.tok[2]}")
                    self.k += 1
            self.k += 1
            want = FUNCTIONS[text]
            if not zeros or (want and len(zeros) != want):
                self.fail(f"wrong number of arguments to {text}")
            if want and zeros[1]:
                self.fail("division by zero")
            return False
        if self.at("("):
            self.k += 1
            zero = self.expr(depth + 1)
            if not self.at(")"):
                self.fail(f"expected ')' at position {self.tok[2]}")
            self.k += 1
            return zero
        self.expect_operand()
        return False


def shape_expr_problem(text: str) -> Optional[str]:
    """The first problem of shape expression ``text`` (None when it is valid)."""
    if len(text.encode("utf-8")) > MAX_EXPR_LENGTH:
        return f"shape expression is longer than {MAX_EXPR_LENGTH} bytes"
    if not text.strip(" "):
        return f"shape expression {quoted(text)} is empty"
    try:
        parser = _Expr(text)
        parser.expr(0)
        kind, tok, pos = parser.tok
        if kind != "end":
            parser.fail(f"unexpected {quoted(tok)} at position {pos}")
    except CheckError as exc:
        return str(exc)
    return None


def is_symbol_name(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) is not None and text not in KEYWORDS


# --------------------------------------------------------------------------------------------------- metadata
def _is_int(v: Any) -> bool:
    return type(v) is int


def _dim_ok(v: Any) -> bool:
    return _is_int(v) and 0 <= v <= MAX_DIM


def _check_spec(spec: Any, where: str) -> tuple[str, int]:
    if not isinstance(spec, dict):
        raise CheckError(f"{where} must be an object")
    for key in spec:
        if key not in SPEC_KEYS:
            raise CheckError(f"{where}: unknown key {quoted(key)}")
    for key in SPEC_KEYS[:3]:
        if key not in spec:
            raise CheckError(f"{where}.{key} is missing")
    name = spec["name"]
    if not isinstance(name, str) or not name or has_control(name):
        raise CheckError(f"{where}.name must be a non-empty string without control characters")
    dtype = spec["dtype"]
    if not isinstance(dtype, str):
        raise CheckError(f"{where}.dtype must be a string")
    if dtype not in DTYPES:
        raise CheckError(f"{where}.dtype {quoted(dtype)} is not one of {', '.join(DTYPES)}")
    shape = spec["shape"]
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_RANK:
        raise CheckError(f"{where}.shape must be a list of at most {MAX_RANK} dimensions")
    for d, dim in enumerate(shape):
        if isinstance(dim, str):
            problem = shape_expr_problem(dim)
            if problem:
                raise CheckError(f"{where}.shape[{d}]: {problem}")
        elif not _dim_ok(dim):
            raise CheckError(f"{where}.shape[{d}] must be an integer in [0, {MAX_DIM}] or a shape expression")
    for key in SPEC_KEYS[3:]:
        value = spec.get(key)
        if value is None:
            continue
        if not isinstance(value, (list, tuple)) or len(value) != len(shape) or not all(_dim_ok(v) for v in value):
            raise CheckError(f"{where}.{key} must be null or a list of {len(shape)} integers in [0, {MAX_DIM}]")
        for d, dim in enumerate(shape):
            if _is_int(dim) and value[d] != dim:
                raise CheckError(f"{where}.{key}[{d}] is {value[d]}, but dimension {d} is static ({dim})")
    return name, len(shape)


def check_metadata(meta: Any) -> None:
    """Raise :class:`CheckError` naming the first problem of the decoded metadata ``meta``."""
    if not isinstance(meta, dict):
        raise CheckError("is not a JSON object")
    for key in meta:
        if key not in METADATA_KEYS:
            raise CheckError(f"unknown key {quoted(key)}")
    ranks: dict[str, int] = {}
    names: set[str] = set()
    for group in ("inputs", "outputs"):
        if group not in meta:
            raise CheckError(f"{group} is missing")
        specs = meta[group]
        if not isinstance(specs, (list, tuple)):
            raise CheckError(f"{group} must be a list")
        for i, spec in enumerate(specs):
            name, rank = _check_spec(spec, f"{group}[{i}]")
            if group == "inputs":
                lo, opt, hi = spec.get("min"), spec.get("opt"), spec.get("max")
                if lo is not None and opt is not None and hi is not None:
                    for d in range(rank):
                        if not lo[d] <= opt[d] <= hi[d]:
                            raise CheckError(f"{group}[{i}]: min <= opt <= max does not hold in dimension {d}")
                ranks[name] = rank
            if name in names:
                raise CheckError(f"{group}[{i}].name {quoted(name)} is already a binding name")
            names.add(name)
    symbols = meta.get("symbols", {})
    if not isinstance(symbols, dict):
        raise CheckError("symbols must be an object")
    for sym, source in symbols.items():
        if not is_symbol_name(sym):
            raise CheckError(f"symbols: {quoted(sym)} is not a valid symbol name")
        if (
            not isinstance(source, (list, tuple))
            or len(source) != 2
            or not isinstance(source[0], str)
            or not _is_int(source[1])
        ):
            raise CheckError(f"symbols[{quoted(sym)}] must be [input name, dimension]")
        binding, dim = source
        if binding not in ranks:
            raise CheckError(f"symbols[{quoted(sym)}] refers to {quoted(binding)}, which is not an input")
        if not 0 <= dim < ranks[binding]:
            raise CheckError(
                f"symbols[{quoted(sym)}] refers to dimension {dim} of input {quoted(binding)}, which has rank {ranks[binding]}"
            )
    if not isinstance(meta.get("settings", {}), dict):
        raise CheckError("settings must be an object")
    network = meta.get("network")
    if network is not None and not isinstance(network, dict):
        raise CheckError("network must be an object or null")
    weight_map = meta.get("weight_map")
    if weight_map is not None and not isinstance(weight_map, dict):
        raise CheckError("weight_map must be an object or null")
    if not isinstance(meta.get("torch_version", ""), str):
        raise CheckError("torch_version must be a string")
    _check_profiles(meta.get("profiles"), meta["inputs"])


def _check_profiles(profiles: Any, inputs: Any) -> None:
    """``profiles``: null, or per optimization profile an object giving every input its min/opt/max."""
    if profiles is None:
        return
    if not isinstance(profiles, (list, tuple)) or not 1 <= len(profiles) <= MAX_PROFILES:
        raise CheckError(f"profiles must be null or a list of 1 to {MAX_PROFILES} profiles")
    for p, profile in enumerate(profiles):
        where = f"profiles[{p}]"
        if not isinstance(profile, dict):
            raise CheckError(f"{where} must be an object")
        for name in profile:
            if not any(spec["name"] == name for spec in inputs):
                raise CheckError(f"{where}: {quoted(name)} is not an input")
        for spec in inputs:
            shape = spec["shape"]
            at = f"{where}[{quoted(spec['name'])}]"
            if spec["name"] not in profile:
                raise CheckError(f"{at} is missing")
            entry = profile[spec["name"]]
            if (
                not isinstance(entry, dict)
                or sorted(entry) != ["max", "min", "opt"]
                or not all(
                    isinstance(v, (list, tuple)) and len(v) == len(shape) and all(_dim_ok(x) for x in v)
                    for v in entry.values()
                )
            ):
                raise CheckError(
                    f"{at} must be {{min, opt, max}}, each a list of {len(shape)} integers in [0, {MAX_DIM}]"
                )
            for d, dim in enumerate(shape):
                for key in ("min", "opt", "max"):
                    if _is_int(dim) and entry[key][d] != dim:
                        raise CheckError(f"{at}.{key}[{d}] is {entry[key][d]}, but dimension {d} is static ({dim})")
                if not entry["min"][d] <= entry["opt"][d] <= entry["max"][d]:
                    raise CheckError(f"{at}: min <= opt <= max does not hold in dimension {d}")
