"""Issue 22, what a newcomer hits: every user mistake in any ``gradlab``
subcommand ends as one line ``gradlab <command>: error: ...`` with a
non-zero exit, a failed start leaves no run folder, and layers refuse
inputs that are not Tensors as PyTorch does."""

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn
from gradlab.cli import main

SMALL = """
epochs = 1
batch_size = 64
"""
TINY_CNN = "[model]\nchannels = [8]\nhidden = [16]\n"


def run_main(capsys, *args):
    """``gradlab.cli.main`` in-process: (exit status, stdout, stderr)."""
    try:
        status = main(list(args))
    except SystemExit as stop:  # argparse exits itself
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_version(capsys):
    status, out, _ = run_main(capsys, "--version")
    assert status == 0 and out.strip() == f"gradlab {gradlab.__version__}"


@pytest.mark.parametrize(
    "toml,options,needles",
    [
        # 5 outputs for 10 classes: was a 35-line IndexError from the loss
        ('[model]\nname = "layers"\nlayers = ["Flatten()", "Linear(64, 5)"]\n', [],
         ["model.layers", "(5,)", "10 classes", "Linear(..., 10)"]),
        # a layer list that does not fit the samples' shape
        ('[model]\nname = "layers"\nlayers = ["Linear(64, 10)"]\n', [],
         ["model.layers", "(1, 8, 8)"]),
        # layers without name = "layers" trained the default CNN silently
        ('[model]\nlayers = ["Flatten()", "Linear(64, 10)"]\n', [],
         ["model.layers", "name = \"layers\"", "ignores it"]),
        # augmentation sizes in the option's own unit (pixels), against the 8x8 digits
        ("", ["--cutout", "100"], ["--cutout", "100 pixels", "8x8", "at most 4 pixels"]),
        ("", ["--translate", "50", "--rotation", "0"], ["--translate", "50 pixels", "8x8", "at most 4"]),
        ("", ["--translate", "50"], ["--translate", "50 pixels", "8x8", "at most 4"]),
    ],
)
def test_bad_recipes_end_in_one_line_and_leave_no_run_folder(capsys, tmp_path, toml, options, needles):
    (tmp_path / "c.toml").write_text(SMALL + toml)
    status, _, err = run_main(capsys, "train", "--config", str(tmp_path / "c.toml"), *options,
                              "--output", str(tmp_path / "runs"))
    assert status == 2, err
    line = one_line(err)
    assert line.startswith("gradlab train: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    assert "fraction" not in line and "RandomAffine" not in line
    runs = tmp_path / "runs"
    assert not runs.exists() or not list(runs.iterdir()), list(runs.iterdir())


def test_output_that_is_a_file(capsys, tmp_path):
    (tmp_path / "afile").touch()
    status, _, err = run_main(capsys, "train", "--output", str(tmp_path / "afile"))
    assert status == 2
    assert "afile" in one_line(err) and "is a file" in err


def test_experiment_out_that_is_a_file_is_refused_before_it_runs(capsys, tmp_path):
    (tmp_path / "afile").touch()
    status, out, err = run_main(capsys, "experiment", "run", "zero-init", "--quick", "--out",
                                str(tmp_path / "afile"))
    assert status == 2 and out == ""
    line = one_line(err)
    assert line.startswith("gradlab experiment: error: ") and "afile" in line


@pytest.mark.parametrize(
    "args,needles",
    [
        (["experiment", "run", "no-such"], ["gradlab experiment: error:", "no-such", "zero-init"]),
        (["experiment", "run", "zero-init", "--seed", "-1"], ["--seed", "-1"]),
        (["resume", "x", "--epochs", "0"], ["--epochs", "integer >= 1"]),
    ],
)
def test_other_subcommands_end_in_one_line(capsys, args, needles):
    status, _, err = run_main(capsys, *args)
    assert status == 2
    line = one_line(err)
    for needle in needles:
        assert needle in line, (needle, line)


def test_resume_of_a_folder_left_by_a_failed_start_cannot_happen(capsys, tmp_path):
    """A failed start (here: no GPU or a bad layer) used to leave a folder
    with only config.toml, which resume then took for a broken run folder."""
    (tmp_path / "c.toml").write_text(SMALL + '[model]\nname = "layers"\nlayers = ["Nope()"]\n')
    status, _, err = run_main(capsys, "train", "--config", str(tmp_path / "c.toml"),
                              "--output", str(tmp_path / "runs"))
    assert status == 2 and "Nope" in one_line(err)
    assert list((tmp_path / "runs").iterdir()) == []


def test_ctrl_c_while_curves_are_drawn_is_one_line(capsys, tmp_path, monkeypatch):
    from gradlab.train import run

    def interrupted_plot(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "plot_curves", interrupted_plot)
    (tmp_path / "c.toml").write_text(SMALL + TINY_CNN)
    status, _, err = run_main(capsys, "train", "--config", str(tmp_path / "c.toml"),
                              "--output", str(tmp_path / "runs"))
    assert status == 130
    line = one_line(err)
    assert line.startswith("gradlab train: aborted (SIGINT)")
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "last.ckpt").is_file() and (run_dir / "summary.json").is_file()


def test_broken_pipe_in_process_is_quiet(capsys, monkeypatch):
    from gradlab import cli

    def closed_pipe(args):
        raise BrokenPipeError

    monkeypatch.setitem(cli.COMMANDS, "evaluate", closed_pipe)
    status, _, err = run_main(capsys, "evaluate", "x")
    assert status == 141 and err == ""


@pytest.mark.parametrize("value,name", [(np.ones((2, 3)), "numpy.ndarray"), ([[1.0, 2.0, 3.0]], "list")])
def test_layers_refuse_inputs_that_are_not_tensors_as_pytorch(value, name):
    with pytest.raises(TypeError, match=f"must be Tensor, not {name}"):
        torch.nn.Linear(3, 2)(value)
    expected = rf"Linear: argument 'input' \(position 1\) must be Tensor, not {name}"
    with pytest.raises(TypeError, match=expected):
        nn.Linear(3, 2)(value)
    with pytest.raises(TypeError, match=f"Conv2d.*not {name}"):
        nn.Sequential(nn.Conv2d(1, 1, 1))(value)


def test_user_modules_and_containers_still_take_anything():
    class TakesAList(nn.Module):
        def forward(self, parts):
            return parts[0] + parts[1]

    out = nn.Sequential(TakesAList())([gradlab.ones(2), gradlab.ones(2)])
    assert out.tolist() == [2.0, 2.0]
    assert nn.Identity()([1, 2]) == [1, 2]


def test_layers_without_their_name_are_refused_in_a_script_too():
    from gradlab.train import recipe

    with pytest.raises(recipe.ConfigError, match="model.layers is set but model.name = 'cnn'"):
        recipe.resolve_config({"model": {"layers": ["Linear(64, 10)"]}})
