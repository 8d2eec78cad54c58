"""Issue 22, silent failures and leftovers: divergence stops the run,
checkpoints are checksummed and refused when damaged or non-finite, files
get the user's umask, a resume refuses an edited configuration and
``--epochs`` extends a run with its schedule planned again."""

import csv
import json
import math
import os
import shutil
import threading
import warnings

import numpy as np
import pytest

import gradlab
from gradlab import io as gio
from gradlab import nn
from gradlab.cli import main
from gradlab.train import checkpoint, run

CONFIG = """
epochs = 2
batch_size = 64
[model]
channels = [8]
hidden = [16]
[augmentation]
translate = 0
rotation = 0.0
"""


def run_main(capsys, *args):
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def train(tmp_path, capsys, text=CONFIG, *options):
    (tmp_path / "c.toml").write_text(text)
    status, out, err = run_main(capsys, "train", "--config", str(tmp_path / "c.toml"),
                                "--output", str(tmp_path / "runs"), *options)
    runs = sorted((tmp_path / "runs").iterdir()) if (tmp_path / "runs").exists() else []
    return status, out, err, runs


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished two-epoch run (kept pristine: tests copy it)."""
    from gradlab.train import recipe

    tmp = tmp_path_factory.mktemp("finished")
    (tmp / "c.toml").write_text(CONFIG)
    config = recipe.resolve_config(run.load_toml(tmp / "c.toml"), {"output": str(tmp / "runs")})
    import io

    run.train_run(config, out=io.StringIO())
    (run_dir,) = (tmp / "runs").iterdir()
    return run_dir


@pytest.fixture
def run_copy(finished, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(finished, target)
    return target


def rows(run_dir):
    return list(csv.DictReader((run_dir / "metrics.csv").open()))


# ---------------------------------------------------------------- divergence
def test_diverged_run_stops_with_epoch_batch_cause_and_remedy(capsys, tmp_path):
    status, out, err, runs = train(tmp_path, capsys, CONFIG, "--lr", "1e9")
    assert status == 1  # was 0, with every epoch trained on nan
    line = one_line(err)
    for needle in ("training diverged at epoch 1, batch", "learning rate", "Likely cause",
                   "Remedy: Lower the learning rate"):
        assert needle in line, (needle, line)
    assert "RuntimeWarning" not in err
    (run_dir,) = runs
    assert len(rows(run_dir)) == 1  # stopped in the first epoch
    best = run_dir / "best.ckpt"
    if best.is_file():  # never a non-finite model
        state = gradlab.load(best)
        for value in state["model"].values():
            assert np.isfinite(value.numpy()).all()
    assert not (run_dir / "summary.json").exists()


def test_finite_best_checkpoint_skips_nan_models(tmp_path):
    from gradlab.train import recipe

    config = recipe.resolve_config({"epochs": 1})
    parts = recipe.build(config, tmp_path)
    best = next(c for c in parts.trainer.callbacks if isinstance(c, recipe.FiniteBestCheckpoint))
    parts.trainer._pending_saves = None
    best.on_epoch_end(0, {"val_loss": math.nan})
    assert not (tmp_path / "best.ckpt").exists()
    with gradlab.no_grad():
        next(iter(parts.model.parameters())).array[...] = np.nan
    best.on_epoch_end(0, {"val_loss": 0.5})
    assert not (tmp_path / "best.ckpt").exists()


# ------------------------------------------------------------ checkpoints
def flip_a_weight_byte(path):
    """Overwrite bytes of the first weight array in place (the header is untouched)."""
    state = gradlab.load(path)
    first = state["model"][next(iter(state["model"]))].numpy()
    raw = bytearray(path.read_bytes())
    at = raw.find(first.tobytes())
    assert at > 0
    raw[at:at + 4] = b"\x00\x00\x80\x7f"
    path.write_bytes(bytes(raw))
    return next(iter(state["model"]))


def test_damaged_checkpoint_is_refused_naming_file_and_array(capsys, run_copy):
    name = flip_a_weight_byte(run_copy / "best.ckpt")
    status, _, err = run_main(capsys, "evaluate", str(run_copy))
    assert status == 1  # was 0, with a test accuracy of a damaged model
    line = one_line(err)
    assert "best.ckpt" in line and f"['model'][{name!r}]" in line and "SHA-256" in line


def test_save_stores_a_checksum_per_array_and_load_checks_it(tmp_path):
    path = tmp_path / "m.safetensors"
    gradlab.save({"w": gradlab.ones(3), "n": [np.arange(4)]}, path)
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        meta = json.loads(handle.metadata()["gradlab"])
    assert sorted(meta["sha256"]) == ["0", "1"] and all(len(v) == 64 for v in meta["sha256"].values())
    raw = bytearray(path.read_bytes())
    at = raw.find(np.arange(4).tobytes())
    raw[at] ^= 0xFF  # one byte of the list's array
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"m.safetensors.*corrupt.*obj\['n'\]\[0\]"):
        gradlab.load(path)


def test_old_files_without_checksums_load_with_a_warning(tmp_path):
    from safetensors.numpy import save_file

    meta = json.dumps({"format": "gradlab.io/1", "object": {"w": {"__ndarray__": "0", "scalar": False}}})
    save_file({"0": np.arange(3.0)}, str(tmp_path / "old.st"), metadata={"gradlab": meta})
    with pytest.warns(UserWarning, match="old.st.*before gradlab stored checksums"):
        back = gradlab.load(tmp_path / "old.st")
    np.testing.assert_array_equal(back["w"], np.arange(3.0))


@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_nan_weights_are_refused(capsys, run_copy, command):
    for name in ("best.ckpt", "last.ckpt"):
        state = gradlab.load(run_copy / name)
        key = next(iter(state["model"]))
        state["model"][key].array[...] = np.nan
        gradlab.save(state, run_copy / name)  # a valid checksum of NaN weights
    status, _, err = run_main(capsys, command, str(run_copy))
    assert status == 1  # was 0 with "test loss nan"
    line = one_line(err)
    assert "nan values" in line and key in line and ".ckpt" in line


# ------------------------------------------------------------ permissions
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640)])
def test_files_get_the_umask_permissions(capsys, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        status, _, err, (run_dir,) = train(tmp_path, capsys, CONFIG.replace("epochs = 2", "epochs = 1"))
        gradlab.save({"w": gradlab.ones(2)}, tmp_path / "w.safetensors")
        from gradlab.lab.report import Report

        page = Report("t", "title", quick=True, seed=0).write(tmp_path / "report")
        from gradlab.data.datasets.download import download_url

        (tmp_path / "src.bin").write_bytes(b"data")
        download_url((tmp_path / "src.bin").as_uri(), tmp_path / "dl" / "got.bin", None)
    finally:
        os.umask(old)
    assert status == 0, err
    files = [run_dir / n for n in ("best.ckpt", "last.ckpt", "metrics.csv", "config.toml", "summary.json",
                                   "curves.png")]
    files += [tmp_path / "w.safetensors", page, page.parent / "numbers.json", tmp_path / "dl" / "got.bin"]
    for path in files:
        assert oct(path.stat().st_mode & 0o777) == oct(mode), path  # was 0o600 for most


# ------------------------------------------------------------------ resume
def test_resume_of_a_finished_run_says_it_is_complete(capsys, run_copy):
    before = (run_copy / "metrics.csv").read_text()
    status, out, err = run_main(capsys, "resume", str(run_copy))
    assert status == 0, err
    assert "is complete (2 of 2 epochs" in out and "--epochs N" in out
    assert (run_copy / "metrics.csv").read_text() == before


def test_resume_refuses_an_edited_config_naming_the_keys(capsys, run_copy):
    text = (run_copy / "config.toml").read_text()
    text = text.replace("epochs = 2", "epochs = 4").replace("lr = 0.003", "lr = 0.01")
    (run_copy / "config.toml").write_text(text)
    status, _, err = run_main(capsys, "resume", str(run_copy))
    assert status == 2
    line = one_line(err)
    assert "epochs (2 in last.ckpt, 4 in config.toml)" in line
    assert "optimizer.lr (0.003 in last.ckpt, 0.01 in config.toml)" in line
    assert "--epochs N" in line


def test_resume_epochs_extends_with_the_longer_schedule(capsys, run_copy, tmp_path):
    (run_copy / ".last.ckpt.x1y2.tmp").write_bytes(b"partial")  # a kill during a write
    status, out, err = run_main(capsys, "resume", str(run_copy), "--epochs", "4")
    assert status == 0, err
    assert not (run_copy / ".last.ckpt.x1y2.tmp").exists()
    extended = rows(run_copy)
    assert [r["epoch"] for r in extended] == ["1", "2", "3", "4"]
    assert "epochs = 4" in (run_copy / "config.toml").read_text()
    # the rates of epochs 3 and 4 are those of a run planned for 4 epochs
    # (before, the old cosine climbed back up past its end)
    (tmp_path / "fresh").mkdir()
    status, _, err, (fresh,) = train(tmp_path / "fresh", capsys, CONFIG.replace("epochs = 2", "epochs = 4"))
    assert status == 0, err
    planned = [float(r["lr"]) for r in rows(fresh)]
    assert [float(r["lr"]) for r in extended[2:]] == pytest.approx(planned[2:], rel=1e-12, abs=1e-15)
    assert float(extended[-1]["lr"]) == pytest.approx(0.0, abs=1e-12)
    status, _, err = run_main(capsys, "resume", str(run_copy), "--epochs", "3")
    assert status == 2 and "already trained 4 epochs" in one_line(err)


def test_checkpoint_holds_the_config(finished):
    state = checkpoint.read_checkpoint(finished / "last.ckpt")
    assert state["config"]["epochs"] == 2 and state["config"]["model"]["channels"] == [8]


# ----------------------------------------------------------- run folders
def test_run_folders_are_created_atomically(tmp_path):
    made, errors = [], []

    def make():
        try:
            made.append(run.new_run_dir(tmp_path / "runs"))
        except Exception as error:  # noqa: BLE001 - the test records any failure
            errors.append(error)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(made)) == 8 and all(p.is_dir() for p in made)


def test_stale_temporaries_are_removed(tmp_path):
    (tmp_path / ".last.ckpt.abc.tmp").write_bytes(b"x")
    (tmp_path / "last.ckpt").write_bytes(b"keep")
    removed = checkpoint.remove_stale_temporaries(tmp_path)
    assert [p.name for p in removed] == [".last.ckpt.abc.tmp"]
    assert (tmp_path / "last.ckpt").read_bytes() == b"keep"


def test_warning_free_load_of_new_files(tmp_path):
    gradlab.save(nn.Linear(2, 2).state_dict(), tmp_path / "m.st")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gio.load(tmp_path / "m.st")
