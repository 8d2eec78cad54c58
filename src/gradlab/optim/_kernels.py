"""In-place vector kernels for the optimizer updates: y <- y + a x and
y <- a y.

Optimizer updates are a handful of passes over every parameter, limited by
memory traffic. NumPy can only spell y += a * x as two passes through a
temporary; BLAS's ``axpy`` and ``scal`` (SciPy's wrappers) do it in one
fused, vectorized pass, which makes an Adam or SGD step markedly faster on
large layers. They are used on C-contiguous float32/float64 NumPy arrays;
anything else (a CuPy array, a strided view, another dtype) takes the plain
array-expression path, which gives the same numbers up to rounding.

These calls run in SciPy's BLAS, which in the usual pip installation is a
second OpenBLAS library, separate from the one NumPy uses for the matrix
products, each with its own pool of worker threads. After a call, an
OpenBLAS pool keeps its workers spinning for a while; when the two pools
take turns, as the matrix products of a training step and the optimizer's
updates do, each pool's workers wait for cores held by the other's spinning
workers, and a small network trained with two threads ran 5 to 12 times
slower than with one. :func:`serial_blas` therefore runs the optimizer's
updates with SciPy's pool at one thread (a few microseconds per step) and
gives it its thread count back afterwards: the matrix products keep NumPy's
threads, and the fused single-pass kernels stay.

On large arrays a single thread leaves half the machine idle, and PyTorch's
updates use every core. So where NumPy's own BLAS is an OpenBLAS that
exports the CBLAS ``axpy`` and ``scal`` routines (as in NumPy's wheels),
arrays of at least :data:`THREADED_MIN` elements are updated by *that*
library, called through :mod:`ctypes`: it spreads the pass over its threads,
the same pool the matrix products use, so no second pool is woken. Smaller
arrays stay on SciPy's serial wrappers, whose call costs a tenth as much.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.linalg import blas

from gradlab._blas import is_numpys, numpy_cblas

__all__ = ["axpy", "scal", "serial_blas"]

THREADED_MIN = 1 << 15
"""Arrays this large go to NumPy's (threaded) BLAS when it can be called."""


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
    # BLAS reads x and y as flat runs of memory in the same order: C order,
    # made here for x, so that any layout of the same values (a transposed
    # or Fortran-ordered gradient) gives the same update, to the last bit
    x = np.ascontiguousarray(x)
    if y.size >= THREADED_MIN and (cblas := numpy_cblas(y.dtype)) is not None:
        cblas.axpy(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
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
    if y.size >= THREADED_MIN and (cblas := numpy_cblas(y.dtype)) is not None:
        cblas.scal(y.size, a, y.ctypes.data, 1)
        return
    flat = y.reshape(-1)
    out = _SCAL[y.dtype](a, flat)
    if out is not flat:
        flat[...] = out


_blas_pools: list[Any] | None = None


def _pools() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries that are not
    NumPy's (found once). Empty when
    NumPy and SciPy share one library, as in conda: one pool cannot fight
    itself."""
    global _blas_pools
    if _blas_pools is None:
        from threadpoolctl import ThreadpoolController

        pools = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        _blas_pools = [c for c in pools if not is_numpys(c)]
        if len(_blas_pools) == len(pools) and len(pools) > 1:
            # NumPy's not recognized by its path: it is loaded first, so it is listed first
            _blas_pools = pools[1:]
    return _blas_pools


@contextlib.contextmanager
def serial_blas() -> Iterator[None]:
    """SciPy's BLAS at one thread inside the block, its own count restored
    after (see the module docstring for why); NumPy's is left alone."""
    pools = [(c, c.get_num_threads()) for c in _pools()]
    pools = [(c, n) for c, n in pools if n is not None and n > 1]
    for c, _ in pools:
        c.set_num_threads(1)
    try:
        yield
    finally:
        for c, n in pools:
            c.set_num_threads(n)
