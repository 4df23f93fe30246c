"""The fuzz worker: a separate process that builds the reference artifacts once and then runs cases sent as JSON
lines on stdin, answering one JSON line per case on stdout. A case that crashes the process (abort, segfault) or
hangs is detected by the parent (:mod:`_fuzz`), which restarts the worker.

Outcomes: ``correct`` (loaded/installed and ran with the reference result), ``clean`` (an error naming the file
or the engine), ``wrong`` (ran with another result, the two runtimes disagreed, or hostile code ran), ``unclear``
(an error that names neither, or a bare Python error).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings
from typing import Any

warnings.filterwarnings("ignore")

import torch  # noqa: E402

BARE = (
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ZeroDivisionError,
    RecursionError,
    UnicodeError,
    AssertionError,
    NameError,
    OverflowError,
    EOFError,
    NotImplementedError,
    ImportError,
    MemoryError,
)


class _Program(torch.nn.Module):
    """A compiled program's shape: PyTorch ops around one engine submodule."""

    def __init__(self, engine: torch.nn.Module) -> None:
        super().__init__()
        self._run_on_acc_0 = engine

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._run_on_acc_0(x + 1, y)
        return a * 2, b


def pair_engine(seed: int = 7, **kwargs: Any) -> Any:
    """The fuzzed engine: inputs x, y [s0, 4]; outputs out0 = relu(x @ W) [s0, 3] and out1 = x - y [s0, 4]
    (two inputs and two outputs, so that swapped bindings change the result). ``seed`` draws W."""
    import numpy as np

    from torch_tensorrt._trt import trt
    from torch_tensorrt.testing._engines import add_input, new_network, simulated_module, spec

    w = np.random.default_rng(seed).standard_normal((4, 3)).astype(np.float32)
    builder, network = new_network()
    x = spec("x", torch.float32, ["s0", 4], min=[1, 4], opt=[2, 4], max=[8, 4])
    y = spec("y", torch.float32, ["s0", 4], min=[1, 4], opt=[2, 4], max=[8, 4])
    tx, ty = add_input(network, x), add_input(network, y)
    const = network.add_constant((4, 3), trt.Weights(w))
    mm = network.add_matrix_multiply(tx, trt.MatrixOperation.NONE, const.get_output(0), trt.MatrixOperation.NONE)
    relu = network.add_activation(mm.get_output(0), trt.ActivationType.RELU)
    relu.get_output(0).name = "out0"
    sub = network.add_elementwise(tx, ty, trt.ElementWiseOperation.SUB)
    sub.get_output(0).name = "out1"
    network.mark_output(relu.get_output(0))
    network.mark_output(sub.get_output(0))
    outs = [spec("out0", torch.float32, ["s0", 3]), spec("out1", torch.float32, ["s0", 4])]
    return simulated_module(builder, network, [x, y], outs, {"s0": ["x", 0]}, name="pair", build=False, **kwargs)


def std_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    return torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)


def build_artifacts(out: str, with_cpp: bool) -> dict[str, Any]:
    """Write the reference files into ``out`` (once; reused by restarted workers)."""
    import torch_tensorrt
    from torch_tensorrt._serialization import save
    from torch_tensorrt.testing._engines import graph_module

    done = os.path.join(out, "artifacts.json")
    if os.path.exists(done):
        with open(done) as f:
            return json.load(f)
    x, y = std_inputs()
    dyn = [torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))] * 2
    files: dict[str, Any] = {}
    engine = pair_engine()
    gm = graph_module(_Program(engine))
    save(gm, os.path.join(out, "py.ep"), arg_inputs=dyn)
    save(gm, os.path.join(out, "py.ts"), output_format="torchscript", arg_inputs=[x, y])
    torch.save(engine.state_dict(), os.path.join(out, "sd.pt"))
    torch.save(gm, os.path.join(out, "gm.pt"))
    files.update({"py.ep": "ep", "py.ts": "ts", "sd.pt": "sd", "gm.pt": "pickle"})
    if with_cpp:
        with torch_tensorrt.runtime.runtime("cpp"):
            cpp_gm = graph_module(_Program(pair_engine()))
        save(cpp_gm, os.path.join(out, "cpp.ep"), arg_inputs=[x, y])
        save(cpp_gm, os.path.join(out, "cpp.ts"), output_format="torchscript", arg_inputs=[x, y])
        files.update({"cpp.ep": "ep", "cpp.ts": "ts"})
    expected = [t.clone() for t in gm(x, y)]
    torch.save({"program": expected, "engine": [t.clone() for t in engine(x + 1, y)]}, os.path.join(out, "expected.pt"))
    from _records import abi2_list

    info = {"files": files, "record": abi2_list(engine.record)}  # fuzzed as ABI 2 lists (still read everywhere)
    with open(done, "w") as f:
        json.dump(info, f)
    return info


