"""The ONNX oracle of the reference evaluator: NVIDIA's ONNX parser and ONNX's own operator test cases.

Every number this project checks goes through the reference evaluator, which encodes our reading of the
TensorRT documentation. This module checks that reading against two sources nobody here wrote: TensorRT's
``OnnxParser`` turns each ONNX node test case (``onnx.backend.test.case.node.collect_testcases()``) into an
``INetworkDefinition`` the way NVIDIA maps ONNX onto TensorRT layers, ``evaluate_network`` computes that
network on the case's inputs, and the result is compared with the outputs ONNX ships.

A few cases are compared by property instead of exactly, where TensorRT leaves open what ONNX's reference fixes
(the order among equal values, random values): ``property_checks.py`` lists them, and they count apart. Cases
where the parser builds the network of another ONNX model (``known_differences.py``: an attribute it ignores, an
input it never reads) are compared with what ONNX's reference implementation computes for that model; they count
apart too.

Used by ``tests/oracle`` (one test per case, a summary test) and ``benchmarks/oracle.py`` (the table). Cases are
parsed and evaluated lazily, once per process, and nothing is cached on disk.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Union

import numpy as np
import torch

from torch_tensorrt import _trt
from torch_tensorrt._dtypes import torch_dtype_of
from torch_tensorrt._trt_logging import trt_logger
from torch_tensorrt.reference import evaluate_network
from torch_tensorrt.testing._harness import mismatch

from known_differences import KNOWN, parser_model
from property_checks import PROPERTY, Trial

#: Outcomes of one case, in table order.
AGREE = "agree"  #: every output matches ONNX's expected output
AGREE_PROPERTY = "agree (property)"  #: exact comparison fails, the listed property comparison passes
#: a listed difference where the parser builds another model's network: the outputs match ONNX's reference
#: implementation run on that model (known_differences.parser_model)
AGREE_PARSER_MODEL = "agree (parser's model)"
DIFFER = "differ"  #: the evaluation finished and some output differs
NOT_MODELLED = "not modelled"  #: the evaluator raised NotImplementedError (a layer type or attribute)
ERROR = "error"  #: the evaluator raised another error
NOT_PARSED = "not parsed"  #: TensorRT's ONNX parser rejected the model
NOT_TENSOR_IO = "not tensor I/O"  #: a sequence/optional/map value, or a dtype TensorRT has no type for
OUTCOMES = (AGREE, AGREE_PROPERTY, AGREE_PARSER_MODEL, DIFFER, NOT_MODELLED, ERROR, NOT_PARSED, NOT_TENSOR_IO)

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
    "float64": torch.float64,  # narrowed to float32 by the parser (TensorRT has no DOUBLE), see feed
}
#: Bit-identical integer views used to move ml_dtypes arrays into torch.
_BIT_VIEWS = {torch.bfloat16: (np.uint16, torch.int16), torch.float8_e4m3fn: (np.uint8, torch.uint8)}


class _QuietLogger:
    """A TensorRT logger that keeps the parser's messages (its reasons) instead of printing them."""

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
    #: network inputs that no layer reads (the parser dropped what the ONNX model does with them)
    unused_inputs: tuple[str, ...] = ()


@dataclass
class _Prepared:
    """A parsed case with tensor I/O, ready to evaluate."""

    builder: Any
    network: Any
    parser: Any  # the network's layers keep references into the parser: hold it as long as the network
    logger: Any
    ops: tuple[str, ...]
    feeds_in: list[tuple[str, torch.Tensor]]
    expected: list[tuple[str, torch.Tensor]]


def _layer_types(network: Any) -> tuple[str, ...]:
    return tuple(sorted({network.get_layer(i).type.name for i in range(network.num_layers)}))


def _unused_inputs(network: Any) -> tuple[str, ...]:
    read = {
        layer.get_input(k).name
        for layer in (network.get_layer(i) for i in range(network.num_layers))
        for k in range(layer.num_inputs)
        if layer.get_input(k) is not None
    }
    outputs = {network.get_output(i).name for i in range(network.num_outputs)}
    return tuple(n for n in (network.get_input(i).name for i in range(network.num_inputs)) if n not in read | outputs)


