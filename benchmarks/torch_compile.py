"""``torch.compile(backend="tensorrt")`` across a batch sweep: compile cost, engine builds, recompiles, overhead.

    .venv/bin/python benchmarks/torch_compile.py [--models resnet50,bert] [--batches 1,2,4,8,16,32]
        [--size N] [--calls N] [--device cpu|cuda] [--no-simulate]

Models: ResNet-50 (torchvision) and BERT-base (transformers, ``BertConfig()`` defaults, sdpa attention), both
with random weights built from their configs (no downloads). ``--size`` is the image side (default 224) or the
sequence length (default 128). The model is compiled once and called under ``torch.no_grad()`` with each batch
size of the sweep in order, as a serving loop would. Per model the table shows, for each batch size: seconds of
its first call (tracing, export, engine builds when it needed a new graph), and the running totals of dynamo
graphs, engine builds and cache hits; then time to first output (``torch.compile`` to the first result), engine
builds and recompiles over the sweep, and the steady-state per-call time at the last batch size: compiled vs
eager, the part spent inside the engines, and the host overhead around them (dynamo guards, the backend's
weight check, the runtime wrapper, PyTorch glue) -- also measured alone, with simulated engines that return at
once ("no-op engines").

Engines are simulated by default (``torch_tensorrt.testing.simulate()``: the engine's network is evaluated by the
reference evaluator), so "in engines" is the evaluator's time and only the overhead column says something about
a real deployment. ``--device cuda`` runs the same on a GPU (simulated engines evaluate with CUDA tensors);
``--no-simulate`` builds real engines (needs a TensorRT runtime that runs on the GPU).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from rich.table import Table  # noqa: E402

from torch_tensorrt._console import console as make_console  # noqa: E402


def resnet50(size: int) -> tuple[torch.nn.Module, Callable[[int], tuple[torch.Tensor, ...]]]:
    import torchvision

    model = torchvision.models.resnet50(weights=None)
    return model, lambda batch: (torch.randn(batch, 3, size, size),)


class _Hidden(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(ids, return_dict=True).last_hidden_state


def bert(size: int) -> tuple[torch.nn.Module, Callable[[int], tuple[torch.Tensor, ...]]]:
    import transformers

    cfg = transformers.BertConfig()  # BERT-base: 12 layers, hidden 768, 12 heads, vocabulary 30522
    cfg._attn_implementation = "sdpa"
    model = _Hidden(transformers.BertModel(cfg))
    return model, lambda batch: (torch.randint(0, cfg.vocab_size, (batch, size)),)


MODELS = {"resnet50": (resnet50, 224), "bert": (bert, 128)}


class EngineTimer:
    """Seconds spent inside simulated engine executions (the simulated ``execute_async_v3``)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from torch_tensorrt.testing import _sim_runtime

        original = _sim_runtime.ExecutionContext.execute_async_v3
        timer = self

        def timed(ctx: Any, stream: int) -> bool:
            start = time.perf_counter()
            try:
                return original(ctx, stream)
            finally:
                timer.seconds += time.perf_counter() - start

        _sim_runtime.ExecutionContext.execute_async_v3 = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            _sim_runtime.ExecutionContext.execute_async_v3 = original  # type: ignore[method-assign]

    @contextlib.contextmanager
    def noop(self) -> Iterator[None]:
        """Simulated engines return at once (outputs are left as allocated): times everything around them."""
        from torch_tensorrt.testing import _sim_runtime

        original = _sim_runtime.ExecutionContext.execute_async_v3
        _sim_runtime.ExecutionContext.execute_async_v3 = lambda ctx, stream: True  # type: ignore[method-assign]
        try:
            yield
        finally:
            _sim_runtime.ExecutionContext.execute_async_v3 = original  # type: ignore[method-assign]


