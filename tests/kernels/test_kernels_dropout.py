"""The dropout kernel against its NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels.dropout import dropout_forward, dropout_forward_reference

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_dropout_matches_reference(dtype, layout):
    x = random((5, 8, 6), dtype, layout)
    u = np.random.default_rng(1).random((5, 8, 6))
    y, mask = dropout_forward(x, u, 0.7, 1 / 0.7)
    ref_y, ref_mask = dropout_forward_reference(np.ascontiguousarray(x), u, 0.7, 1 / 0.7)
    close(y, ref_y, dtype)
    close(mask, ref_mask, dtype)
    assert set(np.unique(mask).tolist()) <= {0.0, float(np.asarray(1 / 0.7, dtype))}
    np.testing.assert_array_equal(mask == 0, u >= 0.7)


def test_float32_dropout_multiplies_in_float32_like_the_reference():
    """y = m x in x's dtype (PyTorch multiplies by a float32 mask): the same
    bits as the reference; a float64 scale once made y = float32(scale * x
    in float64), a different rounding."""
    x = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    u = np.random.default_rng(1).random(4096)
    y, mask = dropout_forward(x, u, 0.7, 1 / 0.7)
    ref_y, ref_mask = dropout_forward_reference(x, u, 0.7, 1 / 0.7)
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(mask, ref_mask)
