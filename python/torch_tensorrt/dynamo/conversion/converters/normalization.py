"""Normalizations: batch norm (inference and batch statistics), layer norm, group norm, instance norm, RMS norm.

Layer/group/instance norm use INormalizationLayer; batch norm with running statistics is a per-channel
``x * scale + shift`` (folded on the host when the statistics are constants); RMS norm and batch-statistics
batch norm are built from reductions. All run in float32 under reduced precision (``fp32=True``).
Multi-output forms (``native_layer_norm`` ...) produce their statistics outputs only when the graph uses them.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val, node_arg, out_dtype, used_outputs
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._reduce import reduce
from torch_tensorrt.dynamo.conversion._registry import all_of, converter

aten = torch.ops.aten
E = trt.ElementWiseOperation
U = trt.UnaryOperation
R = trt.ReduceOperation


# -- helpers -----------------------------------------------------------------------------------------------------
def _only_output0(node: torch.fx.Node, settings: Any) -> Optional[str]:
    extra = used_outputs(node) - {0}
    return f"outputs {sorted(extra)} (saved statistics) are used" if extra else None


def _channel_shape(rank: int, channel_dim: int = 1) -> list[int]:
    """Shape [C, 1, ..., 1] that broadcasts a per-channel vector against a rank-``rank`` tensor."""
    return [-1] + [1] * (rank - channel_dim - 1)


def _vector(ctx: ConversionContext, p: Any, dtype: torch.dtype, shape: Sequence[int]) -> Any:
    """A parameter (ITensor or torch.Tensor) as an ITensor of ``dtype`` reshaped to ``shape``."""
    if isinstance(p, torch.Tensor):
        return ctx.constant(p.reshape(list(shape)), dtype)
    return T.reshape(ctx, T.to_trt(ctx, p, dtype), list(shape))


def affine(ctx: ConversionContext, y: Any, weight: Any, bias: Any, shape: Sequence[int]) -> Any:
    """``y * weight + bias`` with the parameters reshaped to ``shape`` (either may be None)."""
    dtype = T.dtype_of(y)
    if weight is not None:
        y = T.elementwise(ctx, y, _vector(ctx, weight, dtype, shape), E.PROD, dtype)
    if bias is not None:
        y = T.elementwise(ctx, y, _vector(ctx, bias, dtype, shape), E.SUM, dtype)
    return y


def _normalize(
    ctx: ConversionContext, x: Any, axes: Sequence[int], eps: float, scale: Any, bias: Any, groups: int = 1
) -> Any:
    layer = ctx.network.add_normalization(x, scale, bias, T.axes_mask(axes, len(x.shape)))
    layer.epsilon = float(eps)
    if groups != 1:
        layer.num_groups = int(groups)
    return layer.get_output(0)


def _inv_std(ctx: ConversionContext, var: Any, eps: float, dtype: torch.dtype) -> Any:
    """``1 / sqrt(var + eps)`` in ``dtype``."""
    root = T.unary(ctx, T.elementwise(ctx, T.to_trt(ctx, var, dtype), float(eps), E.SUM), U.SQRT)
    return T.elementwise(ctx, 1.0, root, E.DIV, dtype)


def _stats(ctx: ConversionContext, x: Any, axes: Sequence[int], eps: float, keep: bool = True) -> tuple[Any, Any]:
    """(mean, 1/sqrt(biased var + eps)) over ``axes``."""
    mean = reduce(ctx, x, R.AVG, axes, True)
    d = T.elementwise(ctx, x, mean, E.SUB)
    var = reduce(ctx, T.elementwise(ctx, d, d, E.PROD), R.AVG, axes, True)
    rstd = _inv_std(ctx, var, eps, T.dtype_of(x))
    if not keep:
        mean, rstd = T.squeeze(ctx, mean, axes), T.squeeze(ctx, rstd, axes)
    return mean, rstd


def standardize(ctx: ConversionContext, x: Any, axes: Sequence[int], eps: float) -> Any:
    """(x - mean) / sqrt(var + eps) over ``axes`` from reductions (any axes, dynamic shapes)."""
    mean, rstd = _stats(ctx, x, axes, eps)
    return T.elementwise(ctx, T.elementwise(ctx, x, mean, E.SUB), rstd, E.PROD)


# -- batch norm --------------------------------------------------------------------------------------------------
def batch_norm_inference(
    ctx: ConversionContext, x: Any, weight: Any, bias: Any, mean: Any, var: Any, eps: float
) -> Any:
    """x * scale + shift with scale = weight / sqrt(var + eps), shift = bias - mean * scale, per channel (dim 1)."""
    dtype = T.dtype_of(x)
    shape = _channel_shape(len(x.shape))
    params = (weight, bias, mean, var)
    if all(p is None or isinstance(p, torch.Tensor) for p in params) and mean is not None and var is not None:
        m, v = mean.double(), var.double()
        scale = torch.rsqrt(v + eps) * (weight.double() if weight is not None else 1.0)
        shift = (bias.double() if bias is not None else 0.0) - m * scale
        return affine(ctx, x, scale.float(), shift.float(), shape)
    rstd = _inv_std(ctx, var, eps, dtype)
    scale = rstd if weight is None else T.elementwise(ctx, rstd, weight, E.PROD, dtype)
    shift = T.elementwise(ctx, 0.0, T.elementwise(ctx, mean, scale, E.PROD, dtype), E.SUB, dtype)
    if bias is not None:
        shift = T.elementwise(ctx, shift, bias, E.SUM, dtype)
    return affine(ctx, x, scale, shift, shape)


def _batch_stats_norm(ctx: ConversionContext, x: Any, weight: Any, bias: Any, eps: float) -> Any:
    """Batch norm with the batch's own statistics: standardize over every dim but the channels (dim 1)."""
    rank = len(x.shape)
    y = standardize(ctx, x, [0] + list(range(2, rank)), eps)
    return affine(ctx, y, weight, bias, _channel_shape(rank))


