"""Inputs for the kernel tests: the same values in C, Fortran and strided
memory layouts, float32 and float64, and the tolerance for each dtype."""

from __future__ import annotations

import numpy as np

DTYPES = ("float32", "float64")
LAYOUTS = ("C", "F", "strided")


def in_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """``a`` (values unchanged) in the memory layout named ``layout``."""
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    view = big[..., ::2]
    view[...] = a
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    return view


def random(shape: tuple, dtype: str, layout: str = "C", seed: int = 0, scale: float = 1.0) -> np.ndarray:
    a = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    return in_layout(a, layout)


def close(actual: np.ndarray, expected: np.ndarray, dtype: str) -> None:
    """Kernel against reference: a few ulps of the dtype (the two sum or
    round in different orders)."""
    assert actual.shape == expected.shape
    assert actual.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)
