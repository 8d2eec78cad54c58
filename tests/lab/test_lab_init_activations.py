"""init-activations: the lectures' activation-statistics tables (lecture 001,
'Weight Initialization'), reproduced within sampling error."""

import math

import numpy as np
import pytest

from gradlab import lab

# Per-layer std of hidden layers 1..10, as printed on the slides of
# ../shared/seeds/001_756b4f9f1faafcb1.txt (lines 225-235, 255-265, 276-286,
# 311-321 and 336-346), rounded there to 6 decimals. These are the reference,
# not gradlab output.
LECTURE_STD = {
    "small-tanh": [0.213081, 0.047551, 0.010630, 0.002378, 0.000532, 0.000119, 0.000026, 0.000006,
                   0.000001, 0.000000],
    "unit-tanh": [0.981879, 0.981649, 0.981601, 0.981755, 0.981614, 0.981560, 0.981520, 0.981913,
                  0.981728, 0.981736],
    "xavier-tanh": [0.627953, 0.486051, 0.407723, 0.357108, 0.320917, 0.292116, 0.273387, 0.254935,
                    0.239266, 0.228008],
    "xavier-relu": [0.582273, 0.403795, 0.276912, 0.198685, 0.140299, 0.103280, 0.072748, 0.051572,
                    0.038583, 0.026076],
    "he-relu": [0.825232, 0.827835, 0.813855, 0.826902, 0.834092, 0.860035, 0.870610, 0.889348,
                0.845357, 0.844523],
}


@pytest.fixture(scope="module")
def quick():
    return lab.run("init-activations", quick=True, seed=0)


def test_quick_run_shows_the_four_behaviours(quick):
    std = quick.numbers["std"]
    assert std["small-tanh"][-1] < 1e-5 < std["small-tanh"][0]
    ratios = np.array(std["small-tanh"][1:]) / np.array(std["small-tanh"][:-1])
    np.testing.assert_allclose(ratios, 0.01 * math.sqrt(500), rtol=0.1)  # ~0.22 per layer
    assert min(quick.numbers["saturated"]["unit-tanh"]) > 0.85
    assert 0.15 < std["xavier-tanh"][-1] < std["xavier-tanh"][0] < 0.7
    halving = (std["xavier-relu"][-1] / std["xavier-relu"][0]) ** (1 / 9)
    assert abs(halving - 1 / math.sqrt(2)) < 0.05
    assert 0.6 < min(std["he-relu"]) and max(std["he-relu"]) < 1.3
    assert max(quick.numbers["grad_std"]["small-tanh"]) < 1e-3 * min(quick.numbers["grad_std"]["he-relu"])
    assert quick.claims and all(c.holds for c in quick.claims)


def test_report_writes_tables_and_histograms(quick, tmp_path):
    quick.write(tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"README.md", "numbers.json", "std-by-layer.png", "histograms-he-relu.png"} <= names
    assert "hidden layer 10" in (tmp_path / "README.md").read_text()


def test_full_run_reproduces_the_lecture_tables_within_sampling_error():
    report = lab.run("init-activations", seed=0)
    for init, lecture in LECTURE_STD.items():
        ours = np.array(report.numbers["std"][init])
        spread = np.array(report.numbers["std_sampling_error"][init])
        # Two independent draws differ with std sqrt(2) * spread. The spread is estimated from 8
        # draws (7 degrees of freedom) and 50 layer-stds are compared, so the bound is 5 of those
        # standard errors (Student's t, 7 dof, two-sided p ~ 1e-3 each). The slides round to 1e-6.
        tolerance = 5 * math.sqrt(2) * spread + 5e-7
        worst = np.argmax(np.abs(ours - lecture) - tolerance)
        assert np.all(np.abs(ours - lecture) <= tolerance), (
            f"{init} layer {worst + 1}: ours {ours[worst]:.6f}, lecture {lecture[worst]:.6f}, "
            f"tolerance {tolerance[worst]:.2g}")
