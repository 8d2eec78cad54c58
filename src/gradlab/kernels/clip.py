r"""Gradient-norm clipping (Pascanu, Mikolov and Bengio 2013): the sum of
the p-th powers that makes the total norm, and the rescaling.

.. math::
    \|g\|_p = \Big(\sum_k \sum_i |g_{k,i}|^p\Big)^{1/p}, \qquad
    g_k \leftarrow g_k \cdot \min\big(1, \text{max\_norm} / (\|g\|_p + 10^{-6})\big)

The sums are accumulated in float64 whatever the gradients' dtype: a float32
accumulator over millions of squares would lose the small terms (past 2^24
times the typical term, adding one changes nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import KERNEL_DTYPES, cpu_kernel, flat_input, prange, writes_into

__all__ = ["power_sum", "power_sum_kernel", "power_sum_reference", "scale_", "scale_kernel"]


@cpu_kernel(sums=True)
def power_sum_kernel(x, p):  # pragma: no cover - compiled
    """sum_i |x_i|^p over a flat array, accumulated in float64."""
    total = 0.0
    for i in prange(x.size):
        a = abs(np.float64(x[i]))
        if p == 2.0:
            total += a * a
        elif p == 1.0:
            total += a
        else:
            total += a ** p
    return total


def power_sum_reference(x: Any, p: float) -> float:
    """The same sum as an array expression (NumPy or CuPy, any dtype)."""
    xp = array_module(x)
    return float(xp.sum(xp.abs(x.astype(xp.float64)) ** p))


def power_sum(x: Any, p: float) -> float:
    """sum_i |x_i|^p in float64: the kernel for NumPy float32/float64 arrays
    (any layout), the reference otherwise."""
    if type(x) is not np.ndarray or x.dtype not in KERNEL_DTYPES:
        return power_sum_reference(x, p)
    return float(power_sum_kernel(flat_input(x), float(p)))


@cpu_kernel
def scale_kernel(x, coef):  # pragma: no cover - compiled
    """x_i <- coef x_i over a flat array."""
    for i in prange(x.size):
        x[i] *= coef


def scale_(x: Any, coef: float) -> None:
    """x *= coef in place: the kernel where it can write into ``x``, the
    array expression otherwise."""
    if writes_into(x):
        scale_kernel(x.reshape(-1), float(coef))
    else:
        x *= coef
