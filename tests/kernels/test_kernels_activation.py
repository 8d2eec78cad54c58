"""Activation kernels against their NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels.activation import (
    activation_backward,
    activation_forward,
    backward_reference,
    forward_reference,
)

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations

CASES = [
    ("relu", {}, "out"), ("leaky_relu", {"slope": 0.1}, "in"),
    ("elu", {"alpha": 1.3, "scale": 1.0}, "in"), ("elu", {"alpha": 1.67, "scale": 1.05}, "in"),
    ("sigmoid", {}, "out"), ("tanh", {}, "out"), ("gelu", {}, "in"), ("gelu_tanh", {}, "in"),
    ("silu", {}, "in"), ("softplus", {"beta": 2.0, "threshold": 3.0}, "in"),
]


@pytest.mark.parametrize("name,params,saved", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_activation_matches_reference(name, params, saved, dtype, layout):
    x = random((6, 5, 7), dtype, layout, scale=4.0)
    g = random((6, 5, 7), dtype, "C" if layout != "C" else "F", seed=1)
    y = activation_forward(name, x, **params)
    close(y, forward_reference(name, np.ascontiguousarray(x), **params), dtype)
    s = y if saved == "out" else x
    gx = activation_backward(name, g, s, **params)
    close(gx, backward_reference(name, np.ascontiguousarray(g), np.ascontiguousarray(s), **params), dtype)


def test_activation_keeps_the_input_layout():
    x = random((4, 6), "float64", "F")
    assert activation_forward("tanh", x).flags.f_contiguous


def test_sigmoid_tails_do_not_overflow():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    y = activation_forward("sigmoid", x)
    assert np.all(np.isfinite(y)) and y[0] == 0.0 and y[-1] == 1.0
    np.testing.assert_allclose(y[1], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-14)


def test_relu_keeps_nan_and_zeroes_its_gradient_at_zero():
    y = activation_forward("relu", np.array([np.nan, -1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(y, [np.nan, 0.0, 0.0, 2.0])
    gx = activation_backward("relu", np.ones(4), y)
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0, 1.0])
