"""Ensembles (averaging, bagging, snapshots) and adversarial examples."""

import numpy as np
import pytest
import torch

import gradlab
import gradlab.optim
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset, datasets
from gradlab.train import Trainer, adversarial, ensemble


@pytest.fixture(scope="module")
def digits():
    (x, y), (xt, yt) = datasets.digits()
    return x[:600], y[:600], xt, yt


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def accuracy(model, x, y):
    model.eval()
    with gradlab.no_grad():
        return float(np.mean(model(gradlab.from_numpy(x)).argmax(1).numpy() == y))


def test_ensemble_forward_is_log_of_mean_probability():
    gradlab.set_default_dtype(gradlab.float64)
    gradlab.manual_seed(0)
    members = [nn.Linear(4, 3) for _ in range(3)]
    x = gradlab.randn(5, 4)
    out = ensemble.Ensemble(members)(x)
    probs = np.mean([torch.softmax(torch.tensor(m(x).detach().numpy()), 1).numpy() for m in members], axis=0)
    np.testing.assert_allclose(out.detach().numpy(), np.log(probs), rtol=1e-12)
    np.testing.assert_array_equal(ensemble.Ensemble(members).predict(x).numpy(), probs.argmax(1))
    with pytest.raises(ValueError, match="non-empty"):
        ensemble.Ensemble([])


def test_bagging_draws_bootstrap_samples_and_beats_mean_member(digits):
    x, y, xt, yt = digits
    gradlab.manual_seed(0)
    bag = ensemble.bagging(
        mlp,
        TensorDataset(x, y),
        k=5,
        make_optimizer=lambda m: gradlab.optim.Adam(m.parameters(), lr=0.01),
        loss_fn=nn.CrossEntropyLoss(),
        epochs=4,
        batch_size=64,
        generator=gradlab.Generator().manual_seed(3),
    )
    assert len(bag.samples) == 5
    for idx in bag.samples:
        assert len(idx) == 600 and idx.min() >= 0 and idx.max() < 600
        unique = len(np.unique(idx)) / 600
        assert 0.58 < unique < 0.68  # 1 - 1/e of the samples appear in a bootstrap resample
    assert not all(np.array_equal(bag.samples[0], s) for s in bag.samples[1:])
    member_acc = [accuracy(m, xt, yt) for m in bag.members]
    bag.eval()
    with gradlab.no_grad():
        ens_acc = float(np.mean(bag(gradlab.from_numpy(xt)).argmax(1).numpy() == yt))
    assert ens_acc >= np.mean(member_acc) + 0.01, (ens_acc, member_acc)  # here: 90.8% against 87.2%


def test_bootstrap_indices_use_the_generator():
    a = ensemble.bootstrap_indices(50, gradlab.Generator().manual_seed(1))
    b = ensemble.bootstrap_indices(50, gradlab.Generator().manual_seed(1))
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) < 50  # drawn with replacement


def test_fgsm_is_x_plus_eps_sign_of_input_gradient():
    gradlab.set_default_dtype(gradlab.float64)
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    x = np.random.default_rng(0).normal(size=(4, 6))
    y = np.array([0, 2, 1, 2])
    adv = adversarial.fgsm(model, gradlab.tensor(x), gradlab.tensor(y), eps=0.1)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for tp, p in zip(tm.parameters(), model.parameters()):
            tp.copy_(torch.tensor(p.detach().numpy()))
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(tm(tx), torch.tensor(y)).backward()
    np.testing.assert_allclose(adv.numpy(), x + 0.1 * np.sign(tx.grad.numpy()), rtol=1e-12)
    assert all(p.grad is None for p in model.parameters())  # the attack leaves parameter grads alone
    clamped = adversarial.fgsm(model, gradlab.tensor(x), gradlab.tensor(y), eps=5.0, clamp=(0.0, 1.0))
    assert clamped.numpy().min() >= 0 and clamped.numpy().max() <= 1


def test_pgd_stays_in_the_ball_and_is_stronger_than_fgsm(digits):
    x, y, xt, yt = digits
    gradlab.manual_seed(0)
    model = mlp()
    Trainer(model, gradlab.optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss()).fit(
        DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True), epochs=10
    )
    model.eval()
    xb, yb = gradlab.from_numpy(xt[:200]), gradlab.from_numpy(yt[:200])
    adv = adversarial.pgd(
        model, xb, yb, eps=0.1, steps=10, clamp=(0.0, 1.0), generator=gradlab.Generator().manual_seed(0)
    )
    assert np.abs(adv.numpy() - xt[:200]).max() <= 0.1 + 1e-6
    loss_fn = nn.CrossEntropyLoss()
    with gradlab.no_grad():
        loss_pgd = loss_fn(model(adv), yb).item()
        loss_fgsm = loss_fn(model(adversarial.fgsm(model, xb, yb, 0.1, clamp=(0.0, 1.0))), yb).item()
    assert loss_pgd >= loss_fgsm


def test_fgsm_lowers_accuracy_and_adversarial_training_recovers_part(digits):
    x, y, xt, yt = digits
    eps = 0.15
    results = {}
    for name, adv in (
        ("clean", None),
        ("adversarial", adversarial.AdversarialTraining("fgsm", eps=eps, alpha=0.5, clamp=(0.0, 1.0))),
    ):
        gradlab.manual_seed(0)
        model = mlp()
        Trainer(
            model, gradlab.optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss(), adversarial=adv
        ).fit(DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True), epochs=15)
        model.eval()
        x_adv = adversarial.fgsm(model, gradlab.from_numpy(xt), gradlab.from_numpy(yt), eps, clamp=(0.0, 1.0))
        results[name] = (accuracy(model, xt, yt), accuracy(model, x_adv.numpy(), yt))
    (clean_acc, clean_under_attack), (adv_clean_acc, adv_under_attack) = (
        results["clean"],
        results["adversarial"],
    )
    assert clean_under_attack < clean_acc - 0.2, results  # FGSM hurts a normally trained model
    assert adv_under_attack > clean_under_attack + 0.1, results  # adversarial training recovers part
    assert adv_under_attack < clean_acc, results  # ... not all
    assert adv_clean_acc > 0.85, results  # and the model still works on clean inputs


def test_adversarial_training_options_are_checked():
    with pytest.raises(ValueError, match="attack"):
        adversarial.AdversarialTraining("deepfool")
    with pytest.raises(ValueError, match="alpha"):
        adversarial.AdversarialTraining(alpha=1.5)
