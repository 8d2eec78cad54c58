"""In-place vector kernels for the optimizer updates: y <- y + a x and
y <- a y.

Optimizer updates are a handful of passes over every parameter, limited by
memory traffic. NumPy can only spell y += a * x as two passes through a
temporary; BLAS's ``axpy`` and ``scal`` (SciPy's wrappers) do it in one
fused, vectorized pass, which makes an Adam or SGD step markedly faster on
large layers. They are used on C-contiguous float32/float64 NumPy arrays;
anything else (a CuPy array, a strided view, another dtype) takes the plain
array-expression path, which gives the same numbers up to rounding.

Each call covers a whole array, so OpenBLAS may split a long one across its
threads, as it does for the matrix products (splitting the calls into
single-thread blocks was measured at 2x slower on a quiet machine: a
Python-level call per block, and one core left idle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import blas

__all__ = ["axpy", "scal"]


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
    flat = y.reshape(-1)
    out = _AXPY[y.dtype](x.reshape(-1), flat, a=a)
    if out is not flat:  # BLAS worked on a copy; never expected for a contiguous y
        flat[...] = out


def scal(a: float, y: Any) -> None:
    """y *= a, in place."""
    if not _blas_ready(y):
        y *= a
        return
    flat = y.reshape(-1)
    out = _SCAL[y.dtype](a, flat)
    if out is not flat:
        flat[...] = out
