"""Pooling: max_pool / avg_pool 1-3d (``ceil_mode``, padding, ``count_include_pad``) and adaptive avg/max pooling.

TensorRT pools 2-D and 3-D windows over NC(D)HW tensors: 1-D pooling runs over a trailing size-1 dimension and
unbatched inputs get a leading batch dimension. ``ceil_mode`` uses EXPLICIT_ROUND_UP, whose window count can
exceed torch's by one (torch drops a last window that would start in the right padding): that window is sliced
off. Ops returning ``(values, indices)`` convert only when the indices are unused.

Adaptive pooling with output sizes that divide the input sizes is one pooling layer; otherwise each dimension is
pooled separately (windows are products of per-dimension intervals, so averages and maxima factor), one slice +
reduce per output position, which needs static spatial sizes (except for output size 1: a plain reduction).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, cast

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg, input_val, node_arg, per_dim, used_outputs
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import all_of, converter

aten = torch.ops.aten

MAX_POOL: dict[Any, int] = {
    aten.max_pool1d.default: 1,
    aten.max_pool2d.default: 2,
    aten.max_pool3d.default: 3,
    aten.max_pool2d_with_indices.default: 2,
    aten.max_pool3d_with_indices.default: 3,
}
AVG_POOL: dict[Any, int] = {aten.avg_pool1d.default: 1, aten.avg_pool2d.default: 2, aten.avg_pool3d.default: 3}
ADAPTIVE_AVG: dict[Any, int] = {
    aten.adaptive_avg_pool1d.default: 1,
    aten.adaptive_avg_pool2d.default: 2,
    aten.adaptive_avg_pool3d.default: 3,
    aten._adaptive_avg_pool2d.default: 2,
    aten._adaptive_avg_pool3d.default: 3,
}
ADAPTIVE_MAX: dict[Any, int] = {
    aten.adaptive_max_pool1d.default: 1,
    aten.adaptive_max_pool2d.default: 2,
    aten.adaptive_max_pool3d.default: 3,
}
WITH_INDICES = {
    aten.max_pool2d_with_indices.default,
    aten.max_pool3d_with_indices.default,
    *ADAPTIVE_MAX,
}


def _spatial_dims(node: torch.fx.Node) -> int:
    return {**MAX_POOL, **AVG_POOL, **ADAPTIVE_AVG, **ADAPTIVE_MAX}[node.target]


# -- validators --------------------------------------------------------------------------------------------------


def _float_input(node: torch.fx.Node, settings: Any) -> Optional[str]:
    val = input_val(node)
    if val is None:
        return "input is not a tensor"
    if not val.dtype.is_floating_point:
        return f"{val.dtype} pooling is not supported"
    return None


def _indices_unused(node: torch.fx.Node, settings: Any) -> Optional[str]:
    if node.target in WITH_INDICES and used_outputs(node) - {0}:
        return "the pooling indices are used (TensorRT pooling does not produce indices)"
    return None


def _max_pool_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    n = _spatial_dims(node)
    dilation = per_dim(node_arg(node, 4, "dilation", 1), n)
    if any(d != 1 for d in dilation):
        return "max pooling with dilation != 1 is not supported"
    return None


def _avg_pool_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    if node_arg(node, 6, "divisor_override", None) is not None:
        return "avg_pool divisor_override is not supported"
    return None


def _adaptive_ok(node: torch.fx.Node, settings: Any) -> Optional[str]:
    n = _spatial_dims(node)
    x = cast(torch.fx.Node, node.args[0]).meta["val"]
    out = per_dim(cast(Any, node.args[1]), n)
    for size, o in zip(x.shape[x.dim() - n :], out):
        if not isinstance(size, int) and o != 1:
            return "adaptive pooling to an output size other than 1 needs static spatial sizes"
    return None


# -- pooling layer ----------------------------------------------------------------------------------------------


def _to_pooling_rank(ctx: ConversionContext, x: Any, n: int) -> tuple[Any, list[int], list[int]]:
    """``x`` as an N,C + 2-D/3-D spatial tensor; returns it with the dims to squeeze afterwards (after the first
    list, the second: added batch dimension)."""
    squeeze_last: list[int] = []
    squeeze_first: list[int] = []
    if len(x.shape) == n + 1:
        x = T.unsqueeze(ctx, x, [0])
        squeeze_first = [0]
    if n == 1:
        x = T.unsqueeze(ctx, x, [len(x.shape)])
        squeeze_last = [len(x.shape) - 1]
    return x, squeeze_last, squeeze_first


def _restore_rank(ctx: ConversionContext, out: Any, squeeze_last: list[int], squeeze_first: list[int]) -> Any:
    if squeeze_last:
        out = T.squeeze(ctx, out, squeeze_last)
    if squeeze_first:
        out = T.squeeze(ctx, out, squeeze_first)
    return out


def pool(
    ctx: ConversionContext,
    x: Any,
    kind: Any,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
    """torch's max/avg pooling of the trailing ``len(kernel)`` dims (1-3) of a batched or unbatched tensor."""
    n = len(kernel)
    x, sq_last, sq_first = _to_pooling_rank(ctx, T.to_trt(ctx, x), n)
    kernel, stride, padding = list(kernel), list(stride), list(padding)
    if n == 1:
        kernel, stride, padding = kernel + [1], stride + [1], padding + [0]
    lengths = list(x.shape)[len(x.shape) - len(kernel) :]
    post = list(padding)
    if ceil_mode and all(L >= 0 for L in lengths) and (kind == trt.PoolingType.MAX or not count_include_pad):
        # Padding is ignored (max) or not counted (exclusive average): extend the post-padding to the windows
        # torch keeps instead (EXPLICIT_ROUND_UP would reject exclusive counting when its tail reaches a kernel).
        post = [p + _ceil_extra(L, k, s, p) for L, k, s, p in zip(lengths, kernel, stride, padding)]
        ceil_mode = False
    layer = ctx.network.add_pooling_nd(x, kind, tuple(kernel))
    layer.stride_nd = tuple(stride)
    layer.pre_padding = tuple(padding)
    layer.post_padding = tuple(post)
    if ceil_mode:
        layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
    if kind == trt.PoolingType.AVERAGE:
        layer.average_count_excludes_padding = not count_include_pad
    out = layer.get_output(0)
    if ceil_mode:
        out = _drop_windows_in_padding(ctx, x, out, stride, padding)
    return _restore_rank(ctx, out, sq_last, sq_first)


