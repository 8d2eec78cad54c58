"""Direct calls into the BLAS library NumPy itself uses.

NumPy exposes BLAS only through its array operations, and some fused forms
that BLAS offers cannot be spelled with them: ``y += a x`` in one pass
(``axpy``), or a matrix product added onto an existing array,
C <- A B + C (``gemm`` with beta = 1), which NumPy can only write as a
product into a temporary and a second pass to add it. Where NumPy's BLAS is
an OpenBLAS exporting the CBLAS routines (as in NumPy's wheels), this module
calls them through :mod:`ctypes`. Using NumPy's own library, rather than
SciPy's copy, matters: each OpenBLAS has its own pool of worker threads,
and two pools taking turns on the same cores slow each other down (see
:mod:`gradlab.optim._kernels`).

:class:`MatmulInto` is the user here: a loop of small products into
slices of preallocated stacks (an LSTM's recurrence) with the array
addresses computed once, since asking NumPy for an address costs about as
much as a small product's arithmetic. Every entry point falls back to plain
array expressions (same numbers up to rounding) where the routines are
missing, or for CuPy arrays, other dtypes and non-contiguous layouts.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

_ROW_MAJOR, _NO_TRANS = 101, 111


class CBlas:
    """axpy, scal and gemm of one precision from a CBLAS library."""

    def __init__(self, lib: ctypes.CDLL, prefix: str, suffix: str, letter: str, int_t: Any,
                 real_t: Any) -> None:
        ptr, enum = ctypes.c_void_p, ctypes.c_int

        def load(name: str, *argtypes: Any) -> Any:
            fn = getattr(lib, f"{prefix}{letter}{name}{suffix}")
            fn.restype, fn.argtypes = None, list(argtypes)
            return fn

        self.axpy = load("axpy", int_t, real_t, ptr, int_t, ptr, int_t)
        self.scal = load("scal", int_t, real_t, ptr, int_t)
        # gemm(order, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
        self.gemm = load("gemm", enum, enum, enum, int_t, int_t, int_t, real_t, ptr, int_t, ptr,
                         int_t, real_t, ptr, int_t)


# OpenBLAS's symbol names: (prefix, suffix); "64_" marks the ILP64 interface
# (64-bit integers), as in NumPy's own wheels
_CBLAS_NAMES = (("scipy_cblas_", "64_"), ("cblas_", "64_"), ("scipy_cblas_", ""), ("cblas_", ""))
_numpy_kernels: dict[Any, CBlas] | None = None


def numpy_cblas(dtype: Any) -> CBlas | None:
    """The CBLAS routines of NumPy's OpenBLAS for ``dtype`` (found once),
    or None where NumPy's BLAS is not an OpenBLAS with them."""
    global _numpy_kernels
    if _numpy_kernels is None:
        _numpy_kernels = find_numpy_cblas()
    return _numpy_kernels.get(dtype)


def find_numpy_cblas() -> dict[Any, CBlas]:
    from threadpoolctl import ThreadpoolController

    pools = [c for c in ThreadpoolController().lib_controllers
             if c.internal_api == "openblas" and is_numpys(c)]
    if not pools:
        return {}
    try:
        lib = ctypes.CDLL(pools[0].filepath)
    except OSError:
        return {}
    for prefix, suffix in _CBLAS_NAMES:
        int_t = integer_type(suffix)
        if int_t is None:
            continue
        try:
            return {np.dtype(np.float32): CBlas(lib, prefix, suffix, "s", int_t, ctypes.c_float),
                    np.dtype(np.float64): CBlas(lib, prefix, suffix, "d", int_t, ctypes.c_double)}
        except AttributeError:
            continue
    return {}


def integer_type(suffix: str) -> Any:
    """The C integer type of the BLAS interface NumPy was built against:
    from NumPy's build record of its OpenBLAS (``USE64BITINT`` or not), else
    from the symbol suffix; None when neither says (the routines are then
    not called: a wrong integer width would corrupt memory)."""
    try:
        blas_info = np.__config__.CONFIG["Build Dependencies"]["blas"]
        configuration = str(blas_info["openblas configuration"])
    except (AttributeError, KeyError, TypeError):
        return ctypes.c_int64 if suffix == "64_" else None
    return ctypes.c_int64 if "USE64BITINT" in configuration.split() else ctypes.c_int


