"""zero-init: hidden units that start identical stay identical."""

import pytest

from gradlab import lab


@pytest.fixture(scope="module")
def report():
    return lab.run("zero-init", quick=True, seed=0)


def test_symmetric_units_stay_symmetric_and_random_init_learns(report):
    numbers = report.numbers
    assert max(numbers["unit_spread"]["zeros"] + numbers["unit_spread"]["constant"]) < 1e-6
    assert min(numbers["unit_spread"]["random"]) > 0.5
    assert numbers["zeros_max_hidden_weight"] == 0.0
    assert numbers["val_accuracy"]["random"] > 0.9
    assert numbers["val_accuracy"]["zeros"] < 0.2 and numbers["val_accuracy"]["constant"] < 0.6
    assert report.claims and all(c.holds for c in report.claims)


def test_same_seed_same_numbers(report):
    assert lab.run("zero-init", quick=True, seed=0).numbers == report.numbers


def test_report_writes(report, tmp_path):
    report.write(tmp_path)
    assert {"README.md", "numbers.json", "loss.png", "first-layer-units.png"} <= {
        p.name for p in tmp_path.iterdir()}
