"""im2col / col2im kernels against their NumPy references, and col2im as
the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels.im2col import col2im, col2im_reference, im2col, im2col_reference

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations

GEOMETRY = [  # kernel, stride, pads, dilation
    ((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((2, 3), (2, 1), ((0, 0), (1, 1)), (1, 2)),
    ((1, 3), (1, 2), ((0, 0), (2, 2)), (1, 1)),
]


def _out_size(in_size, kernel, stride, pads, dilation):
    return tuple((s + lo + hi - r * (k - 1) - 1) // st + 1
                 for s, k, st, (lo, hi), r in zip(in_size, kernel, stride, pads, dilation))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("geometry", GEOMETRY)
def test_im2col_and_col2im_match_reference(dtype, layout, geometry):
    kernel, stride, pads, dilation = geometry
    x = random((3, 7, 8, 4), dtype, layout)
    out_size = _out_size((7, 8), kernel, stride, pads, dilation)
    cols = im2col(x, kernel, stride, pads, dilation, out_size)
    close(cols, im2col_reference(np.ascontiguousarray(x), kernel, stride, pads, dilation, out_size), dtype)
    c = random(cols.shape, dtype, layout, seed=1)
    back = col2im(c, (7, 8), stride, pads, dilation)
    close(back, col2im_reference(np.ascontiguousarray(c), (7, 8), stride, pads, dilation), dtype)
    np.testing.assert_allclose(np.vdot(cols.astype(float), c), np.vdot(x.astype(float), back),
                               rtol=1e-4 if dtype == "float32" else 1e-12)


def test_im2col_fills_the_padding_with_value():
    x = np.ones((1, 2, 2, 1))
    cols = im2col(x, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), (2, 2), value=-7.0)
    assert cols[0, 0, 0, 0, 0, 0] == -7.0 and cols[0, 1, 1, 0, 0, 0] == 1.0
