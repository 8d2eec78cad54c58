"""Does keeping freed memory mapped (``gradlab.memory``, glibc's mallopt)
still pay now that the hot loops are kernels (issue 19)?

Both sides are gradlab, in their own worker processes with alternating
rounds (``_harness``): one with the setting (``GRADLAB_RETAIN_FREED_MEMORY=1``,
gradlab's default), one without (glibc's own policy). The ratio is
with / without: below 1.0 the setting saves time.

    python benchmarks/bench_memory.py [--threads N] [--repeat R]
"""
# ruff: noqa: I001 - _harness must be imported before numpy

from __future__ import annotations

import _harness  # must come first: it pins the thread counts before numpy loads

import gradlab
from bench_steps import cifar_cnn, cnn, mlp, wide_mlp


def main() -> bool:
    cases = [(name, lambda f=f: f(gradlab), lambda f=f: f(gradlab), None) for name, f in (
        ("MLP 784-512-512-10, batch 128, SGD momentum", mlp),
        ("CNN 2 conv + 2 maxpool, 1x28x28, batch 64", cnn),
        ("CIFAR CNN 5 conv-BN-ReLU, batch 64", cifar_cnn),
        ("wide MLP 784-2048-2048-10, dropout, Adam", wide_mlp),
    )]
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
