"""Building blocks every converter uses: constants, casts, broadcasting, elementwise layers with torch's type
promotion, sizes and shapes (static and dynamic), reshape/permute/slice/expand, ranges and fills, gathers of one
position. One implementation of each, here.

The other shared helpers sit beside this module, one concept each: :mod:`._args` (reading arguments and node
metadata), :mod:`._arith` (arithmetic, comparisons, truth values, select) and :mod:`._reduce` (reductions).
Converter families (``converters/*``) import these modules, never each other."""

from __future__ import annotations

import operator
from typing import Any, Callable, Optional, Sequence, Union

import torch

from torch_tensorrt._dtypes import torch_dtype_of, trt_dtype_of
from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion._context import ConversionContext

Scalar = Union[int, float, bool]
DimLike = Union[int, Any]  # int or a 1-element int64 ITensor


def is_trt(value: Any) -> bool:
    return isinstance(value, trt.ITensor)


def dtype_of(value: Any) -> torch.dtype:
    """torch dtype of an ITensor, a torch.Tensor or a Python scalar (as torch would type it alone)."""
    if is_trt(value):
        return torch_dtype_of(value.dtype)
    if isinstance(value, torch.Tensor):
        return value.dtype
    if isinstance(value, bool):
        return torch.bool
    if isinstance(value, int):
        return torch.int64
    if isinstance(value, float):
        return torch.get_default_dtype()
    raise TypeError(f"cannot infer a dtype of {type(value).__name__}")


def rank_of(value: Any) -> int:
    if is_trt(value):
        return len(value.shape)
    if isinstance(value, torch.Tensor):
        return value.dim()
    return 0


def is_dynamic(t: Any) -> bool:
    return is_trt(t) and any(d < 0 for d in t.shape)


def result_dtype(ctx: ConversionContext, *values: Any) -> torch.dtype:
    """torch's type promotion over converted values (ITensors count as dimensioned tensors unless 0-d)."""
    probes: list[Any] = []
    for v in values:
        if is_trt(v):
            probes.append(torch.empty((1,) * min(len(v.shape), 1), dtype=torch_dtype_of(v.dtype)))
        elif isinstance(v, torch.Tensor):
            probes.append(torch.empty((1,) * min(v.dim(), 1), dtype=ctx.value_dtype(v.dtype)))
        elif isinstance(v, (bool, int, float)):
            probes.append(v)
        else:
            raise TypeError(f"unsupported operand {type(v).__name__}")
    if len(probes) == 1:
        dtype = dtype_of(probes[0])
    else:
        dtype = torch.result_type(probes[0], probes[1])
        for p in probes[2:]:
            dtype = torch.promote_types(dtype, torch.result_type(torch.empty((1,), dtype=dtype), p))
    return ctx.value_dtype(dtype) if dtype.is_floating_point else dtype


def cast(ctx: ConversionContext, t: Any, dtype: torch.dtype) -> Any:
    """Cast an ITensor to ``dtype`` (no layer when it already has it)."""
    if torch_dtype_of(t.dtype) == dtype:
        return t
    if dtype == torch.float64:
        dtype = torch.float32
    return ctx.network.add_cast(t, trt_dtype_of(dtype)).get_output(0)


def to_trt(ctx: ConversionContext, value: Any, dtype: Optional[torch.dtype] = None) -> Any:
    """Any converted value as an ITensor of ``dtype`` (default: its own dtype under the precision policy)."""
    if is_trt(value):
        return cast(ctx, value, dtype) if dtype is not None else value
    if isinstance(value, torch.Tensor):
        return ctx.constant(value, dtype or ctx.value_dtype(value.dtype))
    if isinstance(value, (bool, int, float)):
        dt = dtype or ctx.value_dtype(dtype_of(value))
        return ctx.constant(torch.tensor(value, dtype=dt if dt != torch.bfloat16 else torch.float32), dt)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float)) for v in value):
        dt = dtype or ctx.value_dtype(dtype_of(value[0]) if value else torch.float32)
        return ctx.constant(torch.tensor(value), dt)
    raise TypeError(f"cannot make a TensorRT tensor from {type(value).__name__}")


