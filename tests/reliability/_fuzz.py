"""The fuzz campaign: families of cases, a crash-isolating worker process, and the outcome table.

A :class:`Campaign` starts one worker (:mod:`_fuzz_worker`, a separate Python process with the C++ runtime's test
build loaded when available), which builds the reference artifacts, then runs cases one at a time. A case whose
process dies is a ``crash``; one that does not answer within the timeout is a ``hang`` (the worker is killed and
restarted either way). Families (``FAMILIES``) generate cases from a ``random.Random``: the tests drive them with
hypothesis (``st.randoms()``), ``benchmarks/fuzz.py`` with seeded generators for the long mode.
"""

from __future__ import annotations

import collections
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUTCOMES = ("clean", "correct", "wrong", "unclear", "hang", "crash")
GOOD = ("clean", "correct")

import _fuzz_cases as cases  # noqa: E402

Generator = Callable[["cases.Context", random.Random], dict[str, Any]]
#: family -> (generator, needs the C++ runtime)
FAMILIES: dict[str, tuple[Generator, bool]] = {
    "record-fields": (lambda c, r: {"kind": "record", "fields": cases.mutate_record(c.record, r)}, False),
    "record-install": (
        lambda c, r: {
            "kind": "record",
            "fields": cases.mutate_record(c.record, r),
            "install": r.choice(["extra_state", "setstate", "blob", "engine_class"]),
        },
        False,
    ),
    "ep-bitflip": (lambda c, r: cases.file_case(c, r, "py.ep", "bitflip"), False),
    "ep-truncate": (lambda c, r: cases.file_case(c, r, "py.ep", "truncate"), False),
    "ep-member-edit": (lambda c, r: cases.file_case(c, r, "py.ep", "members"), False),
    "ts-bitflip": (lambda c, r: cases.file_case(c, r, "py.ts", "bitflip"), False),
    "ts-truncate": (lambda c, r: cases.file_case(c, r, "py.ts", "truncate"), False),
    "ts-member-edit": (lambda c, r: cases.file_case(c, r, "py.ts", "members"), False),
    "cpp-ep": (lambda c, r: cases.file_case(c, r, "cpp.ep", r.choice(["bitflip", "truncate", "members"])), True),
    "cpp-ts": (lambda c, r: cases.file_case(c, r, "cpp.ts", r.choice(["bitflip", "truncate", "members"])), True),
    "hostile": (cases.hostile_case, False),
    "inputs-python": (lambda c, r: cases.inputs_case(c, r, "python"), False),
    "inputs-cpp": (lambda c, r: cases.inputs_case(c, r, "cpp"), True),
}

_SO_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void hostile(void) {
  const char* p = getenv("TORCHTRT_FUZZ_SO_MARKER");
  FILE* f = p ? fopen(p, "w") : NULL;
  if (f) { fputs("ran", f); fclose(f); }
}
"""


def build_hostile_library(folder: str) -> str:
    """A shared library whose constructor writes ``$TORCHTRT_FUZZ_SO_MARKER`` ("" when no C compiler)."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        return ""
    src, lib = os.path.join(folder, "hostile.c"), os.path.join(folder, "hostile.so")
    with open(src, "w") as f:
        f.write(_SO_SOURCE)
    proc = subprocess.run([cc, "-shared", "-fPIC", "-o", lib, src], capture_output=True, text=True)
    return lib if proc.returncode == 0 else ""


