"""Initializers: distributions (KS tests), variances against the formulas,
orthogonality, sparsity, reproducibility, and layers' default init."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

import gradlab
from gradlab import nn
from gradlab.nn import init

SHAPE = (300, 200)  # fan_in 200, fan_out 300: 60 000 samples


def _w(shape=SHAPE):
    return gradlab.empty(*shape, dtype=gradlab.float64)


def _gen(seed=0):
    return gradlab.Generator().manual_seed(seed)


def _ks_uniform(w, bound):
    return stats.kstest(w.numpy().ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue


def _ks_normal(w, std):
    return stats.kstest(w.numpy().ravel(), stats.norm(0, std).cdf).pvalue


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swishy")


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    var = gain ** 2 * 2 / (200 + 300)
    w = init.xavier_uniform_(_w(), gain=gain, generator=_gen())
    assert _ks_uniform(w, math.sqrt(3 * var)) > 1e-3
    assert w.numpy().var() == pytest.approx(var, rel=0.03)
    w = init.xavier_normal_(_w(), gain=gain, generator=_gen())
    assert _ks_normal(w, math.sqrt(var)) > 1e-3
    assert w.numpy().var() == pytest.approx(var, rel=0.03)


@pytest.mark.parametrize("a,nonlinearity", [(0.0, "relu"), (0.25, "leaky_relu"), (0.0, "leaky_relu")])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(a, nonlinearity, mode):
    fan = 200 if mode == "fan_in" else 300
    var = 2 / ((1 + a ** 2) * fan) if nonlinearity == "leaky_relu" else 2 / fan  # He / PReLU formulas
    w = init.kaiming_uniform_(_w(), a=a, mode=mode, nonlinearity=nonlinearity, generator=_gen(1))
    assert _ks_uniform(w, math.sqrt(3 * var)) > 1e-3
    assert w.numpy().var() == pytest.approx(var, rel=0.03)
    w = init.kaiming_normal_(_w(), a=a, mode=mode, nonlinearity=nonlinearity, generator=_gen(2))
    assert _ks_normal(w, math.sqrt(var)) > 1e-3
    assert w.numpy().var() == pytest.approx(var, rel=0.03)


def test_kaiming_counts_the_receptive_field():
    w = init.kaiming_normal_(_w((64, 16, 3, 3)), nonlinearity="relu", generator=_gen())
    assert w.numpy().var() == pytest.approx(2 / (16 * 9), rel=0.03)


def test_lecun():
    w = init.lecun_uniform_(_w(), generator=_gen())
    assert _ks_uniform(w, math.sqrt(3 / 200)) > 1e-3
    w = init.lecun_normal_(_w(), generator=_gen())
    assert _ks_normal(w, math.sqrt(1 / 200)) > 1e-3
    assert w.numpy().var() == pytest.approx(1 / 200, rel=0.03)


def test_uniform_normal_constant():
    w = init.uniform_(_w(), -2.0, 3.0, generator=_gen())
    assert stats.kstest(w.numpy().ravel(), stats.uniform(-2, 5).cdf).pvalue > 1e-3
    w = init.normal_(_w(), 1.0, 0.5, generator=_gen())
    assert stats.kstest(w.numpy().ravel(), stats.norm(1.0, 0.5).cdf).pvalue > 1e-3
    np.testing.assert_array_equal(init.constant_(_w((2, 2)), 0.3).numpy(), np.full((2, 2), 0.3))
    np.testing.assert_array_equal(init.ones_(_w((2,))).numpy(), [1, 1])
    np.testing.assert_array_equal(init.zeros_(_w((2,))).numpy(), [0, 0])


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3, 3), (6, 6)])
@pytest.mark.parametrize("gain", [1.0, 1.5])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(_w(shape), gain=gain, generator=_gen()).numpy().reshape(shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), atol=1e-12)


def test_sparse_martens_fixed_incoming_nonzeros():
    w = init.sparse_(_w((50, 40)), std=0.5, generator=_gen(), nonzeros=15).numpy()
    np.testing.assert_array_equal((w != 0).sum(axis=1), np.full(50, 15))
    assert w[w != 0].std() == pytest.approx(0.5, rel=0.1)


def test_sparse_pytorch_rule_zeros_per_column():
    w = init.sparse_(_w((10, 30)), sparsity=0.3, generator=_gen()).numpy()
    np.testing.assert_array_equal((w == 0).sum(axis=0), np.full(30, 3))  # ceil(0.3 * 10)


def test_same_seed_same_weights_and_default_generator():
    a = init.kaiming_uniform_(_w((4, 3)), generator=_gen(7)).numpy().copy()
    b = init.kaiming_uniform_(_w((4, 3)), generator=_gen(7)).numpy().copy()
    c = init.kaiming_uniform_(_w((4, 3)), generator=_gen(8)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gradlab.manual_seed(3)
    first = nn.Linear(4, 3).weight.detach().numpy().copy()
    gradlab.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.detach().numpy(), first)
    w1 = nn.Conv2d(2, 3, 3, generator=_gen(5)).weight.detach().numpy()
    w2 = nn.Conv2d(2, 3, 3, generator=_gen(5)).weight.detach().numpy()
    np.testing.assert_array_equal(w1, w2)


def test_layer_default_init_is_pytorchs():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert _ks_uniform(lin.weight.detach().to(gradlab.float64), bound) > 1e-3
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    conv = nn.Conv2d(8, 64, 3)
    bound = 1 / math.sqrt(8 * 9)
    assert _ks_uniform(conv.weight.detach().to(gradlab.float64), bound) > 1e-3
    emb = nn.Embedding(300, 100)
    assert _ks_normal(emb.weight.detach().to(gradlab.float64), 1.0) > 1e-3
    bn = nn.BatchNorm1d(3)
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(3))
    np.testing.assert_array_equal(nn.PReLU().weight.detach().numpy(), [0.25])


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_w((3,)))
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_uniform_(_w((3, 3)), mode="fan_avg")