class Worker:
    def __init__(self, out: str, with_cpp: bool) -> None:
        self.out = out
        self.with_cpp = with_cpp
        self.info = build_artifacts(out, with_cpp)
        self.expected = torch.load(os.path.join(out, "expected.pt"))

    # ------------------------------------------------------------------------------------------------ oracle
    def classify_error(self, exc: BaseException, names: list[str]) -> tuple[str, str]:
        from torch_tensorrt._errors import SerializationError

        msg = f"{type(exc).__name__}: {exc}"
        named = any(n and n in str(exc) for n in names) or "engine '" in str(exc) or "engine record" in str(exc)
        if isinstance(exc, BARE) and not isinstance(exc, SerializationError):
            return "unclear", msg[:600]
        return ("clean" if named else "unclear"), msg[:600]

    def compare(self, got: Any, want: list[torch.Tensor]) -> tuple[str, str]:
        got = list(got) if isinstance(got, (tuple, list)) else [got]
        if len(got) != len(want):
            return "wrong", f"{len(got)} outputs, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            if not isinstance(g, torch.Tensor) or g.shape != w.shape or g.dtype != w.dtype:
                return "wrong", f"output {i}: {getattr(g, 'shape', type(g))} vs {tuple(w.shape)}"
            if not torch.allclose(g, w, atol=1e-5, rtol=1e-5):
                return "wrong", f"output {i} differs by {(g - w).abs().max().item():.3g}"
        return "correct", ""

    # ------------------------------------------------------------------------------------------------- cases
    def load_case(self, case: dict[str, Any]) -> tuple[str, str]:
        import torch_tensorrt

        path = case["path"]
        names = [path, os.path.basename(path)]
        try:
            if case.get("kind") == "sd":
                from torch_tensorrt.runtime import TorchTensorRTModule

                module = TorchTensorRTModule()
                module.load_state_dict(torch.load(path, weights_only=True))
                got = module(*[t + d for t, d in zip(std_inputs(), (1, 0))])
                return self.compare(got, self.expected["engine"])
            loaded = torch_tensorrt.load(path, trust_code=bool(case.get("trust")))
            module = loaded.module() if isinstance(loaded, torch.export.ExportedProgram) else loaded
            got = module(*std_inputs())
        except Exception as exc:
            return self.classify_error(exc, names)
        return self.compare(got, self.expected["program"])

    def record_case(self, case: dict[str, Any]) -> tuple[str, str]:
        from torch_tensorrt.runtime._record import EngineRecord, RecordError

        fields = case["fields"]
        py_err = cpp_err = None
        try:
            EngineRecord.from_list(fields)
        except RecordError as exc:
            py_err = str(exc)
        except Exception as exc:  # anything but a RecordError is a defect
            return "unclear", f"Python: {type(exc).__name__}: {exc}"
        if self.with_cpp and all(_utf8_ok(f) for f in fields):
            try:
                torch.ops.tensorrt.check_record_list(fields, real_runtime=False)
            except ValueError as exc:
                cpp_err = str(exc).split("\n")[0]
            except Exception as exc:
                return "unclear", f"C++: {type(exc).__name__}: {exc}"
            if cpp_err != py_err:
                return "wrong", f"runtimes disagree: Python {py_err!r} / C++ {cpp_err!r}"
        if py_err is not None:
            return ("clean", py_err) if py_err.startswith("engine ") else ("unclear", py_err)
        return self.run_record(fields, case.get("install", "extra_state"))

    def run_record(self, fields: list[str], install: str) -> tuple[str, str]:
        """An accepted record must compute what the original engine computes, on every runtime and whichever way
        it is installed: ``set_extra_state`` (state dicts), ``__setstate__`` (pickles), the Python op's blob (loaded
        programs), ``torch.classes.tensorrt.Engine`` (the C++ class)."""
        from torch_tensorrt.dynamo.runtime import _execute_op
        from torch_tensorrt.runtime import TorchTensorRTModule

        runtimes = ["python"] + (["cpp"] if self.with_cpp else [])
        x, y = std_inputs()
        for runtime in runtimes:
            try:
                if install == "blob" and runtime == "python":
                    blob = torch.tensor(list(json.dumps(fields).encode("utf-8")), dtype=torch.uint8)
                    got = torch.ops.tensorrt.execute_engine_python([x + 1, y], blob, _engine_info(fields))
                elif install == "engine_class" and runtime == "cpp":
                    from torch_tensorrt.runtime._record import EngineRecord

                    engine = torch.classes.tensorrt.Engine(EngineRecord.from_list(fields).to_tensor())
                    got = torch.ops.tensorrt.execute_engine([x + 1, y], engine)
                else:
                    module = TorchTensorRTModule()
                    if install == "setstate":
                        state = dict(module.__dict__, _record=fields)
                        module = TorchTensorRTModule.__new__(TorchTensorRTModule)
                        module.__setstate__(state)
                    else:
                        module.set_extra_state(
                            {"version": 1, "name": "fuzz", "record": fields, "weight_name_map": None}
                        )
                    if runtime == "cpp":
                        module.set_runtime("cpp")
                    got = module(x + 1, y)
            except Exception as exc:
                outcome = self.classify_error(exc, [])
                if outcome[0] != "clean":
                    return outcome[0], f"{install}/{runtime}: {outcome[1]}"
                continue
            finally:
                _execute_op.forget_loaded_engines()
            outcome = self.compare(got, self.expected["engine"])
            if outcome[0] != "correct":
                return outcome[0], f"{install}/{runtime}: {outcome[1]}"
        return "correct", ""

    def inputs_case(self, case: dict[str, Any]) -> tuple[str, str]:
        """Strided / lazily negated / conjugated inputs: the engine must see their values, not their memory."""
        from torch_tensorrt.runtime import TorchTensorRTModule

        module = TorchTensorRTModule()
        module.load_state_dict(torch.load(os.path.join(self.out, "sd.pt"), weights_only=True))
        if case["runtime"] == "cpp":
            module.set_runtime("cpp")
        inputs = [_make_input(r) for r in case["recipes"]]
        try:
            want = module(*[t.resolve_conj().resolve_neg().contiguous().clone() for t in inputs])
        except Exception as exc:  # the values themselves are unacceptable (dtype, shape): a clean error is due
            want = exc
        try:
            got = module(*inputs)
        except Exception as exc:
            return self.classify_error(exc, [])
        if isinstance(want, Exception):
            return "wrong", f"ran where the materialized inputs fail: {want}"
        return self.compare(got, list(want))

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        marker = case.get("marker")
        kind = case["kind"]
        if kind == "record":
            outcome, detail = self.record_case(case)
        elif kind == "inputs":
            outcome, detail = self.inputs_case(case)
        else:
            outcome, detail = self.load_case(case)
        if marker and os.path.exists(marker):
            outcome, detail = "wrong", f"hostile code ran (marker written); outcome was {outcome}: {detail}"
        return {"outcome": outcome, "detail": detail}


