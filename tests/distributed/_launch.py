"""Running a program of this folder under ``mpiexec -n N``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"


def mpiexec() -> str:
    here = Path(sys.executable).parent / "mpiexec"
    found = str(here) if here.exists() else shutil.which("mpiexec")
    if found is None:  # the test extra installs mpich: its absence is a broken install
        pytest.fail("mpiexec not found: install the test extra (pip install -e '.[test]')")
    return found


def run(n: int, program: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``mpiexec -n n python program args`` with this checkout's gradlab."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    proc = subprocess.Popen([mpiexec(), "-n", str(n), sys.executable, str(HERE / program), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:  # a hung job must not outlive the test: its ranks spin in MPI
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
