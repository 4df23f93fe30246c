"""Per-call wrapper overhead of the runtimes, measured with a no-op engine (a simulated identity engine).

Prints one row per path with the median (and p90) time per call over many calls (best of three rounds):

* ``python: module (direct)``  -- ``TorchTensorRTModule.__call__`` on the Python runtime (eager fast path:
  ``TRTEngine.execute`` without the dispatcher);
* ``python: torch.ops``        -- the same engine through ``torch.ops.tensorrt.execute_engine_python``
  (what traced / exported programs run);
* ``python: TRTEngine.execute`` -- the engine object alone (input checks, shapes, addresses, enqueue);
* ``simulated execute_async_v3`` -- the simulated TensorRT call itself (the floor included in the rows above:
  on a machine with TensorRT this is where the real engine's enqueue would be);
* ``cpp: module`` -- the C++ runtime (``Engine.execute`` on eager calls), when its library is loaded (otherwise
  the row says why it is missing); also ``torch.ops.tensorrt.execute_engine`` called directly, the module with
  an engine whose enqueue does nothing (the C++ runtime's own per-call cost, like the Python "no-op enqueue"
  rows), and (CUDA) a caller on a non-default stream;
* CUDA graphs (``--device cuda`` only): the no-op engine replaying its per-engine graph, and a 3-engine model
  (three no-op engines in a GraphModule, as ``torch_tensorrt.compile`` makes them) run plainly, with per-engine
  graphs (``set_cudagraphs_mode(True)``), and as one whole-graph replay (``enable_cudagraphs``; fresh outputs,
  and reused output buffers). Each row is the host time per call.

Usage: ``python benchmarks/runtime_overhead.py [--calls N] [--device cpu|cuda] [--shape 1,16]``.
On a GPU machine ``--device cuda`` feeds CUDA tensors (the simulated engine then copies on the GPU).
Where TensorRT is not installed (our GPU machine), make the engines elsewhere with ``--save-modules F`` and run
with ``--modules F`` plus the names-only stand-in (``--names-only``). The C++ rows use an engine whose plan is
also a stand-in TensorRT "copy" plan, so the C++ test build (tests/cpp) runs it: on the GPU when there is one
(the stand-in's CUDA mode: a device-to-device copy on the caller's stream), else on host memory.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch


def _time(fn: Callable[[], object], calls: int, sync: Callable[[], None], rounds: int = 3) -> tuple[float, float]:
    """Median and p90 seconds per call: the round (of ``rounds``, ``calls // rounds`` calls each) with the lowest
    median, so that a burst of noise on a shared machine does not decide a row."""
    for _ in range(min(200, calls // 10 + 1)):  # warm-up
        fn()
    sync()
    best: tuple[float, float] = (float("inf"), float("inf"))
    for _ in range(rounds):
        samples = []
        for _ in range(max(1, calls // rounds)):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
        sync()
        samples.sort()
        median = statistics.median(samples)
        if median < best[0]:
            best = (median, samples[int(0.9 * (len(samples) - 1))])
    return best


def make_modules(shape: tuple[int, ...]) -> dict[str, object]:
    """The no-op engines: a simulated identity, and one whose plan bytes are also a stand-in "copy" plan."""
    from torch_tensorrt.testing._engines import identity_module

    dims = "x".join(map(str, shape))
    plan = f"torchtrt-fake-plan 1\nname identity\ninput x float32 {dims} {dims} {dims}\noutput y float32 copy x\n"
    noop = plan.replace("copy x", "noop x")  # the stand-in enqueues nothing: the C++ runtime's own cost
    return {
        "python": identity_module(shape),
        "cpp": identity_module(shape, engine=plan.encode()),
        "cpp_noop": identity_module(shape, engine=noop.encode()),
        "three_engines": three_engine_model(shape),
    }


class _ThreeEngines(torch.nn.Module):
    def __init__(self, engines: list[torch.nn.Module]) -> None:
        super().__init__()
        self.e0, self.e1, self.e2 = engines

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.e2(self.e1(self.e0(x)))


def three_engine_model(shape: tuple[int, ...]) -> torch.fx.GraphModule:
    """Three no-op engines in a row, as a GraphModule whose engines are submodules (what compile produces)."""
    from torch_tensorrt.testing._engines import graph_module, identity_module

    return graph_module(_ThreeEngines([identity_module(shape) for _ in range(3)]))


def cuda_graph_rows(
    modules: dict[str, object],
    x: torch.Tensor,
    bench: Callable[[str, Callable[[], object]], None],
    rows: list[tuple[str, str]],
) -> None:
    """The CUDA-graph rows (CUDA tensors only); rows that this version of the package cannot run say so."""
    from torch_tensorrt import runtime

    py = modules["python"]
    py.use_cuda_graphs(True)
    try:
        bench("python: module, per-engine CUDA graph replay", lambda: py(x))
    finally:
        py.use_cuda_graphs(False)
    gm = modules.get("three_engines")
    if gm is None:
        rows.append(("3-engine model", "not measured: no 3-engine model in the modules file"))
        return
    bench("3-engine model: plain (3 engine calls)", lambda: gm(x))
    if not hasattr(runtime, "enable_cudagraphs"):
        rows.append(("3-engine model: CUDA-graph modes", "not measured: this version has no enable_cudagraphs"))
        return
    runtime.set_cudagraphs_mode(True)
    try:
        bench("3-engine model: per-engine CUDA graphs (3 replays)", lambda: gm(x))
    finally:
        runtime.set_cudagraphs_mode(False)
    with runtime.enable_cudagraphs(gm) as whole:
        bench("3-engine model: whole-graph replay (new outputs)", lambda: whole(x))
    with runtime.enable_cudagraphs(gm, reuse_output_buffers=True) as whole:
        bench("3-engine model: whole-graph replay (reused output buffers)", lambda: whole(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--shape", default="1,16")
    parser.add_argument("--save-modules", default=None, help="write the no-op engine modules to this file and exit")
    parser.add_argument("--modules", default=None, help="load the no-op engine modules from this file")
    parser.add_argument("--names-only", action="store_true", help="use the names-only TensorRT stand-in")
    args = parser.parse_args()
    shape = tuple(int(s) for s in args.shape.split(","))
    if args.names_only:
        from torch_tensorrt.testing import _names_only_trt

        _names_only_trt.install()

    import torch_tensorrt.testing  # registers the simulated engine kind of the no-op engines

    torch_tensorrt.testing.allow_simulated_engines()  # the benchmark runs them outside simulate()
    from torch_tensorrt.runtime import cpp_runtime_available, cpp_runtime_reason

    if args.modules:
        modules = torch.load(args.modules, weights_only=False)
    else:
        modules = make_modules(shape)
    if args.save_modules:
        torch.save(modules, args.save_modules)
        print(f"wrote {args.save_modules}")
        return
    device = torch.device(args.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    x = torch.randn(shape, device=device)
    py = modules["python"]  # simulated engines always run on the Python runtime by default
    engine = py.engine
    engine.setup()
    if engine.device != device:
        raise SystemExit(f"the engine runs on {engine.device}; pass --device {engine.device.type}")

    rows: list[tuple[str, str]] = []

    def bench(name: str, fn: Callable[[], object]) -> None:
        med, p90 = _time(fn, args.calls, sync)
        rows.append((name, f"{med * 1e6:9.1f} us   p90 {p90 * 1e6:9.1f} us"))

    bench("python: module (direct)", lambda: py(x))
    bench("python: torch.ops", lambda: torch.ops.tensorrt.execute_engine_python([x], py._blob, py._info))
    bench("python: TRTEngine.execute", lambda: engine.execute([x]))
    ctx = engine.context
    out = torch.empty_like(x)
    ctx.set_tensor_address("x", x.data_ptr())
    ctx.set_tensor_address("y", out.data_ptr())
    stream = torch.cuda.current_stream(device).cuda_stream if device.type == "cuda" else 0
    bench("simulated execute_async_v3", lambda: ctx.execute_async_v3(stream))
    # The wrapper alone: the same calls with an enqueue that does nothing (what a real engine's launch costs
    # comes on top; it is TensorRT's, not ours).
    simulated_enqueue = ctx.execute_async_v3
    ctx.execute_async_v3 = lambda handle: True
    try:
        bench("python: module, no-op enqueue (wrapper only)", lambda: py(x))
        bench(
            "python: torch.ops, no-op enqueue (wrapper only)",
            lambda: torch.ops.tensorrt.execute_engine_python([x], py._blob, py._info),
        )
    finally:
        ctx.execute_async_v3 = simulated_enqueue

    if device.type == "cuda":
        cuda_graph_rows(modules, x, bench, rows)
    else:
        rows.append(("CUDA-graph rows", "not measured: they need --device cuda"))

    if cpp_runtime_available():
        try:
            cpp = modules["cpp"]
            cpp.set_runtime("cpp")
            # The stand-in build runs on the GPU when there is one (its CUDA mode), else on host memory.
            cpp_device = torch.device(cpp.engine.device())
            xc = x.to(cpp_device)
            cpp(xc)
            where = "CUDA" if cpp_device.type == "cuda" else "host memory"
            bench(f"cpp: module (stand-in TensorRT, {where})", lambda: cpp(xc))
            bench(
                f"cpp: torch.ops.tensorrt.execute_engine ({where})",
                lambda: torch.ops.tensorrt.execute_engine([xc], cpp.engine),
            )
            if "cpp_noop" in modules:
                noop = modules["cpp_noop"]
                noop.set_runtime("cpp")
                noop(xc)
                bench(f"cpp: module, no-op enqueue (wrapper only, {where})", lambda: noop(xc))
                bound = noop.engine.execute  # what the module's forward calls: TorchBind call + the C++ runtime
                bench(f"cpp: Engine.execute, no-op enqueue ({where})", lambda: bound([xc]))
            if cpp_device.type == "cuda":  # the default stream goes through a side stream and two events
                side = torch.cuda.Stream(cpp_device)
                with torch.cuda.stream(side):
                    bench("cpp: module on a non-default stream (CUDA)", lambda: cpp(xc))
        except Exception as exc:  # e.g. the C++ runtime does not run simulated engines
            rows.append(("cpp: module", f"not measured: {type(exc).__name__}: {str(exc)[:80]}"))
    else:
        rows.append(("cpp: module", f"not measured: {cpp_runtime_reason()[:90]}"))

    print(
        f"per-call overhead, no-op engine, input {tuple(shape)} on {device}, {args.calls} calls, torch {torch.__version__}"
    )
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print("  (the 'no-op enqueue' rows are the Python runtime's own per-call overhead; the C++ rows include the")
    print("   stand-in TensorRT's copy engine)")


if __name__ == "__main__":
    main()
