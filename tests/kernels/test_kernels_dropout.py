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
