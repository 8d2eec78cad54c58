"""How many threads gradlab computes with: one setting for both pools.

Two libraries run gradlab's arithmetic on several cores: the BLAS under
NumPy (matrix products) and Numba (the compiled loops of
:mod:`gradlab.kernels`). Each has its own pool of worker threads. The rule
is one number for both, ``gradlab.set_num_threads(n)`` (PyTorch's name),
which sets Numba's count (``numba.set_num_threads``) and every BLAS pool's
(through threadpoolctl). It defaults, at import, to ``OMP_NUM_THREADS`` when
that is set (as PyTorch's default does) and otherwise to the cores this
process may run on (``os.sched_getaffinity``).

Numba's pool is its ``workqueue`` threading layer (unless
``NUMBA_THREADING_LAYER`` names another): its workers sleep between
kernels. Under the ``omp`` layer, GNU OpenMP's workers spin for a while
after each kernel, and on two cores they took the cores that OpenBLAS's
workers needed next: a training step of a 784-512-512-10 MLP took 65 ms
instead of 4.5 ms, an LSTM step 366 ms instead of 14 ms
(``benchmarks/bench_steps.py``, 2 threads). The workqueue layer must not
run kernels from two Python threads at once; gradlab's training loop runs
them from one.

Numba cannot run more threads than it started with (``NUMBA_NUM_THREADS``,
by default the cores available): a larger count is given to the BLAS in
full and to Numba up to that limit. As in Numba, the count of the compiled
loops holds for the thread that set it (the main thread, usually).
"""

from __future__ import annotations

import os

import numba
from threadpoolctl import threadpool_limits

if "NUMBA_THREADING_LAYER" not in os.environ:  # before the first parallel kernel starts a pool
    numba.config.THREADING_LAYER = "workqueue"

__all__ = ["get_num_threads", "set_num_threads"]

_num_threads = 1


def cores_available() -> int:
    """The number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_num_threads() -> int:
    """``OMP_NUM_THREADS`` if it holds a positive integer, else the cores
    available."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return cores_available()


def set_num_threads(n: int) -> None:
    """Compute with ``n`` threads: Numba's compiled loops (up to the
    ``NUMBA_NUM_THREADS`` it started with) and the BLAS's matrix products.

    Example:
        >>> gradlab.set_num_threads(1)   # e.g. one process per core
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    threadpool_limits(limits=n, user_api="blas")
    _num_threads = n


def get_num_threads() -> int:
    """The thread count set by :func:`set_num_threads` (or at import, the
    default)."""
    return _num_threads


set_num_threads(default_num_threads())  # the default, for both pools at once
