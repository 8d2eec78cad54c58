"""How every CPU kernel is compiled, and which arrays it takes.

Each kernel is compiled twice with Numba's ``njit``, lazily (at the first
call that needs it) and ``cache=True`` (the machine code is kept on disk, so
only the first use after an install pays for compilation; Numba falls back
to a per-user cache folder when the installed package is read-only, and
``NUMBA_CACHE_DIR`` names another):

* **serial**, where ``prange`` is a plain ``range``: for most calls. Starting
  a parallel loop wakes Numba's sleeping worker threads, which costs 120-170
  us on this project's 2-core virtual machines, while an SGD step over
  262,144 float32 takes 100-150 us on one core: below about half a million
  elements a parallel SGD, Adam or ReLU loop is slower than a serial one
  even alone. In a training step it loses up to about four million: after
  each matrix product the BLAS's worker threads spin for about 0.1 s on the
  other cores, and a parallel kernel shares those cores with them (every
  kernel call parallel made the CIFAR-size CNN's step 7% slower than every
  call serial; ``benchmarks/bench_kernels.py`` measures both);
* **parallel** (``parallel=True``, ``prange`` spread over gradlab's threads,
  :mod:`gradlab.threads`): for calls whose largest array holds at least
  the kernel's ``parallel_from`` elements (:data:`PARALLEL_MIN_ELEMENTS`
  unless it says otherwise), when gradlab computes with more than one
  thread.

Both use NumPy's error model (``error_model="numpy"``): a division by zero
gives inf or nan as in NumPy instead of raising, which also lets LLVM
vectorize loops with a division (Python's model checks each divisor and
made a serial Adam step 2.3x slower).

A kernel computes in its arrays' dtype: its callers pass scalars of that
dtype (:func:`scalars_like`), and its loop has no float literal, which
Numba would type float64 and so promote a float32 loop to float64.

A kernel that sums (``@cpu_kernel(sums=True)``: the normalization
statistics, a gradient's norm) is compiled with LLVM's fast-math flags
that let it reorder arithmetic (:data:`REASSOCIATE`): a float64 sum
``total += x[j]`` kept in IEEE order is one dependent addition after
another, four cycles each, while reassociated it runs eight partial sums in
SIMD registers. The result changes in the last bits only (the order of
additions), is the same on every call and both compilations, and nan and
inf still propagate (the flags that assume them away are not set). The
batch-norm kernels of a CIFAR-size CNN run 2.7x faster so.

A kernel is compiled for float32 and float64 NumPy arrays and reads them as
flat runs of memory, so the arrays it *writes* (a parameter and its
optimizer state) must be C-contiguous and writeable (:func:`writes_into`
checks; the caller takes the NumPy reference otherwise), and the arrays it
only *reads* are made C-ordered first (:func:`flat_input`), so that any
layout of the same values gives the same result to the last bit.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

from gradlab import threads

__all__ = ["KERNEL_DTYPES", "PARALLEL_MIN_ELEMENTS", "REASSOCIATE", "CpuKernel", "cpu_kernel",
           "flat_input", "prange", "reads_as", "scalars_like", "writes_into"]

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes the CPU kernels are compiled for."""

PARALLEL_MIN_ELEMENTS = 1 << 22
"""The size of a call's largest array from which a kernel runs in parallel
(when gradlab computes with more than one thread): 2^22, where the parallel
loop pays in a training step, beside the BLAS's spinning workers (alone,
every kernel crosses at 2^19-2^20, an Adam step in float32 too); it makes
the im2col columns of wide convolutions and the optimizer states of large
layers parallel, activations and normalization of CNNs of CIFAR size
serial. ``cpu_kernel(parallel_from=...)`` gives another size to a kernel
with more arithmetic per element."""

_forced: str | None = None
"""``"serial"`` or ``"parallel"`` to run every call on that compilation
(the kernel tests check both), None to choose by size."""


_OPTIONS = {"error_model": "numpy"}
"""Numba options of both compilations (besides ``parallel`` and ``cache``)."""

