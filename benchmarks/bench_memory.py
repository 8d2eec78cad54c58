"""Does keeping freed memory mapped (``gradlab.memory``, glibc's mallopt)
still pay now that the hot loops are kernels (issue 19)?

Both sides are gradlab, in their own worker processes with alternating
rounds (``_harness``): one with the setting (``GRADLAB_RETAIN_FREED_MEMORY=1``,
gradlab's default), one without (glibc's own policy). The ratio is
with / without: below 1.0 the setting saves time.

Wall time on a shared machine is noisy, so it also reports what the setting
is about and what load hardly changes: the page faults and the CPU seconds
(user + system, one thread) per step, each setting in fresh processes,
alternating, the least of three.

    python benchmarks/bench_memory.py [--threads N] [--repeat R] [--cpu-only]
"""
# ruff: noqa: I001 - _harness must be imported before numpy

from __future__ import annotations

import _harness  # must come first: it pins the thread counts before numpy loads
import argparse
import json
import os
import resource
import subprocess
import sys

import gradlab
from bench_steps import cifar_cnn, cnn, mlp, wide_mlp

CASES = {"mlp": ("MLP 784-512-512-10, batch 128, SGD momentum", mlp),
         "cnn": ("CNN 2 conv + 2 maxpool, 1x28x28, batch 64", cnn),
         "cifar": ("CIFAR CNN 5 conv-BN-ReLU, batch 64", cifar_cnn),
         "wide": ("wide MLP 784-2048-2048-10, dropout, Adam", wide_mlp)}

_parser = argparse.ArgumentParser()
_parser.add_argument("--cpu-only", action="store_true", help="only the page-fault / CPU table")
_parser.add_argument("--probe", help=argparse.SUPPRESS)
ARGS, _ = _parser.parse_known_args()


def probe(key: str, steps: int = 10) -> None:
    """In a fresh process: page faults and CPU seconds per step of one case."""
    step = CASES[key][1](gradlab)
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(steps):
        step()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(json.dumps([(after.ru_minflt - before.ru_minflt) / steps, cpu / steps]))


def cpu_table() -> None:
    rows = []
    for key, (name, _) in CASES.items():
        best = {"1": [float("inf")] * 2, "0": [float("inf")] * 2}
        for _ in range(3):
            for retain in ("1", "0"):
                env = dict(os.environ, GRADLAB_RETAIN_FREED_MEMORY=retain)
                out = subprocess.run([sys.executable, __file__, "--threads", "1", "--probe", key],
                                     env=env, capture_output=True, text=True, check=True)
                faults, cpu = json.loads(out.stdout.strip().splitlines()[-1])
                best[retain] = [min(a, b) for a, b in zip(best[retain], (faults, cpu))]
        rows.append((name, best["1"], best["0"]))
    print("\n### page faults and CPU seconds per training step, 1 thread (least of 3 fresh "
          "processes)\n")
    print("| case | faults retained | faults glibc | CPU retained | CPU glibc | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (f1, c1), (f0, c0) in rows:
        print(f"| {name} | {f1:.0f} | {f0:.0f} | {c1 * 1e3:.1f} ms | {c0 * 1e3:.1f} ms | "
              f"{c1 / c0:.2f}x |")


def main() -> bool:
    if ARGS.probe:
        probe(ARGS.probe)
        return True
    if os.environ.get("GRADLAB_BENCH_ROLE") is None:  # the coordinator, not a timing worker
        cpu_table()
    if ARGS.cpu_only:
        return True
    cases = [(name, lambda f=f: f(gradlab), lambda f=f: f(gradlab), None)
             for name, f in CASES.values()]
    timings = _harness.measure(cases, worker_env=({"GRADLAB_RETAIN_FREED_MEMORY": "1"},
                                                  {"GRADLAB_RETAIN_FREED_MEMORY": "0"}))
    print(f"\n### full training step, gradlab with and without retained freed memory "
          f"(threads={_harness.THREADS}, best of {_harness.ARGS.repeat} alternating rounds)\n")
    print("| case | retained | glibc default | ratio |")
    print("|---|---:|---:|---:|")
    for (name, *_), t in zip(cases, timings):
        print(f"| {name} | {t.ours * 1e3:.2f} ms | {t.theirs * 1e3:.2f} ms | {t.ours / t.theirs:.2f}x |")
    return True


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
