"""Hand-built engines for runtime tests and benchmarks (no compiler involved).

:func:`simulated_module` turns a network built through the TensorRT API into a
:class:`~torch_tensorrt.runtime.TorchTensorRTModule` running on the simulated runtime: the network is
recorded into the metadata and (optionally) really built with the TensorRT builder, exactly as the compiler
does inside ``testing.simulate()``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.runtime._metadata import Dim, EngineMetadata, TensorSpec, dtype_name
from torch_tensorrt.testing._recording import record_network
from torch_tensorrt.testing._simulate import KIND_SIMULATED


def new_network() -> tuple[Any, Any]:
    """A TensorRT builder and an empty strongly typed network."""
    from torch_tensorrt.dynamo.conversion._builder import make_builder

    builder = make_builder()
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    return builder, network


def spec(
    name: str,
    dtype: torch.dtype,
    shape: Sequence[Dim],
    min: Optional[Sequence[int]] = None,  # noqa: A002 -- the metadata's field names
    opt: Optional[Sequence[int]] = None,
    max: Optional[Sequence[int]] = None,  # noqa: A002
) -> TensorSpec:
    """A :class:`TensorSpec`; static shapes get min = opt = max = shape."""
    static = all(isinstance(d, int) for d in shape)
    as_list: Any = lambda s: list(s) if s is not None else (list(shape) if static else None)  # noqa: E731
    return TensorSpec(name, dtype_name(dtype), list(shape), as_list(min), as_list(opt), as_list(max))


def add_input(network: Any, s: TensorSpec) -> Any:
    """Declare ``s`` as a network input (dynamic dims as -1)."""
    dims = [d if isinstance(d, int) else -1 for d in s.shape]
    return network.add_input(s.name, trt_dtype_of(s.torch_dtype), dims)


def build_engine(builder: Any, network: Any, inputs: Sequence[TensorSpec]) -> bytes:
    """Build ``network`` with the real TensorRT builder (works without a GPU on TensorRT-RTX)."""
    from torch_tensorrt._settings import CompilationSettings
    from torch_tensorrt.dynamo.conversion._builder import build_serialized

    return bytes(
        build_serialized(builder, network, CompilationSettings(), list(inputs), network.name or "engine").engine
    )


def simulated_module(
    builder: Any,
    network: Any,
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    symbols: Optional[dict[str, Sequence[Union[str, int]]]] = None,
    *,
    name: str = "sim_engine",
    build: bool = True,
    settings: Any = None,
    requires_output_allocator: bool = False,
    engine: Optional[bytes] = None,
) -> Any:
    """A ``TorchTensorRTModule`` whose engine is ``network``, recorded for the simulated runtime.

    ``outputs`` give each output's dtype and shape (ints or expressions over ``symbols``, which map each symbol
    to ``[input name, dim]``). ``build=False`` skips the real builder (the plan bytes are then a placeholder); ``engine`` gives the plan
    bytes explicitly (e.g. a stand-in TensorRT plan, so that the C++ test build runs the same engine)."""
    from torch_tensorrt.runtime._module import TorchTensorRTModule

    network.name = name
    metadata = EngineMetadata(
        inputs=list(inputs),
        outputs=list(outputs),
        symbols={k: list(v) for k, v in (symbols or {}).items()},
        engine_kind=KIND_SIMULATED,
        network=record_network(network),
    )
    if engine is None:
        engine = build_engine(builder, network, inputs) if build else b"simulated-engine-placeholder"
    return TorchTensorRTModule(
        serialized_engine=engine,
        input_binding_names=[s.name for s in inputs],
        output_binding_names=[s.name for s in outputs],
        name=name,
        settings=settings,
        requires_output_allocator=requires_output_allocator,
        metadata=metadata,
    )


def identity_module(
    shape: Sequence[Dim] = (1,),
    dtype: torch.dtype = torch.float32,
    build: bool = False,
    min_shape: Optional[Sequence[int]] = None,
    max_shape: Optional[Sequence[int]] = None,
    engine: Optional[bytes] = None,
) -> Any:
    """A simulated engine computing ``y = x`` (an IDENTITY layer): the no-op engine of the overhead benchmark.
    A dynamic ``shape`` (e.g. ``["s0", 4]``) needs ``min_shape``/``max_shape``; symbol ``s<i>`` is dim ``i``."""
    builder, network = new_network()
    x = spec("x", dtype, list(shape), min=min_shape, opt=min_shape, max=max_shape)
    layer = network.add_identity(add_input(network, x))
    layer.get_output(0).name = "y"
    network.mark_output(layer.get_output(0))
    symbols: dict[str, Any] = {d: ["x", i] for i, d in enumerate(shape) if isinstance(d, str)}
    y = spec("y", dtype, list(shape))
    return simulated_module(builder, network, [x], [y], symbols, name="identity", build=build, engine=engine)


def matmul_relu_module(
    in_features: int = 4, out_features: int = 3, max_batch: int = 8, seed: int = 0, build: bool = False, **kwargs: Any
) -> tuple[Any, torch.Tensor]:
    """A simulated engine ``y = relu(x @ W)`` with a dynamic batch ``s0`` in ``[1, max_batch]``; returns the module
    and ``W`` (float32 ``[in_features, out_features]``) for computing the expected result."""
    import numpy as np

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((in_features, out_features)).astype(np.float32)
    builder, network = new_network()
    x = spec(
        "x",
        torch.float32,
        ["s0", in_features],
        min=[1, in_features],
        opt=[2, in_features],
        max=[max_batch, in_features],
    )
    const = network.add_constant((in_features, out_features), trt.Weights(w))
    mm = network.add_matrix_multiply(
        add_input(network, x), trt.MatrixOperation.NONE, const.get_output(0), trt.MatrixOperation.NONE
    )
    relu = network.add_activation(mm.get_output(0), trt.ActivationType.RELU)
    relu.get_output(0).name = "y"
    network.mark_output(relu.get_output(0))
    y = spec("y", torch.float32, ["s0", out_features])
    kwargs.setdefault("name", "matmul_relu")
    module = simulated_module(builder, network, [x], [y], {"s0": ["x", 0]}, build=build, **kwargs)
    return module, torch.from_numpy(w.copy())


class EngineLeafTracer(torch.fx.Tracer):
    """An FX tracer that keeps ``TorchTensorRTModule`` submodules as ``call_module`` leaves (as compile does)."""

    def is_leaf_module(self, m: torch.nn.Module, module_qualified_name: str) -> bool:
        from torch_tensorrt.runtime._module import TorchTensorRTModule

        return isinstance(m, TorchTensorRTModule) or super().is_leaf_module(m, module_qualified_name)


def graph_module(root: torch.nn.Module) -> torch.fx.GraphModule:
    """``root`` as a GraphModule whose engine submodules stay leaves: a stand-in for a compiled program."""
    return torch.fx.GraphModule(root, EngineLeafTracer().trace(root))


def nonzero_module(rows: int = 3, cols: int = 4) -> Any:
    """A simulated engine ``idx = nonzero(x)`` (TensorRT layout ``[rank, count]``, int32): a data-dependent
    output shape ``[2, u0]``, run through the output allocator."""
    builder, network = new_network()
    xs = spec("x", torch.float32, [rows, cols])
    nz = network.add_non_zero(add_input(network, xs))
    nz.get_output(0).name = "idx"
    network.mark_output(nz.get_output(0))
    out = spec("idx", torch.int32, [2, "u0"])  # INonZeroLayer yields int32 on TensorRT-RTX
    return simulated_module(
        builder, network, [xs], [out], {}, build=False, requires_output_allocator=True, name="nonzero"
    )


def kv_cache_module(name: str = "kv") -> Any:
    """An engine with an output written in place into an input: ``cache_out``, the update of input ``cache`` by an
    ``IKVCacheUpdateLayer`` (``update`` written at row ``where``), beside ``y = x + x``. Not built (simulated)."""
    builder, network = new_network()
    ins = [
        spec("cache", torch.float32, [1, 2, 8, 4]),
        spec("update", torch.float32, [1, 2, 1, 4]),
        spec("where", torch.int32, [1]),
        spec("x", torch.float32, [2]),
    ]
    cache, update, where, x = (add_input(network, s) for s in ins)
    layer = network.add_kv_cache_update(cache, update, where, trt.KVCacheMode.LINEAR)
    layer.get_output(0).name = "cache_out"
    network.mark_output(layer.get_output(0))
    doubled = network.add_elementwise(x, x, trt.ElementWiseOperation.SUM).get_output(0)
    doubled.name = "y"
    network.mark_output(doubled)
    outs = [spec("cache_out", torch.float32, [1, 2, 8, 4]), spec("y", torch.float32, [2])]
    return simulated_module(builder, network, ins, outs, name=name, build=False, settings=None)
