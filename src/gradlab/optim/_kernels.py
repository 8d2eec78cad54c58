"""In-place vector kernels for the optimizer updates: y <- y + a x and
y <- a y.

Optimizer updates are a handful of passes over every parameter, limited by
memory traffic. NumPy can only spell y += a * x as two passes through a
temporary; BLAS's ``axpy`` and ``scal`` (SciPy's wrappers) do it in one
fused, vectorized pass, which makes an Adam or SGD step markedly faster on
large layers. They are used on C-contiguous float32/float64 NumPy arrays;
anything else (a CuPy array, a strided view, another dtype) takes the plain
array-expression path, which gives the same numbers up to rounding.

The calls go in blocks of ``BLOCK`` elements, below the size at which
OpenBLAS splits a level-1 call across its threads: a step makes dozens of
these short calls, and a thread hand-off per call costs more than it saves
(on a busy machine, where a woken thread waits for a core, a step became
20x slower). Single-threaded, they also leave the cores to NumPy's own BLAS
pool, which spins between the matrix products of the forward and backward
passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import blas

__all__ = ["axpy", "scal"]

BLOCK = 8192  # OpenBLAS threads axpy above 10,000 elements

_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}
_SCAL = {np.dtype(np.float32): blas.sscal, np.dtype(np.float64): blas.dscal}


def _blas_ready(y: Any, x: Any = None) -> bool:
    if type(y) is not np.ndarray or y.dtype not in _AXPY or not y.flags.c_contiguous \
            or not y.flags.writeable or y.size == 0:
        return False
    if x is None:
        return True
    return type(x) is np.ndarray and x.dtype == y.dtype and x.shape == y.shape


def axpy(a: float, x: Any, y: Any) -> None:
    """y += a * x, in place (x and y of the same shape)."""
    if not _blas_ready(y, x):
        y += a * x
        return
    kernel = _AXPY[y.dtype]
    flat_y, flat_x = y.reshape(-1), x.reshape(-1)
    for start in range(0, flat_y.size, BLOCK):
        block = flat_y[start:start + BLOCK]
        out = kernel(flat_x[start:start + BLOCK], block, a=a)
        if out is not block:  # BLAS worked on a copy; never expected for a contiguous y
            block[...] = out


def scal(a: float, y: Any) -> None:
    """y *= a, in place."""
    if not _blas_ready(y):
        y *= a
        return
    kernel = _SCAL[y.dtype]
    flat = y.reshape(-1)
    for start in range(0, flat.size, BLOCK):
        block = flat[start:start + BLOCK]
        out = kernel(a, block)
        if out is not block:
            block[...] = out
