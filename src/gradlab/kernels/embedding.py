"""Embedding backward: the scatter-add of the output gradient onto the
rows of the table that the lookup read,

    dW[idx_i] += dY_i   for each looked-up position i (skipping padding_idx).

Positions that read the same row add up (a word used twice gets both
gradients). The rows of dW are split among the threads by row number
(row k belongs to thread k mod T), so that no two threads add into the
same row and the sum stays a plain loop without atomics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import get_num_threads

from gradlab.backend import add_at, array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import takes

__all__ = ["embedding_backward", "embedding_backward_reference"]


@cpu_kernel
def embedding_backward_kernel(g, index, padding_idx, threads, gw):
    rows, dim = gw.shape
    for t in prange(threads):
        for k in range(t, rows, threads):
            for j in range(dim):
                gw[k, j] = 0.0
        for i in range(index.size):
            k = index[i]
            if k % threads != t or k == padding_idx:
                continue
            for j in range(dim):
                gw[k, j] += g[i, j]


def embedding_backward_reference(g: Any, index: Any, rows: int, padding_idx: int = -1) -> Any:
    """dW (rows, D) from dY (M, D) and the flat indices (M,), in NumPy."""
    xp = array_module(g)
    gw = xp.zeros((rows, g.shape[1]), dtype=g.dtype)
    add_at(gw, index, g)
    if padding_idx >= 0:
        gw[padding_idx] = 0
    return gw


def embedding_backward(g: Any, index: Any, rows: int, padding_idx: int = -1) -> Any:
    """dW (rows, D) from dY (M, D) and the flat row indices (M,); the row
    ``padding_idx`` (if >= 0) gets no gradient."""
    if not takes(g) or type(index) is not np.ndarray:
        return embedding_backward_reference(g, index, rows, padding_idx)
    gw = np.empty((rows, g.shape[1]), dtype=g.dtype)
    embedding_backward_kernel(np.ascontiguousarray(g), np.ascontiguousarray(index, dtype=np.int64),
                              padding_idx, get_num_threads(), gw)
    return gw