def reshape(ctx: ConversionContext, t: Any, dims: Sequence[DimLike]) -> Any:
    """Reshape with torch semantics (-1 infers one dimension, 0 is a real zero). ``dims`` may hold ITensors."""
    # shape tensors are built before the layer that reads them (network order stays topological)
    shape = None if all(isinstance(d, int) for d in dims) else shape_tensor_from(ctx, dims)
    layer = ctx.network.add_shuffle(t)
    layer.zero_is_placeholder = False
    if shape is None:
        layer.reshape_dims = tuple(int(d) for d in dims)
    else:
        layer.set_input(1, shape)
    return layer.get_output(0)


def shape_tensor_from(ctx: ConversionContext, dims: Sequence[DimLike]) -> Any:
    """A 1-D int64 shape tensor from ints and 1-element int64 ITensors."""
    parts = []
    pending: list[int] = []
    for d in dims:
        if isinstance(d, int):
            pending.append(d)
            continue
        if pending:
            parts.append(ctx.constant(torch.tensor(pending, dtype=torch.int64)))
            pending = []
        parts.append(cast(ctx, reshape(ctx, d, (1,)) if len(d.shape) != 1 else d, torch.int64))
    if pending:
        parts.append(ctx.constant(torch.tensor(pending, dtype=torch.int64)))
    if len(parts) == 1:
        return parts[0]
    layer = ctx.network.add_concatenation(parts)
    layer.axis = 0
    return layer.get_output(0)


def shape_of(ctx: ConversionContext, t: Any) -> Any:
    """The runtime shape of ``t`` as a 1-D int64 tensor."""
    return ctx.network.add_shape(t).get_output(0)


def dim_size(ctx: ConversionContext, t: Any, dim: int) -> DimLike:
    """Size of dimension ``dim``: an int when static, else a 1-element int64 ITensor."""
    dim = normalize_dim(dim, len(t.shape))
    if t.shape[dim] >= 0:
        return int(t.shape[dim])
    layer = ctx.network.add_slice(shape_of(ctx, t), (dim,), (1,), (1,))
    return layer.get_output(0)


def sizes(ctx: ConversionContext, t: Any) -> list[DimLike]:
    """All dimension sizes (ints where static)."""
    return [dim_size(ctx, t, i) for i in range(len(t.shape))]


def normalize_dim(dim: int, rank: int) -> int:
    if rank == 0 and dim in (0, -1):
        return 0
    if not -rank <= dim < rank:
        raise IndexError(f"dimension {dim} out of range for rank {rank}")
    return dim % rank


def axes_mask(dims: Sequence[int], rank: int) -> int:
    mask = 0
    for d in dims:
        mask |= 1 << normalize_dim(d, rank)
    return mask


def unsqueeze_to_rank(ctx: ConversionContext, t: Any, rank: int) -> Any:
    """Prepend size-1 dimensions (numpy-style broadcasting alignment)."""
    extra = rank - len(t.shape)
    if extra <= 0:
        return t
    return unsqueeze(ctx, t, list(range(extra)))


def unsqueeze(ctx: ConversionContext, t: Any, dims: Sequence[int]) -> Any:
    """Insert size-1 dimensions at output positions ``dims``."""
    out_rank = len(t.shape) + len(dims)
    dims = sorted(normalize_dim(d, out_rank) for d in dims)
    if not is_dynamic(t):
        shape = list(t.shape)
        for d in dims:
            shape.insert(d, 1)
        return reshape(ctx, t, shape)
    axes = ctx.constant(torch.tensor(dims, dtype=torch.int64))
    return ctx.network.add_unsqueeze(t, axes).get_output(0)


def squeeze(ctx: ConversionContext, t: Any, dims: Sequence[int]) -> Any:
    """Remove the size-1 dimensions ``dims``."""
    rank = len(t.shape)
    dims = sorted({normalize_dim(d, rank) for d in dims})
    if not dims:
        return t
    if not is_dynamic(t):
        return reshape(ctx, t, [s for i, s in enumerate(t.shape) if i not in dims])
    axes = ctx.constant(torch.tensor(dims, dtype=torch.int64))
    return ctx.network.add_squeeze(t, axes).get_output(0)


def broadcast(ctx: ConversionContext, *tensors: Any) -> list[Any]:
    """Align ranks (leading size-1 dimensions); TensorRT broadcasts size-1 dimensions itself."""
    rank = max(len(t.shape) for t in tensors)
    return [unsqueeze_to_rank(ctx, t, rank) for t in tensors]


