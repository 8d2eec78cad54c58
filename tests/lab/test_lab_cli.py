"""gradlab experiment list / run, and the lab's registry."""

import json

import pytest

from gradlab import lab
from gradlab.cli import main


def test_every_registered_experiment_has_a_module_with_run_and_a_summary():
    import importlib

    for name, module in lab.EXPERIMENTS.items():
        mod = importlib.import_module(f"gradlab.lab.{module}")
        assert callable(mod.run), name
        assert lab.describe(name) and not lab.describe(name).endswith(":"), name


def test_list_prints_each_name_with_its_summary(capsys):
    assert main(["experiment", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(lab.EXPERIMENTS)
    assert lab.describe("zero-init") in lines[list(lab.EXPERIMENTS).index("zero-init")]


def test_run_writes_the_report_where_asked(tmp_path, capsys):
    out = tmp_path / "zero"
    assert main(["experiment", "run", "zero-init", "--quick", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    numbers = json.loads((out / "numbers.json").read_text())
    assert numbers["seed"] == 1 and numbers["quick"] is True
    assert f"report: {out / 'README.md'}" in printed
    assert numbers["headline"] in printed


def test_unknown_experiment_and_bad_seed_exit_2(capsys):
    assert main(["experiment", "run", "no-such-thing"]) == 2
    assert "unknown experiment 'no-such-thing'; expected one of: init-activations" in capsys.readouterr().err
    assert main(["experiment", "run", "zero-init", "--seed", "-1"]) == 2
    assert "--seed must be >= 0, got -1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown experiment 'x'"):
        lab.run("x")
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got 1.5"):
        lab.run("zero-init", seed=1.5)