@converter(aten._native_batch_norm_legit_no_training.default, validator=_only_output0, fp32=True)
def native_batch_norm_no_training(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node, 0))
    return (
        batch_norm_inference(ctx, x, args[1], args[2], args[3], args[4], float(arg(args, kwargs, 6, "eps", 1e-5))),
        None,
        None,
    )


def _bn_training(args: Sequence[Any], kwargs: dict) -> bool:
    return bool(arg(args, kwargs, 5, "training", False))


def _bn_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    stats = list(node.args[3:5]) + [None] * (2 - len(node.args[3:5]))
    training = _bn_training(node.args, node.kwargs)
    if training and any(s is not None for s in stats):
        return "training-mode batch norm updates its running statistics"
    if not training and any(s is None for s in stats):
        return "inference batch norm without running statistics"
    return None


def _batch_norm_any(
    ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict, index: Optional[int]
) -> Any:
    """batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, ...): running
    statistics when not training, else (no buffers to update) the batch's own statistics."""
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node, index))
    eps = float(arg(args, kwargs, 7, "eps", 1e-5))
    if _bn_training(args, kwargs):
        return _batch_stats_norm(ctx, x, args[1], args[2], eps)
    return batch_norm_inference(ctx, x, args[1], args[2], args[3], args[4], eps)


@converter(aten.batch_norm.default, validator=_bn_ok, fp32=True)
def batch_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _batch_norm_any(ctx, node, args, kwargs, None)


@converter(aten.native_batch_norm.default, validator=all_of(_bn_ok, _only_output0), fp32=True)
def native_batch_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return _batch_norm_any(ctx, node, args, kwargs, 0), None, None


