"""Where a kernel's parallel compilation starts to pay: the serial and the
parallel loop of three kernels (an SGD step and a ReLU, bound by memory
traffic; an Adam step, with a square root and a division per element) on
float32 arrays of 2^16 to 2^22 elements, each timed alone.

A parallel loop wakes Numba's sleeping workers first; on this project's
2-core virtual machines that costs 120-170 us, so the parallel loop wins
only on large arrays. ``gradlab.kernels._jit`` takes the sizes from here:
``PARALLEL_MIN_ELEMENTS`` (2^20) for memory-bound kernels, ``COMPUTE_BOUND``
(2^18) for the optimizer kernels with a square root.

    python benchmarks/bench_kernels.py [--threads N] [--repeat R]
"""

import _harness  # noqa: I001 - must come first: pins thread counts
from _harness import timeit

import numpy as np

from gradlab.kernels import _jit
from gradlab.kernels.activation import relu_forward_kernel
from gradlab.kernels.optim_adam import adam_kernel
from gradlab.kernels.optim_sgd import sgd_kernel


def _arguments(kernel, n: int) -> tuple:
    p, g, m, v = (np.full(n, 0.5, dtype=np.float32) for _ in range(4))
    if kernel is sgd_kernel:
        return p, g, m, 1e-3, 0.9, 0.0, 0.0, False, False, False
    if kernel is adam_kernel:
        return p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, 1e-3, 0.5
    return p, g


def main() -> None:
    kernels = {"SGD momentum": sgd_kernel, "Adam": adam_kernel, "ReLU forward": relu_forward_kernel}
    print(f"\n### serial against parallel compilation, float32 (threads={_harness.THREADS}, "
          f"best of {_harness.ARGS.repeat} rounds)\n")
    print("| kernel | elements | serial | parallel | parallel / serial | chosen |")
    print("|---|---:|---:|---:|---:|:-:|")
    for name, kernel in kernels.items():
        for n in (1 << 16, 1 << 18, 1 << 19, 1 << 20, 1 << 22):
            args = _arguments(kernel, n)
            serial, parallel = (timeit(lambda f=f, a=args: f(*a), min_time=0.05)
                                for f in (kernel.serial, kernel.parallel))
            chosen = "parallel" if n >= kernel.parallel_from and _harness.THREADS > 1 else "serial"
            print(f"| {name} | {n:,} | {serial * 1e6:.0f} us | {parallel * 1e6:.0f} us | "
                  f"{parallel / serial:.2f} | {chosen} |")
    print(f"\nthresholds: PARALLEL_MIN_ELEMENTS = {_jit.PARALLEL_MIN_ELEMENTS:,}, "
          f"COMPUTE_BOUND = {_jit.COMPUTE_BOUND:,}")


if __name__ == "__main__":
    main()