def elementwise(ctx: ConversionContext, a: Any, b: Any, op: Any, dtype: Optional[torch.dtype] = None) -> Any:
    """``a <op> b`` after promoting both to ``dtype`` (default: torch's result type) and aligning ranks."""
    dtype = dtype or result_dtype(ctx, a, b)
    ta, tb = broadcast(ctx, to_trt(ctx, a, dtype), to_trt(ctx, b, dtype))
    return ctx.network.add_elementwise(ta, tb, op).get_output(0)


def unary(ctx: ConversionContext, x: Any, op: Any) -> Any:
    """A TensorRT unary ``op`` of ``x`` (float inputs, except ABS/SIGN on integers and NOT on bool)."""
    return ctx.network.add_unary(to_trt(ctx, x), op).get_output(0)


def activation(
    ctx: ConversionContext, x: Any, kind: Any, alpha: Optional[float] = None, beta: Optional[float] = None
) -> Any:
    """A TensorRT activation of ``kind`` (float tensors only) with its ``alpha``/``beta`` parameters."""
    layer = ctx.network.add_activation(to_trt(ctx, x), kind)
    if alpha is not None:
        layer.alpha = float(alpha)
    if beta is not None:
        layer.beta = float(beta)
    return layer.get_output(0)


def permute(ctx: ConversionContext, t: Any, perm: Sequence[int]) -> Any:
    rank = len(t.shape)
    perm = [normalize_dim(p, rank) for p in perm]
    if perm == list(range(rank)):
        return t
    layer = ctx.network.add_shuffle(t)
    layer.first_transpose = tuple(perm)
    return layer.get_output(0)


def slice_tensor(
    ctx: ConversionContext,
    t: Any,
    start: Sequence[DimLike],
    size: Sequence[DimLike],
    stride: Sequence[int],
    mode: Any = None,
    fill: Any = None,
) -> Any:
    """Strided slice; ``start``/``size`` may hold ITensors (then wired as shape tensors), ``stride`` is static.
    ``mode`` is the ``trt.SampleMode`` for positions outside ``t`` (default: none allowed), ``fill`` the
    ITensor FILL mode writes there."""
    rank = len(t.shape)
    # shape tensors are built before the layer that reads them (network order stays topological)
    start_t = None if all(isinstance(v, int) for v in start) else shape_tensor_from(ctx, start)
    size_t = None if all(isinstance(v, int) for v in size) else shape_tensor_from(ctx, size)
    static_start = (0,) * rank if start_t is not None else tuple(start)
    static_size = (1,) * rank if size_t is not None else tuple(size)
    layer = ctx.network.add_slice(t, static_start, static_size, tuple(stride))
    if start_t is not None:
        layer.set_input(1, start_t)
    if size_t is not None:
        layer.set_input(2, size_t)
    if mode is not None:
        layer.mode = mode
    if fill is not None:
        layer.set_input(4, fill)
    return layer.get_output(0)


_INT_ARITH: dict[str, Callable[[int, int], int]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "min": min,
    "max": max,
}


def scalar_arith(ctx: ConversionContext, a: DimLike, b: DimLike, op: str) -> DimLike:
    """Arithmetic on sizes that may be ITensors: ``op`` in + - * // min max (Python semantics on ints)."""
    if isinstance(a, int) and isinstance(b, int):
        return _INT_ARITH[op](a, b)
    kinds = {
        "+": trt.ElementWiseOperation.SUM,
        "-": trt.ElementWiseOperation.SUB,
        "*": trt.ElementWiseOperation.PROD,
        "//": trt.ElementWiseOperation.FLOOR_DIV,
        "min": trt.ElementWiseOperation.MIN,
        "max": trt.ElementWiseOperation.MAX,
    }
    return elementwise(ctx, a, b, kinds[op], torch.int64)


def product(ctx: ConversionContext, dims: Sequence[DimLike]) -> DimLike:
    """Product of sizes (an int when all are static; 1 for none)."""
    out: DimLike = 1
    for d in dims:
        out = scalar_arith(ctx, out, d, "*")
    return out


