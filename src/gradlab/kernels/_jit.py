"""How every CPU kernel is compiled, and which arrays it takes.

Kernels are compiled with Numba's ``njit``, ``parallel=True`` (``prange``
loops spread over gradlab's threads, see :mod:`gradlab.threads`) and
``cache=True`` (the machine code is kept on disk, so only the first use
after an install pays for compilation; Numba falls back to a per-user cache
folder when the installed package is read-only, and ``NUMBA_CACHE_DIR``
names another).

A kernel is compiled for float32 and float64 NumPy arrays and reads them as
flat runs of memory, so the arrays it *writes* (a parameter and its
optimizer state) must be C-contiguous and writeable (:func:`writes_into`
checks; the caller takes the NumPy reference otherwise), and the arrays it
only *reads* are made C-ordered first (:func:`flat_input`), so that any
layout of the same values gives the same result to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

__all__ = ["KERNEL_DTYPES", "cpu_kernel", "flat_input", "prange", "reads_as", "writes_into"]

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes the CPU kernels are compiled for."""


def cpu_kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` lazily (at its first call) as a parallel, cached kernel."""
    return njit(parallel=True, cache=True)(fn)


def writes_into(*arrays: Any) -> bool:
    """Whether a CPU kernel can update ``arrays`` in place: NumPy arrays of
    one dtype of :data:`KERNEL_DTYPES`, one shape, each C-contiguous and
    writeable."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype not in KERNEL_DTYPES:
        return False
    return all(type(a) is np.ndarray and a.dtype == first.dtype and a.shape == first.shape
               and a.flags.c_contiguous and a.flags.writeable for a in arrays)


def reads_as(array: Any, like: np.ndarray) -> bool:
    """Whether ``array`` can be read by a kernel that writes into ``like``:
    a NumPy array of the same dtype and shape (any layout)."""
    return type(array) is np.ndarray and array.dtype == like.dtype and array.shape == like.shape


def flat_input(array: np.ndarray) -> np.ndarray:
    """``array``'s values in C order as a flat array (a view when it is
    C-contiguous already, else a copy)."""
    return np.ascontiguousarray(array).reshape(-1)
