"""Pooling kernels against their NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels import pool

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations

GEOMETRY = [  # kernel, stride, pads, dilation, out size for a 7x8 input
    ((2, 2), (2, 2), (0, 0), (1, 1), (3, 4)),
    ((3, 3), (2, 2), (1, 1), (1, 1), (4, 4)),
    ((3, 2), (1, 2), (1, 0), (2, 1), (5, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("geometry", GEOMETRY)
def test_max_pool_matches_reference(dtype, layout, geometry):
    kernel, stride, pads, dilation, out_size = geometry
    x = random((3, 7, 8, 2), dtype, layout)
    y, index = pool.max_pool_forward(x, kernel, stride, pads, dilation, out_size)
    ry, rindex = pool.max_pool_forward_reference(np.ascontiguousarray(x), kernel, stride, pads, dilation,
                                                 out_size)
    close(y, ry, dtype)
    np.testing.assert_array_equal(index, rindex)
    g = random(y.shape, dtype, layout, seed=1)
    gx = pool.max_pool_backward(g, index, (7, 8))
    close(gx, pool.max_pool_backward_reference(np.ascontiguousarray(g), index, (7, 8)), dtype)
    close(pool.max_pool_gather(gx, index), np.take_along_axis(
        gx.reshape(3, 56, 2), index.reshape(3, -1, 2), axis=1).reshape(y.shape), dtype)


def test_max_pool_takes_the_first_of_equal_maxima():
    x = np.zeros((1, 2, 2, 1))
    _, index = pool.max_pool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (1, 1))
    assert index[0, 0, 0, 0] == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("geometry", GEOMETRY[:2])
def test_avg_pool_matches_reference(dtype, layout, geometry):
    kernel, stride, pads, _, out_size = geometry
    x = random((3, 7, 8, 2), dtype, layout)
    divisor = (np.arange(np.prod(out_size)).reshape(out_size) % 3 + 2).astype(dtype)
    y = pool.avg_pool_forward(x, kernel, stride, pads, divisor)
    close(y, pool.avg_pool_forward_reference(np.ascontiguousarray(x), kernel, stride, pads, divisor), dtype)
    g = random(y.shape, dtype, layout, seed=1)
    gx = pool.avg_pool_backward(g, kernel, stride, pads, divisor, (7, 8))
    close(gx, pool.avg_pool_backward_reference(np.ascontiguousarray(g), kernel, stride, pads, divisor,
                                               (7, 8)), dtype)
