"""The shape every dataset function returns: a train and a test split."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    """One split: inputs ``x`` and targets ``y`` with the same length."""

    x: np.ndarray
    y: np.ndarray


class Splits(NamedTuple):
    """``train`` and ``test`` splits; unpacks as Keras's ``load_data()``::

        (x_train, y_train), (x_test, y_test) = digits()
    """

    train: Split
    test: Split


def shuffle_split(x: np.ndarray, y: np.ndarray, test_size: float, rng: np.random.Generator,
                  owner: str) -> Splits:
    """A random train/test split, ``round(test_size * n)`` samples in test."""
    if not 0.0 <= test_size < 1.0:
        raise ValueError(f"{owner}: test_size must be a fraction in [0, 1), got {test_size!r}")
    order = rng.permutation(len(x))
    n_test = int(round(test_size * len(x)))
    test, train = order[:n_test], order[n_test:]
    return Splits(Split(x[train], y[train]), Split(x[test], y[test]))


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1] (one float32 copy, divided in place)."""
    out = images.astype(np.float32)
    out /= np.float32(255.0)
    return out
