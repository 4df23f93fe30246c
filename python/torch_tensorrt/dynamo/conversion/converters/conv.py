"""``aten.convolution``: 1-D/2-D/3-D convolution and transposed convolution.

TensorRT convolves 2-D and 3-D windows, so a 1-D convolution runs as a 2-D one over a trailing size-1
dimension. Weights that are constants become the layer's kernel/bias weights; computed weights are wired into
input slots 1 and 2. Transposed convolution's ``output_padding`` is folded into the post-padding (which crops the
full output); where it exceeds the padding the extra trailing positions receive no contribution, so they are
added as zeros before the bias.
"""

from __future__ import annotations

import functools
from typing import Any, Optional, Sequence

import torch
import torch.fx

from torch_tensorrt._dtypes import trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import input_val, per_dim
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten


_FORWARD = {aten.conv1d.default: 1, aten.conv2d.default: 2, aten.conv3d.default: 3}
_TRANSPOSED = {aten.conv_transpose1d.default: 1, aten.conv_transpose2d.input: 2, aten.conv_transpose3d.input: 3}


@functools.lru_cache(maxsize=None)
def _argument_names(op: Any) -> tuple[str, ...]:
    """The schema's argument names of ``op`` (reading a schema through the bindings is slow; validators and
    converters ask for every convolution node)."""
    return tuple(a.name for a in op._schema.arguments)


def _convolution_args(node: torch.fx.Node, args: Optional[tuple] = None, kwargs: Optional[dict] = None) -> tuple:
    """``aten.convolution`` arguments (input, weight, bias, stride, padding, dilation, transposed, output_padding,
    groups) of ``node`` -- a ``convolution`` or one of the ``conv{1,2,3}d`` / ``conv_transpose{1,2,3}d`` ops that
    ``torch.export`` emits before decomposition (defaults filled in from their schemas)."""
    args = node.args if args is None else args
    kwargs = node.kwargs if kwargs is None else kwargs
    if node.target is aten.convolution.default:
        return tuple(args[:9])
    bound = dict(zip(_argument_names(node.target), args))
    bound.update(kwargs)
    target: Any = node.target
    n = _FORWARD.get(target) or _TRANSPOSED[target]
    transposed = node.target in _TRANSPOSED
    return (
        bound["input"],
        bound["weight"],
        bound.get("bias"),
        list(bound.get("stride", [1] * n)),
        list(bound.get("padding", [0] * n)),
        list(bound.get("dilation", [1] * n)),
        transposed,
        list(bound.get("output_padding", [0] * n)) if transposed else [0] * n,
        bound.get("groups", 1),
    )


def _conv_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    xval, wval = input_val(node, 0), input_val(node, 1)
    if xval is None or wval is None:
        return "input or weight is not a tensor"
    if not xval.dtype.is_floating_point:
        return f"{xval.dtype} convolution is not supported"
    spatial = wval.dim() - 2
    if spatial not in (1, 2, 3):
        return f"{spatial}-D convolution is not supported"
    if xval.dim() != spatial + 2:
        return "unbatched convolution input"
    if not isinstance(xval.shape[1], int) or any(not isinstance(s, int) for s in wval.shape):
        return "the channel dimension and the weights must have static shapes"
    _, _, _, stride, _, dilation, transposed, _, _ = _convolution_args(node)
    if transposed and any(s > 1 for s in stride) and any(d > 1 for d in dilation):
        return "TensorRT does not build transposed convolutions that are both strided and dilated"
    return None


