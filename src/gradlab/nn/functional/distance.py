"""Similarities and distances between batches of vectors."""

from __future__ import annotations

import numpy as np

from gradlab.ops import vector_norm
from gradlab.tensor import Tensor


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos(x1, x2) = sum(x1/||x1|| * x2/||x2||) along ``dim`` (the inputs
    broadcast), each norm taken as at least ``eps``.

    As PyTorch, each input is divided by its own norm before the product (the
    result stays in [-1, 1]), and the floor at ``eps`` changes the value but
    not the gradient: the norm's gradient is that of the unclamped norm.
    """
    shape = _broadcast_shape(x1, x2)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1, n2 = (_floored(vector_norm(x, 2, dim, keepdim=True), eps) for x in (x1, x2))
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _floored(norm: Tensor, eps: float) -> Tensor:
    return norm + (norm.detach().clamp(min=eps) - norm.detach())


def _broadcast_shape(a: Tensor, b: Tensor) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(f"cosine_similarity: shapes {tuple(a.shape)} and {tuple(b.shape)} "
                           "cannot be broadcast together") from None