class Worker:
    """One worker process; restarted after a crash or a hang."""

    def __init__(self, folder: str, cpp_library: Optional[str], so_marker: str, startup_timeout: float = 900) -> None:
        self.folder, self.cpp_library, self.so_marker = folder, cpp_library, so_marker
        self.startup_timeout = startup_timeout
        self.proc: Optional[subprocess.Popen[str]] = None
        self.ready: dict[str, Any] = {}
        self.log = os.path.join(folder, "worker.log")
        self.next_id = 0

    def start(self) -> None:
        env = dict(os.environ, TORCHTRT_FUZZ_SO_MARKER=self.so_marker, PYTHONWARNINGS="ignore")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.join(REPO, "python"), env.get("PYTHONPATH", "")) if p)
        if self.cpp_library:
            env["TORCHTRT_RUNTIME_LIBRARY"] = self.cpp_library
        log = open(self.log, "a")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                os.path.join(HERE, "_fuzz_worker.py"),
                os.path.join(self.folder, "artifacts"),
                "1" if self.cpp_library else "0",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
            cwd=self.folder,
        )
        line = self._readline(self.startup_timeout)
        if line is None:
            self.stop()
            raise RuntimeError(f"fuzz worker did not start; log tail:\n{self.tail()}")
        self.ready = json.loads(line)

    def tail(self) -> str:
        try:
            with open(self.log) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def _readline(self, timeout: float) -> Optional[str]:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line or None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, case: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.next_id += 1
        case = dict(case, id=self.next_id)
        try:
            self.proc.stdin.write(json.dumps(case) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._readline(timeout)
        if line is None:
            alive = self.proc.poll() is None
            code = self.proc.poll()
            self.stop()
            if alive:
                return {"outcome": "hang", "detail": f"no answer within {timeout:.0f} s"}
            return {"outcome": "crash", "detail": f"worker exited with {code}; log tail: {self.tail()[-800:]}"}
        return json.loads(line)


class Campaign:
    """Reference artifacts, a worker, and the outcome table of the cases run so far."""

    def __init__(self, cpp_library: Optional[str] = None, folder: Optional[str] = None, timeout: float = 120) -> None:
        self.folder = folder or tempfile.mkdtemp(prefix="torchtrt-fuzz-")
        os.makedirs(os.path.join(self.folder, "artifacts"), exist_ok=True)
        self.timeout = timeout
        self.so_marker = os.path.join(self.folder, "so.marker")
        self.worker = Worker(self.folder, cpp_library, self.so_marker)
        self.worker.start()
        info = self.worker.ready
        art = os.path.join(self.folder, "artifacts")
        blobs = {name: open(os.path.join(art, name), "rb").read() for name in info["files"]}
        scratch = os.path.join(self.folder, "cases")
        os.makedirs(scratch, exist_ok=True)
        self.ctx = cases.Context(blobs, info["record"], scratch, build_hostile_library(self.folder))
        self.cpp = bool(cpp_library)
        self.table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.failures: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def families(self) -> list[str]:
        return [f for f, (_, needs_cpp) in FAMILIES.items() if self.cpp or not needs_cpp]

    def run_case(self, family: str, rnd: random.Random) -> dict[str, Any]:
        case = FAMILIES[family][0](self.ctx, rnd)
        result = self.worker.run(case, self.timeout)
        if os.path.exists(self.so_marker):  # a library from a file was loaded
            result = {"outcome": "wrong", "detail": "hostile shared library ran: " + result.get("detail", "")}
            os.remove(self.so_marker)
        for p in (case.get("path"), case.get("marker")):
            if p and os.path.exists(p):
                os.remove(p)
        self.table[family][result["outcome"]] += 1
        if result["outcome"] not in GOOD:
            self.failures.append((family, case, result))
        return result

    def close(self) -> None:
        self.worker.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def rows(self) -> list[list[str]]:
        rows = []
        total: collections.Counter[str] = collections.Counter()
        for family in sorted(self.table):
            c = self.table[family]
            total.update(c)
            rows.append([family] + [str(c[o]) for o in OUTCOMES])
        rows.append(["total"] + [str(total[o]) for o in OUTCOMES])
        return rows


def run_long(
    cases_total: int,
    seed: int,
    cpp_library: Optional[str],
    on_progress: Callable[[int], None] = lambda n: None,
    time_budget: float = float("inf"),
) -> Campaign:
    """Run ``cases_total`` cases spread over the families round-robin (seeded); stops early at ``time_budget``."""
    campaign = Campaign(cpp_library)
    families = campaign.families()
    rnd = random.Random(seed)
    start = time.monotonic()
    for n in range(cases_total):
        if time.monotonic() - start > time_budget:
            break
        family = families[n % len(families)]
        campaign.run_case(family, random.Random(rnd.getrandbits(64)))
        on_progress(n + 1)
    return campaign