def as_scalar(ctx: ConversionContext, value: DimLike, dtype: torch.dtype) -> Any:
    """An int or 1-element ITensor size as a 0-d ``dtype`` value usable in :func:`elementwise`."""
    if isinstance(value, int):
        return float(value) if dtype.is_floating_point else value
    return cast(ctx, reshape(ctx, value, ()), dtype)


def concat(ctx: ConversionContext, tensors: Sequence[Any], axis: int) -> Any:
    if len(tensors) == 1:
        return tensors[0]
    layer = ctx.network.add_concatenation(list(tensors))
    layer.axis = normalize_dim(axis, len(tensors[0].shape))
    return layer.get_output(0)


def expand(ctx: ConversionContext, t: Any, target: Sequence[DimLike]) -> Any:
    """Broadcast ``t`` to ``target`` (torch ``expand``: -1 keeps a dimension): a slice with stride 0 along the
    broadcast dimensions."""
    t = unsqueeze_to_rank(ctx, t, len(target))
    rank = len(target)
    out: list[DimLike] = []
    for i, d in enumerate(target):
        out.append(dim_size(ctx, t, i) if isinstance(d, int) and d == -1 else d)
    if all(isinstance(d, int) for d in out) and tuple(out) == tuple(t.shape):
        return t
    stride = [1 if (t.shape[i] != 1 or (isinstance(out[i], int) and out[i] == 1)) else 0 for i in range(rank)]
    return slice_tensor(ctx, t, [0] * rank, out, stride)


def filled(ctx: ConversionContext, shape: Sequence[DimLike], value: Any, dtype: torch.dtype) -> Any:
    """A tensor of ``shape`` (ints and/or size ITensors) filled with ``value`` (a scalar or a 0-d/1-element
    ITensor) in the graph dtype ``dtype`` (under the precision policy)."""
    dtype = ctx.value_dtype(dtype)
    host = torch.float32 if dtype == torch.bfloat16 else dtype
    if all(isinstance(d, int) for d in shape) and not is_trt(value):
        return ctx.constant(torch.full(tuple(shape), value, dtype=host), dtype)
    if is_trt(value):
        one = reshape(ctx, cast(ctx, value, dtype), [1] * len(shape))
    else:
        one = ctx.constant(torch.full((1,) * len(shape), value, dtype=host), dtype)
    return expand(ctx, one, list(shape))


def arange_1d(
    ctx: ConversionContext, n: DimLike, start: Any = 0, step: Any = 1, dtype: torch.dtype = torch.int64
) -> Any:
    """``start + step * [0, 1, ..., n-1]`` in the graph dtype ``dtype``; ``n`` may be a size ITensor (then a
    LINSPACE fill layer)."""
    dtype = ctx.value_dtype(dtype)
    if isinstance(n, int):
        host = torch.arange(n, dtype=torch.float64) * step + start
        return ctx.constant(host.to(torch.float32 if dtype == torch.bfloat16 else dtype), dtype)
    fill_dtype = torch.int64 if not dtype.is_floating_point else torch.float32
    shape = shape_tensor_from(ctx, [n])
    alpha = ctx.constant(torch.tensor(start, dtype=fill_dtype))
    beta = ctx.constant(torch.tensor([step], dtype=fill_dtype))
    layer = ctx.network.add_fill((1,), trt.FillOperation.LINSPACE, trt_dtype_of(fill_dtype))
    layer.set_input(0, shape)
    layer.set_input(1, alpha)
    layer.set_input(2, beta)
    return cast(ctx, layer.get_output(0), dtype)


def wrap_position(ctx: ConversionContext, x: Any, dim: int, pos: Any) -> Any:
    """Position ``pos`` along ``dim`` with a negative int counted from the end (an int where the dimension is
    static, else a 1-element int64 tensor); tensors pass through."""
    if isinstance(pos, int) and pos < 0:
        return scalar_arith(ctx, dim_size(ctx, x, dim), pos, "+")
    return pos


def select_index(ctx: ConversionContext, x: Any, dim: int, index: Any) -> Any:
    """``x.select(dim, index)``: a gather with a 0-d index (drops the axis); a negative int counts from the end."""
    index = wrap_position(ctx, x, dim, index)
    if isinstance(index, int):
        idx = ctx.constant(torch.tensor(index, dtype=torch.int64))
    else:
        idx = reshape(ctx, cast(ctx, index, torch.int64), [])
    return ctx.network.add_gather(x, idx, dim).get_output(0)
