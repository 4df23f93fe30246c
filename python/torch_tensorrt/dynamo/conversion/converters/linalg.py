"""Linear algebra: mm/bmm/matmul (torch's rank rules), addmm/baddbmm, linear, mv/dot/outer, einsum.

Products go through ``IMatrixMultiplyLayer``: 1-D operands use ``MatrixOperation.VECTOR`` (after padding their
rank so that both operands have the same rank, which TensorRT requires), N-D operands are rank-aligned with
leading size-1 dimensions, which the layer broadcasts. ``einsum`` maps to ``IEinsumLayer`` after rewriting the
equation into TensorRT's grammar (lower-case labels only, no ellipsis, explicit output).
"""

from __future__ import annotations

import string
from typing import Any, Optional

import torch
import torch.fx

from torch_tensorrt._trt import trt
from torch_tensorrt.dynamo.conversion import _tensors as T
from torch_tensorrt.dynamo.conversion._args import arg
from torch_tensorrt.dynamo.conversion._context import ConversionContext
from torch_tensorrt.dynamo.conversion._registry import converter

aten = torch.ops.aten
NONE = trt.MatrixOperation.NONE


def _float_output(node: torch.fx.Node, settings: Any) -> Optional[str]:
    """Matrix products and einsum run on floats only in TensorRT."""
    val = node.meta.get("val")
    if isinstance(val, torch.Tensor) and not val.dtype.is_floating_point:
        return f"{val.dtype} matrix products are not supported by TensorRT"
    return None


def matmul_tensors(ctx: ConversionContext, a: Any, b: Any, op_a: Any = NONE, op_b: Any = NONE) -> Any:
    """``torch.matmul(a, b)`` with ``op_a``/``op_b`` (NONE or TRANSPOSE) applied to N-D operands first."""
    dtype = T.result_dtype(ctx, a, b)
    a, b = T.to_trt(ctx, a, dtype), T.to_trt(ctx, b, dtype)
    ra, rb = len(a.shape), len(b.shape)
    if ra == 1 and rb == 1:
        op_a, op_b = trt.MatrixOperation.VECTOR, trt.MatrixOperation.VECTOR
    elif ra == 1:
        a = T.unsqueeze_to_rank(ctx, a, rb - 1)
        op_a = trt.MatrixOperation.VECTOR
    elif rb == 1:
        b = T.unsqueeze_to_rank(ctx, b, ra - 1)
        op_b = trt.MatrixOperation.VECTOR
    else:
        a, b = T.broadcast(ctx, a, b)
    return ctx.network.add_matrix_multiply(a, op_a, b, op_b).get_output(0)


def _scale(ctx: ConversionContext, x: Any, factor: Any) -> Any:
    if factor == 1:
        return x
    return T.elementwise(ctx, x, factor, trt.ElementWiseOperation.PROD)


def _add_scaled_product(ctx: ConversionContext, bias: Any, product: Any, beta: Any, alpha: Any) -> Any:
    """``beta * bias + alpha * product``; with ``beta == 0`` the bias is ignored (NaNs in it do not propagate)."""
    out = _scale(ctx, product, alpha)
    if beta == 0:
        return out
    return T.elementwise(ctx, _scale(ctx, bias, beta), out, trt.ElementWiseOperation.SUM)


@converter(
    aten.mm.default, aten.bmm.default, aten.matmul.default, aten.mv.default, aten.dot.default, validator=_float_output
)
def matmul(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    return matmul_tensors(ctx, args[0], args[1])


@converter(aten.addmm.default, aten.baddbmm.default, validator=_float_output)
def addmm(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    product = matmul_tensors(ctx, args[1], args[2])
    return _add_scaled_product(ctx, args[0], product, kwargs.get("beta", 1), kwargs.get("alpha", 1))


@converter(aten.linear.default, validator=_float_output)
def linear(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``x @ weight.T + bias``; the transpose is the layer's TRANSPOSE operation, not a separate layer."""
    x, weight = args[0], args[1]
    bias = arg(args, kwargs, 2, "bias")
    if T.rank_of(weight) == 1:  # linear with a 1-D weight is a dot product over the last dimension
        out = matmul_tensors(ctx, x, weight)
    else:
        out = matmul_tensors(ctx, x, weight, NONE, trt.MatrixOperation.TRANSPOSE)
    if bias is not None:
        out = T.elementwise(ctx, out, bias, trt.ElementWiseOperation.SUM)
    return out


@converter(aten.outer.default, validator=_float_output)
def outer(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    """``a[:, None] * b[None, :]`` (an exact elementwise product, no reduction)."""
    a = T.to_trt(ctx, args[0])
    return T.elementwise(ctx, T.unsqueeze(ctx, a, [1]), args[1], trt.ElementWiseOperation.PROD)


# -- einsum ------------------------------------------------------------------------------------------------------


def trt_einsum_equation(equation: str, ranks: list[int]) -> str:
    """Rewrite a torch einsum equation for TensorRT: labels become lower-case letters, ``...`` becomes explicit
    labels (right-aligned across operands, as torch broadcasts them) and the output is always explicit."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"einsum equation {equation!r} has {len(terms)} operands, got {len(ranks)}")
    used = {c for c in eq if c.isalpha()}
    spare = [c for c in string.ascii_lowercase if c not in used]
    mapping: dict[str, str] = {}
    for c in sorted(used):  # upper-case labels to unused lower-case letters
        if c.islower():
            mapping[c] = c
    upper = [c for c in sorted(used) if c.isupper()]
    ell_rank = max((r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t), default=0)
    if len(upper) + ell_rank > len(spare):
        raise ValueError(f"einsum equation {equation!r} uses too many labels for TensorRT")
    for c in upper:
        mapping[c] = spare.pop(0)
    ell = "".join(spare[:ell_rank])

    def rewrite(term: str, rank: Optional[int]) -> str:
        head, dots, tail = term.partition("...")
        if not dots:
            return "".join(mapping[c] for c in term)
        n = ell_rank if rank is None else rank - len(head) - len(tail)
        return "".join(mapping[c] for c in head) + ell[ell_rank - n :] + "".join(mapping[c] for c in tail)

    new_terms = [rewrite(t, r) for t, r in zip(terms, ranks)]
    if arrow:
        out = rewrite(rhs, None)
    else:  # implicit: broadcast dims first, then the labels that appear once, alphabetically (torch's rule)
        counts: dict[str, int] = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(mapping[c] for c in sorted(c for c, k in counts.items() if k == 1))
    return ",".join(new_terms) + "->" + out


@converter(aten.einsum.default, validator=_float_output)
def einsum(ctx: ConversionContext, node: torch.fx.Node, args: tuple, kwargs: dict) -> Any:
    operands = list(args[1])
    dtype = T.result_dtype(ctx, *operands)
    tensors = [T.to_trt(ctx, t, dtype) for t in operands]
    equation = trt_einsum_equation(args[0], [len(t.shape) for t in tensors])
    return ctx.network.add_einsum(tensors, equation).get_output(0)
