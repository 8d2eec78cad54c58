"""Full training steps (zero_grad, forward, loss, backward, optimizer step)
of the networks issue 19 names, gradlab against PyTorch, float32, same
thread count, each side in its own process (see ``_harness``):

(a) MLP 784-512-512-10, batch 128, SGD with momentum           target <= 1.15x
(b) CNN 2 conv + 2 max pool (1x28x28), batch 64, SGD momentum   target <= 1.2x
(c) CIFAR-size CNN: 5 conv-BN-ReLU blocks (3x32x32), batch 64   target <= 1.5x
(d) LSTM 64->128, seq 50, batch 32, linear head, Adam           target <= 1.3x
(e) GRU 64->128, seq 50, batch 32, linear head, Adam            target <= 1.4x
(f) 2-layer char-LSTM: embedding 65x64, LSTM 64->256 x2,
    seq 64, batch 32, a prediction per step, Adam               (no target in issue 19)
(g) wide MLP 784-2048-2048-10 with dropout 0.5, batch 128, Adam (no target in issue 19)

    python benchmarks/bench_steps.py [--threads N] [--repeat R] [--only c,e]
"""
# ruff: noqa: I001 - _harness must be imported before numpy

from __future__ import annotations

import _harness  # must come first: it pins the thread counts before numpy loads
import argparse

import numpy as np

import gradlab

_parser = argparse.ArgumentParser()
_parser.add_argument("--only", default="", help="comma-separated case letters, e.g. c,e")
ARGS, _ = _parser.parse_known_args()


def _train_step(lib, model, forward, x, y, optimizer):
    """A closure running one full step: zero_grad, forward, loss, backward, step."""
    x, y = lib.tensor(x), lib.tensor(y)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(forward(x), y)
        loss.backward()
        optimizer.step()

    return step


def _images(shape, classes=10):
    rng = np.random.default_rng(0)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, classes, shape[0])


def _sgd(lib, model):
    return lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def _adam(lib, model):
    return lib.optim.Adam(model.parameters(), lr=1e-3)


def mlp(lib):
    n = lib.nn
    model = n.Sequential(n.Linear(784, 512), n.ReLU(), n.Linear(512, 512), n.ReLU(), n.Linear(512, 10))
    return _train_step(lib, model, model, *_images((128, 784)), _sgd(lib, model))


def cnn(lib):
    n = lib.nn
    model = n.Sequential(n.Conv2d(1, 32, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                         n.Conv2d(32, 64, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                         n.Flatten(), n.Linear(3136, 10))
    return _train_step(lib, model, model, *_images((64, 1, 28, 28)), _sgd(lib, model))


def cifar_cnn(lib):
    """Five 3x3 conv-BN-ReLU blocks (32, 32, 64, 64, 128 channels), max pools
    after the second and fourth, global average pool, linear head."""
    n = lib.nn

    def block(c_in, c_out):
        return [n.Conv2d(c_in, c_out, 3, padding=1, bias=False), n.BatchNorm2d(c_out), n.ReLU()]

    model = n.Sequential(*block(3, 32), *block(32, 32), n.MaxPool2d(2), *block(32, 64),
                         *block(64, 64), n.MaxPool2d(2), *block(64, 128),
                         n.AdaptiveAvgPool2d(1), n.Flatten(), n.Linear(128, 10))
    return _train_step(lib, model, model, *_images((64, 3, 32, 32)), _sgd(lib, model))


def _recurrent(lib, layer):
    n = lib.nn
    model = n.ModuleDict({"rnn": layer(64, 128, batch_first=True), "head": n.Linear(128, 10)})

    def forward(x):
        return model["head"](model["rnn"](x)[0][:, -1])

    return _train_step(lib, model, forward, *_images((32, 50, 64)), _adam(lib, model))


def lstm(lib):
    return _recurrent(lib, lib.nn.LSTM)


def gru(lib):
    return _recurrent(lib, lib.nn.GRU)


def char_lstm(lib, vocab=65, steps=64, batch=32):
    n = lib.nn
    model = n.ModuleDict({"embed": n.Embedding(vocab, 64),
                          "lstm": n.LSTM(64, 256, num_layers=2, batch_first=True),
                          "head": n.Linear(256, vocab)})
    rng = np.random.default_rng(0)
    text = rng.integers(0, vocab, (batch, steps + 1))

    def forward(x):
        h = model["lstm"](model["embed"](x))[0]
        return model["head"](h.reshape(-1, 256))

    return _train_step(lib, model, forward, text[:, :-1], text[:, 1:].reshape(-1), _adam(lib, model))


def wide_mlp(lib):
    n = lib.nn
    model = n.Sequential(n.Linear(784, 2048), n.ReLU(), n.Dropout(0.5), n.Linear(2048, 2048),
                         n.ReLU(), n.Dropout(0.5), n.Linear(2048, 10))
    return _train_step(lib, model, model, *_images((128, 784)), _adam(lib, model))


CASES = {
    "a": ("(a) MLP 784-512-512-10, batch 128, SGD momentum", mlp, 1.15),
    "b": ("(b) CNN 2 conv + 2 maxpool, 1x28x28, batch 64, SGD momentum", cnn, 1.2),
    "c": ("(c) CIFAR CNN 5 conv-BN-ReLU, 3x32x32, batch 64, SGD momentum", cifar_cnn, 1.5),
    "d": ("(d) LSTM 64->128, seq 50, batch 32, Adam", lstm, 1.3),
    "e": ("(e) GRU 64->128, seq 50, batch 32, Adam", gru, 1.4),
    "f": ("(f) char-LSTM emb 64, 2x LSTM 256, seq 64, batch 32, Adam", char_lstm, None),
    "g": ("(g) wide MLP 784-2048-2048-10, dropout, batch 128, Adam", wide_mlp, None),
}


def main() -> bool:
    chosen = ARGS.only.split(",") if ARGS.only else sorted(CASES)
    cases = [(name, lambda f=f: f(gradlab), lambda f=f: f(_harness.torch()), target)
             for name, f, target in (CASES[k] for k in chosen)]
    return _harness.run_cases("full training step (zero_grad, forward, loss, backward, optimizer "
                              "step), float32; targets from issue 19", cases)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
