"""Where a kernel's parallel compilation starts to pay.

1. Alone: the serial and the parallel loop of three kernels (an SGD step
   and a ReLU, bound by memory traffic; an Adam step, with a square root and
   a division per element, in float32 arithmetic) on float32 arrays of 2^16
   to 2^22 elements. A parallel loop wakes Numba's sleeping workers first;
   on this project's 2-core virtual machines that costs 120-170 us, and all
   three cross between 2^19 and 2^20 elements.
2. In a training step: whole steps of networks from ``bench_steps.py``
   with every kernel call on its serial compilation, on its parallel one,
   and as ``gradlab.kernels._jit`` chooses (``PARALLEL_MIN_ELEMENTS``).
   Here the BLAS's workers spin for about 0.1 s after each matrix product
   (``bench_threads.py`` counts their CPU time) and hold the other cores, so
   a parallel kernel shares them; this, not the kernels alone, sets the
   threshold (2^22: above the CNNs' activations, below the im2col columns
   of their wide layers and large optimizer states).

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
    if kernel is sgd_kernel:  # lr, momentum, 1 - dampening, weight decay
        return p, g, m, *_jit.scalars_like(p, 1e-3, 0.9, 1.0, 0.0), False, False, False
    if kernel is adam_kernel:  # beta1, 1 - beta1, beta2, 1 - beta2, eps, decay, 1 - lr decay
        return (p, g, m, v, None, *_jit.scalars_like(p, 0.9, 0.1, 0.999, 0.001, 1e-8, 0.0, 1.0),
                False, False, *_jit.scalars_like(p, 1e-3, 0.5))
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
    print(f"\nthreshold: PARALLEL_MIN_ELEMENTS = {_jit.PARALLEL_MIN_ELEMENTS:,}")
    _in_a_step()


def _in_a_step() -> None:
    import gradlab
    from bench_steps import cifar_cnn, cnn, wide_mlp

    print(f"\n### whole training steps by compilation (threads={_harness.THREADS}, "
          f"best of {_harness.ARGS.repeat} alternating rounds)\n")
    print("| network | all serial | all parallel | by size (chosen) |")
    print("|---|---:|---:|---:|")
    modes = ("serial", "parallel", None)
    for name, make in (("CIFAR-size CNN + BN", cifar_cnn), ("small CNN", cnn), ("wide MLP + Adam", wide_mlp)):
        step = make(gradlab)
        best = dict.fromkeys(modes, float("inf"))
        try:
            for _ in range(_harness.ARGS.repeat):
                for mode in modes:
                    _jit._forced = mode
                    best[mode] = min(best[mode], timeit(step, min_time=0.05, repeat=1, warmup=1))
        finally:
            _jit._forced = None
        print(f"| {name} | " + " | ".join(f"{best[m] * 1e3:.1f} ms" for m in modes) + " |")


if __name__ == "__main__":
    main()
