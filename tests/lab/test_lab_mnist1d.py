"""The MNIST-1D experiments (quick runs): each report carries its claims,
the numbers behind them, and consistent tables and figures."""

import json

import numpy as np
import pytest

from gradlab import lab
from gradlab.lab import _common

NAMES = ["double-descent-mnist1d", "activations-mnist1d", "snapshot-ensembles-mnist1d", "mlp-vs-cnn-mnist1d"]


@pytest.fixture(scope="module")
def reports():
    return {}


def report_of(reports, name):
    if name not in reports:
        reports[name] = lab.run(name, quick=True, seed=0)
    return reports[name]


def test_registered_and_listed():
    for name in NAMES:
        assert name in lab.EXPERIMENTS
        assert "MNIST-1D" in lab.describe(name)


@pytest.mark.parametrize("name", NAMES)
def test_quick_report_has_claims_headline_and_writes(reports, name, tmp_path):
    report = report_of(reports, name)
    assert report.quick and report.claims and report.headline
    assert all(c.evidence for c in report.claims)  # every claim says what it measured
    page = report.write(tmp_path)
    saved = json.loads((tmp_path / "numbers.json").read_text())
    assert saved["name"] == name and len(saved["claims"]) == len(report.claims)
    assert all((tmp_path / f"{f.name}.png").stat().st_size > 10_000 for f in report.figures)
    assert "## Claims" in page.read_text()


def test_double_descent_threshold_is_the_first_width_that_fits(reports):
    n = report_of(reports, "double-descent-mnist1d").numbers
    train, test = np.array(n["train_error"]), np.array(n["test_error"])
    assert len(train) == len(test) == len(n["widths"]) == len(n["params"])
    assert n["flipped"] == round(0.2 * n["n_train"])
    assert train[0] > 0.3  # the narrowest MLP cannot fit the noisy labels
    if n["reached_interpolation"]:
        t = n["widths"].index(n["threshold_width"])
        assert train[t] < 0.01 and (train[:t] >= 0.01).all()
    assert n["peak_test_error"] == test.max()
    assert np.all((0 <= test) & (test <= 1))


def test_activations_race_counts_steps_to_the_target(reports):
    race = report_of(reports, "activations-mnist1d").numbers["race"]
    for kind in ("relu", "tanh", "sigmoid"):
        curve = race["curves"][kind]
        steps = race["steps"][kind]
        if steps is None:
            assert min(curve["errors"]) > race["target"] and curve["steps"][-1] == race["max_steps"]
        else:  # the run stopped at the first check at or below the target
            assert curve["steps"][-1] == steps and curve["errors"][-1] <= race["target"]
            assert all(e > race["target"] for e in curve["errors"][:-1])
    # ReLU at least learns: its training error falls well below chance (90%)
    assert min(race["curves"]["relu"]["errors"]) < 0.6


def test_snapshot_ensemble_numbers(reports):
    n = report_of(reports, "snapshot-ensembles-mnist1d").numbers
    assert n["n_test"] == 10_000
    acc = n["accuracy"]
    assert len(acc) == 4 and all(0.1 < a <= 1.0 for a in acc.values())
    assert len(n["snapshot_member_accuracy"]) == n["cycles"] == len(n["snapshot_accuracy_vs_m"])
    # the ensemble of the last snapshot alone is that snapshot
    assert n["snapshot_accuracy_vs_m"][0] == n["snapshot_member_accuracy"][-1]
    snapshot = next(a for k, a in acc.items() if k.startswith("snapshot"))
    assert snapshot == n["snapshot_accuracy_vs_m"][-1]


def test_mlp_vs_cnn_has_every_model_and_variant(reports):
    n = report_of(reports, "mlp-vs-cnn-mnist1d").numbers
    results = n["results"]
    assert len(results) == 8
    for r in results.values():
        assert r["gap"] == pytest.approx(r["train_acc"] - r["test_acc"])
        assert len(r["curve"]) == 10 and r["curve"][-1] == r["test_acc"]
    # even after a few hundred steps the CNN is well ahead of the MLP
    assert results["CNN, plain"]["test_acc"] > results["MLP, plain"]["test_acc"]


def test_cnn1d_is_the_papers_cnn():
    model = _common.cnn1d()
    params = sum(p.numel() for p in model.parameters())
    # 1*25*5+25, 25*25*3+25 twice, 25*5*10+10
    assert params == 150 + 2 * 1900 + 1260
    import gradlab

    assert model(gradlab.zeros(3, 40)).shape == (3, 10)
    with pytest.raises(ValueError, match="activation must be one of"):
        _common.cnn1d(activation="gelu")


def test_cosine_lr_restarts_each_period():
    assert _common.cosine_lr(0.1, 0, 50) == pytest.approx(0.1)
    assert _common.cosine_lr(0.1, 25, 50) == pytest.approx(0.05)
    assert _common.cosine_lr(0.1, 49, 50) < 0.001
    assert _common.cosine_lr(0.1, 50, 50) == pytest.approx(0.1)


def test_mnist1d_data_sizes():
    data = _common.mnist1d_data(n_train=100)
    assert tuple(data.x_train.shape) == (100, 40) and tuple(data.x_val.shape) == (1000, 40)
    assert tuple(_common.mnist1d_data(num_test=2000).x_val.shape) == (2000, 40)
    with pytest.raises(ValueError, match="n_train must be in 1..4000, got 0"):
        _common.mnist1d_data(n_train=0)
