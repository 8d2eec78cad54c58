"""The `gradient-clipping` experiment (quick run): a tanh RNN with spectral
radius 1.5 on sequences of 50, trained with and without clip_grad_norm_."""

import json
import math

import numpy as np
import pytest

import gradlab.lab as lab


@pytest.fixture(scope="module")
def report():
    return lab.run("gradient-clipping", quick=True, seed=0)


def test_without_clipping_the_gradient_explodes(report):
    pre = np.array(report.numbers["curves"]["no clipping"]["pre"], dtype=float)
    peak = np.max(np.where(np.isfinite(pre), pre, np.inf))  # an inf/nan norm counts as exploded
    assert peak >= 100 * np.median(pre[:10])
    run = report.numbers["runs"]["no clipping"]
    losses = report.numbers["curves"]["no clipping"]["loss"]
    assert run["diverged"] or max(losses) > 10 * losses[0]


def test_applied_norm_never_exceeds_the_threshold(report):
    threshold = report.numbers["config"]["threshold"]
    curves = report.numbers["curves"]["clipping"]
    post = np.array(curves["post"], dtype=float)
    pre = np.array(curves["pre"], dtype=float)
    assert np.isfinite(post).all()
    assert post.max() <= threshold * (1 + 1e-5)
    assert pre.max() > threshold  # clipping actually happened
    clipped = pre > threshold
    assert np.allclose(post[clipped], threshold, rtol=1e-4)
    assert np.allclose(post[~clipped], pre[~clipped], rtol=1e-5)


def test_clipping_ends_with_a_lower_loss(report):
    steps = report.numbers["config"]["steps"]
    clipped = report.numbers["curves"]["clipping"]["loss"]
    assert len(clipped) == steps and all(math.isfinite(v) for v in clipped)
    end = float(np.mean(clipped[-steps // 10:]))
    assert end < 0.7 * report.numbers["constant_predictor_loss"]
    plain = report.numbers["curves"]["no clipping"]["loss"]
    plain_end = math.inf if len(plain) < steps else float(np.mean(plain[-steps // 10:]))
    assert end < plain_end


def test_all_claims_hold(report):
    assert len(report.claims) == 4
    assert all(c.holds for c in report.claims), [c for c in report.claims if not c.holds]


def test_write(report, tmp_path):
    report.write(tmp_path)
    data = json.loads((tmp_path / "numbers.json").read_text())
    assert data["name"] == "gradient-clipping"
    assert (tmp_path / "README.md").exists()
    assert (tmp_path / "grad_norm_and_loss.png").stat().st_size > 0