_CACHE_TAG = "np"
"""Part of every compiled copy's name; change it with :data:`_OPTIONS`."""

REASSOCIATE = frozenset({"reassoc", "contract", "nsz", "arcp"})
"""The fast-math flags of a kernel that sums: reorder additions and
multiplications, fuse them, ignore the sign of zero, divide by a
reciprocal. Not ``nnan``/``ninf``: a nan must still reach the diagnostics."""


class CpuKernel:
    """A kernel function compiled as a serial and as a parallel loop (see the
    module docstring); calling it runs the one the call's size asks for.

    ``kernel.serial`` and ``kernel.parallel`` are the two Numba dispatchers;
    ``sums`` compiles both with :data:`REASSOCIATE`.
    """

    def __init__(self, fn: Callable[..., Any], parallel_from: int = PARALLEL_MIN_ELEMENTS,
                 sums: bool = False) -> None:
        functools.update_wrapper(self, fn)
        self.parallel_from = parallel_from
        options = dict(_OPTIONS, fastmath=set(REASSOCIATE)) if sums else _OPTIONS
        tag = "_reassoc" if sums else ""
        self.parallel = njit(parallel=True, cache=True, **options)(_renamed(fn, "parallel" + tag))
        self.serial = njit(cache=True, **options)(_renamed(fn, "serial" + tag))

    def __call__(self, *args: Any) -> Any:
        if _forced is not None:
            return getattr(self, _forced)(*args)
        if threads.get_num_threads() > 1 and _largest(args) >= self.parallel_from:
            return self.parallel(*args)
        return self.serial(*args)


def _renamed(fn: Callable[..., Any], kind: str) -> types.FunctionType:
    """A copy of ``fn`` under another qualified name. Numba's disk cache names
    its files after the function, and its key holds the function's bytecode
    but not the compile options: without distinct names a serial and a
    parallel compilation, or one cached by an earlier gradlab with other
    options, would be loaded for each other."""
    name = f"{kind}_{_CACHE_TAG}"
    copy = types.FunctionType(fn.__code__, fn.__globals__, f"{fn.__name__}_{name}",
                              fn.__defaults__, fn.__closure__)
    copy.__qualname__ = f"{fn.__qualname__}_{name}"
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return copy


def _largest(args: tuple[Any, ...]) -> int:
    """The number of elements of the largest array among ``args``."""
    return max((a.size for a in args if type(a) is np.ndarray), default=0)


def cpu_kernel(fn: Callable[..., Any] | None = None, *,
               parallel_from: int = PARALLEL_MIN_ELEMENTS, sums: bool = False) -> Any:
    """Compile ``fn`` lazily (at its first call) as a serial and a parallel
    cached kernel (:class:`CpuKernel`) that runs in parallel from
    ``parallel_from`` elements, with reassociated sums when ``sums``; as
    ``@cpu_kernel`` or ``@cpu_kernel(parallel_from=n, sums=True)``."""
    if fn is None:
        return functools.partial(CpuKernel, parallel_from=parallel_from, sums=sums)
    return CpuKernel(fn, parallel_from, sums)


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


def scalars_like(array: np.ndarray, *values: float) -> tuple[Any, ...]:
    """``values`` as scalars of ``array``'s dtype, for a kernel's arguments.

    A kernel then computes a float32 parameter's update in float32, as
    PyTorch does; Python's float64 numbers would promote every operation
    to float64, with half the SIMD lanes and a float64 division and square
    root (an Adam step over 670,000 float32 took 2.4x longer). Coefficients
    such as 1 - beta1 are computed in float64 first and rounded once, as
    PyTorch rounds its Python scalars."""
    kind = array.dtype.type
    return tuple(kind(v) for v in values)


def flat_input(array: np.ndarray) -> np.ndarray:
    """``array``'s values in C order as a flat array (a view when it is
    C-contiguous already, else a copy)."""
    return np.ascontiguousarray(array).reshape(-1)
