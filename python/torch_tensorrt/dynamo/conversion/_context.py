"""``ConversionContext``: the state shared by the converters of one network."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import torch
import torch.fx

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion import _provenance


@dataclass
class ConversionContext:
    """Network under construction, settings, and the precision policy in force for the current node.

    ``compute_dtype`` is the float dtype float32 computation is lowered to: ``settings.compute_dtype``, except
    while an accumulation-sensitive converter (``fp32=True``) runs, when it is float32.
    """

    network: Any
    settings: CompilationSettings
    compute_dtype: torch.dtype = torch.float32
    current_node: Optional[torch.fx.Node] = None
    #: Host buffers backing ``trt.Weights``; TensorRT does not copy them before the build.
    _keep_alive: list[Any] = field(default_factory=list)
    #: Every non-empty ``trt.Weights`` made by :meth:`weights`, with its recipe (named after conversion).
    network_weights: list[_provenance.NetworkWeight] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.compute_dtype = self.settings.compute_dtype

    @contextmanager
    def computing_in(self, dtype: torch.dtype) -> Iterator[None]:
        saved = self.compute_dtype
        self.compute_dtype = dtype
        try:
            yield
        finally:
            self.compute_dtype = saved

    def float_dtype(self, dtype: torch.dtype) -> torch.dtype:
        """The dtype a float dtype requested by the graph computes in: float32 and float64 map to the compute
        dtype (float64 always to float32 at least: TensorRT has no float64); float16/bfloat16 stay."""
        if dtype in (torch.float32, torch.float64):
            return self.compute_dtype
        return dtype

    def value_dtype(self, dtype: torch.dtype) -> torch.dtype:
        """Like :meth:`float_dtype` for floats; integers and bool stay (float64 -> compute dtype)."""
        return self.float_dtype(dtype) if dtype.is_floating_point else dtype

    def weights(self, tensor: torch.Tensor, dtype: Optional[torch.dtype] = None) -> "trt.Weights":
        """``trt.Weights`` holding ``tensor`` (CPU, contiguous) in ``dtype`` (default: :meth:`value_dtype`)."""
        dtype = dtype or self.value_dtype(tensor.dtype)
        host = tensor.detach().to("cpu", dtype).contiguous()
        if host.numel() == 0:
            return trt.Weights(trt_dtype_of(dtype))
        self._keep_alive.append(host)
        weights = trt.Weights(trt_dtype_of(dtype), host.data_ptr(), host.numel())
        tracker = _provenance.current()
        node = self.current_node.name if self.current_node is not None else "network"
        recipe = tracker.recipe(host) if tracker is not None else None
        self.network_weights.append(_provenance.NetworkWeight(node, host, weights, recipe))
        return weights

    def constant(self, tensor: torch.Tensor, dtype: Optional[torch.dtype] = None) -> "trt.ITensor":
        """A constant layer holding ``tensor`` (dtype as in :meth:`weights`).

        bfloat16 constants are stored as float32 and cast (the builder folds the cast): bf16 ``trt.Weights``
        cannot be read back through the Python API, so the reference evaluator could not check them.
        """
        dtype = dtype or self.value_dtype(tensor.dtype)
        if dtype == torch.bfloat16:
            wide = self.network.add_constant(tuple(tensor.shape), self.weights(tensor, torch.float32)).get_output(0)
            return self.network.add_cast(wide, trt_dtype_of(torch.bfloat16)).get_output(0)
        layer = self.network.add_constant(tuple(tensor.shape), self.weights(tensor, dtype))
        return layer.get_output(0)
