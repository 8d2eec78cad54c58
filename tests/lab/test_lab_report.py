"""Report: numbers, tables, figures and claims written as JSON, PNG and Markdown."""

import json
import math

import numpy as np
import pytest

from gradlab.lab import Report
from gradlab.lab.report import jsonable


def _report() -> Report:
    report = Report(name="demo", title="A demo", description="what it shows", quick=True, seed=3)
    report.numbers["curve"] = np.array([1.0, 0.5, np.float32(0.25)])
    report.numbers["best"] = {"lr": np.float64(0.1), "steps": np.int64(12), "diverged": np.bool_(False)}
    report.table("results", ["method", "loss"], [["sgd", 0.5], ["adam", 1e-7]], caption="final losses")
    fig, ax = report.figure("curve", "the loss")
    ax.plot([0, 1, 2], [1.0, 0.5, 0.25])
    report.claim("adam ends lower", True, "1e-07 vs 0.5")
    report.claim("sgd diverges", False)
    report.note("A paragraph.")
    report.headline = "adam wins"
    return report


def test_write_produces_json_png_and_a_markdown_page_that_links_them(tmp_path):
    page = _report().write(tmp_path / "out")
    assert page == tmp_path / "out" / "README.md"
    numbers = json.loads((tmp_path / "out" / "numbers.json").read_text())
    assert numbers["numbers"]["curve"] == [1.0, 0.5, 0.25]
    assert numbers["numbers"]["best"] == {"lr": 0.1, "steps": 12, "diverged": False}
    assert numbers["tables"]["results"]["rows"] == [["sgd", 0.5], ["adam", 1e-7]]
    assert [c["holds"] for c in numbers["claims"]] == [True, False]
    assert numbers["quick"] is True and numbers["seed"] == 3
    png = (tmp_path / "out" / "curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    text = page.read_text()
    assert "# A demo" in text and "![the loss](curve.png)" in text and "(numbers.json)" in text
    assert "| sgd | 0.5 |" in text and "| adam | 1.000e-07 |" in text
    assert "adam ends lower — **holds**" in text and "sgd diverges — **DOES NOT HOLD**" in text
    assert "**adam wins**" in text and "A paragraph." in text
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith("tmp")]


def test_summary_lists_the_claims():
    summary = _report().summary()
    assert "[ok] adam ends lower (1e-07 vs 0.5)" in summary
    assert "[NO] sgd diverges" in summary


def test_non_finite_numbers_become_strings_in_strict_json():
    assert jsonable([math.nan, np.float32(np.inf), -math.inf, 1.5]) == ["nan", "inf", "-inf", 1.5]
    json.dumps(jsonable({"x": np.array([np.nan])}), allow_nan=False)


def test_bad_content_is_rejected_with_a_clear_message(tmp_path):
    report = Report(name="demo", title="A demo")
    with pytest.raises(ValueError, match="row 1 has 1 values, expected 2"):
        report.table("t", ["a", "b"], [[1, 2], [3]])
    report.figure("f")
    with pytest.raises(ValueError, match="already has a figure named 'f'"):
        report.figure("f")
    report.numbers["model"] = object()
    with pytest.raises(TypeError, match="must be a number, string, list or dict, got object"):
        report.to_json()
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        Report(name="demo", title="A demo").write(tmp_path / "file")


def test_a_figure_that_fails_to_save_leaves_no_temporary_file(tmp_path):
    report = Report(name="demo", title="A demo")
    _, ax = report.figure("broken")
    ax.text(0.5, 0.5, r"$\unknowncommand$")  # mathtext fails when the figure is drawn
    with pytest.raises(ValueError):
        report.write(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".png"]
