"""Fused softmax cross-entropy kernels against their NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels.softmax_ce import (
    softmax_ce_backward,
    softmax_ce_backward_reference,
    softmax_ce_forward,
    softmax_ce_forward_reference,
)

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("eps", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_ce_matches_reference(dtype, layout, eps, weighted):
    x = random((9, 7), dtype, layout, scale=5.0)
    target = np.array([0, 6, 3, -100, 2, 2, 5, 1, -100])
    weight = (np.abs(random((7,), dtype, seed=4)) + 0.5) if weighted else np.ones(7, dtype)
    loss, lse = softmax_ce_forward(x, target, weight, -100, eps)
    ref_loss, ref_lse = softmax_ce_forward_reference(np.ascontiguousarray(x), target, weight, -100, eps)
    close(loss, ref_loss, dtype)
    close(lse, ref_lse.astype(dtype), dtype)
    assert loss[3] == 0.0 and loss[8] == 0.0
    scale = random((9,), dtype, seed=5)
    gx = softmax_ce_backward(x, target, weight, -100, eps, lse, scale)
    close(gx, softmax_ce_backward_reference(np.ascontiguousarray(x), target, weight, -100, eps, lse, scale),
          dtype)
    assert not gx[3].any()


def test_softmax_ce_is_stable_for_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0]])
    loss, _ = softmax_ce_forward(x, np.array([0]), np.ones(3), -100, 0.0)
    assert loss[0] == 0.0
    loss, _ = softmax_ce_forward(x, np.array([1]), np.ones(3), -100, 0.0)
    np.testing.assert_allclose(loss[0], 1000.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_differentiates_twice(reduction):
    import gradlab
    import gradlab.nn.functional as F

    x = gradlab.tensor(np.random.default_rng(0).standard_normal((5, 4)), requires_grad=True)
    target = gradlab.tensor(np.array([0, 3, -100, 1, 1]))
    weight = gradlab.tensor(np.array([1.0, 2.0, 0.5, 1.5]))

    def loss(t):
        return F.cross_entropy(t, target, weight, reduction=reduction, label_smoothing=0.1)

    assert gradlab.autograd.gradcheck(loss, (x,))
    assert gradlab.autograd.gradgradcheck(loss, (x,))
