"""``assert_converts``: the converter test harness.

export -> convert through the product path (``convert_exported_program``, every node must convert) -> build
with the real builder -> evaluate the network with the reference evaluator -> compare with eager PyTorch.
With ``input_ranges`` the inputs are dynamic and the network is evaluated at the profile's min, opt and max
shapes (inputs drawn inside the example input's value range, so restricted-domain ops stay in their domain).

Each output must pass two checks: elementwise ``|ref - eager| <= atol + rtol * |eager|`` with NaN and +-Inf in
exactly the same places, and the relative norm ``||ref - eager|| <= atol + rtol * ||eager||``. The default
``atol`` is ``rtol`` times the RMS of the eager output: an absolute slack on the output's own scale, so an
element near zero may be off by what cancellation costs, while a small-magnitude output (or one wrong row of a
large one) cannot hide behind a fixed absolute tolerance. Integer and bool outputs must match exactly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import torch
import torch.utils._pytree as pytree

from torch_tensorrt._input import Input

DEFAULT_TOL = {torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 1e-2}
Range = tuple[Sequence[int], Sequence[int], Sequence[int]]


@dataclass
class HarnessResult:
    """What the harness checked (returned so tests can assert more, e.g. on the network's layers)."""

    converted: Any
    points: list[str]
    max_rel_error: float


def _like(example: torch.Tensor, shape: Sequence[int], generator: torch.Generator) -> torch.Tensor:
    """A new tensor of ``shape`` drawn like ``example``: same dtype; floats from a normal distribution with the
    example's mean and standard deviation, truncated to the example's (finite) value range -- so an example
    inside a function's domain (log, sqrt, acos, ...) gives min/max-shape inputs inside it too, at the
    example's scale; integers uniform within the example's range."""
    if example.dtype.is_floating_point:
        finite = example[torch.isfinite(example)].double()
        lo = float(finite.min()) if finite.numel() else -1.0
        hi = float(finite.max()) if finite.numel() else 1.0
        mean = float(finite.mean()) if finite.numel() else 0.0
        std = float(finite.std()) if finite.numel() > 1 else 1.0
        x = mean + std * torch.randn(tuple(shape), generator=generator, dtype=torch.float64)
        for _ in range(64):  # redraw what falls outside [lo, hi] (no pile-up of ties at the bounds)
            outside = (x < lo) | (x > hi)
            if not bool(outside.any()):
                break
            x[outside] = mean + std * torch.randn(int(outside.sum()), generator=generator, dtype=torch.float64)
        return x.clamp(lo, hi).to(example.dtype)
    if example.dtype == torch.bool:
        return torch.rand(tuple(shape), generator=generator) > 0.5
    lo = int(example.min()) if example.numel() else 0
    hi = int(example.max()) if example.numel() else 1
    return torch.randint(lo, hi + 1, tuple(shape), generator=generator, dtype=example.dtype)


def mismatch(actual: torch.Tensor, expected: torch.Tensor, *, rtol: float, atol: float) -> Optional[str]:
    """``None`` when ``actual`` matches ``expected`` element by element, else what differs (one line).

    Shapes and dtypes must be equal; integer and bool elements equal exactly. For floats, NaN must appear
    exactly where expected has NaN, +Inf/-Inf exactly where expected has the same infinity, and every other
    element must satisfy ``|actual - expected| <= atol + rtol * |expected|``.
    """
    if tuple(actual.shape) != tuple(expected.shape):
        return f"shape {tuple(actual.shape)} != expected {tuple(expected.shape)}"
    if actual.dtype != expected.dtype:
        return f"dtype {actual.dtype} != expected {expected.dtype}"
    if actual.numel() == 0:
        return None
    if not expected.dtype.is_floating_point:
        bad = actual != expected
        if bool(bad.any()):
            first = tuple(int(i) for i in bad.nonzero()[0])
            return (
                f"{int(bad.sum())} of {expected.numel()} elements differ (first at {first}: "
                f"{actual[first].item()!r} != expected {expected[first].item()!r})"
            )
        return None
    a, e = actual.detach().double(), expected.detach().double()
    nan_a, nan_e = torch.isnan(a), torch.isnan(e)
    if not torch.equal(nan_a, nan_e):
        return f"NaN at {int((nan_a & ~nan_e).sum())} unexpected positions, missing at {int((nan_e & ~nan_a).sum())}"
    inf_e = torch.isinf(e)
    inf_bad = (inf_e | torch.isinf(a)) & (a != e) & ~nan_e
    if bool(inf_bad.any()):
        first = tuple(int(i) for i in inf_bad.nonzero()[0])
        return f"{int(inf_bad.sum())} infinities differ (first at {first}: {a[first].item()!r} != {e[first].item()!r})"
    finite = ~(nan_e | inf_e)
    diff = torch.where(finite, (a - e).abs(), torch.zeros_like(a))
    bound = atol + rtol * e.abs()
    bad = finite & (diff > bound)
    if bool(bad.any()):
        excess = torch.where(bad, diff - bound, torch.zeros_like(diff))
        worst = tuple(int(i) for i in (excess == excess.max()).nonzero()[0])
        return (
            f"{int(bad.sum())} of {expected.numel()} elements exceed |got - want| <= atol + rtol * |want| "
            f"(rtol={rtol:g}, atol={atol:g}); worst at {worst}: got {a[worst].item():.6g}, "
            f"want {e[worst].item():.6g}"
        )
    return None


def _relative_norm_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """``||actual - expected|| / ||expected||`` over the finite expected elements (float64)."""
    a, e = actual.detach().double(), expected.detach().double()
    finite = torch.isfinite(e)
    diff = torch.where(finite, a - e, torch.zeros_like(a))
    norm = float(torch.linalg.vector_norm(torch.where(finite, e, torch.zeros_like(e))))
    return float(torch.linalg.vector_norm(diff)) / max(norm, 1e-12)


def scale_atol(expected: torch.Tensor, rtol: float, factor: float = 1.0) -> float:
    """The default absolute tolerance: ``factor * rtol`` times the RMS of ``expected``'s finite elements."""
    e = expected.detach().double()
    e = e[torch.isfinite(e)]
    return factor * rtol * float(e.square().mean().sqrt()) if e.numel() else 0.0


def _compare(name: str, actual: Any, expected: Any, tol: float, atol: Optional[float], atol_rms: float = 1.0) -> float:
    """Check one output against eager: elementwise (:func:`mismatch`) and the relative norm
    ``||actual - expected|| <= atol + tol * ||expected||``. Returns the relative norm error.
    ``atol=None``: :func:`scale_atol` with ``factor=atol_rms``."""
    if not isinstance(expected, torch.Tensor):
        assert actual == expected, f"{name}: reference {actual!r} != eager {expected!r}"
        return 0.0
    if atol is None:
        atol = scale_atol(expected, tol, atol_rms) if expected.dtype.is_floating_point else 0.0
    why = mismatch(actual, expected, rtol=tol, atol=atol)
    assert why is None, f"{name}: {why}"
    if not expected.dtype.is_floating_point or expected.numel() == 0:
        return 0.0
    rel = _relative_norm_error(actual, expected)
    norm = float(torch.linalg.vector_norm(expected.double().nan_to_num(0.0, 0.0, 0.0)))
    assert rel * max(norm, 1e-12) <= atol + tol * norm, (
        f"{name}: relative norm error {rel:.3e} exceeds rtol={tol:g}, atol={atol:g}"
    )
    return rel


def assert_converts(
    module: Union[torch.nn.Module, Callable[..., Any]],
    inputs: Sequence[torch.Tensor],
    *,
    input_ranges: Optional[Sequence[Optional[Range]]] = None,
    input_profiles: Optional[Sequence[Optional[Sequence[Range]]]] = None,
    precision: Optional[torch.dtype] = None,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
    atol_rms: float = 1.0,
    expected_ops: Optional[set[Any]] = None,
    no_expected_ops: Optional[str] = None,
    seed: int = 0,
    **settings: Any,
) -> HarnessResult:
    """Assert that ``module`` converts whole and its network computes what eager PyTorch computes.

    ``inputs``: example tensors (the opt shapes when dynamic). ``input_ranges``: per input ``(min, opt, max)``
    shapes or None for a static input. ``input_profiles``: per input, several optimization profiles (a list of
    ``(min, opt, max)``; ``Input(profiles=...)``) or None -- the engine is built with one TensorRT profile each and
    the network is evaluated at every profile's min, opt and max shapes. ``precision``: float16/bfloat16 runs the network in that precision
    (``enabled_precisions``) and loosens the default tolerance. ``rtol``/``atol``: see the module docstring;
    ``atol_rms`` scales the default ``atol`` (a whole model in reduced precision accumulates rounding noise
    whose largest element is a few times its RMS).
    ``expected_ops`` (required): aten ops that must appear in the converted graph (guards against a test that
    silently exercises another converter); an entry may be a ``frozenset`` of alternatives, any one of which
    suffices (overloads sharing one converter). A test that cannot name them (a whole model) passes
    ``no_expected_ops="why"`` instead.
    """
    if not expected_ops and not (no_expected_ops and no_expected_ops.strip()):
        raise TypeError(
            "assert_converts: pass expected_ops={aten ops the test exercises}, or no_expected_ops='<why the test "
            "cannot name them>'"
        )
    if expected_ops and no_expected_ops:
        raise TypeError("assert_converts: pass expected_ops or no_expected_ops, not both")
    from torch_tensorrt.dynamo import convert_exported_program, trace
    from torch_tensorrt.reference._evaluator import evaluate_network
    from torch_tensorrt.reference._model import engine_inputs

    if not isinstance(module, torch.nn.Module):
        fn = module

        class _Wrap(torch.nn.Module):
            def forward(self, *args: Any) -> Any:
                return fn(*args)

        module = _Wrap()
    module = module.eval()
    tol = rtol if rtol is not None else DEFAULT_TOL[precision or torch.float32]
    ranges = list(input_ranges) if input_ranges is not None else [None] * len(inputs)
    profiles = list(input_profiles) if input_profiles is not None else [None] * len(inputs)
    if len(ranges) != len(inputs) or len(profiles) != len(inputs):
        raise ValueError(f"input_ranges/input_profiles need one entry per input ({len(inputs)})")
    specs = [
        Input(profiles=[dict(zip(("min", "opt", "max"), r)) for r in ps], dtype=t.dtype, torch_tensor=t)
        if ps
        else Input(min_shape=r[0], opt_shape=r[1], max_shape=r[2], dtype=t.dtype, torch_tensor=t)
        if r is not None
        else t
        for t, r, ps in zip(inputs, ranges, profiles)
    ]
    ep = trace(module, arg_inputs=specs)
    extra: dict[str, Any] = {} if precision is None else {"enabled_precisions": {precision}}
    # Converter tests test converters: constant folding (which could compute the op under test at compile
    # time) is off unless the caller asks for it.
    settings.setdefault("fold_constants", False)
    converted = convert_exported_program(ep, specs, **extra, **settings)
    if expected_ops:
        converted_ops = {n.target for n in converted.graph_module.graph.nodes if n.op == "call_function"}
        missing = [
            op
            for op in expected_ops
            if not (set(op) & converted_ops if isinstance(op, frozenset) else op in converted_ops)
        ]
        assert not missing, (
            f"expected ops {missing} not in the converted graph; it has {sorted(map(str, converted_ops))}"
        )

    gen = torch.Generator().manual_seed(seed)
    points: list[tuple[str, list[torch.Tensor]]] = [("opt", list(inputs))]
    if any(r is not None for r in ranges):
        for which, idx in (("min", 0), ("max", 2)):
            points.append((which, [t if r is None else _like(t, r[idx], gen) for t, r in zip(inputs, ranges)]))
    for p in range(max((len(ps) for ps in profiles if ps), default=0)):
        for which, idx in (("min", 0), ("opt", 1), ("max", 2)):
            values = [t if not ps else _like(t, ps[p][idx], gen) for t, ps in zip(inputs, profiles)]
            points.append((f"profile {p} {which}", values))
    worst = 0.0
    with torch.no_grad():
        for label, values in points:
            expected = module(*values)
            outs = evaluate_network(converted.network.network, engine_inputs(converted, values))
            actual = pytree.tree_unflatten([outs[n] for n in converted.output_names], ep.call_spec.out_spec)
            flat_e, spec_e = pytree.tree_flatten(expected)
            flat_a, spec_a = pytree.tree_flatten(actual)
            assert spec_e == spec_a, f"[{label}] output structure {spec_a} != eager {spec_e}"
            for i, (a, e) in enumerate(zip(flat_a, flat_e)):
                worst = max(worst, _compare(f"[{label} shapes] output {i}", a, e, tol, atol, atol_rms))
    _log_case(converted, dynamic=any(r is not None for r in ranges) or any(profiles), precision=precision)
    return HarnessResult(converted, [p[0] for p in points], worst)


def _log_case(converted: Any, dynamic: bool, precision: Optional[torch.dtype]) -> None:
    """With ``TORCHTRT_HARNESS_LOG=path`` set, append the converted op names of this passing case (JSON
    lines; read by benchmarks/coverage.py)."""
    path = os.environ.get("TORCHTRT_HARNESS_LOG")
    if not path:
        return
    from torch_tensorrt._errors import op_name

    ops = sorted({op_name(n) for n in converted.graph_module.graph.nodes if n.op == "call_function"})
    entry = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "ops": ops,
        "dynamic": dynamic,
        "precision": str(precision) if precision else "float32",
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
