"""The embedding backward (scatter-add) kernel against its NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels.embedding import embedding_backward, embedding_backward_reference

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("padding_idx", [-1, 3])
def test_embedding_backward_matches_reference(dtype, layout, padding_idx):
    index = np.array([3, 0, 7, 3, 3, 9, 0, 5])
    g = random((8, 6), dtype, layout)
    gw = embedding_backward(g, index, 10, padding_idx)
    close(gw, embedding_backward_reference(np.ascontiguousarray(g), index, 10, padding_idx), dtype)
    assert not gw[[1, 2, 4, 6, 8]].any()
    expected_row3 = 0 if padding_idx == 3 else g[[0, 3, 4]].astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(gw[3], expected_row3, rtol=1e-5)
