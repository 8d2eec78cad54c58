"""Engine benchmark: gradlab vs PyTorch on the same machine and threads.

(a) framework overhead: forward + backward of one small elementwise op,
    y = a * b on 16 elements, y.backward(g). Target: within 2x of PyTorch.
(b) one training step of an MLP 784-512-512-10 with ReLU, batch 128,
    float32, cross-entropy and plain SGD, written with raw tensor ops.
    Target: within 1.1x of PyTorch.

    python benchmarks/bench_engine.py [--threads 2] [--repeat 7]
"""

from __future__ import annotations  # noqa: I001 - _harness must be imported before numpy

import _harness  # must come first: it pins the thread counts
import numpy as np

import gradlab


def small_op(lib, tensor):
    a = tensor(np.random.default_rng(0).standard_normal(16).astype(np.float32), requires_grad=True)
    b = tensor(np.random.default_rng(1).standard_normal(16).astype(np.float32), requires_grad=True)
    g = tensor(np.ones(16, dtype=np.float32))

    def step():
        y = a * b
        y.backward(g)

    return step


def mlp_step(lib):
    """One SGD step of the MLP, identical code for both libraries."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, 128))
    rows = lib.arange(128)
    sizes = [784, 512, 512, 10]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (rng.uniform(-1, 1, (fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        params += [lib.tensor(w, requires_grad=True),
                   lib.tensor(np.zeros(fan_out, np.float32), requires_grad=True)]
    lr = 0.01

    def step():
        h = x
        for i in range(0, len(params) - 2, 2):
            h = (h @ params[i] + params[i + 1]).relu()
        logits = h @ params[-2] + params[-1]
        loss = -logits.log_softmax(-1)[rows, y].mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss

    return step


def main() -> bool:
    cases = [
        ("(a) a*b fwd+bwd, 16 floats", lambda: small_op(gradlab, gradlab.tensor),
         lambda: small_op(_harness.torch(), _harness.torch().tensor), 2.0),
        ("(b) MLP 784-512-512-10 SGD step, batch 128", lambda: mlp_step(gradlab),
         lambda: mlp_step(_harness.torch()), 1.1),
    ]
    return _harness.run_cases("Engine: gradlab vs PyTorch", cases)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
