"""Batch and layer norm kernels against their NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels import norm

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("family", ["batch", "layer"])
def test_norm_matches_reference(family, dtype, layout):
    x = random((6, 40), dtype, layout, scale=3.0) + np.asarray(5.0, dtype)
    g = random((6, 40), dtype, layout, seed=1)
    size = 6 if family == "batch" else 40
    weight, bias = random((size,), dtype, seed=2), random((size,), dtype, seed=3)
    forward = getattr(norm, f"{family}_norm_forward")
    backward = getattr(norm, f"{family}_norm_backward")
    y, mean, second = forward(x, weight, bias, 1e-5)
    ry, rmean, rsecond = getattr(norm, f"{family}_norm_forward_reference")(
        np.ascontiguousarray(x), weight, bias, 1e-5)
    close(y, ry, dtype)
    assert mean.dtype == np.float64 and second.dtype == np.float64
    np.testing.assert_allclose(mean, rmean, rtol=1e-12)
    np.testing.assert_allclose(second, rsecond, rtol=1e-10)
    invstd = 1.0 / np.sqrt(second + 1e-5) if family == "batch" else second
    got = backward(g, x, mean, invstd, weight)
    want = getattr(norm, f"{family}_norm_backward_reference")(np.ascontiguousarray(g),
                                                              np.ascontiguousarray(x), mean, invstd, weight)
    for a, b in zip(got, want):
        close(a, b, dtype)


def test_batch_norm_variance_survives_a_large_mean_in_float32():
    rng = np.random.default_rng(0)
    x = (1e4 + rng.standard_normal((2, 10000))).astype(np.float32)
    _, _, var = norm.batch_norm_forward(x, np.ones(2, np.float32), np.zeros(2, np.float32), 1e-5)
    exact = x.astype(np.float64).var(axis=1)
    np.testing.assert_allclose(var, exact, rtol=1e-6)