def _ceil_extra(length: int, kernel: int, stride: int, pad: int) -> int:
    """Post-padding beyond ``pad`` that makes floor-mode pooling produce torch's ceil_mode window count."""
    count = -(-(length + 2 * pad - kernel) // stride) + 1
    count = min(count, (length + pad - 1) // stride + 1)
    return max((count - 1) * stride + kernel - (length + 2 * pad), 0)


def _drop_windows_in_padding(ctx: ConversionContext, x: Any, out: Any, stride: list[int], padding: list[int]) -> Any:
    """torch's ceil_mode keeps a window only if it starts before the end of the left-padded input: at most
    ``(L + p - 1) // s + 1`` windows per dimension."""
    lead = len(x.shape) - len(stride)
    sizes = T.sizes(ctx, out)
    changed = False
    for i, (s, p) in enumerate(zip(stride, padding)):
        length = T.dim_size(ctx, x, lead + i)
        if isinstance(length, int):
            limit: Any = (length + p - 1) // s + 1
        else:
            limit = T.scalar_arith(ctx, T.scalar_arith(ctx, T.scalar_arith(ctx, length, p - 1, "+"), s, "//"), 1, "+")
        current = sizes[lead + i]
        if isinstance(limit, int) and isinstance(current, int):
            if limit < current:
                sizes[lead + i], changed = limit, True
        else:
            sizes[lead + i] = T.scalar_arith(ctx, current, limit, "min")
            changed = True
    if not changed:
        return out
    rank = len(out.shape)
    return T.slice_tensor(ctx, out, [0] * rank, sizes, [1] * rank)


def _window(args: tuple, kwargs: dict, n: int) -> tuple[list[int], list[int], list[int]]:
    """(kernel, stride, padding) per spatial dimension of a max/avg pooling call (stride defaults to the kernel)."""
    kernel = per_dim(args[1], n)
    stride = per_dim(arg(args, kwargs, 2, "stride", []) or kernel, n)
    return kernel, stride, per_dim(arg(args, kwargs, 3, "padding", 0), n)


@converter(*MAX_POOL, validator=all_of(_float_input, _max_pool_ok, _indices_unused))
def max_pool(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    kernel, stride, padding = _window(args, kwargs, MAX_POOL[node.target])
    ceil_mode = bool(arg(args, kwargs, 5, "ceil_mode", False))
    out = pool(ctx, args[0], trt.PoolingType.MAX, kernel, stride, padding, ceil_mode)
    return (out, None) if node.target in WITH_INDICES else out


@converter(*AVG_POOL, validator=all_of(_float_input, _avg_pool_ok))
def avg_pool(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    kernel, stride, padding = _window(args, kwargs, AVG_POOL[node.target])
    ceil_mode = bool(arg(args, kwargs, 4, "ceil_mode", False))
    include = bool(arg(args, kwargs, 5, "count_include_pad", True))
    return pool(ctx, args[0], trt.PoolingType.AVERAGE, kernel, stride, padding, ceil_mode, include)


# -- adaptive pooling ---------------------------------------------------------------------------------------------


def adaptive_pool(ctx: ConversionContext, x: Any, output_size: Sequence[int], use_max: bool) -> Any:
    """torch's adaptive pooling of the trailing ``len(output_size)`` dims: window j of a dimension of length L
    pooled to O covers ``[floor(j * L / O), ceil((j + 1) * L / O))``."""
    x = T.to_trt(ctx, x)
    n = len(output_size)
    lead = len(x.shape) - n
    lengths = [x.shape[lead + i] for i in range(n)]
    kind = trt.PoolingType.MAX if use_max else trt.PoolingType.AVERAGE
    reduce_op = trt.ReduceOperation.MAX if use_max else trt.ReduceOperation.AVG
    if all(L >= 0 and L % o == 0 for L, o in zip(lengths, output_size)):
        kernel = [L // o for L, o in zip(lengths, output_size)]
        if all(k == 1 for k in kernel):
            return x
        if n > 1 or lengths[0] != kernel[0]:
            return pool(ctx, x, kind, kernel, kernel, [0] * n)
    out = x
    for i, (L, o) in enumerate(zip(lengths, output_size)):
        axis = lead + i
        if o == 1:
            out = ctx.network.add_reduce(out, reduce_op, 1 << axis, True).get_output(0)
            continue
        if L == o:
            continue
        pieces = []
        rank = len(out.shape)
        sizes = T.sizes(ctx, out)
        for j in range(o):
            start, stop = (j * L) // o, -((-(j + 1) * L) // o)
            begin = [0] * rank
            begin[axis] = start
            size = list(sizes)
            size[axis] = stop - start
            window = T.slice_tensor(ctx, out, begin, size, [1] * rank)
            pieces.append(ctx.network.add_reduce(window, reduce_op, 1 << axis, True).get_output(0))
        out = T.concat(ctx, pieces, axis)
    return out


@converter(*ADAPTIVE_AVG, validator=all_of(_float_input, _adaptive_ok))
def adaptive_avg_pool(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return adaptive_pool(ctx, args[0], per_dim(args[1], ADAPTIVE_AVG[node.target]), use_max=False)


@converter(*ADAPTIVE_MAX, validator=all_of(_float_input, _adaptive_ok, _indices_unused))
def adaptive_max_pool(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return (adaptive_pool(ctx, args[0], per_dim(args[1], ADAPTIVE_MAX[node.target]), use_max=True), None)
