"""Issue 22: SIGTERM is Ctrl-C (checkpoint at the end of the batch, exit
143, the resume hint), a second Ctrl-C and a closed output pipe end
without a traceback (the gradlab command in a subprocess)."""

import os
import signal
import subprocess
import sys

CONFIG = """
epochs = 3
batch_size = 16
[model]
channels = [8]
hidden = [16]
"""


def start(tmp_path, stderr=subprocess.PIPE):
    (tmp_path / "c.toml").write_text(CONFIG)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "gradlab.cli", "train", "--config", str(tmp_path / "c.toml"),
         "--output", str(tmp_path / "runs")],
        stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
    )


def wait_for_epoch_one(proc):
    for line in proc.stdout:
        if line.startswith("epoch 1/3"):
            return
    raise AssertionError("the run printed no epoch line")


def test_sigterm_checkpoints_and_exits_143(tmp_path):
    proc = start(tmp_path)
    wait_for_epoch_one(proc)
    proc.send_signal(signal.SIGTERM)  # somewhere in epoch 2
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err  # was -15: killed, nothing saved since epoch 1
    assert "Traceback" not in err
    (run_dir,) = (tmp_path / "runs").iterdir()
    last = err.strip().splitlines()[-1]
    assert last.startswith("gradlab train: interrupted (SIGTERM)")
    assert f"gradlab resume {run_dir}" in last
    from gradlab.train.checkpoint import read_checkpoint

    progress = read_checkpoint(run_dir / "last.ckpt")["progress"]
    # saved at the end of a batch of epoch 2 (or at the end of epoch 1, if the
    # signal came while that epoch was closing)
    assert progress["epoch"] == 1


def test_double_ctrl_c_has_no_traceback(tmp_path):
    proc = start(tmp_path)
    wait_for_epoch_one(proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1].startswith("gradlab train: ")


def test_closed_pipe_ends_quietly(tmp_path):
    proc = start(tmp_path)
    proc.stdout.readline()  # what `| head -1` reads, then it exits
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=300)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141
