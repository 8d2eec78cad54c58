"""Regularizers: each penalty's gradient against its formula (and torch),
the parameter selection, weight noise, and L1's sparsity against L2."""

import numpy as np
import pytest
import torch

import gradlab
import gradlab.optim
from gradlab import nn
from gradlab.autograd import gradcheck
from gradlab.data import DataLoader, TensorDataset
from gradlab.train import Trainer, regularizers


def model64():
    gradlab.set_default_dtype(gradlab.float64)
    gradlab.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 6), nn.Linear(6, 2))


def grads_of(model, penalty):
    model.zero_grad()
    penalty.backward()
    return {n: p.grad.numpy() for n, p in model.named_parameters() if p.grad is not None}


def test_default_selection_is_weights_only():
    names = [n for n, _ in regularizers.select_parameters(model64())]
    assert names == ["0.weight", "3.weight", "4.weight"]  # no biases, no BatchNorm scale
    assert len(regularizers.select_parameters(model64(), "all")) == 8
    assert [n for n, _ in regularizers.select_parameters(model64(), ["0.bias"])] == ["0.bias"]
    with pytest.raises(ValueError, match="'nope'"):
        regularizers.select_parameters(model64(), ["nope"])


@pytest.mark.parametrize(
    "make,value,grad",
    [
        (lambda: regularizers.L1(0.3), lambda w: 0.3 * np.abs(w).sum(), lambda w: 0.3 * np.sign(w)),
        (lambda: regularizers.L2(0.3), lambda w: 0.3 * (w**2).sum(), lambda w: 0.6 * w),
        (
            lambda: regularizers.ElasticNet(0.2, 0.5),
            lambda w: 0.2 * np.abs(w).sum() + 0.5 * (w**2).sum(),
            lambda w: 0.2 * np.sign(w) + w,
        ),
    ],
)
def test_penalty_value_and_gradient_match_formula(make, value, grad):
    model = model64()
    penalty = make().penalty(model)
    weights = {n: p.detach().numpy() for n, p in regularizers.select_parameters(model)}
    assert penalty.item() == pytest.approx(sum(value(w) for w in weights.values()), rel=1e-12)
    grads = grads_of(model, penalty)
    assert set(grads) == set(weights)  # biases and BatchNorm get no gradient
    for name, w in weights.items():
        np.testing.assert_allclose(grads[name], grad(w), rtol=1e-12)


def test_l2_equals_torch_weight_decay_for_sgd():
    """L2(wd / 2) in the loss = SGD(weight_decay=wd), one step each."""
    model = model64()
    w0 = model[0].weight.detach().numpy().copy()
    opt = gradlab.optim.SGD([model[0].weight], lr=0.1)
    regularizers.L2(0.05, params=["0.weight"]).penalty(model).backward()
    opt.step()
    tw = torch.nn.Parameter(torch.tensor(w0))
    topt = torch.optim.SGD([tw], lr=0.1, weight_decay=0.1)
    (tw * 0).sum().backward()
    topt.step()
    np.testing.assert_allclose(model[0].weight.detach().numpy(), tw.detach().numpy(), rtol=1e-12)


def test_parameter_tying_refuses_shape_mismatch_and_unknown_names():
    model = model64()
    with pytest.raises(ValueError, match="0.weight.*3.weight.*same shape"):
        regularizers.ParameterTying([("0.weight", "3.weight")]).penalty(model)
    with pytest.raises(ValueError, match="'9.weight' is not a parameter"):
        regularizers.ParameterTying([("0.weight", "9.weight")]).penalty(model)


def test_parameter_tying_pulls_pairs_together():
    gradlab.set_default_dtype(gradlab.float64)
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    tie = regularizers.ParameterTying([("0.weight", "1.weight")], strength=0.7)
    a, b = model[0].weight.detach().numpy().copy(), model[1].weight.detach().numpy().copy()
    penalty = tie.penalty(model)
    assert penalty.item() == pytest.approx(0.7 * ((a - b) ** 2).sum(), rel=1e-12)
    grads = grads_of(model, penalty)
    np.testing.assert_allclose(grads["0.weight"], 1.4 * (a - b), rtol=1e-12)
    np.testing.assert_allclose(grads["1.weight"], -1.4 * (a - b), rtol=1e-12)
    assert gradcheck(
        lambda x, y: ((x - y) ** 2).sum() * 0.7,
        (gradlab.tensor(a, requires_grad=True), gradlab.tensor(b, requires_grad=True)),
    )


def test_weight_noise_perturbs_forward_and_restores_clean_weights():
    model = model64()
    clean = model[0].weight.detach().numpy().copy()
    noise = regularizers.WeightNoise(0.1, generator=gradlab.Generator().manual_seed(5))
    noise.before_forward(model)
    noisy = model[0].weight.detach().numpy().copy()
    expected = gradlab.Generator().manual_seed(5).normal(clean.shape, 0.0, 0.1)
    np.testing.assert_allclose(noisy - clean, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(model[1].weight.detach().numpy(), np.ones(6))  # BatchNorm untouched
    noise.after_backward(model)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), clean)


def test_weight_noise_gradient_is_taken_at_the_noisy_weights():
    gradlab.set_default_dtype(gradlab.float64)
    gradlab.manual_seed(0)
    model = nn.Linear(3, 1, bias=False)
    w = model.weight.detach().numpy().copy()
    x, y = np.ones((1, 3)), np.zeros((1, 1))
    trainer = Trainer(
        model,
        gradlab.optim.SGD(model.parameters(), lr=1.0),
        nn.MSELoss(),
        regularizers=[regularizers.WeightNoise(0.5, generator=gradlab.Generator().manual_seed(9))],
    )
    trainer.fit(DataLoader(TensorDataset(x, y), batch_size=1), epochs=1)
    eps = gradlab.Generator().manual_seed(9).normal(w.shape, 0.0, 0.5)
    grad = 2 * ((w + eps) @ x.T - y) * x  # d/dw (x . (w + eps))^2
    np.testing.assert_allclose(model.weight.detach().numpy(), w - grad, rtol=1e-12)


def test_l1_gives_many_more_near_zeros_than_l2():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 30))
    y = (x[:, :3] @ np.array([2.0, -1.5, 1.0]))[:, None] + 0.5 * rng.normal(size=(200, 1))
    zeros = {}
    for name, reg in (("l1", regularizers.L1(0.1)), ("l2", regularizers.L2(0.1))):
        gradlab.set_default_dtype(gradlab.float64)
        gradlab.manual_seed(0)
        model = nn.Linear(30, 1)
        Trainer(model, gradlab.optim.SGD(model.parameters(), lr=0.02), nn.MSELoss(), regularizers=[reg]).fit(
            DataLoader(TensorDataset(x, y), batch_size=200), epochs=300
        )
        zeros[name] = int((np.abs(model.weight.detach().numpy()) < 1e-2).sum())
    assert zeros["l1"] >= 20 and zeros["l1"] >= 3 * zeros["l2"], zeros