def feed(network: Any, named: list[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The network inputs from the case's inputs, matched by name (by position where the parser renamed
    them: it names a Loop's condition input after the body's). float64 inputs are narrowed where the parser
    declares float32 (TensorRT has no double type); anything else must match exactly."""
    by_name = dict(named)
    net_names = [network.get_input(i).name for i in range(network.num_inputs)]
    if not set(net_names) <= set(by_name) and len(net_names) == len(named):
        by_name = dict(zip(net_names, (v for _, v in named)))
    feeds = {}
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        value = by_name[tensor.name]
        declared = torch_dtype_of(tensor.dtype)
        if value.dtype == torch.float64 and declared == torch.float32:
            value = value.float()
        feeds[tensor.name] = value
    return feeds


class Oracle:
    """The cases: :meth:`screen` parses each once (the parser and the tensor-I/O check), :meth:`result`
    evaluates and compares a case once; both are cached for the life of the object."""

    def __init__(self, cases: Optional[dict[str, Any]] = None) -> None:
        self.cases = cases if cases is not None else load_cases()
        self._screened: dict[str, Union[CaseResult, _Prepared]] = {}
        self._results: dict[str, CaseResult] = {}
        self._logger = _QuietLogger()
        # One builder makes every network (and builds them). It gets the product's logger: TensorRT keeps the first
        # logger a builder or runtime registered for the whole process, and warns on every later, different one.
        self._builder = _trt.load().Builder(trt_logger())

    def names(self) -> list[str]:
        return sorted(self.cases)

    def checked_names(self) -> list[str]:
        """The cases that parse and have tensor inputs and outputs (parses every case, once)."""
        return [n for n in self.names() if isinstance(self.screen(n), _Prepared)]

    def screen(self, name: str) -> Union[CaseResult, _Prepared]:
        if name not in self._screened:
            self._screened[name] = self._screen(name)
        return self._screened[name]

    def result(self, name: str) -> CaseResult:
        if name not in self._results:
            screened = self.screen(name)
            self._results[name] = screened if isinstance(screened, CaseResult) else self._evaluate(name, screened)
            self._screened[name] = self._results[name]  # the network is not needed any more
        return self._results[name]

    def results(self) -> list[CaseResult]:
        return [self.result(n) for n in self.names()]

    def parse(self, model: Any) -> tuple[Optional[_Prepared], str]:
        """Parse an ONNX ModelProto; (the parsed network, "") or (None, the parser's first error)."""
        self._logger.messages.clear()
        network = self._builder.create_network(0)
        parser = _trt.load().OnnxParser(network, self._logger)
        if parser.parse(model.SerializeToString()):
            return _Prepared(self._builder, network, parser, self._logger, (), [], []), ""
        reason = parser.get_error(0).desc() if parser.num_errors else "; ".join(self._logger.messages[-1:])
        return None, reason.strip().splitlines()[0] if reason.strip() else "parse failed"

    def _screen(self, name: str) -> Union[CaseResult, _Prepared]:
        case = self.cases[name]
        graph = case.model.graph
        ops = tuple(sorted({n.op_type for n in graph.node}))
        parsed, reason = self.parse(case.model)
        if parsed is None:
            return CaseResult(name, NOT_PARSED, ops, detail=reason)
        network = parsed.network
        inputs, outputs = case.data_sets[0]
        in_values = [to_torch(v) for v in inputs]
        out_values = [to_torch(v) for v in outputs]
        if any(v is None for v in in_values + out_values):
            kinds = sorted(
                {
                    type(v).__name__ if not isinstance(v, np.ndarray) else str(v.dtype)
                    for v, t in zip(list(inputs) + list(outputs), in_values + out_values)
                    if t is None
                }
            )
            return CaseResult(name, NOT_TENSOR_IO, ops, _layer_types(network), f"values of kind {kinds}")
        out_names = [v.name for v in graph.output]
        net_outs = {network.get_output(i).name for i in range(network.num_outputs)}
        if set(out_names) != net_outs:
            return CaseResult(
                name, NOT_TENSOR_IO, ops, _layer_types(network), f"network outputs {sorted(net_outs)} != {out_names}"
            )
        parsed.ops = ops
        parsed.feeds_in = list(zip((v.name for v in graph.input), in_values))  # type: ignore[arg-type]
        parsed.expected = list(zip(out_names, out_values))  # type: ignore[arg-type]
        return parsed

    def _evaluate(self, name: str, prepared: _Prepared) -> CaseResult:
        case = self.cases[name]
        network, ops = prepared.network, prepared.ops
        layers, unused = _layer_types(network), _unused_inputs(network)

        def outcome(kind: str, detail: str = "", feeds: Optional[dict[str, torch.Tensor]] = None) -> CaseResult:
            builds = None if kind == AGREE else self._builds(prepared, feeds)
            return CaseResult(name, kind, ops, layers, detail, builds, unused)

        feeds: Optional[dict[str, torch.Tensor]] = None
        try:
            feeds = feed(network, prepared.feeds_in)
            got = evaluate_network(network, feeds)
        except NotImplementedError as exc:
            return outcome(NOT_MODELLED, str(exc), feeds)
        except Exception as exc:  # noqa: BLE001 -- recorded as the case's outcome, and a test fails on it
            return outcome(ERROR, f"{type(exc).__name__}: {exc}", feeds)
        wants = _expected_as_evaluated(prepared, got)
        exact = _differences(case, got, wants)
        if exact is None:
            return outcome(AGREE)
        known = KNOWN.get(name)
        if known is not None and known.has_parser_model:
            why = compare_with_reference(case, parser_model(case.model, known), got)
            if why is None:
                return outcome(AGREE_PARSER_MODEL, f"exact comparison: {exact}", feeds)
            return outcome(DIFFER, f"against the parser's model: {why} (exact comparison: {exact})", feeds)
        comparison = PROPERTY.get(name)
        if comparison is None:
            return outcome(DIFFER, exact, feeds)
        why = comparison.check(_trial(case.model, prepared, feeds, got, wants))
        if why is None:
            return outcome(AGREE_PROPERTY, f"exact comparison: {exact}", feeds)
        return outcome(DIFFER, f"property comparison: {why} (exact comparison: {exact})", feeds)

    def trial(self, name: str) -> Trial:
        """A case's property-comparison trial, from a fresh parse and evaluation (for tests that feed the
        property checks wrong outputs)."""
        prepared = self._screen(name)
        assert isinstance(prepared, _Prepared), f"{name} is not a checked case"
        feeds = feed(prepared.network, prepared.feeds_in)
        got = evaluate_network(prepared.network, feeds)
        return _trial(self.cases[name].model, prepared, feeds, got, _expected_as_evaluated(prepared, got))

    @staticmethod
    def _builds(prepared: _Prepared, feeds: Optional[dict[str, torch.Tensor]]) -> Optional[bool]:
        """Whether TensorRT's builder builds the network for the case's input shapes and shape-input values
        (one optimization profile pinned to them); None when the inputs could not be matched."""
        if feeds is None:
            return None
        builder, network = prepared.builder, prepared.network
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


#: Layer attributes that go into a network's signature (read where the layer's class has them).
_SIGNATURE_ATTRIBUTES = (
    "op",
    "operation",
    "first_transpose",
    "second_transpose",
    "reshape_dims",
    "zero_is_placeholder",
    "axes",
    "axis",
    "mode",
    "to_type",
    "k",
    "type",
    "shape",
    "start",
    "stride",
    "padding_mode",
    "window_size_nd",
    "stride_nd",
    "pre_padding",
    "post_padding",
    "average_count_excludes_padding",
    "kind",
    "reverse",
    "exclusive",
)


def network_signature(network: Any) -> list[tuple[Any, ...]]:
    """What a network computes, independent of its tensor names: per layer its type, the attributes above that
    its class has, a small constant's values, the causal flag and normalization of an attention, where each
    input comes from (a network input by position, or a layer output) and the declared output shapes and types.
    Two models with equal signatures are parsed into the same computation."""
    from torch_tensorrt.reference._registry import lookup

    trt = _trt.load()
    producers: dict[str, tuple[Any, ...]] = {network.get_input(i).name: ("input", i) for i in range(network.num_inputs)}
    for index in range(network.num_layers):  # all producers first: a loop's recurrence reads a later layer
        layer = network.get_layer(index)
        producers.update({layer.get_output(k).name: ("layer", index, k) for k in range(layer.num_outputs)})
    signature = []
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        type_name = layer.type.name
        spec = lookup(type_name)
        if spec is not None:
            layer.__class__ = getattr(trt, spec.layer_class)
        entry: list[Any] = [type_name]
        for attr in _SIGNATURE_ATTRIBUTES:
            try:
                value = getattr(layer, attr)
            except Exception:  # noqa: BLE001 -- an attribute this layer's class does not have, or cannot give
                continue
            if not callable(value):
                entry.append((attr, str(value)))
        if type_name == "CONSTANT" and isinstance(layer.weights, np.ndarray) and layer.weights.size <= 64:
            entry.append(("weights", layer.weights.tolist()))
        if type_name == "ATTENTION_INPUT":
            entry.append(("attention", str(layer.attention.causal), str(layer.attention.norm_op)))
        for k in range(layer.num_inputs):
            tensor = layer.get_input(k)
            entry.append(("in", k, None if tensor is None else producers.get(tensor.name)))
        for k in range(layer.num_outputs):
            out = layer.get_output(k)
            entry.append(("out", k, tuple(out.shape), out.dtype.name))
        signature.append(tuple(entry))
    outputs = [producers.get(network.get_output(i).name) for i in range(network.num_outputs)]
    return signature + [("outputs", tuple(outputs))]


def _expected_as_evaluated(prepared: _Prepared, got: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """ONNX's expected outputs by name, as :func:`_narrowed`."""
    return _narrowed(prepared.expected, got)


def _narrowed(wants: Iterable[tuple[str, torch.Tensor]], got: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Wanted outputs by name, float64 narrowed to float32 where the network computes float32 (the parser's
    narrowing, as for the inputs)."""
    narrowed = {}
    for out_name, want in wants:
        if want.dtype == torch.float64 and got[out_name].dtype == torch.float32:
            want = want.float()
        narrowed[out_name] = want
    return narrowed


def _differences(case: Any, got: dict[str, torch.Tensor], wants: dict[str, torch.Tensor]) -> Optional[str]:
    """How ``got`` differs from ``wants`` (the case's tolerances, per output), or None."""
    problems = []
    for out_name, want in wants.items():
        why = mismatch(got[out_name], want, rtol=case.rtol, atol=_atol(case, want.dtype))
        if why:
            problems.append(f"{out_name}: {why}")
    return "; ".join(problems) or None


def reference_outputs(model: Any, inputs: dict[str, Any]) -> dict[str, torch.Tensor]:
    """ONNX's reference implementation (``onnx.reference.ReferenceEvaluator``) run on ``model``: its outputs by
    name, as tensors."""
    from onnx.reference import ReferenceEvaluator

    values = ReferenceEvaluator(model).run(None, {v.name: inputs[v.name] for v in model.graph.input})
    outputs = {}
    for v, value in zip(model.graph.output, values):
        tensor = to_torch(value)
        assert tensor is not None, f"{v.name}: the reference gave a {type(value).__name__}"
        outputs[v.name] = tensor
    return outputs


def compare_with_reference(case: Any, model: Any, got: dict[str, torch.Tensor]) -> Optional[str]:
    """How the evaluator's outputs ``got`` differ from ONNX's reference on ``model`` (run on the case's inputs),
    or None; tolerances and float64 narrowing as for the case's own outputs."""
    inputs = dict(zip((v.name for v in case.model.graph.input), case.data_sets[0][0]))
    return _differences(case, got, _narrowed(reference_outputs(model, inputs).items(), got))


def _trial(
    model: Any,
    prepared: _Prepared,
    feeds: dict[str, torch.Tensor],
    got: dict[str, torch.Tensor],
    wants: dict[str, torch.Tensor],
) -> Trial:
    network = prepared.network
    return Trial(model, dict(prepared.feeds_in), wants, got, lambda seed: evaluate_network(network, feeds, seed=seed))


@functools.lru_cache(maxsize=1)
def shared() -> Oracle:
    """The process's oracle (the tests parametrize by case name at collection, then evaluate lazily)."""
    return Oracle()


def _atol(case: Any, dtype: torch.dtype) -> float:
    """The case's absolute tolerance, at least a few units in the last place of the output's dtype near 1.

    ONNX's cases carry ``atol=1e-7``, meant for float32 results from numpy; outputs in reduced precision
    (float16, bfloat16) round to a coarser grid and cannot meet it near zero.
    """
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else 0.0
    return max(float(case.atol), 4 * eps if dtype in (torch.float16, torch.bfloat16) else 0.0)


#: The outcomes that count as agreeing with the oracle.
AGREEING = (AGREE, AGREE_PROPERTY, AGREE_PARSER_MODEL)


def agreement(results: list[CaseResult]) -> tuple[int, int]:
    """(agreeing cases -- exactly, by their listed property comparison or against the parser's model; cases with
    tensor I/O that parsed)."""
    checked = [r for r in results if r.outcome not in (NOT_PARSED, NOT_TENSOR_IO)]
    return sum(r.outcome in AGREEING for r in checked), len(checked)


__all__ = [
    "AGREEING",
    "Oracle",
    "CaseResult",
    "OUTCOMES",
    "Trial",
    "agreement",
    "network_signature",
    "feed",
    "reference_outputs",
    "compare_with_reference",
    "load_cases",
    "shared",
    "to_torch",
]
