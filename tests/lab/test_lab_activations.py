"""The `activations` experiment (quick run): ReLU vs sigmoid/tanh speed, dead
ReLUs vs learning rate, vanishing gradients in a deep sigmoid network."""

import json
import math

import pytest

import gradlab.lab as lab


@pytest.fixture(scope="module")
def report():
    return lab.run("activations", quick=True, seed=0)


def test_relu_reaches_the_target_before_sigmoid(report):
    steps = report.numbers["race"]["steps"]
    assert steps["relu"] is not None
    sigmoid = math.inf if steps["sigmoid"] is None else steps["sigmoid"]
    assert steps["relu"] * 2 < sigmoid


def test_tanh_claim_matches_the_measured_steps(report):
    # Krizhevsky's 6x does not reproduce at digits scale; the claim must say so honestly
    steps = report.numbers["race"]["steps"]
    tanh = math.inf if steps["tanh"] is None else steps["tanh"]
    claim = next(c for c in report.claims if "tanh" in c.statement)
    assert claim.holds == (steps["relu"] < tanh)


def test_dead_fraction_grows_with_the_learning_rate(report):
    dead = report.numbers["dead"]
    assert dead["lrs"] == sorted(dead["lrs"])
    assert all(dead["finite"])
    means = dead["mean_dead"]
    assert means[-1] > 0.3 and means[-1] > 5 * means[0]
    assert means[-1] > max(means[:2])


def test_sigmoid_gradient_vanishes_and_relu_he_does_not(report):
    norms = report.numbers["vanishing"]["grad_norms"]
    sigmoid, relu_he = norms["sigmoid"], norms["relu + He"]
    assert len(sigmoid) == report.numbers["vanishing"]["depth"] + 1
    assert sigmoid[0] * 100 <= sigmoid[-1]
    assert 0.1 <= relu_he[0] / relu_he[-1] <= 10


def test_claims_hold_except_the_tanh_race(report):
    assert len(report.claims) == 5
    for c in report.claims:
        if "tanh" not in c.statement:
            assert c.holds, c


def test_write(report, tmp_path):
    page = report.write(tmp_path)
    assert page.read_text().startswith("# ")
    data = json.loads((tmp_path / "numbers.json").read_text())
    assert data["name"] == "activations"
    for name in ("race", "dead_relus", "gradient_by_depth"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