def is_numpys(controller: Any) -> bool:
    """Whether a threadpoolctl controller's library is the one bundled with
    NumPy (its wheels keep it in numpy.libs/, next to numpy/)."""
    numpy_dir = os.path.dirname(os.path.abspath(np.__file__))  # also matches numpy.libs/
    return os.path.abspath(controller.filepath).startswith(numpy_dir)


class MatmulInto:
    """``out[j] = lhs @ rhs`` (or ``+=``, with ``accumulate``) for operands
    fixed in advance, called with (i, j). ``lhs`` is a matrix (M, P) or a
    stack of them (K, M, P), ``rhs`` a matrix (P, N) or a stack (K, P, N);
    stacked operands take entry ``i``, and ``out`` (K', M, N) takes entry j.

    One BLAS ``gemm`` per call (beta = 1 to accumulate, 0 to overwrite) at
    addresses computed once, where the three are NumPy arrays of one float
    dtype whose matrices have contiguous rows (any row stride: a block of
    rows out of a wider stack will do) and NumPy's CBLAS is available;
    otherwise the same as an array expression. The arrays are held until the
    object is dropped.
    """

    def __init__(self, lhs: Any, rhs: Any, out: Any, accumulate: bool = True) -> None:
        if lhs.ndim not in (2, 3) or rhs.ndim not in (2, 3) or out.ndim != 3 \
                or lhs.shape[-1] != rhs.shape[-2] or out.shape[1:] != (lhs.shape[-2], rhs.shape[-1]) \
                or (lhs.ndim == rhs.ndim == 3 and lhs.shape[0] != rhs.shape[0]):
            raise ValueError(f"MatmulInto: shapes {lhs.shape} @ {rhs.shape} do not fit into "
                             f"{out.shape}")
        self.lhs, self.rhs, self.out, self.accumulate = lhs, rhs, out, accumulate
        self._stack = lhs.shape[0] if lhs.ndim == 3 else rhs.shape[0] if rhs.ndim == 3 else None
        arrays = (lhs, rhs, out)
        cblas = None
        if all(type(a) is np.ndarray and _rows_contiguous(a) for a in arrays) \
                and lhs.dtype == rhs.dtype == out.dtype and out.flags.writeable and out.size:
            cblas = numpy_cblas(out.dtype)
        self._gemm = None if cblas is None else cblas.gemm
        if self._gemm is not None:
            self._lhs = _addressing(lhs)
            self._rhs = _addressing(rhs)
            self._out = _addressing(out)
            self._m, self._n, self._k = out.shape[1], out.shape[2], lhs.shape[-1]
            self._beta = 1.0 if accumulate else 0.0

    def __call__(self, i: int, j: int) -> None:
        if not ((self._stack is None or 0 <= i < self._stack) and 0 <= j < self.out.shape[0]):
            raise IndexError(f"MatmulInto: index ({i}, {j}) outside stacks of "
                             f"{self._stack} and {self.out.shape[0]}")
        if self._gemm is None:
            lhs = self.lhs[i] if self.lhs.ndim == 3 else self.lhs
            rhs = self.rhs[i] if self.rhs.ndim == 3 else self.rhs
            if self.accumulate:
                self.out[j] += lhs @ rhs
            else:
                self.out[j] = lhs @ rhs
            return
        (a, a_step, lda), (b, b_step, ldb), (c, c_step, ldc) = self._lhs, self._rhs, self._out
        self._gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, self._m, self._n, self._k, 1.0,
                   a + i * a_step, lda, b + i * b_step, ldb, self._beta, c + j * c_step, ldc)


def _rows_contiguous(a: np.ndarray) -> bool:
    """Whether each matrix of ``a`` (its last two axes) is a block of
    contiguous rows, which BLAS can address with a leading dimension."""
    item = a.itemsize
    rows, cols = a.shape[-2:]
    row_stride, col_stride = a.strides[-2:]
    return (col_stride == item or cols == 1) and row_stride % item == 0 \
        and (rows == 1 or row_stride // item >= cols)


def _addressing(a: np.ndarray) -> tuple[int, int, int]:
    """(address of a[0], bytes from one stacked matrix to the next, leading
    dimension in elements); a single matrix has a step of 0."""
    step = a.strides[0] if a.ndim == 3 else 0
    return a.ctypes.data, step, max(a.strides[-2] // a.itemsize, a.shape[-1])
