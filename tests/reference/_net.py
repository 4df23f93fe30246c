"""Build small TensorRT networks by hand for the reference-evaluator self-tests.

A :class:`NetBuilder` wraps a strongly typed ``INetworkDefinition``; tests add inputs and constants, wire layers
through ``nb.network`` (the real TensorRT API), mark outputs, and call :meth:`NetBuilder.run`, which builds the
network with the real builder (asserting that the build succeeds) and evaluates it with
:func:`torch_tensorrt.reference.evaluate_network`::

    def test_sum(net):
        x = net.input("x", (2, 3))
        y = net.const(torch.ones(2, 3))
        net.mark(net.network.add_elementwise(x, y, trt.ElementWiseOperation.SUM).get_output(0))
        out = net.run1({"x": torch.zeros(2, 3)})

Dynamic inputs take ``min``/``opt``/``max`` shapes (one optimization profile is made); int32/int64 shape-tensor
inputs take ``values=(min, opt, max)`` for their values.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import torch

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt._trt_logging import trt_logger
from torch_tensorrt.reference import evaluate_network

Shape = Sequence[int]


class NetBuilder:
    """A strongly typed network under construction, plus what is needed to build and evaluate it."""

    def __init__(self) -> None:
        # the product's logger: TensorRT keeps one per process and warns when a later builder brings another
        self.builder = trt.Builder(trt_logger())
        self.network = self.builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
        self._profile_shapes: dict[str, tuple[Shape, Shape, Shape]] = {}
        self._profile_values: dict[str, tuple[Shape, Shape, Shape]] = {}
        self._keep: list[Any] = []  # weights buffers must outlive the build
        self._consts = 0
        self.serialized: Optional[bytes] = None

    # -- construction -------------------------------------------------------------------------------------------

    def input(
        self,
        name: str,
        shape: Shape,
        dtype: torch.dtype = torch.float32,
        *,
        min: Optional[Shape] = None,
        opt: Optional[Shape] = None,
        max: Optional[Shape] = None,
        values: Optional[tuple[Shape, Shape, Shape]] = None,
    ) -> Any:
        """Add a network input; a shape with -1 needs ``min``/``opt``/``max`` (``opt`` defaults to ``max``)."""
        tensor = self.network.add_input(name, trt_dtype_of(dtype), tuple(shape))
        if any(d == -1 for d in shape):
            if min is None or max is None:
                raise ValueError(f"dynamic input {name!r} needs min and max shapes")
            self._profile_shapes[name] = (tuple(min), tuple(opt if opt is not None else max), tuple(max))
        if values is not None:
            self._profile_values[name] = tuple(tuple(v) for v in values)  # type: ignore[assignment]
        return tensor

    def const(self, value: Union[torch.Tensor, Sequence[Any], float, int], dtype: Optional[torch.dtype] = None) -> Any:
        """Add an ``IConstantLayer`` holding ``value`` and return its output tensor.

        bfloat16 (which numpy lacks) is added as a float32 constant followed by a cast layer.
        """
        t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
        if dtype is not None:
            t = t.to(dtype)
        if t.dtype == torch.bfloat16:
            return self.cast(self.const(t.float()), torch.bfloat16)
        array = np.ascontiguousarray(t.detach().cpu().numpy())
        self._keep.append(array)
        layer = self.network.add_constant(tuple(t.shape), array)
        self._consts += 1
        layer.name = f"const{self._consts}"
        return layer.get_output(0)

    def cast(self, tensor: Any, dtype: torch.dtype) -> Any:
        """Add an ``ICastLayer`` to ``dtype`` and return its output."""
        return self.network.add_cast(tensor, trt_dtype_of(dtype)).get_output(0)

    def mark(self, tensor: Any, name: Optional[str] = None) -> Any:
        """Mark ``tensor`` as a network output (renamed to ``name`` when given) and return it."""
        if name is not None:
            tensor.name = name
        self.network.mark_output(tensor)
        return tensor

    # -- build and evaluate -------------------------------------------------------------------------------------

    def build(self) -> bytes:
        """Build the network with the real builder; assert that the build succeeds."""
        config = self.builder.create_builder_config()
        if self._profile_shapes or self._profile_values:
            profile = self.builder.create_optimization_profile()
            for name, (lo, mid, hi) in self._profile_shapes.items():
                profile.set_shape(name, lo, mid, hi)
            for name, (lo, mid, hi) in self._profile_values.items():
                profile.set_shape_input(name, lo, mid, hi)
            config.add_optimization_profile(profile)
        serialized = self.builder.build_serialized_network(self.network, config)
        assert serialized is not None, "TensorRT failed to build the network (see the TensorRT log)"
        self.serialized = bytes(memoryview(serialized))
        return self.serialized

    def run(
        self,
        inputs: Optional[Mapping[str, torch.Tensor]] = None,
        *,
        outputs: str = "marked",
        build: bool = True,
        seed: int = 0,
    ) -> dict[str, torch.Tensor]:
        """Build (unless ``build=False``) and evaluate; returns :func:`evaluate_network`'s dict (``seed`` seeds
        the random fills)."""
        if build:
            self.build()
        return evaluate_network(self.network, dict(inputs or {}), outputs=outputs, seed=seed)  # type: ignore[arg-type]

    def run1(
        self, inputs: Optional[Mapping[str, torch.Tensor]] = None, *, build: bool = True, seed: int = 0
    ) -> torch.Tensor:
        """:meth:`run` for a network with exactly one marked output; returns that output."""
        result = self.run(inputs, build=build, seed=seed)
        assert len(result) == 1, f"expected one marked output, got {sorted(result)}"
        return next(iter(result.values()))


def make_net() -> NetBuilder:
    """A fresh :class:`NetBuilder` (what the ``net`` fixture returns)."""
    return NetBuilder()
