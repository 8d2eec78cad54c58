"""Scalar functions shared by several kernels, compiled to be inlined into
them (not kernels themselves: no arrays, no parallel loop)."""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, inline="always")
def sigmoid(v):
    """1 / (1 + e^-v), from e^-|v| so that neither tail overflows (the two
    branches are the same function)."""
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)
