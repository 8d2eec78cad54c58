"""The learning-rate experiment (quick mode): the lecture's claims, checked
from the measured numbers."""

import json
import math

import pytest

from gradlab import lab


@pytest.fixture(scope="module")
def report():
    return lab.run("learning-rate", quick=True, seed=0)


def test_rate_too_small_good_too_large(report):
    final = report.numbers["rate_final_loss"]
    assert final["too small"] > 10 * final["good"]
    assert not final["too large"] < 0.9 * math.log(10)  # exploded (inf) or stuck at chance
    assert min(final, key=final.get) == "good"


def test_gradual_warmup_beats_none_and_constant(report):
    final = report.numbers["warmup_final_loss"]
    assert final["linear"] < final["none"]
    assert final["linear"] < final["constant"]
    assert report.numbers["warmup_lr"] == pytest.approx(2.0)  # 0.125 * 256 / 16


def test_decayed_schedules_end_below_constant(report):
    final = report.numbers["schedule_final_loss"]
    for name in ("step", "linear to 1%", "cosine"):
        assert final[name] < final["constant"], name
    assert set(final) == {"constant", "step", "linear to 1%", "cosine", "cyclic"}


def test_range_test_suggestion_between_bad_rates(report):
    rates = report.numbers["rates"]
    suggestion = report.numbers["range_test"]["suggestion"]
    assert suggestion is not None
    assert rates["too small"] < suggestion < rates["too large"]


def test_claims_hold_and_headline(report):
    assert len(report.claims) >= 6
    failed = [c.statement for c in report.claims if not c.holds]
    assert not failed, failed
    assert f"{report.numbers['rate_final_loss']['good']:.3g}" in report.headline


def test_write(report, tmp_path):
    page = report.write(tmp_path)
    assert page.read_text().startswith("# ")
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert numbers["name"] == "learning-rate"
    for name in ("rates", "warmup", "schedules", "range_test"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
