"""The model families and optimizers of the trajectory tests, written once
for both libraries: ``build(lib)`` makes the model with ``lib`` (gradlab or
torch), ``loss(lib, model, x, y)`` runs it on one batch.

Each family is where a gradient reaches an optimizer in a layout other than
C order, or a parameter is large enough (above ``THREADED_MIN`` = 32768
elements in the old ``gradlab.optim._kernels``) to take the threaded kernels:

* GRU (2 layers, hidden 120) and RNN (hidden 190): ``weight_hh`` gradients
  come out of the time loop transposed, and have 43200 / 36100 elements;
* LSTM (2 layers, bidirectional, hidden 96): 36864-element ``weight_hh``;
* LSTMCell stepped in a Python loop (the idiom of hand-written models);
* one weight used twice in a graph, ``tanh(x @ W.T) @ W.T`` (200 x 200);
* a CNN with BatchNorm (running statistics are compared as well).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

SEQ, BATCH, FEATURES = 4, 2, 8


@dataclass
class Family:
    build: Callable[[Any], Any]
    loss: Callable[[Any, Any, Any, Any], Any]
    x_shape: tuple
    y_shape: tuple


def _mse(out: Any, y: Any) -> Any:
    return ((out - y) ** 2).mean()


def _gru(lib):
    return lib.nn.GRU(FEATURES, 120, num_layers=2)


def _rnn(lib):
    return lib.nn.RNN(FEATURES, 190)


def _lstm(lib):
    return lib.nn.LSTM(FEATURES, 96, num_layers=2, bidirectional=True)


def _recurrent_loss(lib, model, x, y):
    out, _ = model(x)
    return _mse(out[-1], y)


class _CellLoop:
    """An LSTMCell stepped over the sequence, outputs written into a
    preallocated buffer (``outputs[t] = h``), then a linear read-out."""

    @staticmethod
    def build(lib):
        model = lib.nn.ModuleDict({"cell": lib.nn.LSTMCell(FEATURES, 96),
                                   "head": lib.nn.Linear(96, 3)})
        return model

    @staticmethod
    def loss(lib, model, x, y):
        h = lib.zeros(BATCH, 96, dtype=lib.float64)
        c = lib.zeros(BATCH, 96, dtype=lib.float64)
        outputs = lib.zeros(SEQ, BATCH, 96, dtype=lib.float64)
        for t in range(SEQ):
            h, c = model["cell"](x[t], (h, c))
            outputs[t] = h
        return _mse(model["head"](outputs.mean(0)), y)


class _Shared:
    """A weight used twice in one graph: tanh(x @ W.T) @ W.T."""

    @staticmethod
    def build(lib):
        return lib.nn.ModuleDict({"inp": lib.nn.Linear(FEATURES, 200),
                                  "shared": lib.nn.Linear(200, 200, bias=False)})

    @staticmethod
    def loss(lib, model, x, y):
        w = model["shared"].weight
        h = lib.tanh(model["inp"](x))
        h = lib.tanh(h @ w.T)
        out = h @ w.T
        return _mse(out[:, :3], y)


class _Cnn:
    @staticmethod
    def build(lib):
        nn = lib.nn
        # no bias before BatchNorm: its gradient is zero up to rounding, which
        # Adagrad and Adam blow up to steps of size lr (in both libraries)
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 3 * 3, 3))

    @staticmethod
    def loss(lib, model, x, y):
        return _mse(model(x), y)


FAMILIES = {
    "gru": Family(_gru, _recurrent_loss, (SEQ, BATCH, FEATURES), (BATCH, 120)),
    "rnn": Family(_rnn, _recurrent_loss, (SEQ, BATCH, FEATURES), (BATCH, 190)),
    "lstm": Family(_lstm, _recurrent_loss, (SEQ, BATCH, FEATURES), (BATCH, 192)),
    "lstmcell-loop": Family(_CellLoop.build, _CellLoop.loss, (SEQ, BATCH, FEATURES), (BATCH, 3)),
    "weight-twice": Family(_Shared.build, _Shared.loss, (BATCH, FEATURES), (BATCH, 3)),
    "cnn-batchnorm": Family(_Cnn.build, _Cnn.loss, (4, 3, 6, 6), (4, 3)),
}

OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd-momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd-nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd-weight-decay": ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.1,
                                 "weight_decay": 0.01}),
    "adam": ("Adam", {"lr": 1e-3}),
    "adamw": ("AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
    "nadam": ("NAdam", {"lr": 2e-3}),
    "rmsprop": ("RMSprop", {"lr": 1e-3}),
    "adagrad": ("Adagrad", {"lr": 0.01}),
    "adadelta": ("Adadelta", {"lr": 1.0}),
}


def batches(family: Family, steps: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(family.x_shape), rng.standard_normal(family.y_shape))
            for _ in range(steps)]
