"""The adversarial experiment (quick run): FGSM breaks a standard MLP,
FGSM adversarial training restores much of the accuracy at its eps."""

import json

import pytest

from gradlab import lab


@pytest.fixture(scope="module")
def report():
    return lab.run("adversarial", quick=True, seed=0)


def test_fgsm_and_adversarial_training(report):
    n = report.numbers
    at = n["eps"].index(n["eps_train"])
    std, adv = n["fgsm_accuracy"]["standard"], n["fgsm_accuracy"]["adversarial"]
    assert n["eps"][0] == 0 and std[0] > 0.95
    assert std[at] < 0.7 * std[0]
    assert all(a >= b - 0.01 for a, b in zip(std, std[1:]))  # accuracy falls as eps grows
    assert adv[at] > std[at] + 0.15
    assert adv[0] > std[0] - 0.02
    pgd = n["pgd_accuracy_at_eps_train"]
    assert pgd["adversarial"] > pgd["standard"] + 0.15
    assert pgd["standard"] <= std[at] + 0.02  # PGD is at least about as strong as FGSM


def test_claims_hold_and_report_writes(report, tmp_path):
    assert report.claims and all(c.holds for c in report.claims)
    assert report.headline
    report.write(tmp_path)
    assert (tmp_path / "README.md").exists()
    assert json.loads((tmp_path / "numbers.json").read_text())["name"] == "adversarial"
    assert (tmp_path / "accuracy_vs_eps.png").stat().st_size > 0
    assert (tmp_path / "examples.png").stat().st_size > 0
