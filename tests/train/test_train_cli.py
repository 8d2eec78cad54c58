"""The gradlab command end to end, through subprocess, on two- and
three-epoch configs."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_files import cifar_folder, mnist_files
from gradlab.cli import main

SMALL = """
epochs = 2
batch_size = 64
[model]
channels = [8]
convs_per_block = 1
hidden = [16]
[early_stopping]
patience = 5
"""


def gradlab_cmd(*args, cwd=None, **kw):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-u", "-m", "gradlab.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        **kw,
    )


def only_run_dir(output: Path) -> Path:
    runs = list(output.iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def metrics(run_dir: Path, drop=("time",)):
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "small.toml").write_text(SMALL)
    result = gradlab_cmd("train", "--config", str(tmp / "small.toml"), "--output", str(tmp / "runs"))
    return result, only_run_dir(tmp / "runs")


def test_train_writes_the_run_folder_and_prints_test_accuracy(trained):
    result, run_dir = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 2  # one line per epoch off a terminal
    assert any(line.startswith("test accuracy: ") for line in lines)
    for name in ("config.toml", "metrics.csv", "curves.png", "best.ckpt", "last.ckpt", "summary.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = metrics(run_dir)
    assert [r["epoch"] for r in rows] == ["1", "2"]  # counted from 1, as the console
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert f"{100 * summary['test_accuracy']:.2f}%" in result.stdout
    assert summary["test_accuracy"] > 0.5  # two epochs of a tiny CNN already learn the digits


def test_evaluate_run_dir_and_checkpoint(trained):
    _, run_dir = trained
    summary = json.loads((run_dir / "summary.json").read_text())
    result = gradlab_cmd("evaluate", str(run_dir))
    assert result.returncode == 0, result.stderr
    # best.ckpt holds the weights that EarlyStopping restored before the final test
    assert f"test accuracy {100 * summary['test_accuracy']:.2f}%" in result.stdout
    from gradlab.train import run

    assert run.evaluate_run(run_dir / "best.ckpt", out=io.StringIO())["test_loss"] == summary["test_loss"]


def test_ctrl_c_then_resume_gives_the_same_run(tmp_path):
    config = SMALL.replace("epochs = 2", "epochs = 3")
    (tmp_path / "c.toml").write_text(config)
    reference = gradlab_cmd("train", "--config", str(tmp_path / "c.toml"), "--output", str(tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "gradlab.cli",
            "train",
            "--config",
            str(tmp_path / "c.toml"),
            "--output",
            str(tmp_path / "int"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    for line in proc.stdout:
        if line.startswith("epoch 1/3"):
            proc.send_signal(signal.SIGINT)  # somewhere in epoch 2
            break
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "gradlab resume" in err and "Traceback" not in err
    run_dir = only_run_dir(tmp_path / "int")
    resumed = gradlab_cmd("resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert metrics(run_dir) == metrics(only_run_dir(tmp_path / "ref"))  # every logged value, bit for bit
    assert resumed.stdout.splitlines()[-2] == reference.stdout.splitlines()[-2].replace(
        str(only_run_dir(tmp_path / "ref")), str(run_dir)
    )


def run_main(capsys, *args):
    """gradlab.cli.main in-process (fast): (exit status, stderr)."""
    from gradlab.cli import main

    try:
        status = main(list(args))
    except SystemExit as stop:  # argparse exits itself
        status = stop.code
    return status, capsys.readouterr().err


def test_bad_option_through_subprocess_exits_2_with_one_line():
    result = gradlab_cmd("train", "--model", "resnet")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "gradlab train: error: model.name = 'resnet' is not accepted; expected one of mlp, cnn, layers"
    )


@pytest.mark.parametrize(
    "args,names",
    [
        (["train", "--data", "imagenet"], ["data.name", "digits", "mnist:PATH", "cifar10:PATH"]),
        (["train", "--optimizer", "adamax"], ["optimizer.name", "sgd", "adamw"]),
        (["train", "--schedule", "linear"], ["schedule.name", "cosine", "plateau"]),
        (["train", "--epochs", "many"], ["--epochs", "int"]),
        (["train", "--lr", "-1"], ["optimizer.lr", "number >= 0"]),
        (["train", "--bogus"], ["unrecognized", "--bogus"]),
        (["fly"], ["invalid choice", "train", "evaluate", "resume"]),
        (["evaluate", "no/such/run"], ["no/such/run"]),
        (["resume", "no/such/run"], ["no/such/run", "last.ckpt"]),
    ],
)
def test_bad_options_give_one_line_and_exit_code_2(capsys, args, names):
    status, err = run_main(capsys, *args)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for name in names:
        assert name in lines[0], (name, lines[0])


def test_bad_config_file_values_are_named(capsys, tmp_path):
    cases = {
        "unknown.toml": ("[model]\nwidth = 3\n", ["model.width", "channels"]),
        "type.toml": ('batch_size = "big"\n', ["batch_size", "integer"]),
        "broken.toml": ("epochs = = 3\n", ["broken.toml", "TOML"]),
        "layer.toml": (
            '[model]\nname = "layers"\nlayers = ["os.system(\'x\')"]\n',
            ["model.layers", "os.system"],
        ),
        "missing.toml": (None, ["missing.toml", "does not exist"]),
    }
    for name, (text, needles) in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        status, err = run_main(
            capsys, "train", "--config", str(tmp_path / name), "--output", str(tmp_path / "r")
        )
        assert status == 2, (name, err)
        line = err.strip()
        assert "\n" not in line and "Traceback" not in line, line
        for needle in needles:
            assert needle in line, (needle, line)


def test_corrupt_checkpoint_is_reported_not_raised(capsys, trained, tmp_path):
    _, run_dir = trained
    bad = tmp_path / "run"
    bad.mkdir()
    (bad / "config.toml").write_text((run_dir / "config.toml").read_text())
    (bad / "best.ckpt").write_bytes((run_dir / "best.ckpt").read_bytes()[:100])
    status, err = run_main(capsys, "evaluate", str(bad))
    assert status == 1 and "best.ckpt" in err and len(err.strip().splitlines()) == 1


def test_layer_list_and_mlp_models_train(tmp_path):
    config = """
