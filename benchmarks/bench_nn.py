"""One training step (forward, loss, backward) of three small networks,
gradlab against PyTorch, float32, same thread count (issue 3):

(a) MLP 784-512-512-10 (Linear + ReLU, CrossEntropyLoss), batch 128: target <= 1.1x
(b) CNN on 1x28x28, batch 64: Conv2d(1,32,3,p1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,p1)-ReLU-
    MaxPool2d(2)-Flatten-Linear(3136,10), CrossEntropyLoss: target <= 1.5x
(c) LSTM(64 -> 128), sequence 50, batch 32, linear head on the last step: target <= 2x

    python benchmarks/bench_nn.py [--threads N] [--repeat R]

Each library builds the same architecture with its own default
initialization and the same data; the harness times every gradlab case
before PyTorch is loaded (see ``_harness``).
"""
# ruff: noqa: I001 - _harness must be imported before numpy

from __future__ import annotations

import _harness  # must come first: it pins the thread counts before numpy loads
import numpy as np

import gradlab


def _data(shape: tuple, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, classes, shape[0])


def _step(lib, model, forward, shape):
    """A closure running one zero_grad + forward + loss + backward."""
    x, y = _data(shape)
    x, y = lib.tensor(x), lib.tensor(y)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        model.zero_grad()
        loss_fn(forward(x), y).backward()

    return step


def mlp(lib):
    n = lib.nn
    model = n.Sequential(n.Linear(784, 512), n.ReLU(), n.Linear(512, 512), n.ReLU(), n.Linear(512, 10))
    return _step(lib, model, model, (128, 784))


def cnn(lib):
    n = lib.nn
    model = n.Sequential(n.Conv2d(1, 32, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                         n.Conv2d(32, 64, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                         n.Flatten(), n.Linear(3136, 10))
    return _step(lib, model, model, (64, 1, 28, 28))


def lstm(lib):
    n = lib.nn
    model = n.ModuleDict({"lstm": n.LSTM(64, 128, batch_first=True), "head": n.Linear(128, 10)})

    def forward(x):
        return model["head"](model["lstm"](x)[0][:, -1])

    return _step(lib, model, forward, (32, 50, 64))


def main() -> bool:
    cases = [
        ("(a) MLP 784-512-512-10, batch 128", lambda: mlp(gradlab), lambda: mlp(_harness.torch()), 1.1),
        ("(b) CNN 2 conv + 2 maxpool + linear, 1x28x28, batch 64", lambda: cnn(gradlab),
         lambda: cnn(_harness.torch()), 1.5),
        ("(c) LSTM 64->128, seq 50, batch 32, linear head", lambda: lstm(gradlab),
         lambda: lstm(_harness.torch()), 2.0),
    ]
    return _harness.run_cases("gradlab.nn: one training step (forward + loss + backward), float32",
                              cases)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
