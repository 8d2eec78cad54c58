"""The Trainer and ``gradlab train`` under mpiexec (issue 21): the same
training as one process, metrics of the global batch, one writer, resume
on another number of processes."""

import json
import os
import subprocess
import sys

import _trainer_case
import numpy as np
import pytest
from _launch import SRC, run


@pytest.fixture(scope="module")
def single():
    trainer = _trainer_case.build(sync=False)
    train, val = _trainer_case.loaders()
    history = trainer.fit(train, val, epochs=2)
    return _trainer_case.state(trainer), {k: list(history[k]) for k in ("loss", "accuracy", "val_loss")}


def _check(out, single_state, single_history=None):
    got = np.load(str(out) + ".npz")
    for name, value in single_state.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-11, atol=1e-12, err_msg=name)
    if single_history is not None:
        history = json.loads(open(str(out) + ".json").read())
        for key, values in single_history.items():
            np.testing.assert_allclose(history[key], values, rtol=1e-11, err_msg=key)


def test_trainer_on_two_processes_equals_one_with_unequal_shares(tmp_path, single):
    done = run(2, "mpi_trainer.py", str(tmp_path / "two"), "2")
    assert done.returncode == 0, done.stderr[-3000:]
    _check(tmp_path / "two", *single)


def test_a_distributed_run_resumes_on_another_number_of_processes(tmp_path, single):
    done = run(3, "mpi_trainer.py", str(tmp_path / "first"), "1")  # shares of 3, 3, 3
    assert done.returncode == 0, done.stderr[-3000:]
    done = run(2, "mpi_trainer.py", str(tmp_path / "second"), "2", str(tmp_path / "first.ckpt"))
    assert done.returncode == 0, done.stderr[-3000:]
    _check(tmp_path / "second", single[0])


def test_gradlab_train_processes_prints_and_writes_once(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "gradlab.cli", "train", "--processes", "2", "--epochs", "1",
                           "--output", str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test accuracy:") == 1 and done.stdout.count("epoch 1/1") == 1
    (run_dir,) = tmp_path.iterdir()
    assert (run_dir / "last.ckpt").is_file() and (run_dir / "metrics.csv").is_file()
    bad = subprocess.run([sys.executable, "-m", "gradlab.cli", "train", "--processes", "0"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "--processes: expected an integer >= 1, got 0" in bad.stderr


def test_ctrl_c_stops_every_rank_at_one_batch_and_the_run_resumes_alone(tmp_path):
    import signal
    import time

    # unbuffered: the test must see "epoch 1/4" when rank 0 prints it, not when the run ends
    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    # 40 epochs, no early stop: an epoch takes a fraction of a second, and the Ctrl-C sent
    # after epoch 1 must reach the ranks while they still train (with 4 it could come late)
    command = ["train", "--processes", "2", "--epochs", "40", "--patience", "0", "--output",
               str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "gradlab.cli", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    launcher = None
    try:
        for line in proc.stdout:  # wait for the first epoch: training is under way
            if line.startswith("epoch 1/40"):
                launcher = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
                for pid in launcher.stdout.split():
                    os.kill(int(pid), signal.SIGINT)  # mpiexec hands Ctrl-C to every rank
                break
        out, err = proc.communicate(timeout=120)
    finally:  # a hung run must not outlive the test: its ranks spin in MPI
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert launcher is not None and proc.returncode == 130, err[-3000:]
    assert err.count("interrupted (SIGINT)") == 1 and "epoch 40/40" not in out
    (run_dir,) = tmp_path.iterdir()
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "gradlab.cli", "resume", str(run_dir)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epoch 40/40" in done.stdout and "test accuracy:" in done.stdout
    assert time.monotonic() - started < 300


def test_a_ctrl_c_during_the_ranks_allreduce_is_not_lost():
    # The flag was reduced before the signal came: overwriting it with the
    # reduced value dropped the Ctrl-C and the run trained to its end.
    import re

    done = run(2, "mpi_interrupt.py")
    assert done.returncode == 0, done.stderr[-3000:]
    # mpiexec merges the ranks' output: their lines may run into each other
    said = sorted(re.findall(r"rank (\d) (interrupted|finished) at step (\d+)", done.stdout))
    assert said == [("0", "interrupted", "3"), ("1", "interrupted", "3")], done.stdout