epochs = 1
[model]
name = "layers"
layers = ["Flatten()", "Linear(64, 32)", "ReLU()", "Linear(32, 10)"]
[augmentation]
translate = 0
"""
    (tmp_path / "l.toml").write_text(config)
    result = gradlab_cmd("train", "--config", str(tmp_path / "l.toml"), "--output", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    result = gradlab_cmd(
        "train",
        "--model",
        "mlp",
        "--epochs",
        "1",
        "--no-augment",
        "--optimizer",
        "sgd",
        "--schedule",
        "plateau",
        "--l1",
        "1e-5",
        "--ema",
        "0.9",
        "--output",
        str(tmp_path / "r2"),
    )
    assert result.returncode == 0, result.stderr
    run_dir = only_run_dir(tmp_path / "r2")
    text = (run_dir / "config.toml").read_text()
    assert 'name = "mlp"' in text and 'name = "sgd"' in text and "ema = 0.9" in text
    # evaluate uses the EMA averages saved in the checkpoint, as the run's final test did
    from gradlab.train import run

    summary = json.loads((run_dir / "summary.json").read_text())
    assert run.evaluate_run(run_dir, out=io.StringIO())["test_loss"] == summary["test_loss"]


def test_default_recipe_reaches_99_percent_on_digits(tmp_path):
    """What `gradlab train` with no arguments does (in-process: ~15 s)."""
    from gradlab.train import recipe, run

    out = io.StringIO()
    summary = run.train_run(recipe.resolve_config({"output": str(tmp_path)}), out=out)
    assert summary["test_accuracy"] >= 0.99, out.getvalue()
    assert summary["test_samples"] == 360


@pytest.mark.parametrize("kind", ["mnist", "fashion-mnist", "cifar10"])
def test_train_on_local_files_of_the_standard_formats(tmp_path, kind, capsys):
    rng = np.random.default_rng(0)
    if kind == "cifar10":
        cifar_folder(tmp_path, rng, sizes=(8, 8, 8, 8, 8, 12))  # 3x32x32 images
    else:
        mnist_files(tmp_path / kind.replace("-", "_"), rng, n_train=40, n_test=12)  # 1x28x28
    n_test = 12
    (tmp_path / "small.toml").write_text(SMALL.replace("epochs = 2", "epochs = 1"))
    status = main(["train", "--config", str(tmp_path / "small.toml"), "--data", f"{kind}:{tmp_path}",
                   "--output", str(tmp_path / "runs"), "--batch-size", "16"])
    assert status == 0, capsys.readouterr().err
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["test_samples"] == n_test
    assert f"/{n_test})" in capsys.readouterr().out
    config = (run_dir / "config.toml").read_text()
    assert f'name = "{kind}:{tmp_path}"' in config


def test_train_on_a_missing_data_folder_names_it(tmp_path, capsys):
    assert main(["train", "--data", f"mnist:{tmp_path / 'nowhere'}", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nowhere") in err
