"""Engine cache and refit benchmark: cold compile vs warm-cache compile vs refit, wall time per stage.

    .venv/bin/python benchmarks/engine_cache.py [--models resnet50,bert]

Models (random weights, no downloads): torchvision ResNet-50 at (1, 3, 224, 224) and transformers BERT-base
(``BertConfig()``) at input_ids (1, 128).

Rows:
  cold (real)       compile with an empty engine cache: real TensorRT-RTX engines (``immutable_weights=True``: the
                    CPU-only builder cannot build refittable engines, it needs a GPU)
  warm (real)       the same compile again: every engine from the cache
  cold/warm (simulated)  the same under ``testing.simulate()`` with ``immutable_weights=False`` (the entries also
                    carry the simulation's recording of each network, so they are larger)
  rebuild           compile of the model with new weights, no cache (what a refit replaces; simulated)
  refit, all        refit_module_weights(compiled, new ExportedProgram): weight recipes evaluated on the new state
                    dict and each engine refitted by the *simulated* refitter (TensorRT's own refit needs a
                    deserialized engine, i.e. a GPU)
  refit, our side   the same without the time spent inside the simulated runtime and refitter (they stand in for
                    TensorRT's deserialization and refit, and JSON-encode the recorded network): structure checks,
                    weight computation, the refitter calls' arguments, the new record

Targets: "engines s" (conversion + build when cold; cache key + lookup when warm) of a warm compile <= 15% of the
cold one; refit <= 25% of the rebuild.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from rich.table import Table  # noqa: E402

import torch_tensorrt  # noqa: E402
from torch_tensorrt import testing  # noqa: E402
from torch_tensorrt._console import console as make_console  # noqa: E402
from torch_tensorrt.dynamo.conversion import builds_done  # noqa: E402


def resnet50(seed: int) -> tuple[torch.nn.Module, tuple[Any, ...]]:
    import torchvision

    torch.manual_seed(seed)
    return torchvision.models.resnet50(weights=None).eval(), (torch.randn(1, 3, 224, 224),)


def bert_base(seed: int) -> tuple[torch.nn.Module, tuple[Any, ...]]:
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    model = BertModel(BertConfig(), add_pooling_layer=False).eval()
    return model, (torch.randint(0, 30522, (1, 128)),)


MODELS: dict[str, tuple[str, Callable[[int], tuple[torch.nn.Module, tuple[Any, ...]]]]] = {
    "resnet50": ("ResNet-50 (1,3,224,224)", resnet50),
    "bert": ("BERT-base (1,128)", bert_base),
}


def _compile(ep: Any, args: tuple[Any, ...], simulated: bool, **settings: Any) -> tuple[Any, float, int]:
    start = time.perf_counter()
    before = builds_done()
    with testing.simulate() if simulated else contextlib.nullcontext():
        gm = torch_tensorrt.dynamo.compile(ep, arg_inputs=list(args), min_block_size=1, **settings)
    return gm, time.perf_counter() - start, builds_done() - before


def _fmt(v: Any) -> str:
    return "" if v is None else f"{v:.2f}"


def _cache_rows(label: str, ep: Any, args: tuple[Any, ...], simulated: bool, table: Table, **settings: Any) -> Any:
    """Cold then warm compile into a fresh cache directory; returns the cold module."""
    cache = dict(
        cache_built_engines=True, reuse_cached_engines=True, engine_cache_dir=tempfile.mkdtemp(prefix="torchtrt-bench-")
    )
    cold, cold_s, cold_builds = _compile(ep, args, simulated, **cache, **settings)
    warm, warm_s, warm_builds = _compile(ep, args, simulated, **cache, **settings)
    rc, rw = cold.compile_report, warm.compile_report
    # conversion + build (cold) against what replaced them (warm: cache key + lookup); wrapping each plan into a
    # TorchTensorRTModule costs the same in both and is in "total"
    cold_engine_s = sum(e.stage_s for e in rc.engines)
    warm_engine_s = sum(e.stage_s for e in rw.engines)
    kind = "simulated" if simulated else "real"
    table.add_row(
        label, f"cold ({kind})", _fmt(cold_s), _fmt(rc.lowering_s), _fmt(cold_engine_s), str(cold_builds), "", ""
    )
    ratio = warm_engine_s / cold_engine_s
    # the target is for real engines; simulated entries also carry the recording of the network (JSON)
    verdict = ("yes" if ratio <= 0.15 else "NO") if not simulated else ""
    table.add_row(
        label,
        f"warm ({kind})",
        _fmt(warm_s),
        _fmt(rw.lowering_s),
        _fmt(warm_engine_s),
        str(warm_builds),
        f"{100 * ratio:.1f}% of cold engines s",
        verdict,
    )
    return cold


def bench(label: str, factory: Callable[[int], Any], table: Table) -> None:
    with torch.no_grad():
        model_a, args = factory(1)
        model_b, _ = factory(2)
        ep_a = torch.export.export(model_a, args)
        ep_b = torch.export.export(model_b, args)
    label = f"{label}"
    _cache_rows(label, ep_a, args, False, table)  # real TensorRT-RTX engines (immutable: the CPU builder's kind)
    refittable = _cache_rows(label, ep_a, args, True, table, immutable_weights=False)
    _, rebuild_s, rebuild_builds = _compile(ep_b, args, True, immutable_weights=False)
    table.add_row(label, "rebuild (simulated)", _fmt(rebuild_s), "", "", str(rebuild_builds), "", "")
    before = builds_done()
    with _simulator_clock() as simulator:
        start = time.perf_counter()
        refitted = torch_tensorrt.dynamo.refit_module_weights(refittable, ep_b)
        refit_s = time.perf_counter() - start
    refit_builds = builds_done() - before
    with torch.no_grad():
        err = (_first(refitted(*args)) - _first(model_b(*args))).abs().max().item()
    ours = refit_s - simulator[0]
    table.add_row(
        label,
        "refit, all (simulated refitter)",
        _fmt(refit_s),
        "",
        "",
        str(refit_builds),
        f"{100 * refit_s / rebuild_s:.1f}% of rebuild; max |err| {err:.1e}",
        "",
    )
    table.add_row(
        label,
        "refit, our side (without simulator)",
        _fmt(ours),
        "",
        "",
        "",
        f"{100 * ours / rebuild_s:.1f}% of rebuild",
        "yes" if ours <= 0.25 * rebuild_s else "NO",
    )


@contextlib.contextmanager
def _simulator_clock() -> Any:
    """Seconds spent inside the simulated runtime and refitter (stand-ins for TensorRT's deserialization and
    refit: JSON of the recorded network), accumulated into the yielded one-element list."""
    import dataclasses

    from torch_tensorrt.runtime import _kinds
    from torch_tensorrt.testing import _sim_refit, _sim_runtime, _simulate

    spent = [0.0]

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[0] += time.perf_counter() - start

        return run

    patched = [
        (_sim_runtime.Runtime, "deserialize_cuda_engine"),
        (_sim_refit.Refitter, "__init__"),
        (_sim_refit.Refitter, "set_named_weights"),
        (_sim_refit.Refitter, "refit_cuda_engine"),
        (_sim_refit.Refitter, "get_weights_prototype"),
        (_sim_refit.Refitter, "get_all_weights"),
    ]
    saved = [(cls, name, getattr(cls, name)) for cls, name in patched]
    for cls, name, fn in saved:
        setattr(cls, name, timed(fn))
    kind = _simulate.SIMULATED
    _kinds.register_engine_kind(
        dataclasses.replace(kind, plan=timed(kind.plan), store_plan=timed(kind.store_plan)), replace=True
    )
    try:
        yield spent
    finally:
        for cls, name, fn in saved:
            setattr(cls, name, fn)
        _kinds.register_engine_kind(kind, replace=True)


def _first(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        return next(iter(value.values()))
    if hasattr(value, "last_hidden_state"):
        return value.last_hidden_state
    return value[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS))
    names = parser.parse_args().models.split(",")
    table = Table(title="engine cache and refit (wall seconds, fp32, one run each)")
    for col in ("model", "stage", "total s", "lowering s", "engines s", "builds", "ratio", "target"):
        table.add_column(col)
    for name in names:
        label, factory = MODELS[name]
        bench(label, factory, table)
    make_console().print(table)
    info = torch_tensorrt._trt.info()
    print(f"[{info.flavour} {info.version}; engines s = conversion + build (cold), cache key + lookup (warm)]")


if __name__ == "__main__":
    main()
