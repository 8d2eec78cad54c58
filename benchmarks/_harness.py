"""Shared timing harness for the side-by-side benchmarks.

Import this module *first* in a benchmark: it pins the thread count of every
BLAS/OpenMP pool (NumPy's OpenBLAS and PyTorch's) to the same number before
either library loads, so the two frameworks run on equal terms.

    python benchmarks/bench_engine.py [--threads N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

_parser = argparse.ArgumentParser(add_help=False)
_parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
_parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "7")))
ARGS, _ = _parser.parse_known_args()
THREADS = ARGS.threads
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

import torch  # noqa: E402

torch.set_num_threads(THREADS)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))


def timeit(fn: Callable[[], object], *, min_time: float = 0.2, repeat: int | None = None,
           warmup: int = 3) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` rounds, each round
    running ``fn`` enough times to last about ``min_time`` seconds."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(min_time / once))
    rounds = []
    for _ in range(repeat or ARGS.repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds:9.2f} s "


def report(title: str, rows: list[tuple[str, float, float, float | None]]) -> bool:
    """Print a Markdown table of (case, gradlab s, torch s, target ratio) and
    return whether every case with a target meets it."""
    print(f"\n### {title}  (threads={THREADS}, median of {ARGS.repeat})\n")
    print("| case | gradlab | PyTorch | ratio | target | ok |")
    print("|---|---:|---:|---:|---:|:-:|")
    ok = True
    for case, ours, theirs, target in rows:
        ratio = ours / theirs
        met = target is None or ratio <= target
        ok &= met
        print(f"| {case} | {_fmt(ours)} | {_fmt(theirs)} | {ratio:.2f}x | "
              f"{'' if target is None else f'<= {target}x'} | {'yes' if met else 'NO'} |")
    return ok
