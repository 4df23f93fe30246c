"""The ONNX oracle of the reference evaluator: NVIDIA's ONNX parser and ONNX's own operator test cases.

Every number this project checks goes through the reference evaluator, which encodes our reading of the
TensorRT documentation. This module checks that reading against two sources nobody here wrote: TensorRT's
``OnnxParser`` turns each ONNX node test case (``onnx.backend.test.case.node.collect_testcases()``) into an
``INetworkDefinition`` the way NVIDIA maps ONNX onto TensorRT layers, ``evaluate_network`` computes that
network on the case's inputs, and the result is compared with the outputs ONNX ships.

Used by ``tests/oracle`` (one test per case, a summary test) and ``benchmarks/oracle.py`` (the table). Cases are
parsed and evaluated lazily, once per process, and nothing is cached on disk.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch

from torch_tensorrt import _trt
from torch_tensorrt._dtypes import torch_dtype_of
from torch_tensorrt.reference import evaluate_network
from torch_tensorrt.testing._harness import mismatch

#: Outcomes of one case, in table order.
AGREE = "agree"  #: every output matches ONNX's expected output
DIFFER = "differ"  #: the evaluation finished and some output differs
NOT_MODELLED = "not modelled"  #: the evaluator raised NotImplementedError (a layer type or attribute)
ERROR = "error"  #: the evaluator raised another error
NOT_PARSED = "not parsed"  #: TensorRT's ONNX parser rejected the model
NOT_TENSOR_IO = "not tensor I/O"  #: a sequence/optional/map value, or a dtype TensorRT has no type for
OUTCOMES = (AGREE, DIFFER, NOT_MODELLED, ERROR, NOT_PARSED, NOT_TENSOR_IO)

#: numpy dtype names (ml_dtypes' included) -> torch dtype, for the dtypes TensorRT has.
_NUMPY_TO_TORCH = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float8_e4m3fn": torch.float8_e4m3fn,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "float64": torch.float64,  # narrowed to float32 by the parser (TensorRT has no DOUBLE), see _feed
}
#: Bit-identical integer views used to move ml_dtypes arrays into torch.
_BIT_VIEWS = {torch.bfloat16: (np.uint16, torch.int16), torch.float8_e4m3fn: (np.uint8, torch.uint8)}


class _QuietLogger:
    """A TensorRT logger that keeps the messages (the parser's reasons) instead of printing them."""

    def __new__(cls) -> Any:
        trt = _trt.load()

        class Logger(trt.ILogger):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                trt.ILogger.__init__(self)
                self.messages: list[str] = []

            def log(self, severity: Any, msg: str) -> None:
                if severity <= trt.ILogger.Severity.ERROR:
                    self.messages.append(msg)

        return Logger()


def load_cases() -> dict[str, Any]:
    """ONNX's node test cases by name (about 1,900; ~10 s: the cases are generated in Python)."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators overflow casts and divide by zero on purpose
        return {c.name: c for c in collect_testcases()}


def to_torch(value: Any) -> Optional[torch.Tensor]:
    """A test-case value as a tensor, or None when it is not a tensor of a dtype TensorRT has."""
    if isinstance(value, np.generic):
        value = np.array(value)
    if not isinstance(value, np.ndarray):
        return None
    dtype = _NUMPY_TO_TORCH.get(value.dtype.name)
    if dtype is None:
        return None
    array = np.array(value, copy=True)  # keeps 0-D shapes (np.ascontiguousarray would make them 1-D)
    if dtype in _BIT_VIEWS:
        as_np, as_torch = _BIT_VIEWS[dtype]
        return torch.from_numpy(array.view(as_np)).view(as_torch).view(dtype)
    return torch.from_numpy(array)


@dataclass(frozen=True)
class CaseResult:
    """What one case gave: the outcome, the ONNX ops of the model, the network's layer types and a reason."""

    name: str
    outcome: str
    op_types: tuple[str, ...]
    layer_types: tuple[str, ...] = ()
    detail: str = ""
    #: for NOT_MODELLED / ERROR / DIFFER: whether TensorRT's builder builds the network (None: not tried)
    builds: Optional[bool] = None


@dataclass
class _Parsed:
    builder: Any
    network: Any
    parser: Any  # the network's layers keep references into the parser: hold it as long as the network
    logger: Any


def _layer_types(network: Any) -> tuple[str, ...]:
    return tuple(sorted({network.get_layer(i).type.name for i in range(network.num_layers)}))


def _feed(network: Any, names: list[str], values: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """The network inputs from the case's inputs, matched by name (by position where the parser renamed
    them: it names a Loop's condition input after the body's). float64 inputs are narrowed where the parser
    declares float32 (TensorRT has no double type); anything else must match exactly."""
    by_name = dict(zip(names, values))
    net_names = [network.get_input(i).name for i in range(network.num_inputs)]
    if not set(net_names) <= set(by_name) and len(net_names) == len(values):
        by_name = dict(zip(net_names, values))
    feeds = {}
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        value = by_name[tensor.name]
        declared = torch_dtype_of(tensor.dtype)
        if value.dtype == torch.float64 and declared == torch.float32:
            value = value.float()
        feeds[tensor.name] = value
    return feeds


@dataclass
class Oracle:
    """The cases, parsed and evaluated on demand (each at most once)."""

    cases: dict[str, Any] = field(default_factory=load_cases)
    _results: dict[str, CaseResult] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.cases)

    def result(self, name: str) -> CaseResult:
        if name not in self._results:
            self._results[name] = self._run(name)
        return self._results[name]

    def results(self) -> list[CaseResult]:
        return [self.result(n) for n in self.names()]

    def _parse(self, case: Any) -> tuple[Optional[_Parsed], str]:
        trt = _trt.load()
        logger = _QuietLogger()
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        if parser.parse(case.model.SerializeToString()):
            return _Parsed(builder, network, parser, logger), ""
        reason = parser.get_error(0).desc() if parser.num_errors else "; ".join(logger.messages[-1:])
        return None, reason.strip().splitlines()[0] if reason.strip() else "parse failed"

    def _run(self, name: str) -> CaseResult:
        case = self.cases[name]
        graph = case.model.graph
        ops = tuple(sorted({n.op_type for n in graph.node}))
        parsed, reason = self._parse(case)
        if parsed is None:
            return CaseResult(name, NOT_PARSED, ops, detail=reason)
        network = parsed.network
        layers = _layer_types(network)
        inputs, outputs = case.data_sets[0]
        in_values = [to_torch(v) for v in inputs]
        out_values = [to_torch(v) for v in outputs]
        if any(v is None for v in in_values + out_values):
            kinds = sorted({type(v).__name__ if not isinstance(v, np.ndarray) else str(v.dtype)
                            for v, t in zip(list(inputs) + list(outputs), in_values + out_values) if t is None})
            return CaseResult(name, NOT_TENSOR_IO, ops, layers, f"values of kind {kinds}")
        in_names = [v.name for v in graph.input]
        out_names = [v.name for v in graph.output]
        net_outs = {network.get_output(i).name for i in range(network.num_outputs)}
        if set(out_names) != net_outs:
            return CaseResult(name, NOT_TENSOR_IO, ops, layers, f"network outputs {sorted(net_outs)} != {out_names}")
        feeds: Optional[dict[str, torch.Tensor]] = None
        try:
            feeds = _feed(network, in_names, in_values)  # type: ignore[arg-type]
            got = evaluate_network(network, feeds)
        except NotImplementedError as exc:
            return CaseResult(name, NOT_MODELLED, ops, layers, str(exc), self._builds(parsed, feeds))
        except Exception as exc:  # noqa: BLE001 -- recorded as the case's outcome, and a test fails on it
            return CaseResult(name, ERROR, ops, layers, f"{type(exc).__name__}: {exc}", self._builds(parsed, feeds))
        problems = []
        for out_name, want in zip(out_names, out_values):
            assert want is not None
            have = got[out_name]
            if want.dtype == torch.float64 and have.dtype == torch.float32:
                want = want.float()  # the parser's float64 -> float32 narrowing, as for the inputs
            why = mismatch(have, want, rtol=case.rtol, atol=_atol(case, want.dtype))
            if why:
                problems.append(f"{out_name}: {why}")
        if problems:
            return CaseResult(name, DIFFER, ops, layers, "; ".join(problems), self._builds(parsed, feeds))
        return CaseResult(name, AGREE, ops, layers)

    @staticmethod
    def _builds(parsed: _Parsed, feeds: Optional[dict[str, torch.Tensor]]) -> Optional[bool]:
        """Whether TensorRT's builder builds the network for the case's input shapes and shape-input values
        (one optimization profile pinned to them); None when the inputs could not be matched."""
        if feeds is None:
            return None
        builder, network = parsed.builder, parsed.network
        config = builder.create_builder_config()
        profile = builder.create_optimization_profile()
        pinned = False
        for i in range(network.num_inputs):
            tensor = network.get_input(i)
            value = feeds[tensor.name]
            if tensor.is_shape_tensor:
                values = [int(v) for v in value.reshape(-1).tolist()]
                profile.set_shape_input(tensor.name, values, values, values)
                pinned = True
            elif -1 in tuple(tensor.shape):
                shape = tuple(value.shape)
                profile.set_shape(tensor.name, shape, shape, shape)
                pinned = True
        if pinned:
            config.add_optimization_profile(profile)
        return builder.build_serialized_network(network, config) is not None


def _atol(case: Any, dtype: torch.dtype) -> float:
    """The case's absolute tolerance, at least a few units in the last place of the output's dtype near 1.

    ONNX's cases carry ``atol=1e-7``, meant for float32 results from numpy; outputs in reduced precision
    (float16, bfloat16) round to a coarser grid and cannot meet it near zero.
    """
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else 0.0
    return max(float(case.atol), 4 * eps if dtype in (torch.float16, torch.bfloat16) else 0.0)


def agreement(results: list[CaseResult]) -> tuple[int, int]:
    """(agreeing cases, cases with tensor I/O that parsed)."""
    checked = [r for r in results if r.outcome not in (NOT_PARSED, NOT_TENSOR_IO)]
    return sum(r.outcome == AGREE for r in checked), len(checked)


__all__ = ["Oracle", "CaseResult", "OUTCOMES", "agreement", "load_cases", "to_torch"]
