"""Threads (issue 19): does a small network train at least as fast with 2
threads as with 1, now that Numba's kernels and the BLAS share one thread
count (``gradlab.set_num_threads``)?

Each side is a gradlab worker process (the harness's alternating rounds);
one runs on 1 thread, the other on ``--threads`` (default 2), both pools
set by ``gradlab.set_num_threads`` from ``OMP_NUM_THREADS``. The ratio is
(N threads) / (1 thread): above 1.0 the extra threads cost time, the sign of
two pools spinning against each other.

It also measures what each pool burns while idle: CPU seconds used in the
0.3 s after a call, while the main thread sleeps (Numba's OpenMP workers and
OpenBLAS's keep spinning for a while after a call; a pool that spins long
takes the cores the other pool needs next). CPU time, unlike wall time,
hardly depends on how busy a shared machine is.

    python benchmarks/bench_threads.py [--threads N] [--repeat R]
"""
# ruff: noqa: I001 - _harness must be imported before numpy

from __future__ import annotations

import _harness  # must come first: it pins the thread counts before numpy loads
import resource
import time

import numpy as np

import gradlab
from gradlab.kernels.clip import scale_


def _step(model, optimizer, x, y):
    x, y = gradlab.tensor(x), gradlab.tensor(y)
    loss_fn = gradlab.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def small_cnn():
    """The default ``gradlab train`` network on 8x8 digits, batch 32, AdamW."""
    n = gradlab.nn
    rng = np.random.default_rng(0)
    model = n.Sequential(n.Conv2d(1, 32, 3, padding=1, bias=False), n.BatchNorm2d(32), n.ReLU(),
                         n.MaxPool2d(2), n.Conv2d(32, 64, 3, padding=1, bias=False),
                         n.BatchNorm2d(64), n.ReLU(), n.MaxPool2d(2), n.Flatten(), n.Dropout(0.3),
                         n.Linear(256, 128, bias=False), n.BatchNorm1d(128), n.ReLU(),
                         n.Dropout(0.3), n.Linear(128, 10))
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    return _step(model, gradlab.optim.AdamW(model.parameters(), lr=3e-3), x,
                 rng.integers(0, 10, 32))


def small_mlp():
    """MLP 64-256-256-10 on digits-size inputs, batch 64, SGD with momentum."""
    n = gradlab.nn
    rng = np.random.default_rng(0)
    model = n.Sequential(n.Linear(64, 256), n.ReLU(), n.Linear(256, 256), n.ReLU(),
                         n.Linear(256, 10))
    x = rng.standard_normal((64, 64)).astype(np.float32)
    return _step(model, gradlab.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), x,
                 rng.integers(0, 10, 64))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def idle_spin() -> list[tuple[str, float]]:
    """CPU seconds the process burns in the 0.3 s after a Numba kernel and
    after a matrix product (the least of three tries each)."""
    x = np.ones(1 << 18, dtype=np.float32)
    a = np.ones((256, 256), dtype=np.float32)
    results = []
    for name, call in (("after a Numba kernel", lambda: scale_(x, 1.0)),
                       ("after a BLAS product", lambda: a @ a)):
        call()
        burnt = []
        for _ in range(3):
            call()
            start = _cpu_seconds()
            time.sleep(0.3)
            burnt.append(_cpu_seconds() - start)
        results.append((name, min(burnt)))
    return results


def main() -> bool:
    many = _harness.THREADS
    same = {"GRADLAB_RETAIN_FREED_MEMORY": "1"}
    cases = [(f"default train network (digits CNN + BN, AdamW), {many} vs 1 thread",
              small_cnn, small_cnn, 1.0),
             (f"MLP 64-256-256-10, SGD momentum, {many} vs 1 thread", small_mlp, small_mlp, 1.0)]
    timings = _harness.measure(cases, worker_env=(dict(same, BENCH_THREADS=str(many)),
                                                  dict(same, BENCH_THREADS="1")))
    print(f"\n### one training step, gradlab on {many} threads against gradlab on 1 "
          f"(best of {_harness.ARGS.repeat} alternating rounds)\n")
    print(f"| case | {many} threads | 1 thread | ratio | target | ok |")
    print("|---|---:|---:|---:|---:|:-:|")
    ok = True
    for (name, _, _, target), t in zip(cases, timings):
        ratio = t.ours / t.theirs
        ok &= ratio <= target
        print(f"| {name} | {t.ours * 1e3:.2f} ms | {t.theirs * 1e3:.2f} ms | {ratio:.2f}x | "
              f"<= {target}x | {'yes' if ratio <= target else 'NO'} |")
    gradlab.set_num_threads(many)
    print(f"\nCPU seconds burnt by idle pools in 0.3 s ({many} threads): "
          + ", ".join(f"{name}: {seconds:.3f} s" for name, seconds in idle_spin()))
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
