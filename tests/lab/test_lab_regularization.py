"""The regularization experiment in quick mode: the lectures' claims checked
from its numbers, plus the helpers it added to ``gradlab.lab._common``."""

import json

import numpy as np
import pytest

from gradlab import lab
from gradlab.lab import _common as C
from gradlab.lab import regularization
from gradlab.train import regularizers


@pytest.fixture(scope="module")
def report():
    return lab.run("regularization", quick=True, seed=0)


def test_l1_gives_many_more_near_zero_weights_than_l2(report):
    matched = report.numbers["sparsity"]["matched"]
    assert matched["l1"]["near_zero"] > 3 * matched["l2"]["near_zero"]
    assert matched["l1"]["near_zero"] > 0.2


def test_l2_shrinks_without_zeroing(report):
    sp = report.numbers["sparsity"]
    assert sp["matched"]["l2"]["mean_abs"] < 0.8 * sp["none"]["mean_abs"]
    assert sp["matched"]["l2"]["near_zero"] < 0.1


def test_l1_sparsity_grows_along_the_path(report):
    zeros = report.numbers["sparsity"]["l1"]["near_zero"]
    assert len(zeros) == len(report.numbers["sparsity"]["lambdas"]) >= 4
    assert all(b >= a - 0.01 for a, b in zip(zeros, zeros[1:]))
    assert zeros[-1] > zeros[0] + 0.5


def test_dropout_narrows_the_gap(report):
    runs = report.numbers["runs"]
    assert runs["plain"]["gap_loss"] > 0.3  # the setting does overfit
    assert runs["inverted"]["gap_loss"] < runs["plain"]["gap_loss"]
    assert runs["classic"]["gap_loss"] < runs["plain"]["gap_loss"]


def test_inverted_and_classic_dropout_agree_at_test(report):
    assert max(report.numbers["dropout_expectation_error"].values()) < 0.05
    diff = report.numbers["dropout_val_acc_diff"]
    runs = report.numbers["runs"]
    assert diff["diff"] == pytest.approx(runs["inverted"]["val_acc"] - runs["classic"]["val_acc"])
    assert abs(diff["diff"]) <= 2 * diff["se"]


def test_early_stopping_beats_the_overtrained_run(report):
    runs = report.numbers["runs"]
    early, plain = runs["early_stopping"], runs["plain"]
    assert early["val_loss"] < plain["val_loss"]
    assert 0 <= early["best_epoch"] < early["epochs_run"] < plain["epochs_run"]


def test_label_smoothing_lowers_confidence_and_ece(report):
    sm = report.numbers["smoothing"]
    assert sm["eps"][0] == 0.0
    assert all(b < a for a, b in zip(sm["confidence"], sm["confidence"][1:]))
    assert sm["ece"][1] < sm["ece"][0]
    assert sm["ece"][0] == report.numbers["runs"]["plain"]["ece"]


def test_input_noise_helps(report):
    runs = report.numbers["runs"]
    noise = runs["input_noise_1.0"]
    assert noise["val_acc"] > runs["plain"]["val_acc"]
    assert noise["gap_loss"] < runs["plain"]["gap_loss"]


def test_claims_hold_and_headline(report):
    assert len(report.claims) >= 9
    failed = [c.statement for c in report.claims if not c.holds]
    assert not failed, failed
    assert "L1 zeroes" in report.headline


def test_write(report, tmp_path):
    page = report.write(tmp_path)
    assert page.name == "README.md" and "Regularization" in page.read_text()
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert numbers["name"] == "regularization" and numbers["quick"] is True
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == sorted(f"{f.name}.png" for f in report.figures)
    assert {"weight_histograms.png", "paths.png", "dropout_curves.png", "calibration.png"} <= set(pngs)


def test_penalized_training_is_reproducible():
    data = C.digits_data(0, n_train=64)
    a = regularization._penalized(regularizers.L1(1e-3), data, 8, 1, seed=3)
    b = regularization._penalized(regularizers.L1(1e-3), data, 8, 1, seed=3)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


def test_with_label_noise_moves_the_requested_share_to_other_classes():
    data = C.digits_data(0, n_train=200)
    noisy = C.with_label_noise(data, 0.2, seed=5)
    changed = noisy.y_train.numpy() != data.y_train.numpy()
    assert changed.sum() == 40
    assert noisy.y_train.numpy().max() <= 9 and noisy.y_train.numpy().min() >= 0
    assert np.array_equal(noisy.y_val.numpy(), data.y_val.numpy())
    assert np.array_equal(C.with_label_noise(data, 0.2, seed=5).y_train.numpy(), noisy.y_train.numpy())
    with pytest.raises(ValueError):
        C.with_label_noise(data, 1.5)


def test_calibration_ece():
    # Two bins used: confidence 0.95 with 95% right, confidence 0.65 with 35% right.
    prob = np.full((200, 2), 0.0)
    prob[:100] = [0.95, 0.05]
    prob[100:] = [0.65, 0.35]
    labels = np.zeros(200, dtype=np.int64)
    labels[95:100] = 1
    labels[100 + 35:] = 1
    out = C.calibration(prob, labels, bins=10)
    assert out["confidence"] == pytest.approx(0.8)
    assert out["accuracy"] == pytest.approx(0.65)
    assert out["ece"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.30)
    assert out["bin_count"].sum() == 200 and out["bin_count"][9] == 100 and out["bin_count"][6] == 100
    perfect = C.calibration(np.eye(3)[[0, 1, 2]], np.array([0, 1, 2]))
    assert perfect["ece"] == 0.0 and perfect["confidence"] == 1.0
