"""The batch-norm experiment (quick mode): the Ioffe & Szegedy table's shape,
checked from the measured numbers."""

import json

import pytest

from gradlab import lab


@pytest.fixture(scope="module")
def report():
    return lab.run("batchnorm", quick=True, seed=0)


def test_target_is_plain_best(report):
    n = report.numbers
    assert n["target"] == pytest.approx(n["max_accuracy"]["Plain"])
    assert n["steps_to_target"]["Plain"] is not None


def test_bn_reaches_target_much_sooner(report):
    steps = report.numbers["steps_to_target"]
    assert steps["BN-Baseline"] is not None
    assert steps["BN-Baseline"] < steps["Plain"] / 2


def test_bn_tolerates_higher_rates_where_plain_does_worse(report):
    steps = report.numbers["steps_to_target"]
    final = report.numbers["final_accuracy"]
    for name in ("BN-x5", "BN-x30"):
        assert steps[name] is not None and steps[name] < steps["Plain"], name
    # without BN, 5x is slower than with BN, and 30x never gets there
    assert steps["Plain-x5"] is None or steps["Plain-x5"] > steps["BN-x5"]
    assert steps["Plain-x30"] is None
    assert final["BN-x30"] > final["Plain-x30"]


def test_sigmoid_needs_bn(report):
    steps = report.numbers["steps_to_target"]
    assert steps["Plain-x5-Sigmoid"] is None
    assert report.numbers["max_accuracy"]["Plain-x5-Sigmoid"] < 0.5
    assert steps["BN-x5-Sigmoid"] is not None


def test_claims_hold_and_table(report):
    failed = [c.statement for c in report.claims if not c.holds]
    assert not failed, failed
    table = next(t for t in report.tables if t.name == "steps to target")
    assert [row[0] for row in table.rows][:5] == ["Plain", "BN-Baseline", "BN-x5", "BN-x30", "BN-x5-Sigmoid"]


def test_write(report, tmp_path):
    report.write(tmp_path)
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    steps = report.numbers["steps_to_target"]
    assert numbers["numbers"]["steps_to_target"]["BN-Baseline"] == steps["BN-Baseline"]
    assert "BN-x30" in (tmp_path / "README.md").read_text()
    assert (tmp_path / "val_accuracy.png").stat().st_size > 1000
