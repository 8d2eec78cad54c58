"""What several experiments share: the digits and MNIST-1D data as tensors,
a plain mini-batch training loop, accuracy, and small model builders.

The loop here is deliberately bare (no callbacks, no checkpoints): the lab
measures steps and curves, and a few lines of visible code are easier to
read next to a claim than a Trainer configuration.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.nn import functional as F
from gradlab.train import metrics

__all__ = ["Data", "accuracy", "batches", "calibration", "cnn1d", "cosine_lr", "digits_data", "evaluate",
           "first_reaching", "mlp", "mnist1d_data", "probabilities", "seeded", "single_thread", "train_epoch",
           "train_steps", "with_label_noise"]

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


@dataclass
class Data:
    """Train and validation inputs (float32 tensors) and labels (int64)."""

    x_train: gradlab.Tensor
    y_train: gradlab.Tensor
    x_val: gradlab.Tensor
    y_val: gradlab.Tensor

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]


def seeded(seed: int) -> np.random.Generator:
    """Seed gradlab's default generator (layer initialization, dropout) and
    return a NumPy generator for the experiment's own draws."""
    gradlab.manual_seed(seed)
    return np.random.default_rng(seed)


def digits_data(seed: int = 0, n_train: int | None = None, flat: bool = True,
                standardize: bool = True) -> Data:
    """The bundled 8x8 digits: 1,437 training and 360 validation images
    (scikit-learn's copy; stratified split fixed by ``seed``).

    ``n_train`` keeps a random class-balanced-by-chance subset of the
    training images (small-data experiments). With ``standardize`` the
    pixels are shifted and scaled by the training set's mean and std (one
    number each), the input normalization the lectures recommend.
    ``flat`` gives vectors of 64, otherwise images of shape (1, 8, 8).
    """
    from gradlab.data import datasets

    (x_train, y_train), (x_val, y_val) = datasets.digits(seed=seed)
    if n_train is not None:
        if not 0 < n_train <= len(x_train):
            raise ValueError(f"n_train must be in 1..{len(x_train)}, got {n_train!r}")
        keep = np.random.default_rng(seed).permutation(len(x_train))[:n_train]
        x_train, y_train = x_train[keep], y_train[keep]
    if standardize:
        mean, std = x_train.mean(), x_train.std()
        x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
    if flat:
        x_train, x_val = x_train.reshape(len(x_train), -1), x_val.reshape(len(x_val), -1)
    as_t = gradlab.from_numpy
    return Data(as_t(np.ascontiguousarray(x_train, dtype=np.float32)), as_t(y_train),
                as_t(np.ascontiguousarray(x_val, dtype=np.float32)), as_t(y_val))


