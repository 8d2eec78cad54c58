"""The `optimizers` experiment: momentum and adaptive methods cross
ill-conditioned valleys and leave saddles faster than GD, Newton solves a
quadratic in one step, and Adam/RMSProp/momentum beat SGD on the digits."""

import json

import numpy as np
import pytest

from gradlab import lab
from gradlab.lab.optimizers import METHODS, steps_to_tol

ALL = [*METHODS, "Newton"]


@pytest.fixture(scope="module")
def report():
    return lab.run("optimizers", quick=True, seed=0)


@pytest.fixture(scope="module")
def numbers(report):
    return report.numbers


def test_steps_to_tol_counts_steps_after_which_the_loss_stays_below():
    assert steps_to_tol(np.array([1.0, 1e-7, 1.0, 1e-7, 1e-8])) == 3
    assert steps_to_tol(np.array([1e-9, 1e-8])) == 0
    assert steps_to_tol(np.array([1.0, 1e-7, 1.0])) is None
    assert steps_to_tol(np.array([1.0, np.nan])) is None


def test_every_method_is_measured_on_every_surface(numbers):
    for surface in ("quadratic", "rosenbrock", "saddle"):
        assert set(numbers["steps_to_tol"][surface]) == set(ALL)
        assert set(numbers["final_loss"][surface]) == set(ALL)
        grid = numbers["lr_grid"]
        for method in METHODS:
            assert any(np.isclose(numbers["lr"][surface][method], lr) for lr in grid)


def test_newton_is_at_the_minimum_after_one_step(numbers):
    assert numbers["newton_one_step_distance"] < 1e-9
    assert numbers["steps_to_tol"]["quadratic"]["Newton"] == 1


def test_momentum_and_adaptive_methods_cross_the_quadratic_valley_faster_than_gd(numbers):
    steps = numbers["steps_to_tol"]["quadratic"]
    gd = steps["GD"] if steps["GD"] is not None else numbers["max_steps"]["quadratic"] + 1
    for method in ("momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"):
        assert steps[method] is not None and steps[method] < gd, method


def test_gd_crawls_through_rosenbrocks_valley(numbers):
    final = numbers["final_loss"]["rosenbrock"]
    for method in ("momentum", "Nesterov", "Adam"):
        assert final[method] < final["GD"] / 10, method
    newton = numbers["steps_to_tol"]["rosenbrock"]["Newton"]
    assert newton is not None and newton <= 10


def test_adaptive_methods_leave_the_saddle_and_gd_is_slow(numbers):
    escape = numbers["saddle_escape_steps"]
    assert escape["GD"] is not None and escape["GD"] > 20
    for method in ("AdaGrad", "RMSProp", "Adam"):
        assert escape[method] is not None and escape[method] < escape["GD"] / 3, method


def test_newton_converges_to_the_saddle_point(numbers):
    assert numbers["newton_saddle_distance"] < 1e-6
    assert numbers["final_loss"]["saddle"]["Newton"] > 0.2
    assert numbers["saddle_escape_steps"]["Newton"] is None


def test_adam_rmsprop_and_momentum_beat_sgd_on_the_digits(numbers):
    loss = numbers["digits"]["final_loss"]
    for method in ("Adam", "RMSProp", "momentum"):
        assert loss[method] < 0.8 * loss["GD"], method
    assert all(np.isfinite(v) for v in loss.values())


def test_all_claims_hold(report):
    assert len(report.claims) >= 7
    failed = [c.statement for c in report.claims if not c.holds]
    assert not failed, failed
    assert "Newton 1" in report.headline


def test_write_produces_page_numbers_and_figures(report, tmp_path):
    page = report.write(tmp_path)
    assert page == tmp_path / "README.md"
    text = page.read_text()
    for name in ("paths", "loss_curves", "lr_grid", "digits_race"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert f"{name}.png" in text
    data = json.loads((tmp_path / "numbers.json").read_text())
    assert data["numbers"]["steps_to_tol"]["quadratic"]["Newton"] == 1
    assert data["name"] == "optimizers"


def test_plain_rmsprop_at_a_constant_rate_bounces_back(numbers):
    bounce = numbers["rmsprop_bounce"]
    assert bounce["first"] is not None and bounce["bounce"] is not None
    assert bounce["bounce"] > bounce["first"]
    assert bounce["max_after"] > 1.0
