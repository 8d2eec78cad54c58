"""The double-descent experiment (quick run): random-features test error
peaks at the interpolation threshold p = n and falls on both sides."""

import json

import numpy as np
import pytest

from gradlab import lab


@pytest.fixture(scope="module")
def report():
    return lab.run("double-descent", quick=True, seed=0)


def test_peak_at_interpolation_threshold(report):
    n = report.numbers
    widths, test = n["widths"], np.array(n["random_features"]["test_error"])
    n_train = n["n_train"]
    peak = int(np.argmax(test))
    assert n_train / 1.5 <= widths[peak] <= 1.5 * n_train
    smaller = test[[i for i, p in enumerate(widths) if p < n_train / 2]]
    assert test[peak] > smaller.min() + 0.2
    assert test[peak] > test[-1] + 0.2
    # the min-norm coefficients blow up at the threshold
    norms = np.array(n["random_features"]["norm"])
    assert int(np.argmax(norms)) == peak


def test_interpolation_past_threshold(report):
    n = report.numbers
    train = n["random_features"]["train_error"]
    assert max(e for p, e in zip(n["widths"], train) if p >= 2 * n["n_train"]) < 0.01
    assert train[0] > 0.2  # the narrowest model cannot fit the noisy labels
    assert n["flipped"] > 0.1 * n["n_train"]


def test_claims_hold_and_report_writes(report, tmp_path):
    assert report.claims and all(c.holds for c in report.claims)
    assert report.headline
    report.write(tmp_path)
    assert (tmp_path / "README.md").exists()
    assert json.loads((tmp_path / "numbers.json").read_text())["name"] == "double-descent"
    assert (tmp_path / "error_vs_width.png").stat().st_size > 0
