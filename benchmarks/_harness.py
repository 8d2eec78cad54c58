"""Shared timing harness for the side-by-side benchmarks.

Import this module *first* in a benchmark: it pins the thread count of every
BLAS/OpenMP pool (NumPy's OpenBLAS and PyTorch's) to the same number before
either library loads, so the two frameworks run on equal terms.

gradlab and PyTorch are timed in one process, in two phases: every gradlab
case first, then PyTorch is imported and every PyTorch case runs. The order
matters. Loading PyTorch into a process slows NumPy's OpenBLAS there by
1.3-1.5x on this project's machines, even if no torch function is ever
called (measured in one process before and after ``import torch``; a known
interaction, pytorch/pytorch#158005). gradlab's users do not have torch
loaded, and PyTorch always runs with NumPy loaded, so each framework is
measured as its users run it. Benchmarks must therefore reach torch only
through :func:`torch`, inside their PyTorch cases.

    python benchmarks/bench_engine.py [--threads N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from types import ModuleType

_parser = argparse.ArgumentParser(add_help=False)
_parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
_parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "15")))
ARGS, _ = _parser.parse_known_args()
THREADS = ARGS.threads
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

SETTLE = 0.3  # seconds for the other library's worker threads to stop spinning


def torch() -> ModuleType:
    """PyTorch, imported on first use with the benchmark's thread count."""
    import torch as _torch

    _torch.set_num_threads(THREADS)
    return _torch


def timeit(fn: Callable[[], object], *, min_time: float = 0.1, repeat: int | None = None,
           warmup: int = 3) -> float:
    """Seconds per call of ``fn``: the best of ``repeat`` rounds, each round
    running ``fn`` enough times to last about ``min_time`` seconds.

    The machines this runs on are virtual and shared, and their speed drifts
    from second to second; noise only ever adds time, so the best round is
    the least disturbed measurement of the code itself.
    """
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    number = max(1, int(min_time / max(time.perf_counter() - start, 1e-7)))
    best = float("inf")
    for _ in range(repeat or ARGS.repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _settle() -> None:
    # Let the worker threads of the phase before stop spinning (OpenBLAS
    # spins for about 2^28 cycles after a call). A busy wait, not a sleep:
    # an idle core would be clocked down and the next phase would pay for it.
    end = time.perf_counter() + SETTLE
    while time.perf_counter() < end:
        pass


Case = tuple[str, Callable[[], Callable[[], object]], Callable[[], Callable[[], object]], "float | None"]


def run_cases(title: str, cases: list[Case]) -> bool:
    """Time each case's gradlab step (built by its first factory) for every
    case, then its PyTorch step (second factory) for every case, print the
    table and return whether every target is met.

    A case is ``(name, make_gradlab_step, make_torch_step, target_ratio)``;
    the factories build the data and model and return the function to time.
    """
    ours = [timeit(make_ours()) for _, make_ours, _, _ in cases]
    _settle()
    theirs = [timeit(make_theirs()) for _, _, make_theirs, _ in cases]
    rows = [(name, a, b, target) for (name, _, _, target), a, b in zip(cases, ours, theirs)]
    return report(title, rows)


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds:9.2f} s "


def report(title: str, rows: list[tuple[str, float, float, float | None]],
           how: str | None = None) -> bool:
    """Print a Markdown table of (case, gradlab s, torch s, target ratio) and
    return whether every case with a target meets it; ``how`` says how the
    times were taken (default: best of the harness's rounds)."""
    print(f"\n### {title}  (threads={THREADS}, {how or f'best of {ARGS.repeat} rounds'})\n")
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
