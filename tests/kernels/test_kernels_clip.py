"""The gradient-clipping kernels against their references, and the float64
accumulation they promise."""

import math

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.kernels import clip

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations


def _layouts(x):
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), dtype=x.dtype)
    wide[:, ::2] = x
    return {"C": x.copy(), "F": np.asfortranarray(x), "strided": wide[:, ::2]}


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5])
def test_power_sum_matches_reference(p, dtype, layout):
    x = np.random.default_rng(0).standard_normal((301, 17)).astype(dtype)
    expected = math.fsum(np.abs(x.astype(np.float64)).ravel() ** p)
    got = clip.power_sum(_layouts(x)[layout], p)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(clip.power_sum_reference(x, p), expected, rtol=1e-12)


def test_power_sum_of_float32_keeps_the_small_terms():
    # one large square and a million small ones: a float32 accumulator
    # (relative precision 6e-8) drops or rounds away most of the 0.01 they add
    x = np.full(1_000_001, 1e-4, dtype=np.float32)
    x[0] = 1.0
    expected = math.fsum(x.astype(np.float64) ** 2)
    np.testing.assert_allclose(clip.power_sum(x, 2.0), expected, rtol=1e-11)
    running_float32 = float(np.cumsum(x * x, dtype=np.float32)[-1])  # one float32 accumulator
    assert abs(running_float32 - expected) > 1e-3 * expected  # what the float64 one avoids


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_scale_in_place_in_any_layout(layout):
    x = np.random.default_rng(1).standard_normal((30, 7))
    y = _layouts(x)[layout]
    clip.scale_(y, 0.25)
    np.testing.assert_array_equal(y, x * 0.25)


@pytest.mark.parametrize("dtype", [gradlab.float32, gradlab.float64])
def test_clip_grad_norm_scales_float32_and_float64_grads(dtype):
    rng = np.random.default_rng(2)
    params = [nn.Parameter(gradlab.zeros(s, dtype=dtype)) for s in [(50, 40), (40,)]]
    grads = [rng.standard_normal(p.shape) for p in params]
    for p, g in zip(params, grads):
        p.grad = gradlab.tensor(g, dtype=dtype)
    total = nn.utils.clip_grad_norm_(params, 1.0)
    expected = math.sqrt(sum(float(np.sum(g.astype(np.dtype(str(dtype).split(".")[-1]))
                                          .astype(np.float64) ** 2)) for g in grads))
    np.testing.assert_allclose(total.item(), expected, rtol=1e-6)
    after = math.sqrt(sum(float(np.sum(p.grad.numpy().astype(np.float64) ** 2)) for p in params))
    np.testing.assert_allclose(after, 1.0, rtol=1e-5)


def test_infinity_norm_with_a_nan_is_nan():
    params = [nn.Parameter(gradlab.zeros(3)) for _ in range(2)]
    params[0].grad = gradlab.tensor([float("nan"), 0.0, 0.0])
    params[1].grad = gradlab.tensor([5.0, 0.0, 0.0])
    assert math.isnan(nn.utils.clip_grad_norm_(params, 1.0, norm_type=float("inf")).item())
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, norm_type=float("inf"), error_if_nonfinite=True)
