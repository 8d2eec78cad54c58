"""Dropout (inverted and classic), Dropout2d, StochasticDepth and
GaussianNoise: statistics in training, behaviour in eval, generators."""

import numpy as np
import pytest

import gradlab
from gradlab import nn

N = 200_000


def _ones(*shape):
    return gradlab.ones(*shape, dtype=gradlab.float64)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_inverted_dropout_preserves_expectation(p):
    drop = nn.Dropout(p, generator=gradlab.Generator().manual_seed(0))
    x = _ones(N) * 3.0
    out = drop(x).numpy()
    kept = out != 0
    # each output is 3/(1-p) with probability 1-p: mean 3, std 3 sqrt(p/(1-p))
    assert abs(out.mean() - 3.0) < 4 * 3 * np.sqrt(p / (1 - p)) / np.sqrt(N)
    assert abs(kept.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / N)
    np.testing.assert_allclose(out[kept], 3.0 / (1 - p))
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())


@pytest.mark.parametrize("p", [0.3, 0.6])
def test_classic_dropout_scales_at_test(p):
    drop = nn.Dropout(p, scale_at_test=True, generator=gradlab.Generator().manual_seed(1))
    x = _ones(N) * 2.0
    out = drop(x).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}  # unscaled in training
    drop.eval()
    test_value = drop(x).numpy()
    np.testing.assert_allclose(test_value, 2.0 * (1 - p))
    assert abs(out.mean() - test_value[0]) < 4 * 2 * np.sqrt(p * (1 - p) / N)


def test_dropout_gradient_is_the_mask():
    x = gradlab.tensor(np.ones(1000), requires_grad=True)
    out = nn.Dropout(0.5, generator=gradlab.Generator().manual_seed(2))(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


def test_dropout_generator_and_edge_cases():
    x = _ones(50)
    a = nn.Dropout(0.5, generator=gradlab.Generator().manual_seed(4))(x).numpy()
    b = nn.Dropout(0.5, generator=gradlab.Generator().manual_seed(4))(x).numpy()
    np.testing.assert_array_equal(a, b)
    gradlab.manual_seed(9)
    c = nn.Dropout(0.5)(x).numpy()
    gradlab.manual_seed(9)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), c)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros(50))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout2d_drops_whole_channels():
    x = _ones(40, 50, 3, 3)
    out = nn.Dropout2d(0.4, generator=gradlab.Generator().manual_seed(0))(x).numpy()
    per_channel = out.reshape(40, 50, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / 0.6).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.4) < 4 * np.sqrt(0.24 / 2000)
    d = nn.Dropout2d(0.4).eval()
    assert d(x) is x


def test_stochastic_depth_drops_rows_and_preserves_mean():
    sd = nn.StochasticDepth(0.3, generator=gradlab.Generator().manual_seed(0))
    x = _ones(20_000, 4)
    out = sd(x).numpy()
    assert np.all((out == 0).all(1) | (out == 1 / 0.7).all(1))
    assert abs(out.mean() - 1.0) < 4 * np.sqrt(0.3 / 0.7) / np.sqrt(20_000)
    batch = nn.StochasticDepth(0.5, mode="batch")(x).numpy()
    assert np.all(batch == batch.flat[0])
    assert sd.eval()(x) is x


def test_gaussian_noise():
    noise = nn.GaussianNoise(0.3, generator=gradlab.Generator().manual_seed(0))
    x = _ones(N)
    out = noise(x).numpy()
    assert abs((out - 1).std() - 0.3) < 0.01 and abs((out - 1).mean()) < 0.01
    assert noise.eval()(x) is x
    with pytest.raises(ValueError, match="std"):
        nn.GaussianNoise(-1.0)


@pytest.mark.parametrize("make", [
    lambda g: nn.Dropout(0.4, generator=g), lambda g: nn.Dropout(0.4, scale_at_test=True, generator=g),
    lambda g: nn.Dropout2d(0.5, generator=g), lambda g: nn.StochasticDepth(0.5, generator=g),
    lambda g: nn.GaussianNoise(0.2, generator=g),
])
def test_gradcheck_with_a_fixed_mask(make):
    gen = gradlab.Generator()
    layer = make(gen)

    def fn(x):
        gen.manual_seed(0)  # the same mask or noise on every evaluation
        return layer(x)

    x = gradlab.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)), requires_grad=True)
    assert gradlab.autograd.gradcheck(fn, (x,))
    assert gradlab.autograd.gradgradcheck(fn, (x,))
