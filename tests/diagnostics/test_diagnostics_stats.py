"""activation_stats, gradient_stats and check_initialization against direct
NumPy computations of their definitions."""

import math

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.diagnostics import activation_stats, check_initialization, gradient_stats, update_ratio


def _net() -> nn.Sequential:
    gradlab.set_default_dtype(gradlab.float64)
    net = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 4), nn.Sigmoid())
    with gradlab.no_grad():
        net[0].weight.mul_(6.0)  # push some tanh outputs to their bounds
        net[2].bias.array[:3] = -100.0  # three ReLU units dead for every input
        net[4].weight.mul_(8.0)
    return net


def _numpy_forward(net: nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    outs, h = [], x
    for i in (0, 2, 4):
        w, b = net[i].weight.array, net[i].bias.array
        z = h @ w.T + b
        h = {0: np.tanh, 2: lambda v: np.maximum(v, 0.0), 4: lambda v: 1.0 / (1.0 + np.exp(-v))}[i](z)
        outs += [z, h]
    return outs


def test_activation_stats_match_numpy():
    net = _net()
    x = np.random.default_rng(0).normal(size=(64, 5))
    stats = activation_stats(net, gradlab.tensor(x), bins=12, eps=0.01)
    expected = _numpy_forward(net, x)
    assert [s.name for s in stats] == ["0", "1", "2", "3", "4", "5"]
    assert [s.kind for s in stats] == ["linear", "tanh", "linear", "relu", "linear", "sigmoid"]
    assert [s.depth for s in stats] == list(range(6))
    for s, y in zip(stats, expected):
        assert s.mean == pytest.approx(y.mean(), abs=1e-12)
        assert s.std == pytest.approx(y.std(), abs=1e-12)
        counts, edges = np.histogram(y, bins=12)
        np.testing.assert_array_equal(s.histogram[0], counts)
        np.testing.assert_allclose(s.histogram[1], edges)
    tanh, relu, sig = expected[1], expected[3], expected[5]
    assert stats[1].saturated == pytest.approx(np.mean(np.abs(tanh) > 0.99))
    assert 0 < stats[1].saturated < 1
    assert stats[3].dead == pytest.approx(np.mean(np.all(relu == 0, axis=0)))
    assert stats[3].dead >= 0.5  # the three units with bias -100, at least
    assert stats[5].saturated == pytest.approx(np.mean((sig < 0.01) | (sig > 0.99)))
    assert stats[0].saturated is None and stats[0].dead is None
    assert not net[1]._forward_hooks  # the hooks are removed afterwards


def test_activation_stats_rejects_bad_arguments():
    net = _net()
    with pytest.raises(ValueError, match="bins"):
        activation_stats(net, gradlab.randn(2, 5), bins=0)
    with pytest.raises(TypeError, match="x must be"):
        activation_stats(net, np.zeros((2, 5)))


def test_gradient_norms_and_update_ratio_follow_their_definitions():
    net = _net()
    x, y = gradlab.randn(16, 5), gradlab.randint(0, 4, (16,))
    nn.CrossEntropyLoss()(net(x), y).backward()
    plain = gradient_stats(net)
    for s, (name, p) in zip(plain, net.named_parameters()):
        assert s.name == name and s.update_ratio is None
        assert s.grad_norm == pytest.approx(np.linalg.norm(p.grad.array))
        assert s.weight_norm == pytest.approx(np.linalg.norm(p.array))
    lr = 0.1
    before = {n: p.array.copy() for n, p in net.named_parameters()}
    grads = {n: p.grad.array.copy() for n, p in net.named_parameters()}
    stepped = gradient_stats(net, gradlab.optim.SGD(net.parameters(), lr=lr))
    for s in stepped:
        # plain SGD moves W by -lr * grad: the ratio is lr ||g|| / ||W||
        expected = lr * np.linalg.norm(grads[s.name]) / np.linalg.norm(before[s.name])
        assert s.update_ratio == pytest.approx(expected, rel=1e-9)
        np.testing.assert_allclose(net.get_parameter(s.name).array, before[s.name] - lr * grads[s.name])


def test_update_ratio_edge_cases():
    assert update_ratio(np.zeros(3), np.zeros(3)) == 0.0
    assert update_ratio(np.zeros(3), np.ones(3)) == math.inf
    assert update_ratio(np.array([3.0, 4.0]), np.array([3.0, 4.5])) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="optimizer"):
        gradient_stats(_net(), optimizer="sgd")


def test_check_initialization_compares_with_ln_c_and_reports_variance_gains():
    net = _net()
    with gradlab.no_grad():
        net[4].weight.zero_()
        net[4].bias.zero_()
    x = np.random.default_rng(1).normal(size=(32, 5))
    y = np.arange(32) % 4
    loader = [(gradlab.tensor(x), gradlab.tensor(y))]
    net = nn.Sequential(*list(net)[:5])  # zero logits: uniform predictions
    report = check_initialization(net, loader, nn.CrossEntropyLoss())
    assert report.num_classes == 4
    assert report.initial_loss == pytest.approx(math.log(4), abs=1e-12)
    assert report.loss_ok
    outs = _numpy_forward(_net_like(net), x)[:5]
    variances = [x.var()] + [o.var() for o in outs]
    np.testing.assert_allclose(report.gains[:4], np.array(variances[1:5]) / np.array(variances[:4]))
    assert "ln(4)" in str(report)
    with gradlab.no_grad():
        net[4].bias.array[0] = 20.0  # a confident wrong class: loss far above ln 4
    assert not check_initialization(net, loader, nn.CrossEntropyLoss()).loss_ok


def _net_like(net: nn.Sequential) -> nn.Sequential:
    """``_numpy_forward`` reads layers 0, 2 and 4; give it a sigmoid slot."""
    return nn.Sequential(*list(net), nn.Sigmoid())


def test_check_initialization_rejects_an_empty_loader():
    with pytest.raises(ValueError, match="no batch"):
        check_initialization(_net(), [], nn.CrossEntropyLoss())
