"""One training step (forward, loss, backward) of three small networks,
gradlab against PyTorch, float32, same thread count (issue 3):

(a) MLP 784-512-512-10 (Linear + ReLU, CrossEntropyLoss), batch 128: target <= 1.1x
(b) CNN on 1x28x28, batch 64: Conv2d(1,32,3,p1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,p1)-ReLU-
    MaxPool2d(2)-Flatten-Linear(3136,10), CrossEntropyLoss: target <= 1.5x
(c) LSTM(64 -> 128), sequence 50, batch 32, linear head on the last step: target <= 2x

    python benchmarks/bench_nn.py [--threads N] [--repeat R]

Each case alternates gradlab and PyTorch ROUNDS times and reports each
side's best median (the machines this runs on are shared).
"""
# ruff: noqa: I001 - _harness must be imported before numpy and torch

from __future__ import annotations

import _harness  # must come first: it pins the thread counts before numpy and torch load
import numpy as np
import torch

import gradlab
from gradlab import nn


ROUNDS = 3


def _copy(gl_model: nn.Module, th_model: torch.nn.Module) -> None:
    gl_model.load_state_dict({k: v.detach().numpy() for k, v in th_model.state_dict().items()})


def _lstm_pair() -> tuple:
    """LSTM(64 -> 128, batch_first) with a linear head on the last step, in both libraries."""
    th_lstm, th_head = torch.nn.LSTM(64, 128, batch_first=True), torch.nn.Linear(128, 10)
    gl_lstm, gl_head = nn.LSTM(64, 128, batch_first=True), nn.Linear(128, 10)
    _copy(gl_lstm, th_lstm)
    _copy(gl_head, th_head)
    th = torch.nn.ModuleDict({"lstm": th_lstm, "head": th_head})
    gl = nn.ModuleDict({"lstm": gl_lstm, "head": gl_head})

    def th_fwd(x):
        return th_head(th_lstm(x)[0][:, -1])

    def gl_fwd(x):
        return gl_head(gl_lstm(x)[0][:, -1])

    return (gl, gl_fwd), (th, th_fwd)


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []

    def pair(name, gl_model, th_model, gl_fwd, th_fwd, x, y, target):
        gx, gy = gradlab.tensor(x), gradlab.tensor(y)
        tx, ty = torch.tensor(x), torch.tensor(y)
        gl_loss, th_loss = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

        def gl_step():
            gl_model.zero_grad()
            gl_loss(gl_fwd(gx), gy).backward()

        def th_step():
            th_model.zero_grad()
            th_loss(th_fwd(tx), ty).backward()

        # Alternate the two frameworks and keep each one's best median, so
        # that a burst of load from other processes does not land on one side.
        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours.append(_harness.timeit(gl_step))
            theirs.append(_harness.timeit(th_step))
        rows.append((name, min(ours), min(theirs), target))

    th_mlp = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                 torch.nn.ReLU(), torch.nn.Linear(512, 10))
    gl_mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    _copy(gl_mlp, th_mlp)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    pair("(a) MLP 784-512-512-10, batch 128", gl_mlp, th_mlp, gl_mlp, th_mlp, x, y, 1.1)

    def cnn(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(1, 32, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                            n.Conv2d(32, 64, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                            n.Flatten(), n.Linear(3136, 10))

    th_cnn, gl_cnn = cnn(torch), cnn(gradlab)
    _copy(gl_cnn, th_cnn)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    pair("(b) CNN 2 conv + 2 maxpool + linear, 1x28x28, batch 64", gl_cnn, th_cnn, gl_cnn, th_cnn, x, y, 1.5)

    (gl, gl_fwd), (th, th_fwd) = _lstm_pair()
    x = rng.standard_normal((32, 50, 64)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    pair("(c) LSTM 64->128, seq 50, batch 32, linear head", gl, th, gl_fwd, th_fwd, x, y, 2.0)

    ok = _harness.report("gradlab.nn: one training step (forward + loss + backward), float32", rows)
    print("\nall targets met" if ok else "\nsome targets missed")


if __name__ == "__main__":
    main()
