"""Dropout's mask and scaling in one pass (Srivastava et al. 2014).

From uniform draws u in [0, 1) of the input's shape (drawn by the caller
from gradlab's Generator, so that a seed gives the same mask everywhere):

    m_i = scale if u_i < q else 0,    y_i = m_i x_i

with q the keep probability and scale = 1 / q for inverted dropout (or 1
for the classic form). The scaled mask m is also dL/dy -> dL/dx's factor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.kernels._jit import cpu_kernel, prange, scalars_like
from gradlab.kernels._layout import dense, flat, like, takes

__all__ = ["dropout_forward", "dropout_forward_reference"]


@cpu_kernel
def dropout_forward_kernel(x, u, keep, scale, y, mask):
    """``scale`` is of x's dtype, so that y = m x is computed in it (as in
    PyTorch, and in the reference)."""
    zero = x.dtype.type(0.0)
    for i in prange(x.size):
        m = scale if u[i] < keep else zero
        mask[i] = m
        y[i] = m * x[i]


def dropout_forward_reference(x: Any, u: Any, keep: float, scale: float) -> tuple[Any, Any]:
    """(y, scaled mask) in NumPy."""
    mask = (u < keep).astype(x.dtype)
    if scale != 1.0:
        mask *= scale
    return x * mask, mask


def dropout_forward(x: Any, u: Any, keep: float, scale: float) -> tuple[Any, Any]:
    """(y, scaled mask m), both in x's layout: y = m x with m = scale where
    the draw ``u`` (x's shape) is below ``keep``, else 0."""
    if not takes(x) or type(u) is not np.ndarray or u.shape != x.shape:
        return dropout_forward_reference(x, u, keep, scale)
    x = dense(x)
    y, mask = np.empty_like(x), np.empty_like(x)
    dropout_forward_kernel(flat(x), flat(like(u, x)), keep, *scalars_like(x, scale), flat(y), flat(mask))
    return y, mask
