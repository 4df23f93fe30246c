"""Linear algebra layers: MATRIX_MULTIPLY and EINSUM."""

from __future__ import annotations

from typing import Any, Optional

import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.reference._registry import EvalContext, handles
from torch_tensorrt.reference.layers.reduce import compute_dtype, require_float


def _as_matrix(layer: Any, ctx: EvalContext, x: torch.Tensor, op: Any, slot: int) -> torch.Tensor:
    """Apply a MatrixOperation: VECTOR operands become a row (slot 0) or a column (slot 1) matrix."""
    if op == trt.MatrixOperation.NONE:
        return x
    if op == trt.MatrixOperation.TRANSPOSE:
        return x.transpose(-1, -2)
    if op == trt.MatrixOperation.VECTOR:
        return x.unsqueeze(-2) if slot == 0 else x.unsqueeze(-1)
    raise ctx.unsupported(layer, f"op{slot}", op)


@handles("MATRIX_MULTIPLY", "IMatrixMultiplyLayer")
def matrix_multiply(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """op0(A) x op1(B) over the last two dimensions, the leading (batch) dimensions broadcast where one is 1.

    TRANSPOSE swaps an operand's last two dimensions; VECTOR treats its last dimension as a vector, so the
    product is matrix*vector -> vector, vector*matrix -> vector, or vector*vector -> scalar per batch element.
    Reduced-precision floats are accumulated in float32. Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/MatrixMultiply.html
    """
    a, b = inputs
    assert a is not None and b is not None
    require_float(layer, ctx, a)
    op0, op1 = layer.op0, layer.op1
    cdt = compute_dtype(a.dtype)
    ma = _as_matrix(layer, ctx, a.to(cdt), op0, 0)
    mb = _as_matrix(layer, ctx, b.to(cdt), op1, 1)
    if ma.dim() != mb.dim():
        raise ctx.unsupported(layer, "operand ranks after op0/op1", (ma.dim(), mb.dim()))
    for da, db in zip(ma.shape[:-2], mb.shape[:-2]):
        if da != db and 1 not in (da, db):
            raise ValueError(
                f"MATRIX_MULTIPLY {layer.name!r}: batch dims {tuple(a.shape)} vs {tuple(b.shape)} do not broadcast"
            )
    out = torch.matmul(ma, mb)
    if op1 == trt.MatrixOperation.VECTOR:
        out = out.squeeze(-1)
    if op0 == trt.MatrixOperation.VECTOR:
        out = out.squeeze(-1 if op1 == trt.MatrixOperation.VECTOR else -2)
    return [out.to(a.dtype)]


@handles("EINSUM", "IEinsumLayer")
def einsum(layer: Any, inputs: list[Optional[torch.Tensor]], ctx: EvalContext) -> list[torch.Tensor]:
    """Einstein summation of the inputs per ``equation`` (lower-case subscripts, explicit ``->`` or implicit form).

    In the implicit form the output subscripts are the ones appearing once, in alphabetical order, as for
    numpy. An ellipsis stands for the leading dimensions not named, as for numpy (the operators page does not
    list it, but TensorRT-RTX 1.7 builds such equations, and NVIDIA's ONNX parser passes ONNX's through). Doc:
    https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/operators/Einsum.html
    """
    equation = str(layer.equation)
    tensors = [t for t in inputs if t is not None]
    for t in tensors:
        require_float(layer, ctx, t)
    cdt = compute_dtype(tensors[0].dtype)
    out = torch.einsum(equation.replace(" ", ""), *[t.to(cdt) for t in tensors])
    return [out.to(tensors[0].dtype)]
