"""The augmentation experiment in quick mode: the CutMix-table claim checked
from its numbers."""

import json

import numpy as np
import pytest

import gradlab
from gradlab import lab
from gradlab.lab import augmentation

AUGMENTATIONS = ("translate", "cutout", "mixup", "cutmix")


@pytest.fixture(scope="module")
def report():
    return lab.run("augmentation", quick=True, seed=0)


def test_best_augmentation_beats_none(report):
    mean = report.numbers["mean_val_error"]
    assert set(AUGMENTATIONS) | {"none"} <= set(mean)
    best = min(mean[m] for m in AUGMENTATIONS)
    assert best < mean["none"]
    assert report.numbers["best"] in AUGMENTATIONS and mean[report.numbers["best"]] == best


def test_augmentations_help_on_average(report):
    mean = report.numbers["mean_val_error"]
    assert np.mean([mean[m] for m in AUGMENTATIONS]) < mean["none"]


def test_errors_are_per_seed_fractions(report):
    errors = report.numbers["val_error"]
    assert report.numbers["seeds"] == [0]
    for method, values in errors.items():
        assert len(values) == 1 and 0.0 <= values[0] < 0.5
        assert report.numbers["mean_val_error"][method] == pytest.approx(np.mean(values))
        # each error is a whole number of the 360 validation images
        assert round(values[0] * 360, 6) == pytest.approx(round(values[0] * 360))


def test_claims_hold_and_table(report):
    assert len(report.claims) >= 2
    failed = [c.statement for c in report.claims if not c.holds]
    assert not failed, failed
    table = report.tables[0]
    assert [row[0] for row in table.rows][0] == "none" and len(table.rows) == len(report.numbers["val_error"])
    assert "lowers the val error" in report.headline


def test_write(report, tmp_path):
    page = report.write(tmp_path)
    assert "CutMix" in page.read_text()
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert numbers["name"] == "augmentation" and numbers["numbers"]["best"] in AUGMENTATIONS
    assert {p.name for p in tmp_path.glob("*.png")} == {"val_error.png", "examples.png"}


@pytest.mark.parametrize("method", ["translate", "cutout", "mixup", "cutmix", "flip"])
def test_augmentations_keep_shapes_and_soft_targets_sum_to_one(method):
    x = np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32)
    y = np.arange(8) % 10
    transform = augmentation.augmentation(method, -1.0, gradlab.Generator().manual_seed(0))
    if getattr(transform, "mixes_targets", False):
        out, targets = transform(x, y)
        assert targets.shape == (8, 10) and np.allclose(targets.sum(axis=1), 1.0)
    else:
        out = transform(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert augmentation.augmentation("none", -1.0, gradlab.Generator()) is None


def test_cnn_shape():
    logits = augmentation.cnn()(gradlab.zeros(3, 1, 8, 8))
    assert tuple(logits.shape) == (3, 10)
