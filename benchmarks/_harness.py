"""Shared timing harness for the side-by-side benchmarks.

Import this module *first* in a benchmark: it pins the thread count of every
BLAS/OpenMP pool (NumPy's OpenBLAS and PyTorch's) to the same number before
either library loads, so the two frameworks run on equal terms.

gradlab and PyTorch run in two worker processes, and their timing rounds
alternate: gradlab, PyTorch, PyTorch, gradlab, ... with a pause between
rounds for the previous round's worker threads to go idle. Two things make
this necessary:

* Loading PyTorch into a process slows NumPy's OpenBLAS there by 1.3-1.5x on
  this project's machines, even if no torch function is ever called (a known
  interaction, pytorch/pytorch#158005). gradlab's users do not have torch
  loaded, so gradlab's worker never imports it; benchmarks reach torch only
  through :func:`torch`, inside their PyTorch cases.
* The machines are virtual and shared, and their speed drifts by 30% or
  more over tens of seconds. Timing all of one side and then all of the
  other (as this harness once did) let that drift into the ratio: the same
  code measured 0.99x and 1.41x in consecutive runs. Alternating rounds
  exposes both sides to the same drift, and each side's best round is its
  least disturbed measurement.

gradlab, on import, keeps freed array memory mapped for reuse
(:mod:`gradlab.memory`). The PyTorch worker imports gradlab as well, but
runs with glibc's default allocator policy, as a PyTorch user does;
``BENCH_TORCH_RETAIN=1`` gives it gradlab's setting instead, to see what the
same setting would do for PyTorch.

    python benchmarks/bench_engine.py [--threads N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NoReturn

_parser = argparse.ArgumentParser(add_help=False)
_parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
# (a worker process takes its count from BENCH_THREADS, which its coordinator sets)
_parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "15")))
ARGS, _ = _parser.parse_known_args()
THREADS = ARGS.threads
if os.environ.get("GRADLAB_BENCH_ROLE") is not None and "BENCH_THREADS" in os.environ:
    THREADS = int(os.environ["BENCH_THREADS"])
os.environ["BENCH_THREADS"] = str(THREADS)
# gradlab.set_num_threads's default follows OMP_NUM_THREADS (Numba and BLAS)
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

# seconds between rounds, for the last round's worker threads to stop spinning
SETTLE = float(os.environ.get("BENCH_SETTLE", "0.3"))


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


Case = tuple[str, Callable[[], Callable[[], object]], Callable[[], Callable[[], object]], "float | None"]
"""``(name, make_gradlab_step, make_torch_step, target_ratio)``: each factory
builds its side's data and model and returns the function to time."""

_ROLE = os.environ.get("GRADLAB_BENCH_ROLE")  # "gradlab" or "torch" in a worker process
_SIDES = ("gradlab", "torch")


@dataclass
class Timing:
    """Seconds per call of each side (its best round), and what each side's
    function returned in its last round (a number or tuple, or None)."""

    ours: float
    theirs: float
    ours_value: object = None
    theirs_value: object = None


def measure(cases: list[Case], *, min_time: float = 0.1, warmup: int = 3,
            repeat: int | None = None,
            worker_env: tuple[dict[str, str], dict[str, str]] | None = None) -> list[Timing]:
    """Time every case's two steps in alternating rounds, each side in its
    own worker process (see the module docstring); ``repeat`` rounds per
    side, each calling the step often enough to last ``min_time`` seconds
    (at least once). ``worker_env`` adds environment variables to each
    side's worker (to compare two settings of gradlab against each other,
    e.g. ``BENCH_THREADS``). In a worker process this serves the
    coordinator and exits instead of returning."""
    if _ROLE is not None:
        _serve(cases, _SIDES.index(_ROLE), min_time=min_time, warmup=warmup)
    repeat = repeat or ARGS.repeat
    workers = [_Worker(side, extra) for side, extra in zip(_SIDES, worker_env or ({}, {}))]
    try:
        timings = []
        for i in range(len(cases)):
            numbers = [w.ask("prepare", i) for w in workers]
            best = [float("inf"), float("inf")]
            values: list[object] = [None, None]
            for r in range(repeat):
                for side in ((0, 1) if r % 2 == 0 else (1, 0)):
                    seconds, values[side] = workers[side].ask("round", i, numbers[side])
                    best[side] = min(best[side], seconds)
                    time.sleep(SETTLE)
            timings.append(Timing(best[0], best[1], values[0], values[1]))
        return timings
    finally:
        for w in workers:
            w.close()


def run_cases(title: str, cases: list[Case]) -> bool:
    """Time the cases (:func:`measure`), print the table and return whether
    every target is met."""
    timings = measure(cases)
    rows = [(name, t.ours, t.theirs, target) for (name, _, _, target), t in zip(cases, timings)]
    return report(title, rows)


class _Worker:
    """This benchmark script re-run as one side's worker, spoken to with one
    JSON line per request and per answer."""

    def __init__(self, side: str, extra_env: dict[str, str]):
        env = dict(os.environ, GRADLAB_BENCH_ROLE=side)
        if side == "torch":
            # The PyTorch side imports gradlab too (the benchmark module does),
            # which would hand it gradlab's allocator setting; a PyTorch user
            # runs with glibc's defaults (see gradlab.memory).
            env["GRADLAB_RETAIN_FREED_MEMORY"] = os.environ.get("BENCH_TORCH_RETAIN", "0")
        env.update(extra_env)
        self.side = side
        self.proc = subprocess.Popen([sys.executable, *sys.argv], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(self, *request: object) -> Any:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.side} worker exited (code {self.proc.wait()}); "
                               "its error is printed above")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


def _serve(cases: list[Case], side: int, *, min_time: float, warmup: int) -> NoReturn:
    """A worker's loop: build and calibrate a case's step (``prepare``), time
    one round of it (``round``), until the coordinator closes the pipe.
    Anything the steps print goes to stderr; stdout carries the answers."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr
    step, built = None, None
    for line in sys.stdin:
        command, i, *rest = json.loads(line)
        if built != i:
            step = None  # the previous case's model and data go before the next is built
            step, built = cases[i][1 + side](), i
        if command == "prepare":
            for _ in range(warmup):
                step()
            answer: object = 1
            if min_time > 0:
                start = time.perf_counter()
                step()
                answer = max(1, int(min_time / max(time.perf_counter() - start, 1e-7)))
        else:
            start = time.perf_counter()
            for _ in range(rest[0]):
                value = step()
            answer = [(time.perf_counter() - start) / rest[0], _plain(value)]
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    sys.exit(0)


def _plain(value: object) -> object:
    """A step's return value if it is a number or a tuple of numbers (sent
    back to the coordinator), else None."""
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, tuple) and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    return None


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
        # a row without a target is context, not a pass: its ok column stays empty
        verdict = "" if target is None else ("yes" if met else "NO")
        print(f"| {case} | {_fmt(ours)} | {_fmt(theirs)} | {ratio:.2f}x | "
              f"{'' if target is None else f'<= {target}x'} | {verdict} |")
    return ok
