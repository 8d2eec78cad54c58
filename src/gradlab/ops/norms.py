"""Norms and distances, composed from reductions:

    ||x||_p = (sum_i |x_i|^p)^(1/p),   ||x||_inf = max_i |x_i|,
    ||x||_-inf = min_i |x_i|,          ||x||_0 = #{i : x_i != 0},

and the Frobenius norm of a matrix is the 2-norm of its elements. The 2-norm
takes its square root with the rule of :func:`gradlab.std` (gradient 0 where
the norm is 0, as PyTorch's), so the norm of a zero vector is differentiable.
"""

from __future__ import annotations

import math
from typing import Any

from gradlab.ops.elementwise import ZeroGrad
from gradlab.ops.reduce import StdSqrt, amax, amin
from gradlab.ops.reduce import sum as _sum
from gradlab.tensor import Tensor


def norm(x: Tensor, p: float | str | None = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """The ``p``-norm of ``x`` over ``dim`` (all elements if None): p may be
    a number (incl. ``inf``, ``-inf``, 0) or "fro" (the 2-norm of the
    elements). As ``torch.norm``."""
    if dtype is not None:
        x = x.to(dtype)
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be floating point, got {x.dtype}")
    if p is None or p == "fro":
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): p must be a number or 'fro', got {p!r} "
                           "(gradlab has no nuclear norm)")
    return vector_norm(x, p, dim, keepdim)


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """The ``ord``-norm of the elements of ``x`` over ``dim``."""
    a = x.abs()
    if ord == math.inf:
        return amax(a, dim, keepdim)
    if ord == -math.inf:
        return amin(a, dim, keepdim)
    if ord == 0:  # a count: zero gradient, but in the graph, as PyTorch's
        return _sum(ZeroGrad.apply(x, fn="sign").abs(), dim, keepdim)
    if ord == 1:
        return _sum(a, dim, keepdim)
    if ord == 2:
        return StdSqrt.apply(_sum(x * x, dim, keepdim))
    return _sum(a ** ord, dim, keepdim) ** (1.0 / ord)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """Distances ||x1[..., i, :] - x2[..., j, :]||_p between the rows of two
    (batches of) matrices: shape (..., P, M) and (..., R, M) give (..., P, R)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, got {x1.ndim}D and {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: x1 and x2 must have the same number of columns, got "
                           f"{x1.shape[-1]} and {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)