def _median_call(
    fn: Callable[[], Any], calls: int, sync: Callable[[], None], timer: EngineTimer
) -> tuple[float, float]:
    """Median seconds per call, and median seconds inside engines per call."""
    totals, inside = [], []
    fn()
    sync()
    for _ in range(calls):
        timer.seconds = 0.0
        start = time.perf_counter()
        fn()
        sync()
        totals.append(time.perf_counter() - start)
        inside.append(timer.seconds)
    return statistics.median(totals), statistics.median(inside)


def run_model(name: str, args: argparse.Namespace, device: torch.device) -> Table:
    from torch_tensorrt.dynamo import backend_stats

    factory, default_size = MODELS[name]
    torch.manual_seed(0)
    model, make_inputs = factory(args.size or default_size)
    model = model.eval().to(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    torch._dynamo.reset()
    backend_stats(reset=True)
    timer = EngineTimer()
    table = Table(
        title=f"torch.compile(backend='tensorrt'): {name} ({device.type}, "
        f"{'simulated' if args.simulate else 'real'} engines)"
    )
    for col in ("batch", "first call s", "dynamo graphs", "engine builds", "cache hits", "max |out - eager|"):
        table.add_column(col, justify="right")
    scope = _simulate() if args.simulate else contextlib.nullcontext()
    with scope, timer.installed(), torch.no_grad():
        start = time.perf_counter()
        compiled = torch.compile(model, backend="tensorrt", options=args.options)
        first_output_s = None
        for batch in args.batches:
            inputs = tuple(t.to(device) for t in make_inputs(batch))
            t0 = time.perf_counter()
            out = compiled(*inputs)
            sync()
            now = time.perf_counter()
            if first_output_s is None:
                first_output_s = now - start
            err = (out.float() - model(*inputs).float()).abs().max().item()
            s = backend_stats()
            table.add_row(
                str(batch),
                f"{now - t0:.2f}",
                str(s.graphs_compiled),
                str(s.engines_built),
                str(s.cache_hits),
                f"{err:.1e}",
            )
        compiled_s, engine_s = _median_call(lambda: compiled(*inputs), args.calls, sync, timer)
        eager_s, _ = _median_call(lambda: model(*inputs), args.calls, sync, timer)
        noop_s = None
        if args.simulate:  # the same calls with engines that return at once: the host overhead alone
            with timer.noop():
                noop_s, _ = _median_call(lambda: compiled(*inputs), max(args.calls, 200), sync, timer)
    s = backend_stats()
    table.add_section()
    table.add_row("time to first output", f"{first_output_s:.2f} s", "", "", "", "")
    table.add_row(
        "over the sweep",
        "",
        f"{s.graphs_compiled} ({s.graphs_compiled - 1} recompiles)",
        str(s.engines_built),
        str(s.cache_hits),
        f"{s.fallbacks} in PyTorch",
    )
    batch = args.batches[-1]
    table.add_row(
        f"steady state, batch {batch}",
        f"compiled {compiled_s * 1e3:.2f} ms",
        f"in engines {engine_s * 1e3:.2f} ms",
        f"host overhead {(compiled_s - engine_s) * 1e6:.0f} us",
        f"eager {eager_s * 1e3:.2f} ms",
        "" if noop_s is None else f"no-op engines {noop_s * 1e6:.0f} us",
    )
    return table


@contextlib.contextmanager
def _simulate() -> Iterator[None]:
    from torch_tensorrt.testing import simulate

    with simulate():
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet50,bert")
    parser.add_argument("--batches", default="1,2,4,8,16,32")
    parser.add_argument("--size", type=int, default=None, help="image side / sequence length (default 224 / 128)")
    parser.add_argument("--calls", type=int, default=10, help="calls timed for the steady state")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-simulate", dest="simulate", action="store_false")
    parser.add_argument("--min-block-size", type=int, default=None)
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    args.options = {} if args.min_block_size is None else {"min_block_size": args.min_block_size}
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch.cuda.is_available() is False")
    console = make_console()
    for name in args.models.split(","):
        if name not in MODELS:
            raise SystemExit(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
        console.print(run_model(name, args, device))


if __name__ == "__main__":
    main()