@converter(aten._native_batch_norm_legit.no_stats, validator=_only_output0, fp32=True)
def native_batch_norm_batch_stats(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Batch statistics, no running buffers to update (BatchNorm with track_running_stats=False)."""
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node, 0))
    return _batch_stats_norm(ctx, x, args[1], args[2], float(arg(args, kwargs, 5, "eps", 1e-5))), None, None


# -- layer norm --------------------------------------------------------------------------------------------------
def _static_shape_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    shape = cast(Sequence[Any], node.args[1])
    if not all(isinstance(s, int) for s in shape):
        return "symbolic normalized_shape"
    return None


def layer_norm_of(ctx: ConversionContext, x: Any, shape: Sequence[int], weight: Any, bias: Any, eps: float) -> Any:
    """INormalizationLayer over the trailing ``len(shape)`` dims; scale/bias [1, ..., 1, *shape]."""
    rank, k = len(x.shape), len(shape)
    dtype = T.dtype_of(x)
    pshape = [1] * (rank - k) + list(shape)
    ones = torch.ones(pshape)
    scale = _vector(ctx, weight, dtype, pshape) if weight is not None else ctx.constant(ones, dtype)
    shift = _vector(ctx, bias, dtype, pshape) if bias is not None else ctx.constant(ones * 0, dtype)
    return _normalize(ctx, x, range(rank - k, rank), eps, scale, shift)


@converter(aten.layer_norm.default, validator=_static_shape_ok, fp32=True)
def layer_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    eps = float(arg(args, kwargs, 4, "eps", 1e-5))
    return layer_norm_of(ctx, x, args[1], arg(args, kwargs, 2, "weight"), arg(args, kwargs, 3, "bias"), eps)


@converter(aten.native_layer_norm.default, validator=_static_shape_ok, fp32=True)
def native_layer_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """(out, mean, rstd); mean/rstd keep the normalized dims as size 1 and are built only when used."""
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node, 0))
    shape, eps = args[1], float(args[4])
    out = layer_norm_of(ctx, x, shape, args[2], args[3], eps)
    if used_outputs(node) & {1, 2}:
        rank = len(x.shape)
        mean, rstd = _stats(ctx, x, range(rank - len(shape), rank), eps)
        return out, mean, rstd
    return out, None, None


# -- group norm --------------------------------------------------------------------------------------------------
def group_norm_of(ctx: ConversionContext, x: Any, groups: int, weight: Any, bias: Any, eps: float) -> Any:
    """One INormalizationLayer with ``num_groups`` over the spatial dims and the per-channel affine
    (``add_normalization_v2``, whose scale/bias are per channel: one fused kernel on a GPU). A TensorRT without
    it normalizes with per-group unit scale (``add_normalization``) and applies the affine as two elementwise
    layers."""
    rank = len(x.shape)
    squeeze_back = rank == 2
    if squeeze_back:  # [N, C] -> [N, C, 1]: every group still normalizes over its channels
        x = T.unsqueeze(ctx, x, [2])
        rank = 3
    dtype = T.dtype_of(x)
    # one group normalizes over the channels as well: a plain normalization over dims 1..
    axes = range(2, rank) if groups != 1 else range(1, rank)
    if hasattr(ctx.network, "add_normalization_v2") and x.shape[1] > 0:
        pshape = [1, x.shape[1]] + [1] * (rank - 2)
        ones = torch.ones(pshape)
        scale = _vector(ctx, weight, dtype, pshape) if weight is not None else ctx.constant(ones, dtype)
        shift = _vector(ctx, bias, dtype, pshape) if bias is not None else ctx.constant(ones * 0, dtype)
        layer = ctx.network.add_normalization_v2(x, scale, shift, T.axes_mask(axes, rank))
        layer.epsilon = float(eps)
        layer.num_groups = int(groups)
        y = layer.get_output(0)
    else:
        ones = torch.ones([1, groups] + [1] * (rank - 2))
        y = _normalize(ctx, x, axes, eps, ctx.constant(ones, dtype), ctx.constant(ones * 0, dtype), groups)
        y = affine(ctx, y, weight, bias, _channel_shape(rank))
    return T.squeeze(ctx, y, [2]) if squeeze_back else y


def _group_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    val = input_val(node)
    if val is None or val.dim() < 2:
        return "group norm needs an input of rank >= 2"
    if not isinstance(val.shape[1], int):
        return "symbolic channel count"
    return None


@converter(aten.group_norm.default, validator=_group_ok, fp32=True)
def group_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    eps = float(arg(args, kwargs, 4, "eps", 1e-5))
    return group_norm_of(ctx, x, int(args[1]), arg(args, kwargs, 2, "weight"), arg(args, kwargs, 3, "bias"), eps)


@converter(aten.native_group_norm.default, validator=all_of(_group_ok, _only_output0), fp32=True)
def native_group_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    # (input, weight, bias, N, C, HxW, group, eps)
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node, 0))
    return group_norm_of(ctx, x, int(args[6]), args[1], args[2], float(args[7])), None, None


# -- instance norm -----------------------------------------------------------------------------------------------
def _instance_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    val = input_val(node)
    if val is None or val.dim() < 3:
        return "instance norm needs an input of rank >= 3"
    use_input_stats = node_arg(node, 5, "use_input_stats", True)
    if not use_input_stats and (len(node.args) < 5 or node.args[3] is None or node.args[4] is None):
        return "use_input_stats=False without running statistics"
    return None


@converter(aten.instance_norm.default, validator=_instance_ok, fp32=True)
def instance_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """Per-sample, per-channel statistics over the spatial dims (or the running statistics when not
    ``use_input_stats``)."""
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    weight, bias = arg(args, kwargs, 1, "weight"), arg(args, kwargs, 2, "bias")
    eps = float(arg(args, kwargs, 7, "eps", 1e-5))
    if not arg(args, kwargs, 5, "use_input_stats", True):
        return batch_norm_inference(ctx, x, weight, bias, args[3], args[4], eps)
    rank, dtype = len(x.shape), T.dtype_of(x)
    channels = x.shape[1]
    if channels < 0:  # dynamic channel count: reductions, then the affine
        return affine(ctx, standardize(ctx, x, range(2, rank), eps), weight, bias, _channel_shape(rank))
    pshape = [1, channels] + [1] * (rank - 2)
    ones = torch.ones(pshape)
    scale = _vector(ctx, weight, dtype, pshape) if weight is not None else ctx.constant(ones, dtype)
    shift = _vector(ctx, bias, dtype, pshape) if bias is not None else ctx.constant(ones * 0, dtype)
    return _normalize(ctx, x, range(2, rank), eps, scale, shift)


# -- RMS norm ----------------------------------------------------------------------------------------------------
@converter(aten.rms_norm.default, validator=_static_shape_ok, fp32=True)
def rms_norm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """x / sqrt(mean(x^2 over the trailing normalized dims) + eps) * weight; eps defaults to the input
    dtype's machine epsilon like torch."""
    x = T.to_trt(ctx, args[0], out_dtype(ctx, node))
    shape = list(args[1])
    weight = arg(args, kwargs, 2, "weight")
    eps = arg(args, kwargs, 3, "eps")
    if eps is None:
        val = input_val(node)
        eps = torch.finfo(val.dtype if val is not None else torch.float32).eps
    rank = len(x.shape)
    axes = list(range(rank - len(shape), rank))
    ms = reduce(ctx, T.elementwise(ctx, x, x, E.PROD), R.AVG, axes, True)
    denom = T.unary(ctx, T.elementwise(ctx, ms, float(eps), E.SUM), U.SQRT)
    y = T.elementwise(ctx, x, denom, E.DIV)
    if weight is not None:
        y = T.elementwise(ctx, y, _vector(ctx, weight, T.dtype_of(y), [1] * (rank - len(shape)) + shape), E.PROD)
    return y