def mlp(sizes: list[int], activation: str = "relu", batch_norm: bool = False,
        dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of ``sizes`` (input first, classes last) with
    ``activation`` between them, optionally batch norm before each
    activation and dropout after it."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Index arrays of one shuffled epoch (the last batch may be smaller)."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def train_epoch(model: nn.Module, optimizer: gradlab.optim.Optimizer, data: Data, batch_size: int,
                rng: np.random.Generator,
                loss_fn: Callable[[gradlab.Tensor, gradlab.Tensor], gradlab.Tensor] = F.cross_entropy,
                after_step: Callable[[float], bool | None] | None = None) -> float:
    """One shuffled epoch of mini-batch training; returns the mean batch
    loss. ``after_step(loss)`` is called after each step; returning True
    ends the epoch early."""
    model.train()
    total, count = 0.0, 0
    for index in batches(data.n_train, batch_size, rng):
        optimizer.zero_grad()
        loss = loss_fn(model(data.x_train[index]), data.y_train[index])
        loss.backward()
        optimizer.step()
        value = loss.item()
        total, count = total + value, count + 1
        if after_step is not None and after_step(value):
            break
    return total / max(count, 1)


def evaluate(model: nn.Module, x: gradlab.Tensor, y: gradlab.Tensor) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of ``model`` in eval mode."""
    was_training = model.training
    model.eval()
    with gradlab.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        acc = metrics.accuracy(logits, y)
    model.train(was_training)
    return loss, acc


def first_reaching(steps: list[int], values: list[float], target: float, *, above: bool) -> int | None:
    """The first of ``steps`` whose value reaches ``target`` (>= it with
    ``above``, <= it otherwise); None if none does."""
    return next((s for s, v in zip(steps, values) if (v >= target if above else v <= target)), None)


def accuracy(model: nn.Module, x: gradlab.Tensor, y: gradlab.Tensor) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y`` (eval mode)."""
    return evaluate(model, x, y)[1]


def with_label_noise(data: Data, fraction: float, seed: int = 0) -> Data:
    """A copy of ``data`` in which ``fraction`` of the training labels
    (chosen at random) are moved to a different, random class; the
    validation labels stay clean (the label-noise overfitting setting of
    Zhang et al. 2017)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    rng = np.random.default_rng([seed, 1])
    y = data.y_train.numpy().copy()
    n_classes = int(max(y.max(), data.y_val.numpy().max())) + 1
    flip = rng.choice(len(y), int(round(fraction * len(y))), replace=False)
    y[flip] = (y[flip] + rng.integers(1, n_classes, len(flip))) % n_classes
    return Data(data.x_train, gradlab.from_numpy(y), data.x_val, data.y_val)


def calibration(prob: np.ndarray, labels: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Confidence and calibration of predicted class probabilities ``prob``
    (N, K) against ``labels`` (N,).

    Returns ``confidence`` (mean max probability), ``accuracy``, ``ece``
    (expected calibration error over ``bins`` equal-width confidence bins,
    sum_b n_b / N * |acc_b - conf_b|, Guo et al. 2017) and per bin
    ``bin_count``, ``bin_acc``, ``bin_conf``, plus ``conf`` (N,)."""
    conf, correct = prob.max(axis=1), prob.argmax(axis=1) == labels
    which = np.minimum((conf * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    bin_acc = np.bincount(which, weights=correct, minlength=bins) / np.maximum(counts, 1)
    bin_conf = np.bincount(which, weights=conf, minlength=bins) / np.maximum(counts, 1)
    return {"confidence": float(conf.mean()), "accuracy": float(correct.mean()),
            "ece": float(np.sum(counts / len(conf) * np.abs(bin_acc - bin_conf))),
            "bin_count": counts, "bin_acc": bin_acc, "bin_conf": bin_conf, "conf": conf}


# ------------------------------------------------------------------ MNIST-1D
def mnist1d_data(n_train: int | None = None, num_test: int = 1000) -> Data:
    """MNIST-1D (Greydanus 2020; ``gradlab.data.datasets.mnist1d``): the
    paper's default set (seed 42) of 4,000 training signals of 40 samples,
    already standardized, and ``num_test`` test signals (1,000 by default; more
    are drawn from the same generator to measure small differences).

    ``n_train`` keeps the first ``n_train`` training signals (they are in
    random order). Inputs are vectors (N, 40); :func:`cnn1d` adds the channel.
    """
    from gradlab.data import datasets

    if num_test == 1000:
        (x_train, y_train), (x_val, y_val) = datasets.mnist1d()
    else:
        (x_train, y_train), (x_val, y_val) = datasets.mnist1d(
            num_samples=4000 + num_test, train_split=4000 / (4000 + num_test))
    if n_train is not None:
        if not 0 < n_train <= len(x_train):
            raise ValueError(f"n_train must be in 1..{len(x_train)}, got {n_train!r}")
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    as_t = gradlab.from_numpy
    return Data(as_t(np.ascontiguousarray(x_train)), as_t(y_train), as_t(np.ascontiguousarray(x_val)),
                as_t(y_val))


def cnn1d(channels: int = 25, activation: str = "relu", batch_norm: bool = False,
          dropout: float = 0.0, length: int = 40) -> nn.Sequential:
    """The CNN of the MNIST-1D paper for inputs (N, ``length``): three Conv1d
    of ``channels`` channels, (kernel, stride, padding) = (5, 2, 1), (3, 2, 1),
    (3, 2, 1), each followed by ``activation`` (40 -> 19 -> 10 -> 5 positions),
    then a Linear layer to the 10 classes. Optionally BatchNorm1d before each
    activation and Dropout after it."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = [nn.Unflatten(1, (1, length))]
    c, size = 1, length
    for kernel in (5, 3, 3):
        layers.append(nn.Conv1d(c, channels, kernel, stride=2, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm1d(channels))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        c, size = channels, (size + 2 - kernel) // 2 + 1
    layers += [nn.Flatten(), nn.Linear(channels * size, 10)]
    return nn.Sequential(*layers)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """One BLAS thread: the lab's matrices are small, and on a shared machine
    more threads only spin (measured: 4 ms of CPU per step of the MNIST-1D
    CNN with one thread, 45 ms with the default pool on a busy machine)."""
    from gradlab.train.run import blas_threads

    with blas_threads(1):
        yield


def cosine_lr(base: float, step: int, period: int) -> float:
    """Cosine annealing within a cycle of ``period`` steps (Loshchilov &
    Hutter 2017): ``base/2 (1 + cos(pi t / period))`` with t = step mod
    period, so the rate restarts at ``base`` every ``period`` steps."""
    t = step % period
    return 0.5 * base * (1.0 + math.cos(math.pi * t / period))


def train_steps(model: nn.Module, optimizer: gradlab.optim.Optimizer, data: Data, steps: int,
                batch_size: int, rng: np.random.Generator, lr: Callable[[int], float] | None = None,
                every: int = 0, on_check: Callable[[int], bool | None] | None = None) -> None:
    """``steps`` steps of mini-batch training on shuffled epochs of ``data``;
    ``lr(step)`` sets the learning rate before each step. Every ``every``
    steps ``on_check(step)`` is called (the model left in train mode after);
    returning True stops the training."""
    model.train()
    step = 0
    while step < steps:
        for index in batches(data.n_train, batch_size, rng):
            if lr is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr(step)
            optimizer.zero_grad()
            F.cross_entropy(model(data.x_train[index]), data.y_train[index]).backward()
            optimizer.step()
            step += 1
            if every and on_check is not None and step % every == 0:
                stop = on_check(step)
                model.train()
                if stop:
                    return
            if step >= steps:
                return


def probabilities(model: nn.Module, x: gradlab.Tensor) -> np.ndarray:
    """Softmax class probabilities of ``model`` (eval mode) as a NumPy array."""
    was_training = model.training
    model.eval()
    with gradlab.no_grad():
        prob = F.softmax(model(x), dim=1).numpy()
    model.train(was_training)
    return prob
