"""Which arrays a CPU kernel takes, and the memory layouts it makes.

Kernels are compiled for NumPy arrays of float32 or float64; anything else
(CuPy arrays, float16, integers) takes the NumPy reference path beside each
kernel. Elementwise kernels walk arrays as flat runs of memory: any dense
layout works (C, Fortran, or the transposed views a convolution returns), as
long as every operand has the same one, which :func:`flat` arranges.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def takes(*arrays: Any) -> bool:
    """Whether the compiled kernels take these arrays: NumPy arrays of one
    float dtype (float32 or float64)."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype not in FLOATS:
        return False
    return all(type(a) is np.ndarray and a.dtype == first.dtype for a in arrays[1:])


def is_dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill one block of memory with positive
    strides, in some order of the axes (C, Fortran, or a transpose of either)."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    order = np.argsort(a.strides, kind="stable")[::-1]
    return bool(a.transpose(order).flags.c_contiguous)


def dense(a: np.ndarray) -> np.ndarray:
    """``a`` itself if dense (see :func:`is_dense`), else a dense copy in the
    same order of axes."""
    if is_dense(a):
        return a
    out = np.empty_like(a)
    out[...] = a
    return out


def like(a: np.ndarray, template: np.ndarray) -> np.ndarray:
    """``a`` (broadcast to ``template``'s shape) in the memory layout of the
    dense ``template``: itself when it already is, else a copy."""
    if a.shape == template.shape and a.strides == template.strides:
        return a
    out = np.empty_like(template, dtype=a.dtype)
    out[...] = a
    return out


def flat(a: np.ndarray) -> np.ndarray:
    """The dense array ``a`` as a 1-D view in memory order."""
    return a.ravel(order="K")