def _engine_info(fields: list[str]) -> str:
    """The ``engine_info`` a saved program would carry for this record (under a key no module registered)."""
    from torch_tensorrt.dynamo.runtime import _execute_op
    from torch_tensorrt.runtime._record import EngineRecord

    return _execute_op.engine_info(EngineRecord.from_list(fields), "fuzz-unregistered")


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _make_input(recipe: dict[str, Any]) -> torch.Tensor:
    """An input with the values of a [rows, 4] float tensor but an unusual layout or flag."""
    g = torch.Generator().manual_seed(int(recipe.get("seed", 0)))
    rows = int(recipe.get("rows", 3))
    dtype = getattr(torch, recipe.get("dtype", "float32"))
    how = recipe["layout"]
    if how == "transposed":
        return torch.randn(4, rows, generator=g).to(dtype).t()
    if how == "strided":
        return torch.randn(rows, 8, generator=g).to(dtype)[:, ::2]
    if how == "offset":
        return torch.randn(rows + 2, 4, generator=g).to(dtype)[2:]
    if how == "expanded":
        return torch.randn(1, 4, generator=g).to(dtype).expand(rows, 4)
    if how == "neg":
        return torch._neg_view(torch.randn(rows, 4, generator=g).to(dtype))
    if how == "neg_transposed":
        return torch._neg_view(torch.randn(4, rows, generator=g).to(dtype).t())
    if how == "conj":
        return torch.randn(rows, 4, generator=g, dtype=torch.complex64).conj()
    if how == "channels_last_view":
        return (
            torch.randn(rows, 4, 1, 1, generator=g).to(dtype).contiguous(memory_format=torch.channels_last)[:, :, 0, 0]
        )
    if how == "zero_rows":
        return torch.randn(0, 4, generator=g).to(dtype)
    if how == "rank3":
        return torch.randn(rows, 4, 1, generator=g).to(dtype)
    return torch.randn(rows, 4, generator=g).to(dtype)


def main() -> None:
    out, with_cpp = sys.argv[1], sys.argv[2] == "1"
    from torch_tensorrt import testing

    testing.allow_simulated_engines(
        True
    )  # the worker's engines are simulated and run (and are saved) outside simulate()
    if with_cpp:
        from torch_tensorrt.runtime import _cpp

        if not _cpp.load():
            raise SystemExit(f"the C++ runtime did not load: {_cpp.reason()}")
    worker = Worker(out, with_cpp)
    sys.stdout.write(json.dumps({"ready": True, "record": worker.info["record"], "files": worker.info["files"]}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        case = json.loads(line)
        try:
            answer = worker.run(case)
        except Exception as exc:  # a defect of the harness itself: report it, keep serving
            answer = {"outcome": "unclear", "detail": "harness: " + "".join(traceback.format_exception(exc))[-1500:]}
        answer["id"] = case["id"]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