def _unsqueeze_last(ctx: ConversionContext, value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.unsqueeze(-1)
    return T.unsqueeze(ctx, value, [len(value.shape)])


def _as_layer_weights(value: Any, dtype: torch.dtype) -> bool:
    """Constants go into the layer's weights, except in bf16: bf16 ``trt.Weights`` cannot be read back through
    the Python API (so the reference evaluator could not check them); those are wired as tensors instead."""
    return isinstance(value, torch.Tensor) and dtype != torch.bfloat16


def _set_weights(ctx: ConversionContext, layer: Any, weight: Any, bias: Any, dtype: torch.dtype) -> None:
    if not _as_layer_weights(weight, dtype):
        layer.set_input(1, T.to_trt(ctx, weight, dtype))
    if bias is not None and not _as_layer_weights(bias, dtype):
        layer.set_input(2, T.to_trt(ctx, bias, dtype))


def _weights_or_empty(ctx: ConversionContext, value: Any, dtype: torch.dtype) -> Any:
    if _as_layer_weights(value, dtype):
        return ctx.weights(value, dtype)
    return trt.Weights(trt_dtype_of(dtype))


def convolution_nd(
    ctx: ConversionContext,
    x: Any,
    weight: Any,
    bias: Any,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Any:
    """A 2-D or 3-D (de)convolution of the NC(D)HW tensor ``x`` with torch's ``aten.convolution`` arguments."""
    dtype = T.dtype_of(x)
    shape = tuple(weight.shape)
    n = len(shape) - 2
    stride, padding, dilation = per_dim(stride, n), per_dim(padding, n), per_dim(dilation, n)
    output_padding = per_dim(output_padding, n) if output_padding else [0] * n
    kernel = _weights_or_empty(ctx, weight, dtype)
    extra = [max(op - p, 0) for op, p in zip(output_padding, padding)] if transposed else [0] * n
    late_bias = any(extra) and bias is not None
    layer_bias = None if late_bias else bias
    bias_w = _weights_or_empty(ctx, layer_bias, dtype)
    if transposed:
        maps = shape[1] * groups
        layer = ctx.network.add_deconvolution_nd(x, maps, tuple(shape[2:]), kernel, bias_w)
        post = [p - op + e for p, op, e in zip(padding, output_padding, extra)]
        layer.pre_padding = tuple(padding)
        layer.post_padding = tuple(post)
    else:
        maps = shape[0]
        layer = ctx.network.add_convolution_nd(x, maps, tuple(shape[2:]), kernel, bias_w)
        layer.pre_padding = tuple(padding)
        layer.post_padding = tuple(padding)
    layer.stride_nd = tuple(stride)
    layer.dilation_nd = tuple(dilation)
    layer.num_groups = groups
    _set_weights(ctx, layer, weight, layer_bias, dtype)
    out = layer.get_output(0)
    if any(extra):
        out = _zero_pad_end(ctx, out, extra)
    if late_bias:
        b = T.to_trt(ctx, bias, dtype)
        out = T.elementwise(ctx, out, T.reshape(ctx, b, [1, maps] + [1] * n), trt.ElementWiseOperation.SUM)
    return out


def _zero_pad_end(ctx: ConversionContext, t: Any, extra: Sequence[int]) -> Any:
    """Append ``extra[i]`` zeros at the end of spatial dimension i (a FILL-mode slice)."""
    rank = len(t.shape)
    lead = rank - len(extra)
    size = T.sizes(ctx, t)
    out_size = size[:lead] + [T.scalar_arith(ctx, s, e, "+") for s, e in zip(size[lead:], extra)]
    zero = T.to_trt(ctx, 0.0, T.dtype_of(t))
    return T.slice_tensor(ctx, t, [0] * rank, out_size, [1] * rank, trt.SampleMode.FILL, zero)


def _as_float32(ctx: ConversionContext, value: Any) -> Any:
    if value is None or isinstance(value, torch.Tensor):
        return None if value is None else value.float()
    return T.cast(ctx, value, torch.float32)


@converter(aten.convolution.default, *_FORWARD, *_TRANSPOSED, validator=_conv_ok)
def convolution(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    x, weight, bias, stride, padding, dilation, transposed, output_padding, groups = _convolution_args(
        node, args, kwargs
    )
    x = T.to_trt(ctx, x)
    one_d = T.rank_of(weight) == 3
    if one_d:
        x = _unsqueeze_last(ctx, x)
        weight = _unsqueeze_last(ctx, weight)
        stride, padding, dilation = [*per_dim(stride, 1), 1], [*per_dim(padding, 1), 0], [*per_dim(dilation, 1), 1]
        output_padding = [*per_dim(output_padding, 1), 0] if output_padding else [0, 0]
    if transposed and T.dtype_of(x) == torch.bfloat16:
        # TensorRT-RTX cannot build bfloat16 deconvolutions ("could not infer output types"): run it in float32
        with ctx.computing_in(torch.float32):
            out = convolution_nd(
                ctx,
                T.cast(ctx, x, torch.float32),
                _as_float32(ctx, weight),
                _as_float32(ctx, bias),
                stride,
                padding,
                dilation,
                True,
                output_padding,
                int(groups),
            )
        out = T.cast(ctx, out, torch.bfloat16)
    else:
        out = convolution_nd(
            ctx, x, weight, bias, stride, padding, dilation, bool(transposed), output_padding, int(groups)
        )
    if one_d:
        out = T.squeeze(ctx, out, [len(out.shape) - 1])
    return out
