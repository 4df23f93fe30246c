"""The stand-in TensorRT headers (tests/cpp/fake_tensorrt/include) declare nothing that
tests/cpp/trt_api_signatures.cpp does not check.

That file asserts each declaration's exact type; the test build compiles it against the stand-in and
scripts/check_real_headers.sh against NVIDIA's headers, so a member listed there has the real signature. The
runtime compiles against the stand-in, so it can only call what the stand-in declares: with every declaration
listed, every TensorRT API the runtime calls is checked. This test reads the headers as text (no build).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADERS = ROOT / "tests" / "cpp" / "fake_tensorrt" / "include"
SIGNATURES = ROOT / "tests" / "cpp" / "trt_api_signatures.cpp"
STAND_IN_HEADERS = ["NvInferRuntimeBase.h", "NvInferRuntime.h", "NvInfer.h"]


def _class_bodies(text: str) -> list[tuple[str, str]]:
    """(class name, body) for each class definition (not forward declarations), nested braces included."""
    found = []
    for m in re.finditer(r"\bclass\s+(\w+)[^;{]*\{", text):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        found.append((m.group(1), text[m.end() : i - 1]))
    return found


def declared_api() -> tuple[set[tuple[str, str]], set[str]]:
    """Member functions (class, name) and free functions the stand-in headers declare."""
    members: set[tuple[str, str]] = set()
    functions: set[str] = set()
    for name in STAND_IN_HEADERS:
        text = re.sub(r"//[^\n]*", "", (HEADERS / name).read_text())
        for cls, body in _class_bodies(text):
            for m in re.finditer(r"\bvirtual\b[^;{(]*?\b(\w+)\s*\(", body):  # virtual members
                if f"~{m.group(1)}" not in m.group(0):
                    members.add((cls, m.group(1)))
            for m in re.finditer(r"\b(\w+)\s*\([^()]*\)[^;{()]*\boverride\b", body):  # overrides
                members.add((cls, m.group(1)))
        for m in re.finditer(r'(?:extern\s+"C"[^;(]*|\binline\s+\w+\s*\*?\s*)\b(\w+)\s*\(', text):
            functions.add(m.group(1))
    return members, functions


def checked_api() -> tuple[set[tuple[str, str]], set[str]]:
    text = SIGNATURES.read_text()
    members = set(re.findall(r"^TORCHTRT_(?:MEMBER|OVERLOAD)\((\w+), (\w+),", text, re.M))
    functions = {f.split("::")[-1] for f in re.findall(r"^TORCHTRT_FUNCTION\(([\w:]+),", text, re.M)}
    return members, functions


def test_the_parser_sees_the_runtime_api():
    members, functions = declared_api()
    for expected in [
        ("IExecutionContext", "enqueueV3"),
        ("ICudaEngine", "createExecutionContext"),
        ("IOutputAllocator", "reallocateOutputAsync"),
        ("IRuntime", "deserializeCudaEngine"),
        ("ILogger", "log"),
        ("IRuntimeCache", "serialize"),
    ]:
        assert expected in members, sorted(members)
    assert {"createInferRuntime", "createInferRuntime_INTERNAL", "getInferLibVersion"} <= functions, functions
    assert len(members) >= 30


def test_every_stand_in_declaration_is_checked_against_the_real_signature():
    declared_members, declared_functions = declared_api()
    checked_members, checked_functions = checked_api()
    missing = sorted(f"{c}::{m}" for c, m in declared_members - checked_members)
    missing += sorted(declared_functions - checked_functions)
    assert not missing, (
        f"declared by the stand-in headers but not checked in {SIGNATURES.relative_to(ROOT)}: {', '.join(missing)}"
    )
    stale = sorted(f"{c}::{m}" for c, m in checked_members - declared_members)
    assert not stale, f"checked but not declared by the stand-in: {', '.join(stale)}"
