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

:class:`MatmulInto` is the user here: a loop of small products added into
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
    """``out[j] += lhs[i] @ rhs`` for stacks fixed in advance, called with
    (i, j): lhs (K, M, P), rhs (P, N), out (K', M, N).

    One BLAS ``gemm`` with beta = 1 per call, at addresses computed once,
    where the three are C-contiguous NumPy arrays of one float dtype and
    NumPy's CBLAS is available; otherwise ``out[j] += lhs[i] @ rhs`` as an
    array expression. The arrays are held until the object is dropped.
    """

    def __init__(self, lhs: Any, rhs: Any, out: Any) -> None:
        if lhs.ndim != 3 or rhs.ndim != 2 or out.ndim != 3 or lhs.shape[2] != rhs.shape[0] \
                or out.shape[1:] != (lhs.shape[1], rhs.shape[1]):
            raise ValueError(f"MatmulInto: shapes {lhs.shape} @ {rhs.shape} do not fit into "
                             f"{out.shape}")
        self.lhs, self.rhs, self.out = lhs, rhs, out
        arrays = (lhs, rhs, out)
        cblas = None
        if all(type(a) is np.ndarray and a.flags.c_contiguous for a in arrays) \
                and lhs.dtype == rhs.dtype == out.dtype and out.flags.writeable and out.size:
            cblas = numpy_cblas(out.dtype)
        self._gemm = None if cblas is None else cblas.gemm
        if self._gemm is not None:
            self._lhs_at, self._lhs_step = lhs.ctypes.data, lhs.strides[0]
            self._out_at, self._out_step = out.ctypes.data, out.strides[0]
            self._rhs_at = rhs.ctypes.data
            self._m, self._n, self._k = lhs.shape[1], rhs.shape[1], lhs.shape[2]

    def __call__(self, i: int, j: int) -> None:
        if self._gemm is None:
            self.out[j] += self.lhs[i] @ self.rhs
            return
        if not (0 <= i < self.lhs.shape[0] and 0 <= j < self.out.shape[0]):
            raise IndexError(f"MatmulInto: index ({i}, {j}) outside stacks of "
                             f"{self.lhs.shape[0]} and {self.out.shape[0]}")
        m, n, k = self._m, self._n, self._k
        self._gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, 1.0,
                   self._lhs_at + i * self._lhs_step, k, self._rhs_at, n,
                   1.0, self._out_at + j * self._out_step, n)
